#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "leveldb/env.h"

namespace ensemble::storage::testing {

// A leveldb::Env for tests: passes everything to a base Env (normally
// leveldb::NewMemEnv) and can
// - fail every Append to a writable file, or every Sync, with an IOError
//   whose message starts "injected fault" (LevelDB's fault_injection_test),
// - delay or hold each Sync (to pile up waiting writers deterministically),
// - simulate a machine crash: DropUnsyncedData() cuts every file written
//   through it back to the size it had at its last successful Sync, as a lost
//   page cache would.
// Thread-safe (LevelDB calls it from its own background thread too).
class FaultInjectionEnv : public leveldb::EnvWrapper {
 public:
  // `base` is not owned and must outlive this object.
  explicit FaultInjectionEnv(leveldb::Env* base) : EnvWrapper(base) {}

  void SetFailAppends(bool on);
  void SetFailSyncs(bool on);
  // Every Sync first sleeps this long.
  void SetSyncDelay(std::chrono::microseconds delay);
  // While held, every Sync blocks until ReleaseSyncs().
  void HoldSyncs();
  void ReleaseSyncs();
  // Syncs currently blocked by HoldSyncs.
  int held_syncs() const;

  // Successful Syncs of LevelDB write-ahead-log files (*.log) so far.
  int64_t wal_syncs() const;

  // Truncates every file written through this Env since it was created (or
  // since the last call) to its last synced size. REQUIRES: no database open
  // on this Env.
  leveldb::Status DropUnsyncedData();

  leveldb::Status NewWritableFile(const std::string& fname,
                                  leveldb::WritableFile** result) override;
  leveldb::Status NewAppendableFile(const std::string& fname,
                                    leveldb::WritableFile** result) override;
  leveldb::Status RemoveFile(const std::string& fname) override;
  leveldb::Status RenameFile(const std::string& src, const std::string& target) override;

 private:
  class File;
  friend class File;

  struct FileState {
    uint64_t written = 0;  // bytes appended
    uint64_t synced = 0;   // bytes covered by the last successful Sync
  };

  leveldb::Status OnAppend(const std::string& fname, size_t n);
  leveldb::Status BeforeSync();
  void OnSynced(const std::string& fname);

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool fail_appends_ = false;
  bool fail_syncs_ = false;
  bool hold_syncs_ = false;
  int held_syncs_ = 0;
  std::chrono::microseconds sync_delay_{0};
  int64_t wal_syncs_ = 0;
  std::map<std::string, FileState> files_;  // by name, for DropUnsyncedData
};

}  // namespace ensemble::storage::testing

#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "leveldb/db.h"
#include "leveldb/env.h"
#include "services/storage/log/txn_log.h"

namespace ensemble::storage {

struct LevelDbTxnLogOptions {
  // Not owned; must outlive the log. nullptr: leveldb::Env::Default(). Tests
  // pass leveldb::NewMemEnv(...) or a fault-injecting wrapper.
  leveldb::Env* env = nullptr;
  // Create an empty log if `dir` holds none (else: NOT_FOUND).
  bool create_if_missing = true;
  // LevelDB's memtable size: bytes of appends buffered before a level-0 table.
  size_t write_buffer_size = 4 << 20;
  // After PurgeBefore, compact the purged key range so the disk space is
  // returned now rather than at LevelDB's next natural compaction. It runs
  // on the calling thread and takes time proportional to the purged data.
  bool compact_after_purge = true;
};

// TxnLog in one LevelDB database (the folder `dir`, ZooKeeper's dataLogDir).
// The layout is docs/formats/txn_log.md (txn_log_format.h).
//
// Durability: every write is one leveldb::WriteBatch written with
// WriteOptions::sync = true, so it reaches LevelDB's write-ahead log and is
// fsynced before the call returns. After a crash LevelDB replays its WAL and
// drops a torn last record (a write that never returned OK).
//
// Checks: Options::paranoid_checks = true (Open fails with DATA_LOSS on a
// corrupt WAL record or table instead of silently dropping it, and LevelDB
// stops on a background error) and ReadOptions::verify_checksums = true on
// every read (LevelDB's block CRCs). On top, each value carries a CRC-32C of
// the serialized Txn and the key's zxid is checked against the Txn's header,
// so a bad value (a bug, a foreign write, a bit flip LevelDB did not catch)
// is DATA_LOSS naming the zxid rather than a wrong transaction.
//
// Thread-safety: thread-safe (see TxnLog). Writes hold a mutex across the
// LevelDB write and fsync; reads run on a LevelDB snapshot without it.
class LevelDbTxnLog final : public TxnLog {
 public:
  // Opens (or creates) the log in `dir`. Errors: NOT_FOUND (no log and
  // !create_if_missing), FAILED_PRECONDITION (another format version, or a
  // LevelDB database that is not a txn log), DATA_LOSS (LevelDB corruption,
  // or the first or last entry does not decode), INTERNAL (I/O, lock held by
  // another process).
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<LevelDbTxnLog>> Open(
      const std::string& dir, const LevelDbTxnLogOptions& options = {});

  ~LevelDbTxnLog() override;
  LevelDbTxnLog(const LevelDbTxnLog&) = delete;
  LevelDbTxnLog& operator=(const LevelDbTxnLog&) = delete;

  [[nodiscard]] absl::Status Append(std::vector<ensemble::v1::Txn> batch) override;
  [[nodiscard]] absl::Status Read(int64_t from_zxid_exclusive, int64_t to_zxid_inclusive,
                                  TxnVisitor visitor) const override;
  [[nodiscard]] absl::Status TruncateAfter(int64_t zxid) override;
  [[nodiscard]] absl::Status PurgeBefore(int64_t zxid) override;
  int64_t LastZxid() const override { return last_zxid_.load(std::memory_order_acquire); }
  int64_t FirstZxid() const override { return first_zxid_.load(std::memory_order_acquire); }
  int64_t PurgedZxid() const override { return purged_zxid_.load(std::memory_order_acquire); }
  absl::StatusOr<std::vector<int64_t>> EpochLastZxids() const override;
  void NoteCommitted(int64_t zxid) override;
  int64_t CommittedMark() const override { return committed_mark_.load(std::memory_order_acquire); }
  int64_t AcceptedEpoch() const override { return accepted_epoch_.load(std::memory_order_acquire); }
  int64_t CurrentEpoch() const override { return current_epoch_.load(std::memory_order_acquire); }
  [[nodiscard]] absl::Status SetAcceptedEpoch(int64_t epoch) override;
  [[nodiscard]] absl::Status SetCurrentEpoch(int64_t epoch) override;

  // The first write error, or OK. Once set it never clears.
  absl::Status write_error() const;

 private:
  LevelDbTxnLog(std::unique_ptr<leveldb::DB> db, LevelDbTxnLogOptions options);

  // Reads the metadata and the first and last entries into the caches.
  absl::Status LoadState();
  // The zxid of the newest (or oldest) entry through `it`'s view, 0 if none;
  // DATA_LOSS if that entry does not decode.
  absl::StatusOr<int64_t> EdgeZxid(leveldb::Iterator* it, bool newest) const;
  // Writes `batch` synced; records the first failure. REQUIRES: mu_ held.
  absl::Status WriteLocked(leveldb::WriteBatch* batch);
  absl::Status SetEpochLocked(std::string_view key, int64_t epoch, std::atomic<int64_t>* cache);

  const std::unique_ptr<leveldb::DB> db_;
  const LevelDbTxnLogOptions options_;

  // Serializes writes and protects write_error_. The caches below are written
  // only under mu_ (after the LevelDB write succeeded) and read lock-free.
  mutable std::mutex mu_;
  absl::Status write_error_;

  std::atomic<int64_t> last_zxid_{0};
  std::atomic<int64_t> first_zxid_{0};
  std::atomic<int64_t> purged_zxid_{0};
  std::atomic<int64_t> committed_mark_{0};  // in memory (NoteCommitted)
  int64_t committed_mark_written_ = 0;      // GUARDED_BY(mu_): as last put in a batch
  std::atomic<int64_t> accepted_epoch_{0};
  std::atomic<int64_t> current_epoch_{0};
};

}  // namespace ensemble::storage

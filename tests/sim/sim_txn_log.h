#pragma once

// SimTxnLog: one peer's simulated disk, TxnLog-like (services/storage/log/
// txn_log.h: append, truncate, purge, epochs) plus snapshots and a commit
// mark. Unlike the real TxnLog, a write is NOT durable when it returns: it is
// "written" (in the page cache) until Sync() makes every write so far
// durable. Crash() keeps the durable state plus a random prefix of the
// unsynced writes (a torn tail), the way LevelDB's fault_injection_test keeps
// "the state of a filesystem as of the last sync".
//
// Writes are kept as an ordered list of operations, so that a crash can only
// ever keep a prefix: no reordering, as on a real log.
//
// Deterministic; not thread-safe.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/base/rng.h"
#include "ensemble/types.pb.h"

namespace ensemble::sim {

class SimTxnLog {
 public:
  struct State {
    // Entries above `floor`.
    std::map<int64_t, ensemble::v1::Txn> log;
    // The log reaches back to here (a purge point or an installed snapshot).
    int64_t floor = 0;
    // Snapshots of the applied state by zxid (storage snapshot format).
    std::map<int64_t, std::shared_ptr<const std::string>> snapshots;
    int64_t accepted_epoch = 0;
    int64_t current_epoch = 0;
    // The storage applied (committed) everything up to here.
    int64_t commit_mark = 0;

    int64_t last() const { return log.empty() ? floor : log.rbegin()->first; }
    // True if this state holds `zxid` durably (in the log, or folded into a
    // snapshot taken at or after it).
    bool Holds(int64_t zxid) const;
  };

  // Writes (durable after the next Sync covering them).
  void Append(const ensemble::v1::Txn& txn);
  void TruncateAfter(int64_t zxid);
  // SNAP from the leader: the state and the log are replaced.
  void InstallSnapshot(int64_t zxid, std::shared_ptr<const std::string> data);
  // A local snapshot; the log is kept.
  void SaveSnapshot(int64_t zxid, std::shared_ptr<const std::string> data);
  // Drops log entries and snapshots older than `zxid` (a snapshot at `zxid`
  // must exist).
  void PurgeBefore(int64_t zxid);
  void SetAcceptedEpoch(int64_t epoch);
  void SetCurrentEpoch(int64_t epoch);
  void MarkCommitted(int64_t zxid);

  // Number of writes so far (a position in the write order) and how many of
  // them are durable.
  uint64_t written_count() const { return synced_count_ + pending_.size(); }
  uint64_t synced_count() const { return synced_count_; }
  // Makes the first `count` writes durable (an fsync that started when
  // written_count() was `count`).
  void SyncUpTo(uint64_t count);
  // Loses every unsynced write except a random prefix of them (none if
  // `keep_prefix` is false). Returns how many were lost.
  size_t Crash(Rng& rng, bool keep_prefix);

  const State& written() const { return written_; }
  const State& durable() const { return durable_; }

 private:
  struct Op {
    enum class Kind {
      kAppend,
      kTruncate,
      kInstall,
      kSave,
      kPurge,
      kAccepted,
      kCurrent,
      kCommitMark
    };
    Kind kind = Kind::kAppend;
    int64_t value = 0;
    ensemble::v1::Txn txn;
    std::shared_ptr<const std::string> data;
  };
  static Op MakeOp(Op::Kind kind, int64_t value);
  void Write(Op op);
  static void ApplyOp(const Op& op, State* state);

  State written_;
  State durable_;
  std::deque<Op> pending_;  // written, not yet durable
  uint64_t synced_count_ = 0;
};

}  // namespace ensemble::sim

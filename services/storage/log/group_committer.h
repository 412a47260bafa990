#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "ensemble/types.pb.h"
#include "services/storage/log/txn_log.h"

namespace ensemble::storage {

// What one group write did, for metrics (the server turns these into
// ensemble_storage_fsync_seconds and a group-size histogram).
struct GroupCommitStats {
  size_t txns = 0;     // transactions in the write
  size_t batches = 0;  // producer batches merged into it
  // Wall time of TxnLog::Append: LevelDB's WAL write plus the fsync.
  std::chrono::nanoseconds sync_duration{0};
  bool ok = false;  // the write's outcome
};

struct GroupCommitterOptions {
  // Back-pressure: at most this many transactions wait (queued, not yet being
  // written). Submit blocks and TrySubmit returns RESOURCE_EXHAUSTED while a
  // new batch would exceed it. A single batch larger than the bound is
  // admitted when nothing else waits, so it cannot starve.
  size_t max_queued_txns = 16384;
  // Called on the writer thread after each group write, before its
  // callbacks. Must be quick and must not call into the committer.
  std::function<void(const GroupCommitStats&)> on_group_commit;
};

// Group commit in front of a TxnLog: many producers Submit batches; one writer
// thread drains the queue. Every batch waiting when the previous write
// finishes goes into ONE TxnLog::Append (one synced LevelDB WriteBatch, one
// fsync), so under load the cost of an fsync is shared by many batches.
//
// Ordering: batches are written in the order their Submit calls were
// admitted, and callbacks run in that order. Producers must submit in zxid
// order (the storage driver does, from one stream). A batch whose zxids do not
// increase, or do not follow the batches admitted before it, fails alone with
// FAILED_PRECONDITION; the other batches of its group are written.
//
// An empty batch is a barrier: its callback runs once everything submitted
// before it is durable (e.g. before a truncation or an epoch change).
//
// Fail-stop: once a group write fails, that batch and every later one
// (barriers included) complete with the first error, without touching the
// log (the log itself refuses too; see TxnLog).
//
// Thread-safety: Submit/TrySubmit/Stop from any thread. Callbacks run on the
// writer thread, outside the committer's lock; a callback may TrySubmit but
// must not Submit (which could wait for the very thread it runs on).
// The log must not be appended to by anyone else while the committer runs.
class GroupCommitter {
 public:
  // Called exactly once with the batch's outcome, after it is durable (OK) or
  // has failed.
  using Callback = absl::AnyInvocable<void(absl::Status)>;

  // `log` is not owned and must outlive the committer. Starts the writer.
  GroupCommitter(TxnLog* log, GroupCommitterOptions options = {});
  // Stop().
  ~GroupCommitter();
  GroupCommitter(const GroupCommitter&) = delete;
  GroupCommitter& operator=(const GroupCommitter&) = delete;

  // Queues `batch`; `done` runs once it is durable or failed. Blocks while the
  // queue is full. On OK `done` will run; on error it is dropped unrun:
  // FAILED_PRECONDITION if the committer is stopped (also when Stop() is
  // called while this call waits).
  [[nodiscard]] absl::Status Submit(std::vector<ensemble::v1::Txn> batch, Callback done);

  // As Submit, but never blocks: RESOURCE_EXHAUSTED if the queue is full.
  [[nodiscard]] absl::Status TrySubmit(std::vector<ensemble::v1::Txn> batch, Callback done);

  // Refuses new batches, writes every batch already queued, runs their
  // callbacks and joins the writer. Idempotent.
  void Stop();

  // Transactions queued and not yet being written.
  size_t queued_txns() const;

 private:
  struct Pending {
    std::vector<ensemble::v1::Txn> batch;
    Callback done;
  };

  absl::Status Enqueue(std::vector<ensemble::v1::Txn> batch, Callback done, bool wait);
  bool HasRoomLocked(size_t txns) const;
  void Run();
  void WriteGroup(std::deque<Pending> group);

  TxnLog* const log_;
  const GroupCommitterOptions options_;

  mutable std::mutex mu_;
  std::condition_variable work_cv_;   // writer: queue non-empty or stopping
  std::condition_variable space_cv_;  // producers: room in the queue or stopping
  std::deque<Pending> queue_;         // guarded by mu_
  size_t queued_txns_ = 0;            // guarded by mu_: sum of queue_ batch sizes
  bool stopping_ = false;             // guarded by mu_

  // Writer thread only.
  absl::Status first_error_;
  // The zxid the next accepted batch must exceed; writer thread only.
  int64_t floor_zxid_ = 0;

  std::thread writer_;
};

}  // namespace ensemble::storage

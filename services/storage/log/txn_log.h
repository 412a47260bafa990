#pragma once

#include <cstdint>
#include <limits>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ensemble/types.pb.h"

namespace ensemble::storage {

// Receives one transaction of a Read, in zxid order. A non-OK status stops the
// read, and Read returns that status unchanged.
using TxnVisitor = absl::FunctionRef<absl::Status(ensemble::v1::Txn txn)>;

// The durable transaction log of one peer: transactions keyed by zxid, plus
// the peer's ZAB epochs. LevelDbTxnLog is the production implementation; the
// simulator supplies an in-memory one over its simulated disk.
//
// Contract (every implementation):
// - Entries are ordered by zxid; zxids are > 0.
// - Every write (Append, TruncateAfter, PurgeBefore, SetAcceptedEpoch,
//   SetCurrentEpoch) is atomic and durable when it returns OK: after a crash
//   the log holds it entirely. A write that returns an error may or may not
//   survive a crash, entirely or not at all.
// - Fail-stop: after any write error, every later write returns that same
//   first error without touching the disk (LevelDB's RecordBackgroundError;
//   a failed fsync may have lost dirty pages, so retrying could acknowledge
//   data that is gone). The process is expected to exit and restart. Reads
//   keep working.
// - LastZxid/FirstZxid/PurgedZxid/epochs are cached: cheap, never fail.
//
// Thread-safety: implementations are thread-safe; concurrent writes are
// serialized. Callers that care about the order of writes (the storage
// driver) issue them from one thread or through one GroupCommitter.
class TxnLog {
 public:
  // For Read: no upper bound.
  static constexpr int64_t kToEnd = std::numeric_limits<int64_t>::max();

  virtual ~TxnLog() = default;

  // Appends `batch` in one atomic, synced write; durable on OK. This is the
  // group-commit unit: one fsync per call. An empty batch is a no-op.
  // REQUIRES (else FAILED_PRECONDITION, nothing written): zxids strictly
  // increasing within the batch and every zxid > max(LastZxid(), PurgedZxid()).
  // INVALID_ARGUMENT: a zxid <= 0. Any other error is a write error (sticky).
  [[nodiscard]] virtual absl::Status Append(std::vector<ensemble::v1::Txn> batch) = 0;

  // Calls `visitor` for every entry with from_zxid_exclusive < zxid <=
  // to_zxid_inclusive, in zxid order, over one consistent view of the log
  // (writes that finish during the read are not seen).
  // OUT_OF_RANGE: from_zxid_exclusive < PurgedZxid(), i.e. the log no longer
  // reaches back that far (the caller must send a snapshot instead).
  // DATA_LOSS naming the zxid: an entry fails its checksum or does not decode;
  // the entries before it have been visited.
  // INVALID_ARGUMENT: from_zxid_exclusive < 0.
  [[nodiscard]] virtual absl::Status Read(int64_t from_zxid_exclusive, int64_t to_zxid_inclusive,
                                          TxnVisitor visitor) const = 0;

  // Drops every entry with zxid > `zxid` (ZAB TRUNC), in one synced write.
  // Lowers PurgedZxid() to `zxid` if it was above. INVALID_ARGUMENT: zxid < 0.
  [[nodiscard]] virtual absl::Status TruncateAfter(int64_t zxid) = 0;

  // Drops every entry with zxid <= `zxid` (autopurge) and raises PurgedZxid()
  // to `zxid`, in one synced write. The caller passes the zxid of the oldest
  // snapshot it keeps, so that snapshot plus the remaining log rebuild the
  // state. INVALID_ARGUMENT: zxid < 0.
  [[nodiscard]] virtual absl::Status PurgeBefore(int64_t zxid) = 0;

  // The newest entry's zxid, or 0 if the log holds no entry.
  virtual int64_t LastZxid() const = 0;
  // The oldest entry's zxid, or 0 if the log holds no entry.
  virtual int64_t FirstZxid() const = 0;
  // Every entry with zxid <= PurgedZxid() may have been dropped by
  // PurgeBefore: Read reaches back to PurgedZxid() and no further. 0 initially.
  virtual int64_t PurgedZxid() const = 0;

  // For each epoch with entries in the log, its newest zxid, in increasing
  // order (replication's History needs where each epoch's run ends, for
  // DIFF/TRUNC decisions). This default reads the whole log; the LevelDB log
  // seeks once per epoch instead.
  [[nodiscard]] virtual absl::StatusOr<std::vector<int64_t>> EpochLastZxids() const;

  // The commit mark: every entry up to it is known committed, so a restart
  // may apply the log that far (and no further: the rest may be an old
  // epoch's uncommitted tail that a TRUNC removes). NoteCommitted raises it
  // in memory; an implementation persists it with a later write (it may lag
  // after a crash, never run ahead). Defaults: no mark, everything logged
  // counts as committed.
  virtual void NoteCommitted(int64_t zxid) { (void)zxid; }
  virtual int64_t CommittedMark() const { return LastZxid(); }

  // ZAB's acceptedEpoch and currentEpoch; 0 until first set.
  virtual int64_t AcceptedEpoch() const = 0;
  virtual int64_t CurrentEpoch() const = 0;
  // Persist an epoch in one synced write. INVALID_ARGUMENT: epoch < 0.
  // The log does not enforce ZAB's ordering rules; replication does.
  [[nodiscard]] virtual absl::Status SetAcceptedEpoch(int64_t epoch) = 0;
  [[nodiscard]] virtual absl::Status SetCurrentEpoch(int64_t epoch) = 0;
};

}  // namespace ensemble::storage

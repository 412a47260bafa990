#include "tests/sim/sim_txn_log.h"

#include <algorithm>
#include <utility>

#include "common/base/check.h"

namespace ensemble::sim {

SimTxnLog::Op SimTxnLog::MakeOp(Op::Kind kind, int64_t value) {
  Op op;
  op.kind = kind;
  op.value = value;
  return op;
}

bool SimTxnLog::State::Holds(int64_t zxid) const {
  if (log.count(zxid) > 0) return true;
  return !snapshots.empty() && snapshots.rbegin()->first >= zxid;
}

void SimTxnLog::Append(const ensemble::v1::Txn& txn) {
  // Pair assertion on the way in: zxids strictly increase (TxnLog contract).
  ENSEMBLE_CHECK(txn.header().zxid() > written_.last());
  Op op = MakeOp(Op::Kind::kAppend, 0);
  op.txn = txn;
  Write(std::move(op));
}

void SimTxnLog::TruncateAfter(int64_t zxid) {
  ENSEMBLE_CHECK(zxid >= written_.floor);
  Write(MakeOp(Op::Kind::kTruncate, zxid));
}

void SimTxnLog::InstallSnapshot(int64_t zxid, std::shared_ptr<const std::string> data) {
  Op op = MakeOp(Op::Kind::kInstall, zxid);
  op.data = std::move(data);
  Write(std::move(op));
}

void SimTxnLog::SaveSnapshot(int64_t zxid, std::shared_ptr<const std::string> data) {
  Op op = MakeOp(Op::Kind::kSave, zxid);
  op.data = std::move(data);
  Write(std::move(op));
}

void SimTxnLog::PurgeBefore(int64_t zxid) {
  ENSEMBLE_CHECK(written_.snapshots.count(zxid) > 0);
  Write(MakeOp(Op::Kind::kPurge, zxid));
}

void SimTxnLog::SetAcceptedEpoch(int64_t epoch) { Write(MakeOp(Op::Kind::kAccepted, epoch)); }
void SimTxnLog::SetCurrentEpoch(int64_t epoch) { Write(MakeOp(Op::Kind::kCurrent, epoch)); }
void SimTxnLog::MarkCommitted(int64_t zxid) { Write(MakeOp(Op::Kind::kCommitMark, zxid)); }

void SimTxnLog::Write(Op op) {
  ApplyOp(op, &written_);
  pending_.push_back(std::move(op));
}

void SimTxnLog::ApplyOp(const Op& op, State* s) {
  switch (op.kind) {
    case Op::Kind::kAppend:
      s->log[op.txn.header().zxid()] = op.txn;
      return;
    case Op::Kind::kTruncate:
      s->log.erase(s->log.upper_bound(op.value), s->log.end());
      s->snapshots.erase(s->snapshots.upper_bound(op.value), s->snapshots.end());
      s->commit_mark = std::min(s->commit_mark, op.value);
      return;
    case Op::Kind::kInstall:
      s->log.clear();
      s->snapshots.clear();
      s->snapshots[op.value] = op.data;
      s->floor = op.value;
      s->commit_mark = op.value;
      return;
    case Op::Kind::kSave:
      s->snapshots[op.value] = op.data;
      return;
    case Op::Kind::kPurge:
      s->log.erase(s->log.begin(), s->log.upper_bound(op.value));
      s->snapshots.erase(s->snapshots.begin(), s->snapshots.lower_bound(op.value));
      s->floor = std::max(s->floor, op.value);
      return;
    case Op::Kind::kAccepted:
      s->accepted_epoch = op.value;
      return;
    case Op::Kind::kCurrent:
      s->current_epoch = op.value;
      return;
    case Op::Kind::kCommitMark:
      s->commit_mark = std::max(s->commit_mark, op.value);
      return;
  }
}

void SimTxnLog::SyncUpTo(uint64_t count) {
  while (synced_count_ < count && !pending_.empty()) {
    ApplyOp(pending_.front(), &durable_);
    pending_.pop_front();
    ++synced_count_;
  }
}

size_t SimTxnLog::Crash(Rng& rng, bool keep_prefix) {
  size_t keep = keep_prefix ? rng.Uniform(pending_.size() + 1) : 0;
  for (size_t i = 0; i < keep; ++i) ApplyOp(pending_[i], &durable_);
  size_t lost = pending_.size() - keep;
  synced_count_ += keep;
  pending_.clear();
  // What the disk holds after the restart is what survived.
  synced_count_ += lost;  // positions of lost writes are never reused
  written_ = durable_;
  return lost;
}

}  // namespace ensemble::sim

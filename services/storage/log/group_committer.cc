#include "services/storage/log/group_committer.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/base/check.h"
#include "common/base/zxid.h"

namespace ensemble::storage {
namespace {

// FAILED_PRECONDITION unless the batch's zxids increase and start above
// `floor`; on OK, *floor becomes the batch's last zxid.
absl::Status CheckOrder(const std::vector<ensemble::v1::Txn>& batch, int64_t* floor) {
  int64_t prev = *floor;
  for (const ensemble::v1::Txn& txn : batch) {
    int64_t zxid = txn.header().zxid();
    if (zxid <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("group commit: zxid ", Zxid::Hex(zxid), " (zxids are > 0)"));
    }
    if (zxid <= prev) {
      return absl::FailedPreconditionError(absl::StrCat("group commit: batch has ", Zxid::Hex(zxid),
                                                        " after ", Zxid::Hex(prev),
                                                        " (zxids must increase)"));
    }
    prev = zxid;
  }
  *floor = prev;
  return absl::OkStatus();
}

}  // namespace

GroupCommitter::GroupCommitter(TxnLog* log, GroupCommitterOptions options)
    : log_(log), options_(std::move(options)) {
  ENSEMBLE_CHECK(log_ != nullptr);
  ENSEMBLE_CHECK(options_.max_queued_txns > 0);
  writer_ = std::thread([this] { Run(); });
}

GroupCommitter::~GroupCommitter() { Stop(); }

absl::Status GroupCommitter::Submit(std::vector<ensemble::v1::Txn> batch, Callback done) {
  return Enqueue(std::move(batch), std::move(done), /*wait=*/true);
}

absl::Status GroupCommitter::TrySubmit(std::vector<ensemble::v1::Txn> batch, Callback done) {
  return Enqueue(std::move(batch), std::move(done), /*wait=*/false);
}

bool GroupCommitter::HasRoomLocked(size_t txns) const {
  return queued_txns_ == 0 || queued_txns_ + txns <= options_.max_queued_txns;
}

absl::Status GroupCommitter::Enqueue(std::vector<ensemble::v1::Txn> batch, Callback done,
                                     bool wait) {
  ENSEMBLE_CHECK(done);
  std::unique_lock<std::mutex> lock(mu_);
  if (!stopping_ && !HasRoomLocked(batch.size())) {
    if (!wait) {
      return absl::ResourceExhaustedError(absl::StrCat("group commit: ", queued_txns_,
                                                       " txns already wait (max ",
                                                       options_.max_queued_txns, ")"));
    }
    // Waiting on the writer thread would wait for itself.
    ENSEMBLE_CHECK(std::this_thread::get_id() != writer_.get_id());
    space_cv_.wait(lock, [&] { return stopping_ || HasRoomLocked(batch.size()); });
  }
  if (stopping_) return absl::FailedPreconditionError("group commit: stopped");
  queued_txns_ += batch.size();
  queue_.push_back(Pending{std::move(batch), std::move(done)});
  work_cv_.notify_one();
  return absl::OkStatus();
}

size_t GroupCommitter::queued_txns() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queued_txns_;
}

void GroupCommitter::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  space_cv_.notify_all();
  if (writer_.joinable()) {
    ENSEMBLE_CHECK(std::this_thread::get_id() != writer_.get_id());
    writer_.join();
  }
}

void GroupCommitter::Run() {
  for (;;) {
    std::deque<Pending> group;
    {
      std::unique_lock<std::mutex> lock(mu_);
      work_cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything is written
      group.swap(queue_);
      queued_txns_ = 0;
    }
    space_cv_.notify_all();
    WriteGroup(std::move(group));
  }
}

void GroupCommitter::WriteGroup(std::deque<Pending> group) {
  // Outcome per batch; the accepted ones share the outcome of the one write.
  std::vector<absl::Status> outcome(group.size());
  std::vector<bool> in_write(group.size(), false);
  std::vector<ensemble::v1::Txn> merged;
  size_t batches = 0;

  if (first_error_.ok()) {
    int64_t floor = std::max(log_->LastZxid(), log_->PurgedZxid());
    size_t txns = 0;
    for (const Pending& p : group) txns += p.batch.size();
    merged.reserve(txns);
    for (size_t i = 0; i < group.size(); ++i) {
      outcome[i] = CheckOrder(group[i].batch, &floor);
      if (!outcome[i].ok()) continue;
      in_write[i] = true;
      if (group[i].batch.empty()) continue;  // a barrier rides along
      ++batches;
      for (ensemble::v1::Txn& txn : group[i].batch) merged.push_back(std::move(txn));
    }
  }

  absl::Status written = first_error_;
  if (first_error_.ok() && !merged.empty()) {
    GroupCommitStats stats;
    stats.txns = merged.size();
    stats.batches = batches;
    auto start = std::chrono::steady_clock::now();
    written = log_->Append(std::move(merged));
    stats.sync_duration = std::chrono::steady_clock::now() - start;
    stats.ok = written.ok();
    if (!written.ok()) first_error_ = written;
    if (options_.on_group_commit) options_.on_group_commit(stats);
  }

  for (size_t i = 0; i < group.size(); ++i) {
    // Written (or a barrier): the write's outcome. Rejected: its own error.
    // Neither (the committer had failed before): the first error.
    const absl::Status& s = in_write[i] ? written : !outcome[i].ok() ? outcome[i] : first_error_;
    std::move(group[i].done)(s);
  }
}

}  // namespace ensemble::storage

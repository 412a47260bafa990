#include "services/replication/core/sequencer.h"

#include "common/base/check.h"
#include "common/base/zxid.h"

namespace ensemble::zab {

namespace {
constexpr int32_t kOpCreateSession = -10;
}

Sequencer::Sequencer(int64_t sid, int64_t epoch, int64_t last_zxid, int64_t start_time_ms)
    : epoch_(epoch), counter_(Zxid::Epoch(last_zxid) == epoch ? Zxid::Counter(last_zxid) : 0) {
  // ZooKeeper SessionTrackerImpl.initializeNextSessionId.
  uint64_t base = (static_cast<uint64_t>(start_time_ms) << 24) >> 8;
  next_session_id_ = static_cast<int64_t>(base | (static_cast<uint64_t>(sid) << 56));
}

void Sequencer::Prepare(ensemble::v1::Txn* txn, int64_t now_ms) {
  ENSEMBLE_CHECK(!NeedsNewEpoch());
  ++counter_;
  auto* header = txn->mutable_header();
  header->set_zxid(Zxid::Make(epoch_, counter_));
  header->set_time_ms(now_ms);
  if (header->type() == kOpCreateSession) header->set_session_id(next_session_id_++);
}

void Sequencer::StartEpoch(int64_t epoch) {
  ENSEMBLE_CHECK(epoch > epoch_);
  epoch_ = epoch;
  counter_ = 0;
}

void Sequencer::SetCounterForTesting(int64_t counter) {
  ENSEMBLE_CHECK(counter >= counter_ && counter <= kMaxCounter);
  counter_ = counter;
}

int64_t Sequencer::last_zxid() const { return Zxid::Make(epoch_, counter_); }

}  // namespace ensemble::zab

#pragma once

#include <cstdint>

#include "ensemble/types.pb.h"

namespace ensemble::zab {

// The leader's half of ZooKeeper's PrepRequestProcessor that Ensemble keeps:
// it gives each submitted transaction its zxid and time and, for
// createSession, a new session id. Validation is not done here: applying the
// transaction computes its result, errors included, identically on every peer.
// Pure: the caller passes the time.
class Sequencer {
 public:
  // `epoch` is the leader's established epoch; zxids continue after
  // `last_zxid` if it is of the same epoch, else start at counter 1.
  // Session ids start from ZooKeeper's layout: sid in the top byte, then the
  // leader's start time in ms shifted, so ids from different leaders differ.
  Sequencer(int64_t sid, int64_t epoch, int64_t last_zxid, int64_t start_time_ms);

  // Fills header.zxid, header.time_ms and, for createSession, header.session_id.
  // REQUIRES: !NeedsNewEpoch().
  void Prepare(ensemble::v1::Txn* txn, int64_t now_ms);

  // True when the 32-bit counter is used up: the leader must move to a new
  // epoch before ordering more (ZooKeeper forces an election here).
  bool NeedsNewEpoch() const { return counter_ >= kMaxCounter; }

  // Continues in `epoch` (> current) at counter 1.
  void StartEpoch(int64_t epoch);

  // Testing only (ZooKeeper's zookeeper.testingonly.initialZxid): the next
  // zxid gets counter `counter` + 1, to reach the roll-over quickly.
  // REQUIRES: counter >= the current counter and <= kMaxCounter.
  void SetCounterForTesting(int64_t counter);

  int64_t epoch() const { return epoch_; }
  int64_t last_zxid() const;

  static constexpr int64_t kMaxCounter = 0xffffffffLL;

 private:
  int64_t epoch_;
  int64_t counter_;  // the counter of the last assigned zxid
  int64_t next_session_id_;
};

}  // namespace ensemble::zab

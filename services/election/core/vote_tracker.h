#pragma once

#include <cstdint>
#include <map>
#include <set>

#include "services/election/core/quorum.h"
#include "services/election/core/vote.h"

namespace ensemble::election {

// ZooKeeper's SyncedLearnerTracker for one configuration: the set of voters
// that acked (here: cast a matching vote), and whether they form a quorum.
// Holds a reference to `quorum`, which must outlive it.
class VoteTracker {
 public:
  explicit VoteTracker(const QuorumVerifier& quorum) : quorum_(&quorum) {}

  void AddAck(int64_t sid) { acks_.insert(sid); }
  // The acks contain a quorum of the configuration.
  bool HasAllQuorums() const { return quorum_->ContainsQuorum(acks_); }
  const std::set<int64_t>& acks() const { return acks_; }

 private:
  const QuorumVerifier* quorum_;
  std::set<int64_t> acks_;
};

// FastLeaderElection.getVoteTracker: the senders in `votes` (sid -> the vote
// last received from it) whose vote is the same as `vote` (SameVote).
VoteTracker GetVoteTracker(const QuorumVerifier& quorum, const std::map<int64_t, Vote>& votes,
                           const Vote& vote);

// FastLeaderElection.checkLeader: may a peer (`my_sid`, whose logical clock is
// `logical_clock`) accept `leader` elected in round `election_epoch`, given
// `votes`? "If everyone else thinks I'm the leader, I must be the leader"
// (only if the round is this peer's own); otherwise the leader itself must
// have said that it is LEADING.
bool CheckLeader(const std::map<int64_t, Vote>& votes, int64_t leader, int64_t election_epoch,
                 int64_t my_sid, int64_t logical_clock);

}  // namespace ensemble::election

#include "services/election/core/vote_tracker.h"

namespace ensemble::election {

VoteTracker GetVoteTracker(const QuorumVerifier& quorum, const std::map<int64_t, Vote>& votes,
                           const Vote& vote) {
  VoteTracker tracker(quorum);
  for (const auto& [sid, v] : votes) {
    if (SameVote(vote, v)) tracker.AddAck(sid);
  }
  return tracker;
}

bool CheckLeader(const std::map<int64_t, Vote>& votes, int64_t leader, int64_t election_epoch,
                 int64_t my_sid, int64_t logical_clock) {
  if (leader != my_sid) {
    auto it = votes.find(leader);
    return it != votes.end() && it->second.state == PeerState::kLeading;
  }
  return logical_clock == election_epoch;
}

}  // namespace ensemble::election

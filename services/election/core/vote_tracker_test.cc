#include "services/election/core/vote_tracker.h"

#include "gtest/gtest.h"

namespace ensemble::election {
namespace {

TEST(GetVoteTracker, CountsOnlyMatchingVotes) {
  MajorityQuorum q({1, 2, 3, 4, 5});
  const Vote mine{5, 10, 2, 1, PeerState::kLooking};
  std::map<int64_t, Vote> votes = {
      {1, mine},
      {2, {5, 10, 1, 1, PeerState::kLooking}},  // older round
      {3, {4, 10, 2, 1, PeerState::kLooking}},  // other leader
      {5, mine},
  };
  VoteTracker t = GetVoteTracker(q, votes, mine);
  EXPECT_EQ(t.acks(), (std::set<int64_t>{1, 5}));
  EXPECT_FALSE(t.HasAllQuorums());
  votes[4] = mine;
  EXPECT_TRUE(GetVoteTracker(q, votes, mine).HasAllQuorums());
}

TEST(GetVoteTracker, ObserversNeverMakeAQuorum) {
  MajorityQuorum q({1, 2, 3});
  const Vote v{3, 0, 1, 0, PeerState::kLooking};
  std::map<int64_t, Vote> votes = {{3, v}, {4, v}, {5, v}, {6, v}};  // 4..6 observers
  EXPECT_FALSE(GetVoteTracker(q, votes, v).HasAllQuorums());
}

TEST(CheckLeader, AnotherLeaderMustSayItLeads) {
  std::map<int64_t, Vote> votes = {{2, {3, 0, 1, 0, PeerState::kFollowing}}};
  EXPECT_FALSE(CheckLeader(votes, 3, 1, /*my_sid=*/1, /*logical_clock=*/1));
  votes[3] = {3, 0, 1, 0, PeerState::kFollowing};
  EXPECT_FALSE(CheckLeader(votes, 3, 1, 1, 1));
  votes[3] = {3, 0, 1, 0, PeerState::kLeading};
  EXPECT_TRUE(CheckLeader(votes, 3, 1, 1, 1));
  // The round does not matter when the leader is another peer.
  EXPECT_TRUE(CheckLeader(votes, 3, 7, 1, 1));
}

TEST(CheckLeader, ILeadOnlyInMyOwnRound) {
  std::map<int64_t, Vote> votes = {{2, {1, 0, 4, 0, PeerState::kFollowing}}};
  EXPECT_TRUE(CheckLeader(votes, /*leader=*/1, /*election_epoch=*/4, /*my_sid=*/1, 4));
  EXPECT_FALSE(CheckLeader(votes, 1, 4, 1, 5));
}

}  // namespace
}  // namespace ensemble::election

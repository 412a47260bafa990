#include "services/election/core/vote.h"

#include <map>

#include "gtest/gtest.h"

namespace ensemble::election {
namespace {

// Voters 1..5 with weight 1, except voter 4, which has weight 0.
class WeightedQuorum final : public QuorumVerifier {
 public:
  const std::vector<int64_t>& Voters() const override { return voters_; }
  int64_t Weight(int64_t sid) const override {
    if (!IsVoter(sid)) return 0;
    return sid == 4 ? 0 : 1;
  }
  bool ContainsQuorum(const std::set<int64_t>&) const override { return false; }

 private:
  std::vector<int64_t> voters_ = {1, 2, 3, 4, 5};
};

struct PredicateCase {
  const char* name;
  Proposal next;
  Proposal current;
  bool beats;
};

// FastLeaderElection.totalOrderPredicate, case by case (its comment lists
// them: higher epoch; same epoch and higher zxid; same epoch and zxid and
// higher sid; never a candidate of weight 0).
TEST(TotalOrderPredicate, TableOfCases) {
  const PredicateCase cases[] = {
      {"higher peer epoch wins over higher zxid", {1, 5, 3}, {2, 100, 2}, true},
      {"lower peer epoch loses despite higher zxid and sid", {3, 100, 1}, {2, 5, 2}, false},
      {"same epoch, higher zxid wins", {1, 0x100000005, 1}, {3, 0x100000004, 1}, true},
      {"same epoch, lower zxid loses", {3, 0x100000003, 1}, {1, 0x100000004, 1}, false},
      {"same epoch and zxid, higher sid wins", {3, 7, 1}, {2, 7, 1}, true},
      {"same epoch and zxid, lower sid loses", {2, 7, 1}, {3, 7, 1}, false},
      {"identical vote does not beat itself", {2, 7, 1}, {2, 7, 1}, false},
      {"weight-0 voter never wins, even with a higher epoch", {4, 9, 9}, {1, 0, 0}, false},
      {"non-voter never wins", {9, 9, 9}, {1, 0, 0}, false},
      {"a voter beats an observer's minimal vote",
       {1, 0, 0},
       {6, std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::min()},
       true},
      {"zxid compares as signed 64-bit", {1, 0x7fffffff00000000, 1}, {2, 0x100000000, 1}, true},
  };
  WeightedQuorum quorum;
  for (const auto& c : cases) {
    EXPECT_EQ(TotalOrderPredicate(quorum, c.next, c.current), c.beats) << c.name;
  }
}

TEST(TotalOrderPredicate, IsAStrictTotalOrderOnWeightedVoters) {
  // Irreflexive, asymmetric and total over a grid of proposals from voters
  // with weight: exactly one of a>b, b>a, a==b.
  MajorityQuorum quorum({1, 2, 3});
  std::vector<Proposal> all;
  for (int64_t sid = 1; sid <= 3; ++sid) {
    for (int64_t zxid = 0; zxid < 3; ++zxid) {
      for (int64_t epoch = 0; epoch < 3; ++epoch) all.push_back({sid, zxid, epoch});
    }
  }
  for (const auto& a : all) {
    for (const auto& b : all) {
      const int n =
          TotalOrderPredicate(quorum, a, b) + TotalOrderPredicate(quorum, b, a) + (a == b ? 1 : 0);
      EXPECT_EQ(n, 1) << ToString(a) << " vs " << ToString(b);
    }
  }
}

TEST(SameVote, LookingVotesCompareEveryField) {
  const Vote a{3, 10, 2, 1, PeerState::kLooking};
  EXPECT_TRUE(SameVote(a, a));
  EXPECT_FALSE(SameVote(a, Vote{3, 11, 2, 1, PeerState::kLooking}));  // zxid
  EXPECT_FALSE(SameVote(a, Vote{3, 10, 3, 1, PeerState::kLooking}));  // round
  EXPECT_FALSE(SameVote(a, Vote{3, 10, 2, 2, PeerState::kLooking}));  // peer epoch
  // LOOKING against FOLLOWING still compares everything.
  EXPECT_TRUE(SameVote(a, Vote{3, 10, 2, 1, PeerState::kFollowing}));
  EXPECT_FALSE(SameVote(a, Vote{3, 10, 1, 1, PeerState::kFollowing}));
}

TEST(SameVote, OutOfElectionVotesCompareLeaderAndPeerEpochOnly) {
  const Vote following{3, 10, 2, 1, PeerState::kFollowing};
  EXPECT_TRUE(SameVote(following, Vote{3, 99, 7, 1, PeerState::kLeading}));
  EXPECT_FALSE(SameVote(following, Vote{3, 10, 2, 2, PeerState::kLeading}));
  EXPECT_FALSE(SameVote(following, Vote{2, 10, 2, 1, PeerState::kFollowing}));
}

TEST(NotificationProto, RoundTripsEveryField) {
  const Notification n{5, 3, 0x200000007, 4, 2, PeerState::kFollowing};
  auto back = FromProto(ToProto(n));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, n);
}

TEST(NotificationProto, RejectsMissingState) {
  ensemble::election::v1::Notification p;
  p.set_sid(2);
  EXPECT_EQ(FromProto(p).status().code(), absl::StatusCode::kInvalidArgument);
  p.set_state(static_cast<ensemble::election::v1::PeerState>(17));
  EXPECT_EQ(FromProto(p).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ensemble::election

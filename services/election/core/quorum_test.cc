#include "services/election/core/quorum.h"

#include "gtest/gtest.h"

namespace ensemble::election {
namespace {

struct QuorumCase {
  std::vector<int64_t> voters;
  std::set<int64_t> acks;
  bool quorum;
};

// QuorumMaj.containsQuorum: more than half of the voters.
TEST(MajorityQuorum, TableOfCases) {
  const QuorumCase cases[] = {
      {{1}, {1}, true},
      {{1}, {}, false},
      {{1, 2}, {1}, false},  // two voters need both
      {{1, 2}, {1, 2}, true},
      {{1, 2, 3}, {3}, false},
      {{1, 2, 3}, {1, 3}, true},
      {{1, 2, 3, 4}, {1, 2}, false},  // exactly half is not a quorum
      {{1, 2, 3, 4}, {1, 2, 4}, true},
      {{1, 2, 3, 4, 5}, {2, 4}, false},
      {{1, 2, 3, 4, 5}, {1, 4, 5}, true},
      {{1, 2, 3}, {1, 7, 8, 9}, false},  // non-voters (observers) count for nothing
      {{}, {1}, false},
  };
  for (const auto& c : cases) {
    MajorityQuorum q(c.voters);
    EXPECT_EQ(q.ContainsQuorum(c.acks), c.quorum)
        << "voters=" << c.voters.size() << " acks=" << c.acks.size();
  }
}

TEST(MajorityQuorum, SortsVotersAndAnswersWeights) {
  MajorityQuorum q({3, 1, 2, 3});
  EXPECT_EQ(q.Voters(), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_TRUE(q.IsVoter(2));
  EXPECT_FALSE(q.IsVoter(4));
  EXPECT_EQ(q.Weight(1), 1);
  EXPECT_EQ(q.Weight(4), 0);
}

}  // namespace
}  // namespace ensemble::election

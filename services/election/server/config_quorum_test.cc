#include "services/election/server/config_quorum.h"

#include <memory>

#include "gtest/gtest.h"
#include "services/election/core/fast_leader_election.h"

namespace ensemble::election {
namespace {

config::Config Parse(const std::string& text) {
  auto c = config::ParseZooCfg("dataDir=/d\n" + text, "zoo.cfg");
  EXPECT_TRUE(c.ok()) << c.status();
  return *c;
}

TEST(ConfigQuorum, MajorityOfParticipantsObserversExcluded) {
  ConfigQuorum q(
      Parse("server.1=a:1:2\nserver.2=b:1:2\nserver.3=c:1:2\nserver.4=d:1:2:observer\n"));
  EXPECT_EQ(q.Voters(), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_FALSE(q.IsVoter(4));
  EXPECT_EQ(q.Weight(4), 0);
  EXPECT_TRUE(q.ContainsQuorum({1, 3}));
  EXPECT_FALSE(q.ContainsQuorum({1, 4}));
}

// QuorumHierarchical: a majority (by weight) in a majority of the groups.
TEST(ConfigQuorum, HierarchicalGroupsAndWeights) {
  ConfigQuorum q(
      Parse("server.1=a:1:2\nserver.2=b:1:2\nserver.3=c:1:2\n"
            "server.4=d:1:2\nserver.5=e:1:2\nserver.6=f:1:2\n"
            "group.1=1:2:3\ngroup.2=4:5:6\n"
            "weight.1=3\nweight.2=1\nweight.3=1\nweight.4=1\nweight.5=1\nweight.6=0\n"));
  EXPECT_EQ(q.Weight(1), 3);
  EXPECT_EQ(q.Weight(6), 0);
  // Group 1 by weight alone (3 of 5), group 2 by 4 and 5 (2 of 2).
  EXPECT_TRUE(q.ContainsQuorum({1, 4, 5}));
  // Two groups need both: group 1 only is not enough, however many members.
  EXPECT_FALSE(q.ContainsQuorum({1, 2, 3}));
  // 2 and 3 weigh 2 of 5 in group 1: no majority there.
  EXPECT_FALSE(q.ContainsQuorum({2, 3, 4, 5}));
}

// The election over a weighted configuration: voters 1..3, voter 3 of weight 0
// with the best data is never elected, and it follows the winner.
TEST(ConfigQuorum, ZeroWeightVoterWithTheBestDataIsNeverElected) {
  auto quorum =
      std::make_shared<ConfigQuorum>(Parse("server.1=a:1:2\nserver.2=b:1:2\nserver.3=c:1:2\n"
                                           "group.1=1:2:3\nweight.1=1\nweight.2=1\nweight.3=0\n"));
  std::map<int64_t, std::unique_ptr<FastLeaderElection>> peers;
  for (int64_t sid = 1; sid <= 3; ++sid) {
    ElectionOptions o;
    o.sid = sid;
    o.quorum = quorum;
    o.finalize_wait_ticks = 2;
    peers[sid] = std::make_unique<FastLeaderElection>(o);
  }
  const int64_t zxid[] = {0, 0x100000001, 0x100000002, 0x900000000};
  std::vector<OutgoingNotification> net;
  for (auto& [sid, p] : peers) {
    p->Start({sid, zxid[sid], sid == 3 ? 9 : 1});
    for (auto& m : p->TakeOutput().notifications) net.push_back(m);
  }
  for (int round = 0; round < 20; ++round) {
    std::vector<OutgoingNotification> next;
    for (const auto& m : net) {
      peers[m.to]->Step(m.notification);
      for (auto& o : peers[m.to]->TakeOutput().notifications) next.push_back(o);
    }
    for (auto& [sid, p] : peers) {
      p->Tick();
      for (auto& o : p->TakeOutput().notifications) next.push_back(o);
    }
    net = std::move(next);
  }
  for (int64_t sid = 1; sid <= 3; ++sid) {
    ASSERT_TRUE(peers[sid]->decided()) << sid;
    EXPECT_EQ(peers[sid]->decision().leader, 2) << sid;
  }
  EXPECT_EQ(peers[3]->state(), PeerState::kFollowing);
}

}  // namespace
}  // namespace ensemble::election

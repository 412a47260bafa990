#include "services/election/core/fast_leader_election.h"

#include <deque>
#include <functional>
#include <memory>

#include "gtest/gtest.h"

namespace ensemble::election {
namespace {

constexpr int64_t kFinalize = 4;
constexpr int64_t kMinInterval = 4;
constexpr int64_t kMaxInterval = 32;

ElectionOptions Options(int64_t sid, std::shared_ptr<const QuorumVerifier> quorum,
                        int64_t leader_timeout = 0) {
  ElectionOptions o;
  o.sid = sid;
  o.quorum = std::move(quorum);
  o.finalize_wait_ticks = kFinalize;
  o.min_notification_interval_ticks = kMinInterval;
  o.max_notification_interval_ticks = kMaxInterval;
  o.leader_timeout_ticks = leader_timeout;
  o.seed = static_cast<uint64_t>(sid);
  return o;
}

// A perfect in-memory network: FIFO delivery, no loss, for scripted scenarios.
class Cluster {
 public:
  // Voters 1..voters, observers voters+1..voters+observers.
  Cluster(int voters, int observers = 0, int64_t leader_timeout = 0) {
    std::vector<int64_t> ids;
    for (int64_t sid = 1; sid <= voters; ++sid) ids.push_back(sid);
    quorum_ = std::make_shared<MajorityQuorum>(ids);
    for (int64_t sid = 1; sid <= voters + observers; ++sid) {
      peers_[sid] = std::make_unique<FastLeaderElection>(Options(sid, quorum_, leader_timeout));
    }
  }

  FastLeaderElection& peer(int64_t sid) { return *peers_.at(sid); }
  std::deque<OutgoingNotification>& inflight() { return inflight_; }

  void Start(int64_t sid, int64_t zxid, int64_t epoch = 0) {
    peer(sid).Start({sid, zxid, epoch});
    Collect(sid);
  }
  // Replaces a peer by a fresh instance (a restarted process).
  void Restart(int64_t sid, int64_t zxid, int64_t epoch = 0) {
    peers_[sid] = std::make_unique<FastLeaderElection>(Options(sid, quorum_));
    down_.erase(sid);
    Start(sid, zxid, epoch);
  }
  void Crash(int64_t sid) { down_.insert(sid); }

  void Collect(int64_t sid) {
    ElectionOutput out = peer(sid).TakeOutput();
    for (auto& m : out.notifications) inflight_.push_back(m);
    if (out.decision) decisions_[sid].push_back(*out.decision);
    if (out.restart_reason) restarts_[sid].push_back(*out.restart_reason);
  }

  // Messages for which `hold` is true stay in the network until Release();
  // messages for which `drop` is true are lost.
  std::function<bool(const OutgoingNotification&)> hold;
  std::function<bool(const OutgoingNotification&)> drop;
  void Release() {
    for (auto& m : held_) inflight_.push_back(m);
    held_.clear();
    hold = nullptr;
  }

  // Delivers until the network is quiet (bounded).
  void DeliverAll() {
    for (int i = 0; i < 100000 && !inflight_.empty(); ++i) {
      OutgoingNotification m = inflight_.front();
      inflight_.pop_front();
      if (hold && hold(m)) {
        held_.push_back(m);
        continue;
      }
      if (drop && drop(m)) continue;
      ++delivered_;
      if (down_.contains(m.to) || down_.contains(m.notification.sid)) continue;
      peer(m.to).Step(m.notification);
      Collect(m.to);
    }
    ASSERT_TRUE(inflight_.empty());
  }

  void TickOne(int64_t sid) {
    peer(sid).Tick();
    Collect(sid);
  }

  void TickAll(int n = 1) {
    for (int i = 0; i < n; ++i) {
      for (auto& [sid, p] : peers_) {
        if (down_.contains(sid)) continue;
        p->Tick();
        Collect(sid);
      }
      DeliverAll();
    }
  }

  // Every live peer sends its status to every other live peer.
  void ExchangeStatuses() {
    for (auto& [from, p] : peers_) {
      if (down_.contains(from)) continue;
      for (auto& [to, q] : peers_) {
        if (to != from && !down_.contains(to)) q->PeerStatus(p->Status());
      }
    }
  }

  const std::vector<Decision>& decisions(int64_t sid) { return decisions_[sid]; }
  const std::vector<std::string>& restarts(int64_t sid) { return restarts_[sid]; }
  int64_t delivered() const { return delivered_; }

 private:
  std::shared_ptr<const QuorumVerifier> quorum_;
  std::map<int64_t, std::unique_ptr<FastLeaderElection>> peers_;
  std::set<int64_t> down_;
  std::deque<OutgoingNotification> inflight_;
  std::deque<OutgoingNotification> held_;
  std::map<int64_t, std::vector<Decision>> decisions_;
  std::map<int64_t, std::vector<std::string>> restarts_;
  int64_t delivered_ = 0;
};

// --- Start ------------------------------------------------------------------

TEST(FastLeaderElectionStart, VotesForItselfAndNotifiesEveryOtherVoter) {
  Cluster c(3);
  c.peer(2).Start({2, 0x100000005, 1});
  ElectionOutput out = c.peer(2).TakeOutput();
  const Notification expected{2, 2, 0x100000005, 1, 1, PeerState::kLooking};
  EXPECT_EQ(out.notifications, (std::vector<OutgoingNotification>{{1, expected}, {3, expected}}));
  EXPECT_EQ(c.peer(2).logical_clock(), 1);
  EXPECT_EQ(c.peer(2).state(), PeerState::kLooking);
  EXPECT_FALSE(out.decision);
}

TEST(FastLeaderElectionStart, EachStartIsANewRound) {
  Cluster c(3);
  c.Start(1, 0);
  c.peer(1).Abandon("test");
  c.Start(1, 0);
  EXPECT_EQ(c.peer(1).logical_clock(), 2);
  EXPECT_TRUE(c.peer(1).started());
}

TEST(FastLeaderElectionStart, NotificationsBeforeStartAreDropped) {
  Cluster c(3);
  c.peer(1).Step({2, 2, 0, 1, 0, PeerState::kLooking});
  EXPECT_TRUE(c.peer(1).TakeOutput().empty());
  EXPECT_EQ(c.peer(1).logical_clock(), 0);
}

// --- Electing the best vote -------------------------------------------------

TEST(FastLeaderElectionScenario, ThreeVotersElectTheHighestZxid) {
  Cluster c(3);
  c.Start(1, 0x100000009, 1);  // highest zxid
  c.Start(2, 0x100000003, 1);
  c.Start(3, 0x100000007, 1);
  c.DeliverAll();
  for (int64_t sid = 1; sid <= 3; ++sid) EXPECT_FALSE(c.peer(sid).decided()) << "finalize wait";
  c.TickAll(kFinalize);
  for (int64_t sid = 1; sid <= 3; ++sid) {
    ASSERT_TRUE(c.peer(sid).decided()) << sid;
    EXPECT_EQ(c.peer(sid).decision().leader, 1);
    EXPECT_EQ(c.peer(sid).decision().zxid, 0x100000009);
    EXPECT_EQ(c.peer(sid).decision().election_epoch, 1);
  }
  EXPECT_EQ(c.peer(1).state(), PeerState::kLeading);
  EXPECT_EQ(c.peer(2).state(), PeerState::kFollowing);
  EXPECT_EQ(c.peer(3).state(), PeerState::kFollowing);
}

TEST(FastLeaderElectionScenario, FiveVotersElectHighestEpochThenZxidThenSid) {
  Cluster c(5);
  c.Start(1, 0x200000005, 2);
  c.Start(2, 0x300000001, 3);
  c.Start(3, 0x300000001, 3);  // ties with 2 on (epoch, zxid): the higher sid wins
  c.Start(4, 0x100000100, 1);  // highest counter, lower epoch
  c.Start(5, 0x200000009, 2);
  c.DeliverAll();
  c.TickAll(kFinalize);
  for (int64_t sid = 1; sid <= 5; ++sid) {
    ASSERT_TRUE(c.peer(sid).decided()) << sid;
    EXPECT_EQ(c.peer(sid).decision().leader, 3) << sid;
    EXPECT_EQ(c.peer(sid).decision().peer_epoch, 3);
  }
  EXPECT_EQ(c.peer(3).state(), PeerState::kLeading);
}

TEST(FastLeaderElectionScenario, EmptyDataElectsTheHighestSid) {
  Cluster c(5);
  for (int64_t sid = 1; sid <= 5; ++sid) c.Start(sid, 0);
  c.DeliverAll();
  c.TickAll(kFinalize);
  for (int64_t sid = 1; sid <= 5; ++sid) {
    ASSERT_TRUE(c.peer(sid).decided());
    EXPECT_EQ(c.peer(sid).decision().leader, 5);
  }
}

TEST(FastLeaderElectionScenario, AQuorumDecidesWithoutTheRest) {
  Cluster c(5);
  c.Crash(4);
  c.Crash(5);
  for (int64_t sid = 1; sid <= 3; ++sid) c.Start(sid, 0);
  c.DeliverAll();
  c.TickAll(kFinalize);
  for (int64_t sid = 1; sid <= 3; ++sid) {
    ASSERT_TRUE(c.peer(sid).decided());
    EXPECT_EQ(c.peer(sid).decision().leader, 3);
  }
}

TEST(FastLeaderElectionScenario, NoQuorumNoDecision) {
  Cluster c(5);
  for (int64_t sid = 3; sid <= 5; ++sid) c.Crash(sid);
  c.Start(1, 0);
  c.Start(2, 0);
  c.DeliverAll();
  c.TickAll(200);
  EXPECT_FALSE(c.peer(1).decided());
  EXPECT_FALSE(c.peer(2).decided());
  EXPECT_EQ(c.peer(1).proposal().leader, 2);
}

TEST(FastLeaderElectionScenario, QuorumOfOneLeadsAfterTheFinalizeWait) {
  // standaloneEnabled=false with a single participant.
  Cluster c(1);
  c.Start(1, 0x500000001, 5);
  EXPECT_FALSE(c.peer(1).decided());
  c.TickAll(kFinalize);
  ASSERT_TRUE(c.peer(1).decided());
  EXPECT_EQ(c.peer(1).state(), PeerState::kLeading);
  EXPECT_EQ(c.peer(1).decision().ticks, kFinalize);
}

// --- Rounds, duplicates, the finalize wait ---------------------------------

TEST(FastLeaderElectionRounds, LaterRoundIsAdoptedAndOldVotesForgotten) {
  Cluster c(3);
  c.Start(1, 0x10);
  c.inflight().clear();
  // Peer 2's round-1 vote for 2 arrives, then peer 3 in round 5 votes for 3.
  c.peer(1).Step({2, 2, 0x5, 1, 0, PeerState::kLooking});
  c.peer(1).TakeOutput();
  c.peer(1).Step({3, 3, 0x5, 5, 0, PeerState::kLooking});
  ElectionOutput out = c.peer(1).TakeOutput();
  EXPECT_EQ(c.peer(1).logical_clock(), 5);
  // Our own vote (zxid 0x10) beats peer 3's (zxid 0x5): vote for ourselves in round 5.
  EXPECT_EQ(c.peer(1).proposal(), (Proposal{1, 0x10, 0}));
  const Notification mine{1, 1, 0x10, 5, 0, PeerState::kLooking};
  EXPECT_EQ(out.notifications, (std::vector<OutgoingNotification>{{2, mine}, {3, mine}}));
}

TEST(FastLeaderElectionRounds, OldRoundIsIgnoredButAnswered) {
  Cluster c(3);
  c.Start(1, 0x10);
  c.peer(1).Step({3, 3, 0x5, 4, 0, PeerState::kLooking});  // jump to round 4
  c.peer(1).TakeOutput();
  const Proposal before = c.peer(1).proposal();
  // A better vote, but from round 2.
  c.peer(1).Step({2, 2, 0x99, 2, 0, PeerState::kLooking});
  ElectionOutput out = c.peer(1).TakeOutput();
  EXPECT_EQ(c.peer(1).proposal(), before);
  EXPECT_EQ(c.peer(1).logical_clock(), 4);
  // The lagging sender learns our round and vote.
  const Notification answer{1, 1, 0x10, 4, 0, PeerState::kLooking};
  EXPECT_EQ(out.notifications, (std::vector<OutgoingNotification>{{2, answer}}));
}

TEST(FastLeaderElectionRounds, DuplicateNotificationsAreNoOps) {
  Cluster c(5);
  c.Start(1, 0);
  c.peer(1).TakeOutput();
  const Notification from2{2, 5, 0, 1, 0, PeerState::kLooking};
  c.peer(1).Step(from2);
  ElectionOutput first = c.peer(1).TakeOutput();
  EXPECT_EQ(first.notifications.size(), 4u);  // adopted 5's vote: tell every voter
  for (int i = 0; i < 5; ++i) c.peer(1).Step(from2);
  ElectionOutput dup = c.peer(1).TakeOutput();
  EXPECT_TRUE(dup.notifications.empty());
  // One vote per sender: peer 1 and 2 agree, which is not a quorum of 5,
  // however often peer 2 repeats itself.
  c.TickAll(kFinalize + 1);
  EXPECT_FALSE(c.peer(1).decided());
}

TEST(FastLeaderElectionRounds, BetterVoteDuringFinalizeWaitWins) {
  Cluster c(5);
  c.Crash(5);
  for (int64_t sid = 1; sid <= 3; ++sid) c.Start(sid, 0);
  c.DeliverAll();
  // 1, 2, 3 agree on 3: a quorum of 5; the finalize wait runs.
  c.TickAll(kFinalize - 1);
  EXPECT_FALSE(c.peer(1).decided());
  // Peer 4 shows up with the best vote before the wait is over.
  c.Start(4, 0);
  c.DeliverAll();
  c.TickAll(kFinalize);
  for (int64_t sid = 1; sid <= 4; ++sid) {
    ASSERT_TRUE(c.peer(sid).decided()) << sid;
    EXPECT_EQ(c.peer(sid).decision().leader, 4) << sid;
  }
}

TEST(FastLeaderElectionRounds, NotificationNamingANonVoterIsIgnored) {
  Cluster c(3, /*observers=*/1);
  c.Start(1, 0);
  c.peer(1).TakeOutput();
  c.peer(1).Step({2, 4, 0x99, 1, 9, PeerState::kLooking});  // votes for observer 4
  EXPECT_TRUE(c.peer(1).TakeOutput().notifications.empty());
  EXPECT_EQ(c.peer(1).proposal().leader, 1);
}

// --- Joining a running leader (outofelection) -------------------------------

TEST(FastLeaderElectionJoin, RestartedPeerJoinsTheEstablishedLeader) {
  Cluster c(3);
  for (int64_t sid = 1; sid <= 3; ++sid) c.Start(sid, 0x100000004);
  c.DeliverAll();
  c.TickAll(kFinalize);
  ASSERT_EQ(c.peer(3).state(), PeerState::kLeading);
  // Peer 1 restarts (fresh process, round 1 again) with the same data.
  c.Restart(1, 0x100000004, 1);
  c.DeliverAll();  // no ticks: it joins on the answers alone
  ASSERT_TRUE(c.peer(1).decided());
  EXPECT_EQ(c.peer(1).state(), PeerState::kFollowing);
  EXPECT_EQ(c.peer(1).decision().leader, 3);
  EXPECT_TRUE(c.peer(1).decision().joined);
  // The others kept their decision: one decision each, no new round.
  EXPECT_EQ(c.decisions(2).size(), 1u);
  EXPECT_EQ(c.decisions(3).size(), 1u);
  EXPECT_EQ(c.peer(3).logical_clock(), 1);
}

TEST(FastLeaderElectionJoin, RestartedPeerInALaterRoundStillJoins) {
  Cluster c(3);
  for (int64_t sid = 1; sid <= 3; ++sid) c.Start(sid, 0);
  c.DeliverAll();
  c.TickAll(kFinalize);
  // Peer 1 starts looking again several times (its replication lost touch).
  for (int i = 0; i < 3; ++i) {
    c.peer(1).Abandon("test");
    c.peer(1).Start({1, 0, 0});
    c.peer(1).TakeOutput();
  }
  c.peer(1).Start({1, 0, 0});
  c.Collect(1);
  ASSERT_EQ(c.peer(1).logical_clock(), 5);
  c.DeliverAll();
  ASSERT_TRUE(c.peer(1).decided());
  EXPECT_EQ(c.peer(1).decision().leader, 3);
  // outofelection adopts the leader's round.
  EXPECT_EQ(c.peer(1).logical_clock(), 1);
}

TEST(FastLeaderElectionJoin, FollowersAloneDoNotMakeALeader) {
  // checkLeader: a quorum of FOLLOWING votes is not enough; the leader itself
  // must say LEADING.
  Cluster c(5);
  c.Start(1, 0);
  c.peer(1).TakeOutput();
  for (int64_t sid = 2; sid <= 4; ++sid) c.peer(1).Step({sid, 5, 0, 3, 0, PeerState::kFollowing});
  EXPECT_FALSE(c.peer(1).decided());
  c.peer(1).Step({5, 5, 0, 3, 0, PeerState::kLeading});
  ASSERT_TRUE(c.peer(1).decided());
  EXPECT_EQ(c.peer(1).decision().leader, 5);
  EXPECT_EQ(c.peer(1).logical_clock(), 3);
}

TEST(FastLeaderElectionJoin, LeaderAloneDoesNotMakeAQuorum) {
  Cluster c(5);
  c.Start(1, 0);
  c.peer(1).Step({5, 5, 0, 3, 0, PeerState::kLeading});
  c.peer(1).Step({4, 5, 0, 3, 0, PeerState::kFollowing});
  EXPECT_FALSE(c.peer(1).decided());  // 2 of 5
}

TEST(FastLeaderElectionJoin, DecidedPeerAnswersLookingVotersOnly) {
  Cluster c(3);
  for (int64_t sid = 1; sid <= 3; ++sid) c.Start(sid, 0);
  c.DeliverAll();
  c.TickAll(kFinalize);
  ASSERT_TRUE(c.peer(2).decided());
  c.peer(2).Step({1, 1, 0, 1, 0, PeerState::kLooking});
  ElectionOutput out = c.peer(2).TakeOutput();
  const Notification answer{2, 3, 0, 1, 0, PeerState::kFollowing};
  EXPECT_EQ(out.notifications, (std::vector<OutgoingNotification>{{1, answer}}));
  c.peer(2).Step({1, 3, 0, 1, 0, PeerState::kFollowing});
  EXPECT_TRUE(c.peer(2).TakeOutput().notifications.empty());
}

TEST(FastLeaderElectionJoin, JoinsALeaderWhoseFollowersReportDifferentPeerEpochs) {
  // Regression (docs/zab.md, "Known issues"; simulator seeds in
  // tests/sim/seeds.txt): the leader was re-elected with a newer epoch while
  // two of its followers kept following it under the old one. The decided
  // peers name one leader with two peer epochs, and no (leader, peer epoch)
  // pair has a quorum: a restarted peer stayed LOOKING while a quorum served.
  Cluster c(5);
  for (int64_t sid = 1; sid <= 5; ++sid) c.Start(sid, 0x100000005, 1);
  c.DeliverAll();
  c.TickAll(kFinalize);
  ASSERT_EQ(c.peer(5).state(), PeerState::kLeading);
  ASSERT_EQ(c.peer(1).decision().peer_epoch, 1);
  // 3, 4 and 5 elect 5 again, now in epoch 2; 1 and 2 keep following 5.
  for (int64_t sid = 3; sid <= 5; ++sid) {
    c.peer(sid).Abandon("test");
    c.Start(sid, 0x200000000, 2);
  }
  c.DeliverAll();
  c.TickAll(kFinalize);
  ASSERT_EQ(c.peer(5).state(), PeerState::kLeading);
  ASSERT_EQ(c.peer(5).decision().peer_epoch, 2);
  ASSERT_EQ(c.peer(4).decision().leader, 5);
  ASSERT_EQ(c.peer(1).decision().peer_epoch, 1);
  // Peer 3 restarts: 1 and 2 say (5, epoch 1), 4 and 5 say (5, epoch 2).
  c.Restart(3, 0x200000000, 2);
  c.DeliverAll();
  c.TickAll(4 * kMaxInterval);
  ASSERT_TRUE(c.peer(3).decided());
  EXPECT_EQ(c.peer(3).state(), PeerState::kFollowing);
  EXPECT_EQ(c.peer(3).decision().leader, 5);
  EXPECT_TRUE(c.peer(3).decision().joined);
  // It takes the leader's own vote: its round and epoch.
  EXPECT_EQ(c.peer(3).decision().peer_epoch, 2);
  EXPECT_EQ(c.peer(3).decision().election_epoch, c.peer(5).decision().election_epoch);
  EXPECT_EQ(c.peer(3).logical_clock(), c.peer(5).decision().election_epoch);
  EXPECT_EQ(c.decisions(5).size(), 2u);  // the leader kept its decision
}

TEST(FastLeaderElectionJoin, ALeadingVoteIsForgottenWhenItsSenderLooksAgain) {
  // Regression: peer 3's LEADING answer, then its LOOKING notification (it
  // gave up leading), then peer 2's FOLLOWING answer naming 3. The stale
  // LEADING vote must not make peer 1 follow a peer that is LOOKING.
  Cluster c(3);
  c.Start(1, 0x100000001, 1);
  c.peer(1).Step({3, 3, 0x100000001, 1, 1, PeerState::kLeading});
  c.peer(1).Step({3, 3, 0x100000002, 2, 1, PeerState::kLooking});
  c.peer(1).Step({2, 3, 0x100000001, 1, 1, PeerState::kFollowing});
  EXPECT_FALSE(c.peer(1).decided());
  EXPECT_EQ(c.peer(1).logical_clock(), 2);
  EXPECT_EQ(c.peer(1).proposal(), (Proposal{3, 0x100000002, 1}));
  // 3 leads again: now 1 joins it.
  c.peer(1).Step({3, 3, 0x100000002, 2, 1, PeerState::kLeading});
  ASSERT_TRUE(c.peer(1).decided());
  EXPECT_EQ(c.peer(1).decision().leader, 3);
  EXPECT_EQ(c.peer(1).decision().election_epoch, 2);
}

TEST(FastLeaderElectionJoin, ALeaderThatSaysLookingIsNotJoined) {
  // A quorum of followers is not enough when the leader's latest word is
  // LOOKING, whatever the order the others' votes came in.
  Cluster c(5);
  c.Start(1, 0);
  c.peer(1).Step({5, 5, 0, 3, 0, PeerState::kLeading});
  c.peer(1).Step({5, 5, 0, 4, 0, PeerState::kLooking});
  for (int64_t sid = 2; sid <= 4; ++sid) c.peer(1).Step({sid, 5, 0, 3, 0, PeerState::kFollowing});
  EXPECT_FALSE(c.peer(1).decided());
}

// --- Observers --------------------------------------------------------------

TEST(FastLeaderElectionObservers, ObserversNeverVoteAndLearnTheLeader) {
  Cluster c(3, /*observers=*/2);
  // The observers hold the highest zxids; it must not matter.
  for (int64_t sid = 1; sid <= 3; ++sid) c.Start(sid, 0x100000001);
  c.Start(4, 0x900000000, 9);
  c.Start(5, 0x900000000, 9);
  // An observer only ever sends to voters.
  for (const auto& m : c.inflight()) {
    if (m.notification.sid >= 4) {
      EXPECT_LE(m.to, 3);
    }
  }
  c.DeliverAll();
  c.TickAll(kFinalize + 2 * kMaxInterval);
  for (int64_t sid = 1; sid <= 3; ++sid) {
    ASSERT_TRUE(c.peer(sid).decided());
    EXPECT_EQ(c.peer(sid).decision().leader, 3);
  }
  for (int64_t sid = 4; sid <= 5; ++sid) {
    ASSERT_TRUE(c.peer(sid).decided()) << sid;
    EXPECT_EQ(c.peer(sid).state(), PeerState::kObserving);
    EXPECT_EQ(c.peer(sid).decision().leader, 3);
  }
}

TEST(FastLeaderElectionObservers, VoterAnswersAnObserverWithoutCountingIt) {
  Cluster c(3, /*observers=*/1);
  c.Start(1, 0);
  c.peer(1).TakeOutput();
  c.peer(1).Step({4, 4, 0x999, 7, 9, PeerState::kLooking});
  ElectionOutput out = c.peer(1).TakeOutput();
  ASSERT_EQ(out.notifications.size(), 1u);
  EXPECT_EQ(out.notifications[0].to, 4);
  EXPECT_EQ(out.notifications[0].notification.leader, 1);
  // Neither the observer's round nor its vote changed anything.
  EXPECT_EQ(c.peer(1).logical_clock(), 1);
  EXPECT_EQ(c.peer(1).proposal().leader, 1);
}

TEST(FastLeaderElectionObservers, ObserverJoinsARunningEnsemble) {
  Cluster c(3, /*observers=*/1);
  for (int64_t sid = 1; sid <= 3; ++sid) c.Start(sid, 0);
  c.DeliverAll();
  c.TickAll(kFinalize);
  c.Start(4, 0);
  c.DeliverAll();
  ASSERT_TRUE(c.peer(4).decided());
  EXPECT_EQ(c.peer(4).state(), PeerState::kObserving);
  EXPECT_EQ(c.peer(4).decision().leader, 3);
}

TEST(FastLeaderElectionObservers, DecidedObserverAndLookingVoterDoNotPingPong) {
  // Regression (docs/zab.md, "Known issues"): a decided observer answered
  // every LOOKING notification from a voter with its decision, and a voter
  // answered every notification from a non-voter with its vote, so the two
  // exchanged notifications without end.
  Cluster c(3, /*observers=*/1);
  for (int64_t sid = 1; sid <= 4; ++sid) c.Start(sid, 0);
  c.DeliverAll();
  c.TickAll(kFinalize + 2 * kMaxInterval);
  ASSERT_EQ(c.peer(4).state(), PeerState::kObserving);
  // Voter 1 looks again, alone: 2 and 3 are down.
  c.Crash(2);
  c.Crash(3);
  c.peer(1).Abandon("test");
  c.Start(1, 0);
  // The LOOKING vote of voter 1 reaches the observer (say, an answer to a
  // notification the observer sent before it decided).
  c.inflight().push_back({4, c.peer(1).Status()});
  const int64_t before = c.delivered();
  c.DeliverAll();
  EXPECT_LE(c.delivered() - before, 2 + 2);  // the vote to 4, and 1's to 2 and 3
  EXPECT_TRUE(c.inflight().empty());
  EXPECT_EQ(c.peer(4).state(), PeerState::kObserving);
}

TEST(FastLeaderElectionObservers, LookingObserverAheadOfALookingVoterDoesNotPingPong) {
  // The same cycle with the observer LOOKING in a later round: the voter
  // answered the observer with its vote of an earlier round, and the observer
  // answered that lagging vote with its own.
  Cluster c(3, /*observers=*/1);
  c.Crash(2);
  c.Crash(3);
  c.Start(1, 0);
  for (int i = 0; i < 3; ++i) {  // the observer's round moves ahead
    c.peer(4).Abandon("test");
    c.peer(4).Start({4, 0, 0});
  }
  c.Collect(4);
  ASSERT_GT(c.peer(4).logical_clock(), c.peer(1).logical_clock());
  c.DeliverAll();
  c.inflight().push_back({4, c.peer(1).Status()});
  const int64_t before = c.delivered();
  c.DeliverAll();
  EXPECT_LE(c.delivered() - before, 4);
  EXPECT_TRUE(c.inflight().empty());
}

TEST(FastLeaderElectionObservers, OnlyVotersAnswerAndNeverADecidedObserver) {
  Cluster c(3, /*observers=*/1);
  c.Start(1, 0);
  c.Start(4, 0);
  c.peer(1).TakeOutput();
  c.peer(4).TakeOutput();
  // A voter does not answer an observer that already decided.
  c.peer(1).Step({4, 3, 0, 1, 0, PeerState::kObserving});
  EXPECT_TRUE(c.peer(1).TakeOutput().notifications.empty());
  // A LOOKING observer answers nothing, not even a voter of an earlier round.
  c.peer(4).Step({2, 2, 0, 2, 0, PeerState::kLooking});  // round 2: adopted
  c.peer(4).TakeOutput();
  c.peer(4).Step({1, 1, 0, 1, 0, PeerState::kLooking});
  EXPECT_TRUE(c.peer(4).TakeOutput().notifications.empty());
  // Nor does a decided observer answer a LOOKING voter.
  c.peer(4).Step({2, 3, 0, 2, 0, PeerState::kFollowing});
  c.peer(4).Step({3, 3, 0, 2, 0, PeerState::kLeading});
  ASSERT_EQ(c.peer(4).state(), PeerState::kObserving);
  c.peer(4).TakeOutput();
  c.peer(4).Step({1, 1, 0, 1, 0, PeerState::kLooking});
  EXPECT_TRUE(c.peer(4).TakeOutput().notifications.empty());
}

// --- Re-sends and back-off --------------------------------------------------

TEST(FastLeaderElectionBackoff, ResendsWithDoublingIntervalUpToTheMaximum) {
  Cluster c(3);
  c.Crash(2);
  c.Crash(3);
  c.Start(1, 0);
  c.inflight().clear();
  std::vector<int64_t> resend_ticks;
  for (int t = 0; t < 200; ++t) {
    c.peer(1).Tick();
    ElectionOutput out = c.peer(1).TakeOutput();
    if (!out.notifications.empty()) {
      EXPECT_EQ(out.notifications.size(), 2u);  // every other voter
      resend_ticks.push_back(c.peer(1).tick());
    }
  }
  ASSERT_GE(resend_ticks.size(), 5u);
  int64_t prev_start = 0;
  for (size_t i = 0; i < resend_ticks.size(); ++i) {
    const int64_t interval = std::min<int64_t>(kMinInterval << i, kMaxInterval);
    const int64_t gap = resend_ticks[i] - prev_start;
    EXPECT_GE(gap, interval) << i;
    EXPECT_LE(gap, interval + interval / 4) << i;  // jitter: up to a quarter
    prev_start = resend_ticks[i];
  }
}

TEST(FastLeaderElectionBackoff, IncomingVotesPostponeTheResend) {
  Cluster c(3);
  c.Crash(3);
  c.Start(1, 0);
  c.peer(1).TakeOutput();
  for (int t = 0; t < 3 * kMinInterval; ++t) {
    c.peer(1).Step({2, 1, 0, 1, 0, PeerState::kLooking});
    c.peer(1).Tick();
    EXPECT_TRUE(c.peer(1).TakeOutput().notifications.empty() || c.peer(1).decided()) << t;
  }
}

// --- The failure detector ---------------------------------------------------

TEST(FastLeaderElectionFailureDetector, FollowerGivesUpASilentLeader) {
  constexpr int64_t kTimeout = 10;
  Cluster c(3, 0, kTimeout);
  for (int64_t sid = 1; sid <= 3; ++sid) c.Start(sid, 0);
  c.DeliverAll();
  c.TickAll(kFinalize);
  // Statuses keep everyone decided.
  for (int t = 0; t < 3 * kTimeout; ++t) {
    c.ExchangeStatuses();
    c.TickAll();
  }
  EXPECT_TRUE(c.restarts(1).empty());
  EXPECT_TRUE(c.restarts(3).empty());
  // The leader dies: both followers give up after the timeout, not before.
  // The last status came one tick ago.
  c.Crash(3);
  for (int t = 0; t < kTimeout - 1; ++t) {
    c.ExchangeStatuses();
    c.TickAll();
  }
  EXPECT_TRUE(c.restarts(1).empty());
  c.ExchangeStatuses();
  c.TickAll();
  ASSERT_EQ(c.restarts(1), (std::vector<std::string>{"leader_silent"}));
  EXPECT_EQ(c.peer(1).state(), PeerState::kLooking);
  EXPECT_FALSE(c.peer(1).started());
  // The shell starts a new round; 1 and 2 elect 2.
  c.Start(1, 0);
  c.Start(2, 0);
  c.DeliverAll();
  c.TickAll(kFinalize);
  EXPECT_EQ(c.peer(1).decision().leader, 2);
  EXPECT_EQ(c.peer(2).state(), PeerState::kLeading);
}

TEST(FastLeaderElectionFailureDetector, FollowerGivesUpAtOnceWhenTheLeaderDisconnects) {
  Cluster c(3, /*observers=*/1, /*leader_timeout=*/1000);
  for (int64_t sid = 1; sid <= 4; ++sid) c.Start(sid, 0);
  c.DeliverAll();
  c.TickAll(kFinalize + 2 * kMaxInterval);
  ASSERT_EQ(c.peer(4).state(), PeerState::kObserving);
  // Streams of a follower ending change nothing, for anyone.
  for (int64_t sid : {1, 3, 4}) c.peer(sid).PeerDisconnected(2);
  c.peer(2).PeerDisconnected(1);
  for (int64_t sid = 1; sid <= 4; ++sid) {
    EXPECT_TRUE(c.peer(sid).decided()) << sid;
    c.Collect(sid);
  }
  // The leader's streams ending: its follower and observer look again at once.
  c.peer(1).PeerDisconnected(3);
  c.peer(4).PeerDisconnected(3);
  c.Collect(1);
  c.Collect(4);
  EXPECT_EQ(c.restarts(1), (std::vector<std::string>{"leader_disconnected"}));
  EXPECT_EQ(c.restarts(4), (std::vector<std::string>{"leader_disconnected"}));
  EXPECT_TRUE(c.restarts(2).empty());
}

TEST(FastLeaderElectionFailureDetector, LeaderWithoutAQuorumStepsDown) {
  constexpr int64_t kTimeout = 10;
  Cluster c(3, 0, kTimeout);
  for (int64_t sid = 1; sid <= 3; ++sid) c.Start(sid, 0);
  c.DeliverAll();
  c.TickAll(kFinalize);
  ASSERT_EQ(c.peer(3).state(), PeerState::kLeading);
  c.Crash(1);  // one follower left: still a quorum with the leader
  for (int t = 0; t < 3 * kTimeout; ++t) {
    c.ExchangeStatuses();
    c.TickAll();
  }
  EXPECT_TRUE(c.restarts(3).empty());
  c.Crash(2);
  for (int t = 0; t < 2 * kTimeout; ++t) {
    c.ExchangeStatuses();
    c.TickAll();
  }
  EXPECT_EQ(c.restarts(3), (std::vector<std::string>{"lost_quorum"}));
}

TEST(FastLeaderElectionFailureDetector, FollowerGivesUpALeaderThatFollowsAnother) {
  constexpr int64_t kTimeout = 10;
  Cluster c(3, 0, kTimeout);
  c.Start(1, 0);
  c.peer(1).Step({2, 2, 0, 1, 0, PeerState::kLeading});
  c.peer(1).Step({3, 2, 0, 1, 0, PeerState::kFollowing});
  c.peer(1).TakeOutput();
  ASSERT_EQ(c.peer(1).decision().leader, 2);
  // Peer 2 is alive but says it follows 3: no support for our decision.
  for (int t = 0; t <= kTimeout; ++t) {
    c.peer(1).PeerStatus({2, 3, 0, 2, 0, PeerState::kFollowing});
    c.peer(1).Tick();
  }
  EXPECT_EQ(c.peer(1).TakeOutput().restart_reason, "leader_silent");
}

// --- What FLE does not promise -----------------------------------------------
// Two peers can decide different leaders in the same round when the timing
// assumption (every vote arrives within the finalize wait) fails. ZooKeeper's
// FLE does the same; ZAB's epochs keep the second leader from committing, and
// here the failure detector ends the split.

TEST(SplitDecision, LostBetterVotesLetAPeerLeadAloneAndItStepsDown) {
  constexpr int64_t kTimeout = 10;
  Cluster c(3, 0, kTimeout);
  // Peer 1 never hears of peer 2's vote: neither from 2 nor from 3.
  c.drop = [](const OutgoingNotification& m) { return m.to == 1 && m.notification.leader == 2; };
  c.Start(1, 5);
  c.Start(2, 9);  // the best vote
  c.Start(3, 1);
  c.DeliverAll();
  c.TickAll(kFinalize);
  ASSERT_EQ(c.peer(1).state(), PeerState::kLeading);  // with 3's early vote for 1
  ASSERT_EQ(c.peer(2).state(), PeerState::kLeading);  // with 3's later vote for 2
  EXPECT_EQ(c.peer(1).decision().election_epoch, c.peer(2).decision().election_epoch);
  // The failure detector: peer 1 hears no follower and gives up; it then
  // joins peer 2.
  c.drop = nullptr;
  for (int t = 0; t < 2 * kTimeout && c.restarts(1).empty(); ++t) {
    c.ExchangeStatuses();
    c.TickAll();
  }
  ASSERT_EQ(c.restarts(1), (std::vector<std::string>{"lost_quorum"}));
  c.Start(1, 5);
  c.DeliverAll();
  EXPECT_EQ(c.peer(1).state(), PeerState::kFollowing);
  EXPECT_EQ(c.peer(1).decision().leader, 2);
}

TEST(SplitDecision, ABetterPeerStartingLateSplitsTheRound) {
  Cluster c(3);
  c.Start(1, 0);
  c.Start(2, 0);
  c.DeliverAll();  // 1 and 2 agree on 2: the finalize wait runs
  c.TickAll(kFinalize - 1);
  // Peer 3 starts; everything bound for peer 2 is late.
  c.hold = [](const OutgoingNotification& m) { return m.to == 2; };
  c.Start(3, 0);
  c.DeliverAll();
  c.TickOne(2);
  ASSERT_EQ(c.peer(2).state(), PeerState::kLeading);
  c.TickAll(kFinalize);
  ASSERT_EQ(c.peer(3).state(), PeerState::kLeading);
  EXPECT_EQ(c.peer(1).decision().leader, 3);
  EXPECT_EQ(c.peer(2).decision().election_epoch, c.peer(3).decision().election_epoch);
  c.Release();
  c.DeliverAll();
  EXPECT_EQ(c.peer(2).state(), PeerState::kLeading);  // until its failure detector acts
}

TEST(FastLeaderElectionJoin, RoundDecidedForAnotherLeaderIsNotReused) {
  // Peer 3 leads round 1 alone (its followers restarted). The restarted peers
  // 1 and 2 start in round 1 again; told by 3 that round 1 went to 3, they
  // elect in round 2 instead.
  Cluster c(3);
  c.Start(3, 0);
  c.peer(3).Step({1, 3, 0, 1, 0, PeerState::kFollowing});
  c.peer(3).TakeOutput();
  c.peer(3).Step({2, 3, 0, 1, 0, PeerState::kFollowing});
  ASSERT_EQ(c.peer(3).state(), PeerState::kLeading);
  c.peer(3).TakeOutput();
  c.Crash(3);                  // its answers are lost from here on...
  c.Start(1, 0x200000000, 2);  // ...except the first ones: better data than 3's
  c.Start(2, 0);
  c.Restart(3, 0);
  c.Crash(3);
  // Peer 3's LEADING answer reaches 1 and 2 first.
  c.peer(1).Step({3, 3, 0, 1, 0, PeerState::kLeading});
  c.Collect(1);
  c.peer(2).Step({3, 3, 0, 1, 0, PeerState::kLeading});
  c.Collect(2);
  EXPECT_EQ(c.peer(1).logical_clock(), 2);
  c.DeliverAll();
  c.TickAll(kFinalize);
  ASSERT_TRUE(c.peer(1).decided());
  EXPECT_EQ(c.peer(1).decision().leader, 1);
  EXPECT_EQ(c.peer(1).decision().election_epoch, 2);
  EXPECT_EQ(c.peer(2).decision().leader, 1);
}

}  // namespace
}  // namespace ensemble::election

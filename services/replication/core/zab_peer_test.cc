// One test per ZAB rule (etcd raft_paper_test.go style). Each cites the rule
// it checks: from the ZAB paper (Junqueira, Reed, Serafini, "Zab:
// High-performance broadcast for primary-backup systems", DSN 2011), from
// ZooKeeper's implementation (Leader.java, LearnerHandler.java, Learner.java)
// or from Ensemble's own stronger guarantees (issue 5, DESIGN.md).

#include "services/replication/core/zab_peer.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "common/base/zxid.h"
#include "services/replication/core/zab_test_harness.h"

namespace ensemble::zab {
namespace {

using testing::Harness;
using testing::MakeWrite;
using testing::TestDisk;
namespace rv1 = ensemble::replication::v1;

constexpr int64_t Z(int64_t epoch, int64_t counter) { return Zxid::Make(epoch, counter); }

TestDisk DiskAt(int64_t accepted, int64_t current, int64_t epoch, int count) {
  TestDisk d;
  d.accepted_epoch = accepted;
  d.current_epoch = current;
  d.Fill(epoch, count);
  d.applied = d.last();
  return d;
}

// ---------------------------------------------------------------------------
// Discovery

// ZAB Phase 1 / Leader.getEpochToPropose: "the prospective leader proposes a
// new epoch e' greater than any acceptedEpoch of the followers in Q".
TEST(ZabDiscovery, NewEpochIsAboveEveryAcceptedEpochOfTheQuorum) {
  Harness h(3, 0, {{1, DiskAt(3, 3, 3, 2)}, {2, DiskAt(7, 3, 3, 2)}, {3, DiskAt(3, 3, 3, 2)}});
  ASSERT_TRUE(h.Establish(1));
  auto infos = h.SentBy(1, rv1::PEER_MESSAGE_TYPE_LEADERINFO);
  ASSERT_FALSE(infos.empty());
  for (const auto& m : infos) EXPECT_EQ(m.epoch(), 8);
  EXPECT_EQ(h.peer(1).epoch(), 8);
  for (int64_t sid : {1, 2, 3}) {
    EXPECT_EQ(h.disk(sid).accepted_epoch, 8);
    EXPECT_EQ(h.disk(sid).current_epoch, 8);
  }
}

// Leader.waitForEpochAck: "Follower is ahead of the leader": a learner whose
// (currentEpoch, lastZxid) is above the leader's is not counted, so a leader
// missing committed state cannot establish itself with it.
TEST(ZabDiscovery, FollowerAheadOfTheLeaderIsNotCounted) {
  Harness h(3, 0, {{1, DiskAt(2, 2, 2, 1)}, {2, DiskAt(2, 2, 2, 5)}, {3, DiskAt(2, 2, 2, 5)}});
  h.Elect(1);
  h.TickAll(3);
  EXPECT_FALSE(h.peer(1).serving());
  bool dropped = false;
  for (const auto& e : h.events(1)) dropped |= e.find("follower_ahead") != std::string::npos;
  EXPECT_TRUE(dropped);
  EXPECT_TRUE(h.SentBy(1, rv1::PEER_MESSAGE_TYPE_NEWLEADER).empty());
  // Without a quorum the would-be leader gives up after initLimit.
  h.TickAll(12);
  EXPECT_EQ(h.peer(1).role(), Role::kLooking);
}

// Learner.registerWithLeader: "Leaders epoch ... is less than accepted epoch"
// -> the learner refuses to follow.
TEST(ZabDiscovery, LearnerRefusesALeaderEpochBelowItsAcceptedEpoch) {
  Harness h(3, 0, {{1, DiskAt(1, 1, 1, 1)}, {2, DiskAt(1, 1, 1, 1)}, {3, DiskAt(9, 1, 1, 1)}});
  h.ClearLookAgain();
  h.Establish(1, 3);
  // Peers 1 and 2 form a quorum with epoch 2; peer 3 (accepted 9) refuses.
  EXPECT_TRUE(h.peer(1).serving());
  EXPECT_EQ(h.peer(1).epoch(), 2);
  EXPECT_FALSE(h.peer(3).serving());
  EXPECT_TRUE(h.looked_again(3));
  EXPECT_EQ(h.disk(3).accepted_epoch, 9);
}

// Learner.registerWithLeader: an ACKEPOCH for an epoch the learner had already
// accepted carries -1 and does not count towards the epoch quorum, so no two
// leaders can gather a quorum for the same epoch.
TEST(ZabDiscovery, AckEpochForAnAlreadyAcceptedEpochDoesNotCount) {
  // Peers 2 and 3 make the epoch 6; peer 4 had already accepted 6.
  Harness h(5, 0,
            {{1, DiskAt(5, 5, 5, 1)},
             {2, DiskAt(5, 5, 5, 1)},
             {3, DiskAt(5, 5, 5, 1)},
             {4, DiskAt(6, 5, 5, 1)},
             {5, DiskAt(5, 5, 5, 1)}});
  h.Isolate(5);
  bool drop_3 = true;
  h.drop = [&](const testing::Delivery& d) {
    return drop_3 && d.from == 3 && d.message.type() == rv1::PEER_MESSAGE_TYPE_ACKEPOCH;
  };
  h.Elect(1);
  h.Deliver();
  EXPECT_EQ(h.peer(1).epoch(), 6);
  auto acks = h.SentBy(4, rv1::PEER_MESSAGE_TYPE_ACKEPOCH);
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].epoch(), -1);
  // Leader + peer 2 + peer 4 (-1) is not an epoch quorum: no NEWLEADER yet.
  EXPECT_TRUE(h.SentBy(1, rv1::PEER_MESSAGE_TYPE_NEWLEADER).empty());
  drop_3 = false;
  h.TickAll(1);  // LEADERINFO is repeated; peer 3 repeats its ACKEPOCH
  EXPECT_FALSE(h.SentBy(1, rv1::PEER_MESSAGE_TYPE_NEWLEADER).empty());
  EXPECT_TRUE(h.peer(1).serving());
  EXPECT_TRUE(h.peer(4).serving());  // it still syncs and serves
}

// ---------------------------------------------------------------------------
// Durability before acknowledgement

// ZAB: "a follower acknowledges a proposal only after it has persisted it";
// Ensemble Ready contract: ACKs travel in messages_after_persist.
TEST(ZabBroadcast, FollowerAcksOnlyAfterItsAppendIsDurable) {
  Harness h(3);
  ASSERT_TRUE(h.Establish(1));
  h.HoldPersist(2);
  h.HoldPersist(3);
  size_t acks_before = h.SentBy(2, rv1::PEER_MESSAGE_TYPE_ACK).size();
  h.Submit(1, MakeWrite(0, 1, "/a"));
  EXPECT_EQ(h.SentBy(2, rv1::PEER_MESSAGE_TYPE_ACK).size(), acks_before);
  const int64_t zxid = h.peer(1).last_zxid();
  EXPECT_LT(h.peer(1).committed_zxid(), zxid);
  h.ReleasePersist(2);
  h.Deliver();
  auto acks = h.SentBy(2, rv1::PEER_MESSAGE_TYPE_ACK);
  ASSERT_GT(acks.size(), acks_before);
  EXPECT_EQ(acks.back().zxid(), zxid);
  EXPECT_EQ(h.peer(1).committed_zxid(), zxid);  // leader + peer 2
}

// Ensemble (STYLE.md 7.2): "The leader's own ack counts only after its own
// fsync" -- with one follower acking, the leader's undurable copy is not the
// second vote.
TEST(ZabBroadcast, LeaderOwnAckCountsOnlyAfterItsOwnAppendIsDurable) {
  Harness h(3);
  ASSERT_TRUE(h.Establish(1));
  h.HoldPersist(1);
  h.Cut(1, 3);
  h.Submit(1, MakeWrite(0, 1, "/a"));
  const int64_t zxid = h.peer(1).last_zxid();
  // Peer 2 holds it durably and acked; the leader's own copy is not durable:
  // one vote of three.
  EXPECT_EQ(h.disk(2).last(), zxid);
  EXPECT_LT(h.peer(1).committed_zxid(), zxid);
  h.ReleasePersist(1);
  EXPECT_EQ(h.peer(1).committed_zxid(), zxid);
}

// ZAB: NEWLEADER is acknowledged only once the follower's history and new
// currentEpoch are durable (fixes the ZooKeeper 3.8 divergence of issue 5).
TEST(ZabSync, NewLeaderAckWaitsForTheSyncedHistoryAndEpochToBeDurable) {
  Harness h(3, 0, {{1, DiskAt(1, 1, 1, 5)}, {2, DiskAt(1, 1, 1, 2)}, {3, DiskAt(1, 1, 1, 5)}});
  h.Cut(1, 3);
  h.HoldPersist(2);
  h.Elect(1);
  h.Deliver();  // peer 2 accepted epoch 2 in memory; its ACKEPOCH waits
  EXPECT_TRUE(h.SentBy(2, rv1::PEER_MESSAGE_TYPE_ACKEPOCH).empty());
  h.ReleasePersist(2);  // ACKEPOCH leaves
  h.HoldPersist(2);
  h.Deliver();  // DIFF 0x103..0x105 and NEWLEADER arrive; nothing durable yet
  EXPECT_FALSE(h.SentTo(2, rv1::PEER_MESSAGE_TYPE_NEWLEADER).empty());
  EXPECT_TRUE(h.SentBy(2, rv1::PEER_MESSAGE_TYPE_ACK).empty());
  EXPECT_FALSE(h.peer(1).serving());
  h.ReleasePersist(2);
  h.Deliver();
  auto acks = h.SentBy(2, rv1::PEER_MESSAGE_TYPE_ACK);
  ASSERT_FALSE(acks.empty());
  EXPECT_EQ(acks.front().zxid(), Z(1, 5));
  EXPECT_EQ(h.disk(2).current_epoch, 2);
  EXPECT_EQ(h.disk(2).last(), Z(1, 5));
  EXPECT_TRUE(h.peer(1).serving());
}

// Found by the simulator: a learner that lost part of the synced history (a
// PROPOSAL batch before NEWLEADER) must not ack NEWLEADER over a short log;
// NEWLEADER names the history's last zxid and the learner checks it.
TEST(ZabSync, LearnerMissingPartOfTheSyncNeverAcksNewLeader) {
  Harness h(3, 0, {{1, DiskAt(1, 1, 1, 5)}, {2, DiskAt(1, 1, 1, 2)}, {3, DiskAt(1, 1, 1, 5)}});
  h.Cut(1, 3);
  h.drop = [](const testing::Delivery& d) {
    return d.to == 2 && d.message.type() == rv1::PEER_MESSAGE_TYPE_PROPOSAL;
  };
  h.ClearLookAgain();
  h.Elect(1);
  h.Deliver();
  ASSERT_FALSE(h.SentTo(2, rv1::PEER_MESSAGE_TYPE_NEWLEADER).empty());
  EXPECT_EQ(h.SentTo(2, rv1::PEER_MESSAGE_TYPE_NEWLEADER).back().zxid(), Z(1, 5));
  EXPECT_TRUE(h.SentBy(2, rv1::PEER_MESSAGE_TYPE_ACK).empty());
  EXPECT_TRUE(h.looked_again(2));
  EXPECT_EQ(h.disk(2).current_epoch, 1);  // the new epoch was not taken
  EXPECT_FALSE(h.peer(1).serving());
}

// ---------------------------------------------------------------------------
// Commit

// ZAB: "a leader commits a proposal once a quorum acknowledged it, and
// commits in zxid order" (Leader.tryToCommit). Five voters: one follower ack
// (2 of 5) does not commit; a second one does, and commits everything before.
TEST(ZabBroadcast, CommitNeedsAQuorumAndHappensInOrder) {
  Harness h(5);
  ASSERT_TRUE(h.Establish(1));
  h.Cut(1, 4);
  h.Cut(1, 5);
  h.HoldPersist(3);
  for (int i = 0; i < 3; ++i) h.Submit(1, MakeWrite(0, i, "/a"));
  const int64_t first = Z(h.peer(1).epoch(), 1);
  const int64_t last = h.peer(1).last_zxid();
  EXPECT_LT(h.peer(1).committed_zxid(), first);  // leader + peer 2: 2 of 5
  h.ReleasePersist(3);
  h.Deliver();
  EXPECT_EQ(h.peer(1).committed_zxid(), last);
  // Applied in order, every zxid once, on the leader and the followers.
  for (int64_t sid : {1, 2, 3}) {
    const auto& applied = h.disk(sid).applied_zxids;
    ASSERT_EQ(applied.size(), 3u) << sid;
    EXPECT_TRUE(std::is_sorted(applied.begin(), applied.end()));
    EXPECT_EQ(applied.front(), first);
    EXPECT_EQ(applied.back(), last);
  }
}

// ZAB: a follower delivers (applies) only committed proposals, in order.
TEST(ZabBroadcast, FollowerAppliesOnlyWhatTheLeaderCommitted) {
  Harness h(3);
  ASSERT_TRUE(h.Establish(1));
  h.CutOneWay(2, 1);  // peer 2's acks are lost
  h.CutOneWay(3, 1);
  h.Submit(1, MakeWrite(0, 1, "/a"));
  EXPECT_EQ(h.disk(2).last(), h.peer(1).last_zxid());
  EXPECT_TRUE(h.disk(2).applied_zxids.empty());
  h.HealAll();
  h.TickAll(1);  // PING replies carry the durable zxid: a cumulative ack
  EXPECT_EQ(h.peer(1).committed_zxid(), h.peer(1).last_zxid());
  h.TickAll(1);
  EXPECT_EQ(h.disk(2).applied, h.peer(1).last_zxid());
}

// ---------------------------------------------------------------------------
// Synchronisation: DIFF / TRUNC / SNAP

// LearnerHandler.syncFollower: a learner with proposals of an old epoch that
// the leader does not have (never committed) gets TRUNC to the last zxid they
// share, then the leader's history after it.
TEST(ZabSync, TruncDropsAnOldEpochUncommittedTail) {
  // Leader and peer 2: 0x101..0x103 then 0x301..0x302 (epoch 2 never
  // committed anything). Peer 3 holds epoch-2 proposals 0x201..0x202.
  TestDisk current = DiskAt(3, 3, 1, 3);
  current.Fill(3, 2);
  current.applied = Z(3, 2);
  TestDisk stale = DiskAt(2, 2, 1, 3);
  stale.log[Z(2, 1)] = testing::LoggedTxn(Z(2, 1));
  stale.log[Z(2, 2)] = testing::LoggedTxn(Z(2, 2));
  Harness h(3, 0, {{1, current}, {2, current}, {3, stale}});
  h.Cut(1, 3);
  h.Establish(1, 2);
  ASSERT_TRUE(h.peer(1).serving());
  ASSERT_EQ(h.peer(3).role(), Role::kFollowing);  // still trying to connect
  h.HealAll();
  h.TickAll(3);  // its repeated FOLLOWERINFO now gets through
  auto truncs = h.SentTo(3, rv1::PEER_MESSAGE_TYPE_TRUNC);
  ASSERT_EQ(truncs.size(), 1u);
  EXPECT_EQ(truncs[0].zxid(), Z(1, 3));
  EXPECT_TRUE(h.peer(3).serving());
  EXPECT_EQ(h.disk(3).log.count(Z(2, 1)), 0u);
  EXPECT_EQ(h.disk(3).log.count(Z(3, 2)), 1u);
  EXPECT_EQ(h.disk(3).last(), h.peer(1).last_zxid());
  EXPECT_EQ(h.disk(3).applied, h.peer(1).committed_zxid());
}

// LearnerHandler.syncFollower: DIFF when the learner's last zxid is in the
// leader's log; SNAP when the log does not reach back that far; an empty DIFF
// when already in sync.
TEST(ZabSync, DiffWhenTheLogReachesBackSnapWhenItDoesNot) {
  TestDisk leader = DiskAt(1, 1, 1, 8);
  leader.floor = Z(1, 4);  // purged up to 0x104 after a snapshot
  for (int c = 1; c <= 4; ++c) leader.log.erase(Z(1, c));
  TestDisk behind = DiskAt(1, 1, 1, 2);  // 0x102 < floor: SNAP
  TestDisk within = DiskAt(1, 1, 1, 6);  // 0x106 in the log: DIFF
  TestDisk equal = DiskAt(1, 1, 1, 8);   // in sync: empty DIFF
  Harness h(4, 0, {{1, leader}, {2, behind}, {3, within}, {4, equal}});
  ASSERT_TRUE(h.Establish(1));
  auto snaps = h.SentTo(2, rv1::PEER_MESSAGE_TYPE_SNAP);
  ASSERT_EQ(snaps.size(), 1u);
  EXPECT_GE(snaps[0].zxid(), Z(1, 4));
  EXPECT_TRUE(h.SentTo(2, rv1::PEER_MESSAGE_TYPE_DIFF).empty());
  auto diffs = h.SentTo(3, rv1::PEER_MESSAGE_TYPE_DIFF);
  ASSERT_EQ(diffs.size(), 1u);
  EXPECT_EQ(diffs[0].zxid(), Z(1, 6));
  auto empty = h.SentTo(4, rv1::PEER_MESSAGE_TYPE_DIFF);
  ASSERT_EQ(empty.size(), 1u);
  EXPECT_EQ(empty[0].zxid(), Z(1, 8));
  for (int64_t sid : {2, 3, 4}) {
    EXPECT_EQ(h.disk(sid).last(), Z(1, 8)) << sid;
    EXPECT_EQ(h.disk(sid).applied, Z(1, 8)) << sid;
  }
  // Only what the learner lacked travelled.
  size_t txns_to_3 = 0;
  for (const auto& m : h.SentTo(3, rv1::PEER_MESSAGE_TYPE_PROPOSAL)) txns_to_3 += m.txns_size();
  EXPECT_EQ(txns_to_3, 2u);
}

// Ordering of synchronisation (Learner.syncWithLeader): DIFF/TRUNC/SNAP, the
// history, NEWLEADER; UPTODATE only after a quorum acked NEWLEADER; the
// learner applies nothing of the new history before UPTODATE.
TEST(ZabSync, UpToDateComesAfterANewLeaderQuorumAndNothingIsAppliedBefore) {
  Harness h(3, 0, {{1, DiskAt(1, 1, 1, 4)}, {2, DiskAt(1, 1, 1, 1)}, {3, DiskAt(1, 1, 1, 1)}});
  h.HoldPersist(3);
  h.Cut(1, 3);
  h.Elect(1);
  h.Deliver();
  // Peer 2 has the history and acked NEWLEADER: quorum with the leader.
  std::vector<rv1::PeerMessageType> order;
  for (const auto& d : h.sent()) {
    if (d.from == 1 && d.to == 2 && d.message.type() != rv1::PEER_MESSAGE_TYPE_PING) {
      order.push_back(d.message.type());
    }
  }
  std::vector<rv1::PeerMessageType> expected{
      rv1::PEER_MESSAGE_TYPE_LEADERINFO, rv1::PEER_MESSAGE_TYPE_DIFF,
      rv1::PEER_MESSAGE_TYPE_PROPOSAL, rv1::PEER_MESSAGE_TYPE_NEWLEADER,
      rv1::PEER_MESSAGE_TYPE_UPTODATE};
  EXPECT_EQ(order, expected);
  EXPECT_TRUE(h.peer(2).serving());
  EXPECT_EQ(h.disk(2).applied, Z(1, 4));

  // A learner that got NEWLEADER but not UPTODATE applies nothing.
  Harness g(3, 0, {{1, DiskAt(1, 1, 1, 4)}, {2, DiskAt(1, 1, 1, 1)}, {3, DiskAt(1, 1, 1, 1)}});
  g.drop = [](const testing::Delivery& d) {
    return d.message.type() == rv1::PEER_MESSAGE_TYPE_UPTODATE ||
           (d.message.type() == rv1::PEER_MESSAGE_TYPE_PING && d.to == 2);
  };
  g.Cut(1, 3);
  g.Elect(1);
  g.Deliver();
  EXPECT_TRUE(g.peer(1).serving());
  EXPECT_FALSE(g.peer(2).serving());
  EXPECT_EQ(g.disk(2).last(), Z(1, 4));   // history durable
  EXPECT_EQ(g.disk(2).current_epoch, 2);  // NEWLEADER durable
  EXPECT_EQ(g.disk(2).applied, Z(1, 1));  // nothing new applied
}

// ---------------------------------------------------------------------------
// Liveness rules

// Leader.lead(): "Not sufficient followers synced, only synced with sids" ->
// the leader shuts down and goes LOOKING.
TEST(ZabBroadcast, LeaderWithoutAQuorumStepsDown) {
  Harness h(3);
  ASSERT_TRUE(h.Establish(1));
  h.Isolate(1);
  h.ClearLookAgain();
  h.TickAll(5);
  EXPECT_EQ(h.peer(1).role(), Role::kLeading);  // within syncLimit
  h.TickAll(2);
  EXPECT_EQ(h.peer(1).role(), Role::kLooking);
  EXPECT_TRUE(h.looked_again(1));
  // The followers lose the leader too.
  EXPECT_EQ(h.peer(2).role(), Role::kLooking);
}

// Follower.processPacket / Learner.request: a follower forwards client writes
// to the leader (REQUEST), which orders them.
TEST(ZabBroadcast, FollowerForwardsWritesToTheLeader) {
  Harness h(3);
  ASSERT_TRUE(h.Establish(1));
  h.Submit(2, MakeWrite(7, 1, "/from-2"));
  auto requests = h.SentBy(2, rv1::PEER_MESSAGE_TYPE_REQUEST);
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].txns(0).header().session_id(), 7);
  EXPECT_EQ(requests[0].txns(0).header().zxid(), 0);  // the leader assigns it
  const int64_t zxid = h.peer(1).last_zxid();
  EXPECT_EQ(Zxid::Epoch(zxid), h.peer(1).epoch());
  for (int64_t sid : {1, 2, 3}) {
    EXPECT_EQ(h.disk(sid).applied, zxid);
    EXPECT_EQ(h.disk(sid).log.at(zxid).header().session_id(), 7);
  }
}

// A duplicated REQUEST (the same batch delivered twice) is ordered once.
TEST(ZabBroadcast, DuplicateRequestIsOrderedOnce) {
  Harness h(3);
  ASSERT_TRUE(h.Establish(1));
  h.Submit(2, MakeWrite(7, 1, "/once"));
  auto request = h.SentBy(2, rv1::PEER_MESSAGE_TYPE_REQUEST).back();
  const int64_t last = h.peer(1).last_zxid();
  h.peer(1).Step(2, request);
  h.Deliver();
  EXPECT_EQ(h.peer(1).last_zxid(), last);
}

// Ensemble (issue 5, DESIGN.md "sync"): the leader answers a sync only after a
// quorum confirmed, after the sync arrived, that it still leads -- stronger
// than ZooKeeper (ZOOKEEPER-1675).
TEST(ZabSync, SyncBarrierWaitsForQuorumConfirmation) {
  Harness h(3);
  ASSERT_TRUE(h.Establish(1));
  h.Submit(1, MakeWrite(0, 1, "/a"));
  h.Isolate(1);
  h.peer(1).SyncRequest(42);
  h.Deliver();
  EXPECT_TRUE(h.sync_done(1).empty());
  h.HealAll();
  h.TickAll(1);
  ASSERT_EQ(h.sync_done(1).size(), 1u);
  EXPECT_TRUE(h.sync_done(1)[0].ok);
  EXPECT_EQ(h.sync_done(1)[0].zxid, h.peer(1).committed_zxid());

  // Through a follower: forwarded, confirmed by the leader's quorum.
  h.peer(2).SyncRequest(43);
  h.Deliver();
  ASSERT_EQ(h.sync_done(2).size(), 1u);
  EXPECT_EQ(h.sync_done(2)[0].id, 43u);
  EXPECT_TRUE(h.sync_done(2)[0].ok);

  // A deposed leader never completes a sync: it steps down and fails it.
  h.Isolate(1);
  h.peer(1).SyncRequest(44);
  h.Deliver();
  h.TickAll(7);
  ASSERT_EQ(h.sync_done(1).size(), 2u);
  EXPECT_FALSE(h.sync_done(1)[1].ok);
}

// ---------------------------------------------------------------------------
// zxid counter roll-over

// Issue 5 item 4: when the 32-bit counter is used up the leader moves to a
// new epoch through ACKEPOCH and NEWLEADER quorums, without an election and
// without rejecting a write.
TEST(ZabRollover, CounterRollOverMovesToANewEpochWithoutClientErrors) {
  Harness h(3, 1, {}, [](ZabConfig& c) { c.initial_counter_for_testing = 0xfffffffdLL; });
  ASSERT_TRUE(h.Establish(1));
  h.ClearLookAgain();
  const int64_t epoch = h.peer(1).epoch();
  for (int i = 0; i < 6; ++i) h.Submit(1 + i % 3, MakeWrite(0, i, "/r"));
  h.TickAll(2);
  EXPECT_EQ(h.peer(1).epoch(), epoch + 1);
  EXPECT_EQ(h.peer(1).role(), Role::kLeading);
  for (int64_t sid : {1, 2, 3, 4}) {
    EXPECT_TRUE(h.rejected(sid).empty()) << sid;
    EXPECT_FALSE(h.looked_again(sid)) << sid;
  }
  std::vector<int64_t> zxids;
  for (const auto& [zxid, txn] : h.disk(1).log) zxids.push_back(zxid);
  std::vector<int64_t> expected{Z(epoch, 0xfffffffeLL), Z(epoch, 0xffffffffLL), Z(epoch + 1, 1),
                                Z(epoch + 1, 2),        Z(epoch + 1, 3),        Z(epoch + 1, 4)};
  EXPECT_EQ(zxids, expected);
  for (int64_t sid : {1, 2, 3}) {
    EXPECT_EQ(h.disk(sid).accepted_epoch, epoch + 1) << sid;
    EXPECT_EQ(h.disk(sid).current_epoch, epoch + 1) << sid;
  }
  for (int64_t sid : {1, 2, 3, 4}) EXPECT_EQ(h.disk(sid).applied, Z(epoch + 1, 4)) << sid;
}

// ---------------------------------------------------------------------------
// Observers and sessions

// Leader.commit / Leader.inform: observers receive only committed
// transactions (INFORM) and never vote.
TEST(ZabObserver, ObserverGetsInformOnlyForCommittedTxns) {
  Harness h(3, 1);
  ASSERT_TRUE(h.Establish(1));
  EXPECT_EQ(h.peer(4).role(), Role::kObserving);
  const size_t proposals_to_4 = h.SentTo(4, rv1::PEER_MESSAGE_TYPE_PROPOSAL).size();
  h.HoldPersist(2);
  h.HoldPersist(3);
  h.Submit(1, MakeWrite(0, 1, "/x"));
  const int64_t zxid = h.peer(1).last_zxid();
  EXPECT_LT(h.peer(1).committed_zxid(), zxid);  // the observer's copy is no vote
  EXPECT_TRUE(h.SentTo(4, rv1::PEER_MESSAGE_TYPE_INFORM).empty());
  EXPECT_EQ(h.SentTo(4, rv1::PEER_MESSAGE_TYPE_PROPOSAL).size(), proposals_to_4);
  EXPECT_LT(h.disk(4).last(), zxid);
  h.ReleasePersist(2);
  h.ReleasePersist(3);
  h.Deliver();
  auto informs = h.SentTo(4, rv1::PEER_MESSAGE_TYPE_INFORM);
  ASSERT_EQ(informs.size(), 1u);
  EXPECT_EQ(informs[0].zxid(), zxid);
  EXPECT_EQ(h.disk(4).applied, zxid);
}

// SessionTrackerImpl: a session not touched within its timeout expires and
// the leader proposes closeSession; touches forwarded by followers keep a
// session alive; timeouts restart with a new leader.
TEST(ZabSessions, UntouchedSessionExpiresIntoACloseSessionProposal) {
  Harness h(3);
  ASSERT_TRUE(h.Establish(1));
  ensemble::v1::Txn create;
  create.mutable_header()->set_type(-10);
  create.mutable_op()->mutable_create_session()->set_timeout_ms(1000);  // 10 ticks
  h.Submit(2, create);
  create.mutable_header()->set_cxid(1);
  h.Submit(2, create);
  std::vector<int64_t> sessions;
  for (const auto& [zxid, txn] : h.disk(1).log) {
    if (txn.header().type() == -10) sessions.push_back(txn.header().session_id());
  }
  ASSERT_EQ(sessions.size(), 2u);
  for (int i = 0; i < 20; ++i) {
    h.peer(2).Touch(sessions[0]);  // forwarded in peer 2's PING replies
    h.TickAll(1);
  }
  std::vector<int64_t> closed;
  for (const auto& [zxid, txn] : h.disk(3).log) {
    if (txn.header().type() == -11) closed.push_back(txn.header().session_id());
  }
  EXPECT_EQ(closed, std::vector<int64_t>{sessions[1]});
  EXPECT_EQ(h.peer(1).tracked_sessions(), 1u);
}

// Leader election results feed the roles: an observer never leads.
TEST(ZabRoles, ObserverNeverLeads) {
  Harness h(3, 1);
  h.ClearLookAgain();
  h.ElectOnly(4, 4);
  EXPECT_EQ(h.peer(4).role(), Role::kLooking);
  EXPECT_TRUE(h.looked_again(4));
}

// A learner whose leader goes silent for syncLimit ticks looks again
// (Learner: socket read timeout syncLimit * tickTime).
TEST(ZabRoles, FollowerLooksAgainWhenTheLeaderIsSilent) {
  Harness h(3);
  ASSERT_TRUE(h.Establish(1));
  h.Submit(2, MakeWrite(0, 1, "/kept"));
  const int64_t committed = h.peer(1).committed_zxid();
  h.ClearLookAgain();
  h.Crash(1);
  h.TickAll(5);
  EXPECT_EQ(h.peer(2).role(), Role::kFollowing);
  h.TickAll(1);
  EXPECT_EQ(h.peer(2).role(), Role::kLooking);
  EXPECT_TRUE(h.looked_again(2));
  // The survivors elect peer 2 and keep every committed txn.
  ASSERT_TRUE(h.Establish(2));
  EXPECT_EQ(h.peer(2).epoch(), 2);
  EXPECT_GE(h.disk(3).applied, committed);
  EXPECT_EQ(h.disk(3).log.count(committed), 1u);
}

// Learner.followLeader: a broken connection to the leader ends following at
// once (no waiting for syncLimit); the leader forgets the learner.
TEST(ZabRoles, DisconnectedLeaderMeansLookingAtOnce) {
  Harness h(3);
  ASSERT_TRUE(h.Establish(1));
  h.ClearLookAgain();
  h.peer(2).PeerDisconnected(1);
  h.peer(1).PeerDisconnected(3);
  h.Drain();
  EXPECT_EQ(h.peer(2).role(), Role::kLooking);
  EXPECT_TRUE(h.looked_again(2));
  EXPECT_EQ(h.peer(1).learner_sids(), std::vector<int64_t>{2});  // 3 forgotten
  h.peer(3).PeerDisconnected(2);                                 // not its leader: nothing changes
  h.Drain();
  EXPECT_EQ(h.peer(3).role(), Role::kFollowing);
}

}  // namespace
}  // namespace ensemble::zab

// Hand-written scenarios on the simulator's machinery (TigerBeetle's
// replica_test style): each drives a Cluster step by step with the fluent
// API, then requires convergence and runs the simulator's final checks
// (identical digests, every acknowledged write committed and applied
// everywhere, at most one leader per epoch, quorum durability).

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "common/base/zxid.h"
#include "tests/sim/sim_cluster.h"

namespace ensemble::sim {
namespace {

namespace rv1 = ensemble::replication::v1;

// No random faults and no random clients: the scenario decides.
SimOptions Quiet(int voters, int observers = 0, uint64_t seed = 7) {
  SimOptions o;
  o.seed = seed;
  o.voters = voters;
  o.observers = observers;
  o.clients = 0;
  o.crash_per_mille = 0;
  o.auto_restart = false;
  o.partition_per_mille = 0;
  o.heal_per_mille = 0;
  o.net.delay_min_steps = 1;
  o.net.delay_mean_steps = 2;
  o.fsync_min_steps = 1;
  o.fsync_max_steps = 3;
  o.election_delay_max_ticks = 1;
  return o;
}

#define EXPECT_OK(cluster) \
  EXPECT_FALSE((cluster).failed()) << (cluster).failure() << "\n" << (cluster).Trace()

std::vector<uint64_t> WriteMany(Cluster& c, int64_t home, int n) {
  std::vector<uint64_t> ids;
  for (int i = 0; i < n; ++i) {
    ids.push_back(c.Write(home));
    c.RunTicks(1);
  }
  return ids;
}

bool AllAcked(const Cluster& c, const std::vector<uint64_t>& ids) {
  return std::all_of(ids.begin(), ids.end(), [&](uint64_t id) { return c.Acked(id); });
}

int64_t Other(const Cluster& c, std::vector<int64_t> not_these) {
  for (int64_t sid : c.sids()) {
    if (std::find(not_these.begin(), not_these.end(), sid) == not_these.end()) return sid;
  }
  return 0;
}

// Issue 5, "Done when": a peer whose synchronisation with a new leader is cut
// off after NEWLEADER and before UPTODATE, and which then takes part in the
// next election, never loses or hides acknowledged writes. (ZooKeeper 3.8
// could ack NEWLEADER before logging the DIFF, win the next election with the
// new currentEpoch and a short log, and lose writes.)
TEST(SimScenario, SyncCutAfterNewLeaderBeforeUpToDateLosesNothing) {
  Cluster c(Quiet(3));
  ASSERT_TRUE(c.RunUntil([&] { return c.AllServing(); }, 100)) << c.Trace();
  const int64_t old_leader = c.Leader();
  const int64_t epoch1 = c.zab(old_leader)->epoch();
  std::vector<int64_t> rest;
  for (int64_t sid : c.sids()) {
    if (sid != old_leader) rest.push_back(sid);
  }
  const int64_t lagging = rest[0];  // X: misses the writes, then syncs by DIFF
  const int64_t next_leader = rest[1];

  // Writes committed by the old leader and one follower only.
  c.network().Isolate(lagging, c.sids());
  std::vector<uint64_t> writes = WriteMany(c, old_leader, 5);
  ASSERT_TRUE(c.RunUntil([&] { return AllAcked(c, writes); }, 50)) << c.Trace();
  const int64_t last_acked = c.AckedZxid(writes.back());

  // The old leader dies; X syncs with the new leader, acks NEWLEADER, and
  // its UPTODATE is lost together with everything after it.
  c.Crash(old_leader);
  c.network().HealAll();
  bool cut = false;
  c.network().filter = [&](const Packet& p) {
    if (p.to == lagging &&
        (p.message.type() == rv1::PEER_MESSAGE_TYPE_UPTODATE ||
         (p.message.type() == rv1::PEER_MESSAGE_TYPE_PING && p.message.uptodate()))) {
      cut = true;
    }
    return cut && (p.to == lagging || p.from == lagging);
  };
  ASSERT_TRUE(c.RunUntil([&] { return cut; }, 200)) << c.Trace();
  const SimTxnLog::State& x = c.disk(lagging).durable();
  EXPECT_GT(x.current_epoch, epoch1);  // NEWLEADER is durable...
  EXPECT_TRUE(x.Holds(last_acked));    // ...and so is the synced history
  ASSERT_NE(c.zab(lagging), nullptr);
  EXPECT_FALSE(c.zab(lagging)->serving());                       // never got UPTODATE
  EXPECT_LT(c.state(lagging)->last_applied_zxid(), last_acked);  // applied nothing new

  // X takes part in the next election, against the old leader (which holds
  // the writes too but has an older currentEpoch): X must win with them.
  c.Crash(next_leader);
  c.network().filter = nullptr;
  c.Restart(old_leader);
  ASSERT_TRUE(c.RunUntil(
      [&] {
        return c.zab(lagging)->serving() && c.zab(old_leader) != nullptr &&
               c.zab(old_leader)->serving();
      },
      300))
      << c.Trace();
  EXPECT_EQ(c.Leader(), lagging) << c.Trace();
  for (int64_t sid : {lagging, old_leader}) {
    ASSERT_TRUE(c.RunUntil([&] { return c.state(sid)->last_applied_zxid() >= last_acked; }, 50));
  }
  c.Restart(next_leader);
  ASSERT_TRUE(c.RunUntil([&] { return c.Converged(); }, 300)) << c.Trace();
  EXPECT_TRUE(c.CheckFinal()) << c.failure() << "\n" << c.Trace();
  EXPECT_OK(c);
}

// The same cut, but X crashes right after acking NEWLEADER (losing whatever
// was not synced): the ack promised durability, so the restart keeps it all.
TEST(SimScenario, CrashRightAfterNewLeaderAckKeepsTheSyncedHistory) {
  SimOptions o = Quiet(3);
  o.torn_writes = true;
  Cluster c(o);
  ASSERT_TRUE(c.RunUntil([&] { return c.AllServing(); }, 100));
  const int64_t old_leader = c.Leader();
  const int64_t lagging = Other(c, {old_leader});
  const int64_t next_leader = Other(c, {old_leader, lagging});
  c.network().Isolate(lagging, c.sids());
  std::vector<uint64_t> writes = WriteMany(c, old_leader, 4);
  ASSERT_TRUE(c.RunUntil([&] { return AllAcked(c, writes); }, 50));
  c.Crash(old_leader);
  c.network().HealAll();
  bool acked = false;
  c.network().filter = [&](const Packet& p) {
    if (p.from == lagging && p.to == next_leader &&
        p.message.type() == rv1::PEER_MESSAGE_TYPE_ACK) {
      acked = true;
    }
    return false;
  };
  ASSERT_TRUE(c.RunUntil([&] { return acked; }, 200)) << c.Trace();
  c.Crash(lagging);
  EXPECT_TRUE(c.disk(lagging).durable().Holds(c.AckedZxid(writes.back())));
  c.network().filter = nullptr;
  c.Crash(next_leader);
  c.Restart(lagging);
  c.Restart(old_leader);
  c.Restart(next_leader);
  ASSERT_TRUE(c.RunUntil([&] { return c.Converged(); }, 400)) << c.Trace();
  EXPECT_TRUE(c.CheckFinal()) << c.failure() << "\n" << c.Trace();
}

// Issue 5: a partition isolating the leader. The majority elects a new
// leader and serves writes; the minority serves none; after healing, the old
// leader's uncommitted proposals are truncated (TRUNC) and every peer has the
// same tree.
TEST(SimScenario, IsolatedLeaderIsTruncatedAfterHealing) {
  Cluster c(Quiet(3));
  ASSERT_TRUE(c.RunUntil([&] { return c.AllServing(); }, 100));
  const int64_t old_leader = c.Leader();
  std::vector<uint64_t> before = WriteMany(c, old_leader, 3);
  ASSERT_TRUE(c.RunUntil([&] { return AllAcked(c, before); }, 50));
  c.network().Isolate(old_leader, c.sids());
  // Proposed by the isolated leader, never committed.
  std::vector<uint64_t> lost = WriteMany(c, old_leader, 3);
  ASSERT_TRUE(c.RunUntil(
      [&] {
        int64_t l = c.Leader();
        return l != 0 && l != old_leader;
      },
      100))
      << c.Trace();
  const int64_t new_leader = c.Leader();
  std::vector<uint64_t> after = WriteMany(c, new_leader, 3);
  ASSERT_TRUE(c.RunUntil([&] { return AllAcked(c, after); }, 50));
  for (uint64_t id : lost) EXPECT_FALSE(c.Acked(id));
  c.network().HealAll();
  ASSERT_TRUE(c.RunUntil([&] { return c.Converged(); }, 300)) << c.Trace();
  EXPECT_GE(c.stats().truncs, 1u);
  for (uint64_t id : lost) EXPECT_FALSE(c.Acked(id));
  EXPECT_TRUE(c.CheckFinal()) << c.failure() << "\n" << c.Trace();
}

// Issue 5: a peer down for many transactions catches up by DIFF; one down
// past a purge catches up by SNAP (from the real snapshot format).
TEST(SimScenario, CatchUpByDiffAndBySnapshotAfterAPurge) {
  SimOptions o = Quiet(5, 1);
  o.snapshot_every_txns = 10;
  Cluster c(o);
  ASSERT_TRUE(c.RunUntil([&] { return c.AllServing(); }, 100));
  const int64_t leader = c.Leader();
  const int64_t short_down = Other(c, {leader});
  c.Crash(short_down);
  std::vector<uint64_t> w1 = WriteMany(c, leader, 6);
  ASSERT_TRUE(c.RunUntil([&] { return AllAcked(c, w1); }, 50));
  c.Restart(short_down);
  ASSERT_TRUE(c.RunUntil([&] { return c.Converged(); }, 200)) << c.Trace();
  EXPECT_GE(c.stats().diffs, 1u);
  const uint64_t snaps_before = c.stats().snaps;
  const int64_t long_down = Other(c, {leader, short_down});
  c.Crash(long_down);
  std::vector<uint64_t> w2 = WriteMany(c, leader, 40);
  ASSERT_TRUE(c.RunUntil([&] { return AllAcked(c, w2); }, 100));
  c.Restart(long_down);
  ASSERT_TRUE(c.RunUntil([&] { return c.Converged(); }, 300)) << c.Trace();
  EXPECT_GT(c.stats().snaps, snaps_before);
  EXPECT_TRUE(c.CheckFinal()) << c.failure() << "\n" << c.Trace();
}

// Issue 5: whole-ensemble restart (every peer crashes, unsynced tails torn)
// recovers every acknowledged write.
TEST(SimScenario, WholeEnsembleCrashKeepsEveryAcknowledgedWrite) {
  SimOptions o = Quiet(3, 1);
  o.torn_writes = true;
  o.fsync_max_steps = 15;
  Cluster c(o);
  ASSERT_TRUE(c.RunUntil([&] { return c.AllServing(); }, 100));
  std::vector<uint64_t> writes;
  for (int i = 0; i < 30; ++i) {
    writes.push_back(c.Write(c.sids()[i % 4]));
    if (i % 3 == 0) c.RunTicks(1);
  }
  c.RunTicks(2);  // some acked, some in flight
  for (int64_t sid : c.sids()) c.Crash(sid);
  for (int64_t sid : c.sids()) c.Restart(sid);
  ASSERT_TRUE(c.RunUntil([&] { return c.Converged(); }, 300)) << c.Trace();
  EXPECT_TRUE(c.CheckFinal()) << c.failure() << "\n" << c.Trace();
  EXPECT_GT(c.stats().writes_acked, 0u);
}

// Issue 5 item 4: the 32-bit counter rolls over under load; the leader moves
// to a new epoch without an election and no client sees an error.
TEST(SimScenario, CounterRollOverUnderLoadWithoutElection) {
  SimOptions o = Quiet(3, 1);
  o.initial_counter_for_testing = 0xffffffffLL - 10;
  Cluster c(o);
  ASSERT_TRUE(c.RunUntil([&] { return c.AllServing(); }, 100));
  const int64_t leader = c.Leader();
  const int64_t epoch = c.zab(leader)->epoch();
  std::vector<uint64_t> writes;
  for (int i = 0; i < 30; ++i) {
    writes.push_back(c.Write(c.sids()[i % 4]));
    if (i % 2 == 0) c.RunTicks(1);
  }
  ASSERT_TRUE(c.RunUntil([&] { return AllAcked(c, writes); }, 100)) << c.Trace();
  EXPECT_EQ(c.Leader(), leader);
  EXPECT_EQ(c.zab(leader)->epoch(), epoch + 1);
  EXPECT_EQ(c.stats().rollovers, 1u);
  EXPECT_EQ(c.stats().establishments, 1u);  // no re-election
  EXPECT_EQ(c.stats().writes_abandoned, 0u);
  EXPECT_EQ(Zxid::Epoch(c.AckedZxid(writes.back())), epoch + 1);
  ASSERT_TRUE(c.RunUntil([&] { return c.Converged(); }, 100));
  EXPECT_TRUE(c.CheckFinal()) << c.failure() << "\n" << c.Trace();
}

// Sessions across the ensemble: a session whose client stops touching it
// expires (closeSession) and its ephemerals go; after a leader change the
// other sessions' timeouts restart and they survive.
TEST(SimScenario, SilentSessionExpiresOthersSurviveAFailover) {
  SimOptions o = Quiet(3);
  o.clients = 2;
  o.write_per_mille = 500;
  o.session_timeout_ms = 2000;
  Cluster c(o);
  ASSERT_TRUE(c.RunUntil([&] { return c.AllServing(); }, 100));
  c.RunTicks(60);
  EXPECT_EQ(c.stats().sessions_expired, 0u) << c.Trace();
  c.Crash(c.Leader());
  ASSERT_TRUE(c.RunUntil([&] { return c.Leader() != 0; }, 200)) << c.Trace();
  c.RunTicks(60);
  EXPECT_EQ(c.stats().sessions_expired, 0u) << c.Trace();
  EXPECT_OK(c);
}

// A few swarm seeds through the same path as ensemble_sim, so that a plain
// unit-test run also exercises the chaos and liveness phases.
TEST(SimScenario, SwarmSeedsPass) {
  for (uint64_t seed : {1ULL, 2ULL, 3ULL}) {
    Cluster c(SimOptions::Swarm(seed));
    EXPECT_TRUE(c.Run()) << "seed=" << seed << " " << c.failure() << "\n" << c.Trace();
  }
}

}  // namespace
}  // namespace ensemble::sim

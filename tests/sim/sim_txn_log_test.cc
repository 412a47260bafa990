#include "tests/sim/sim_txn_log.h"

#include <gtest/gtest.h>

#include "common/base/zxid.h"

namespace ensemble::sim {
namespace {

ensemble::v1::Txn TxnAt(int64_t zxid) {
  ensemble::v1::Txn txn;
  txn.mutable_header()->set_zxid(zxid);
  return txn;
}

constexpr int64_t Z(int64_t e, int64_t c) { return Zxid::Make(e, c); }

TEST(SimTxnLog, CrashWithoutTornTailKeepsExactlyTheSyncedWrites) {
  SimTxnLog log;
  log.Append(TxnAt(Z(1, 1)));
  log.SetAcceptedEpoch(1);
  log.SyncUpTo(log.written_count());
  log.Append(TxnAt(Z(1, 2)));
  log.SetCurrentEpoch(1);
  EXPECT_EQ(log.written().last(), Z(1, 2));
  EXPECT_EQ(log.durable().last(), Z(1, 1));
  Rng rng(1);
  EXPECT_EQ(log.Crash(rng, false), 2u);
  EXPECT_EQ(log.written().last(), Z(1, 1));
  EXPECT_EQ(log.written().accepted_epoch, 1);
  EXPECT_EQ(log.written().current_epoch, 0);
}

TEST(SimTxnLog, TornTailKeepsOnlyAPrefixOfTheUnsyncedWrites) {
  for (uint64_t seed = 0; seed < 50; ++seed) {
    SimTxnLog log;
    for (int c = 1; c <= 5; ++c) log.Append(TxnAt(Z(1, c)));
    log.SetCurrentEpoch(1);
    Rng rng(seed);
    log.Crash(rng, true);
    const auto& s = log.durable();
    // A prefix: entries 1..k, and the epoch only if every append survived.
    int64_t k = static_cast<int64_t>(s.log.size());
    EXPECT_EQ(s.last(), k == 0 ? 0 : Z(1, k));
    if (s.current_epoch == 1) {
      EXPECT_EQ(k, 5);
    }
  }
}

TEST(SimTxnLog, SyncCoversOnlyWritesIssuedBeforeIt) {
  SimTxnLog log;
  log.Append(TxnAt(Z(1, 1)));
  const uint64_t covers = log.written_count();
  log.Append(TxnAt(Z(1, 2)));
  log.SyncUpTo(covers);
  EXPECT_EQ(log.durable().last(), Z(1, 1));
  EXPECT_EQ(log.synced_count(), 1u);
}

TEST(SimTxnLog, InstallSnapshotReplacesTheLogAndPurgeKeepsTheTail) {
  SimTxnLog log;
  for (int c = 1; c <= 4; ++c) log.Append(TxnAt(Z(1, c)));
  auto data = std::make_shared<const std::string>("s");
  log.SaveSnapshot(Z(1, 2), data);
  log.PurgeBefore(Z(1, 2));
  EXPECT_EQ(log.written().floor, Z(1, 2));
  EXPECT_EQ(log.written().log.size(), 2u);
  EXPECT_TRUE(log.written().Holds(Z(1, 1)));  // folded into the snapshot
  log.InstallSnapshot(Z(2, 7), data);
  EXPECT_EQ(log.written().last(), Z(2, 7));
  EXPECT_TRUE(log.written().log.empty());
  EXPECT_EQ(log.written().commit_mark, Z(2, 7));
}

}  // namespace
}  // namespace ensemble::sim

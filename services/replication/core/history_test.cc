#include "services/replication/core/history.h"

#include <gtest/gtest.h>

#include "common/base/zxid.h"

namespace ensemble::zab {
namespace {

ensemble::v1::Txn TxnAt(int64_t zxid) {
  ensemble::v1::Txn txn;
  txn.mutable_header()->set_zxid(zxid);
  return txn;
}

constexpr int64_t Z(int64_t epoch, int64_t counter) { return Zxid::Make(epoch, counter); }

// Log: epoch 1 counters 1..5, epoch 3 counters 1..2 (epoch 2 never reached us).
History TwoEpochs() {
  History h(0, 0, {});
  for (int c = 1; c <= 5; ++c) h.Append(TxnAt(Z(1, c)));
  for (int c = 1; c <= 2; ++c) h.Append(TxnAt(Z(3, c)));
  return h;
}

TEST(History, ContainsFloorAndEveryLoggedZxid) {
  History h = TwoEpochs();
  EXPECT_TRUE(h.Contains(0));
  EXPECT_TRUE(h.Contains(Z(1, 1)));
  EXPECT_TRUE(h.Contains(Z(1, 5)));
  EXPECT_TRUE(h.Contains(Z(3, 2)));
  EXPECT_FALSE(h.Contains(Z(1, 6)));
  EXPECT_FALSE(h.Contains(Z(2, 1)));
  EXPECT_FALSE(h.Contains(Z(3, 3)));
  EXPECT_EQ(h.run_count(), 2u);
}

TEST(History, LastBeforeFindsTheCommonPrefixOfADivergentLog) {
  History h = TwoEpochs();
  // A learner holding epoch 2 proposals shares our log up to 0x105.
  EXPECT_EQ(h.LastBefore(Z(2, 7)), Z(1, 5));
  // Further along epoch 1 than us: our last epoch-1 zxid.
  EXPECT_EQ(h.LastBefore(Z(1, 9)), Z(1, 5));
  EXPECT_EQ(h.LastBefore(Z(1, 3)), Z(1, 2));
  EXPECT_EQ(h.LastBefore(Z(3, 1)), Z(1, 5));
  EXPECT_EQ(h.LastBefore(Z(4, 1)), Z(3, 2));
  EXPECT_EQ(h.LastBefore(0), -1);
}

TEST(History, TruncateAfterDropsLaterEpochsAndCache) {
  History h = TwoEpochs();
  h.TruncateAfter(Z(1, 3));
  EXPECT_EQ(h.last(), Z(1, 3));
  EXPECT_FALSE(h.Contains(Z(1, 4)));
  EXPECT_FALSE(h.Contains(Z(3, 1)));
  EXPECT_EQ(h.CachedRange(0, Z(9, 9)).size(), 3u);
  h.Append(TxnAt(Z(4, 1)));
  EXPECT_TRUE(h.Contains(Z(4, 1)));
}

TEST(History, PurgeRaisesTheFloor) {
  History h = TwoEpochs();
  h.Purged(Z(1, 4));
  EXPECT_EQ(h.floor(), Z(1, 4));
  EXPECT_TRUE(h.Contains(Z(1, 4)));
  EXPECT_FALSE(h.Contains(Z(1, 3)));
  EXPECT_TRUE(h.Contains(Z(1, 5)));
  EXPECT_EQ(h.LastBefore(Z(1, 4)), -1);
  EXPECT_EQ(h.LastBefore(Z(2, 1)), Z(1, 5));
}

TEST(History, RunsFromPeerStateMatchAppendedOnes) {
  History h(Z(1, 2), Z(3, 2), {Z(1, 5), Z(3, 2)});
  EXPECT_TRUE(h.Contains(Z(1, 2)));
  EXPECT_TRUE(h.Contains(Z(1, 3)));
  EXPECT_FALSE(h.Contains(Z(1, 1)));
  EXPECT_TRUE(h.Contains(Z(3, 1)));
  EXPECT_FALSE(h.Contains(Z(2, 1)));
  EXPECT_EQ(h.LastBefore(Z(2, 4)), Z(1, 5));
  // Nothing cached: everything is read from the log.
  EXPECT_EQ(h.cache_floor(), Z(3, 2));
}

TEST(History, TrimCacheKeepsUncommittedAndTheNewestCommitted) {
  History h = TwoEpochs();
  h.TrimCache(Z(1, 4), 2);
  EXPECT_EQ(h.cache_floor(), Z(1, 2));
  auto rest = h.CachedRange(h.cache_floor(), Z(9, 9));
  ASSERT_EQ(rest.size(), 5u);
  EXPECT_EQ(rest.front().header().zxid(), Z(1, 3));
  h.TrimCache(Z(3, 2), 0);
  EXPECT_EQ(h.cache_size(), 0u);
  EXPECT_EQ(h.cache_floor(), Z(3, 2));
}

TEST(History, ResetToSnapshotLeavesOnlyTheFloor) {
  History h = TwoEpochs();
  h.ResetTo(Z(5, 9));
  EXPECT_EQ(h.last(), Z(5, 9));
  EXPECT_TRUE(h.Contains(Z(5, 9)));
  EXPECT_FALSE(h.Contains(Z(1, 1)));
  EXPECT_EQ(h.cache_size(), 0u);
}

}  // namespace
}  // namespace ensemble::zab

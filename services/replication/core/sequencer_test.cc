#include "services/replication/core/sequencer.h"

#include <gtest/gtest.h>

#include "common/base/zxid.h"

namespace ensemble::zab {
namespace {

ensemble::v1::Txn MakeTxn(int32_t type) {
  ensemble::v1::Txn txn;
  txn.mutable_header()->set_type(type);
  return txn;
}

TEST(Sequencer, NumbersTxnsInOrderWithinEpoch) {
  Sequencer s(1, 5, Zxid::Make(4, 99), 1000);
  auto a = MakeTxn(1), b = MakeTxn(2);
  s.Prepare(&a, 10);
  s.Prepare(&b, 11);
  EXPECT_EQ(a.header().zxid(), Zxid::Make(5, 1));
  EXPECT_EQ(b.header().zxid(), Zxid::Make(5, 2));
  EXPECT_EQ(b.header().time_ms(), 11);
}

TEST(Sequencer, ContinuesAfterLastZxidOfSameEpoch) {
  Sequencer s(1, 5, Zxid::Make(5, 7), 1000);
  auto a = MakeTxn(1);
  s.Prepare(&a, 0);
  EXPECT_EQ(a.header().zxid(), Zxid::Make(5, 8));
}

TEST(Sequencer, AssignsDistinctSessionIdsWithSidInTopByte) {
  Sequencer s(3, 1, 0, 1700000000000);
  auto a = MakeTxn(-10), b = MakeTxn(-10);
  s.Prepare(&a, 0);
  s.Prepare(&b, 0);
  EXPECT_NE(a.header().session_id(), b.header().session_id());
  EXPECT_EQ(static_cast<uint64_t>(a.header().session_id()) >> 56, 3u);
}

TEST(Sequencer, SignalsCounterExhaustionAndMovesToNewEpoch) {
  Sequencer s(1, 2, Zxid::Make(2, Sequencer::kMaxCounter - 1), 0);
  auto a = MakeTxn(1);
  s.Prepare(&a, 0);
  EXPECT_TRUE(s.NeedsNewEpoch());
  s.StartEpoch(3);
  EXPECT_FALSE(s.NeedsNewEpoch());
  auto b = MakeTxn(1);
  s.Prepare(&b, 0);
  EXPECT_EQ(b.header().zxid(), Zxid::Make(3, 1));
}

}  // namespace
}  // namespace ensemble::zab

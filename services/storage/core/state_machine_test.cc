#include "services/storage/core/state_machine.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "services/storage/core/test_harness.h"

namespace ensemble::storage {
namespace {

using testing::CheckOp;
using testing::CloseSessionOp;
using testing::CreateOp;
using testing::CreateSessionOp;
using testing::DeleteContainerOp;
using testing::DeleteOp;
using testing::Harness;
using testing::MakeAcl;
using testing::MakeId;
using testing::MultiOp;
using testing::SetAclOp;
using testing::SetDataOp;

TEST(Apply, EchoesTheHeader) {
  StateMachine sm;
  ensemble::v1::Txn open;
  open.mutable_header()->set_zxid(0x500000002);
  open.mutable_header()->set_session_id(42);
  open.mutable_header()->set_type(ToInt(OpCode::kCreateSession));
  open.mutable_op()->mutable_create_session()->set_timeout_ms(30000);
  sm.Apply(open);
  ensemble::v1::Txn txn;
  txn.mutable_header()->set_zxid(0x500000003);
  txn.mutable_header()->set_session_id(42);
  txn.mutable_header()->set_cxid(17);
  txn.mutable_header()->set_type(ToInt(OpCode::kCreate));
  *txn.mutable_op() = CreateOp("/x");
  auto out = sm.Apply(txn);
  EXPECT_EQ(out.result.zxid(), 0x500000003);
  EXPECT_EQ(out.result.session_id(), 42);
  EXPECT_EQ(out.result.cxid(), 17);
  EXPECT_EQ(out.result.type(), ToInt(OpCode::kCreate));
  EXPECT_EQ(out.result.result().type(), ToInt(OpCode::kCreate));
  EXPECT_EQ(out.result.err(), 0);
  EXPECT_EQ(sm.last_applied_zxid(), 0x500000003);
}

TEST(Apply, RequestOfAClosedSessionFailsWithSessionExpired) {
  StateMachine sm;
  ensemble::v1::Txn txn;
  txn.mutable_header()->set_zxid(0x500000001);
  txn.mutable_header()->set_session_id(77);
  txn.mutable_header()->set_type(ToInt(OpCode::kSetData));
  *txn.mutable_op() = SetDataOp("/zookeeper", "x");
  EXPECT_EQ(sm.Apply(txn).result.err(), ToInt(ZkError::kSessionExpired));
  EXPECT_EQ(sm.last_applied_zxid(), 0x500000001);
}

TEST(Apply, NoOpAndEmptyOp) {
  Harness h;
  const uint64_t digest = h.sm().Digest();
  ensemble::v1::Op noop;
  noop.mutable_noop();
  EXPECT_EQ(h.Err(noop), 0);
  EXPECT_EQ(h.Err(ensemble::v1::Op()), ToInt(ZkError::kMarshallingError));
  EXPECT_EQ(h.sm().Digest(), digest);
  EXPECT_EQ(h.sm().last_applied_zxid(), h.zxid());
}

TEST(Sessions, CreateStoresTimeoutAndRefreshes) {
  Harness h;
  auto out = h.Apply(CreateSessionOp(12345), 77);
  EXPECT_EQ(out.result.err(), 0);
  EXPECT_EQ(out.result.session_timeout_ms(), 12345);
  h.Apply(CreateSessionOp(999), 77);
  auto sessions = h.sm().Sessions();
  ASSERT_EQ(sessions.size(), 2u);
  EXPECT_EQ(sessions[1].session_id(), 77);
  EXPECT_EQ(sessions[1].timeout_ms(), 999);
  EXPECT_EQ(h.sm().SessionCount(), 2u);
}

TEST(Multi, SuccessReportsEachOp) {
  Harness h;
  h.Apply(CreateOp("/a", "v"));
  auto out =
      h.Apply(MultiOp({CreateOp("/m"), CreateOp("/m/c", "", 2), SetDataOp("/a", "w", 0),
                       CheckOp("/a", 1), DeleteOp("/m/c0000000000"), CreateOp("/ct", "", 4)}));
  ASSERT_EQ(out.result.err(), 0);
  EXPECT_EQ(out.result.type(), ToInt(OpCode::kMulti));
  ASSERT_EQ(out.result.multi_size(), 6);
  EXPECT_EQ(out.result.multi(0).type(), ToInt(OpCode::kCreate));
  EXPECT_EQ(out.result.multi(0).path(), "/m");
  EXPECT_EQ(out.result.multi(1).path(), "/m/c0000000000");
  EXPECT_EQ(out.result.multi(2).type(), ToInt(OpCode::kSetData));
  EXPECT_EQ(out.result.multi(2).stat().version(), 1);
  EXPECT_EQ(out.result.multi(3).type(), ToInt(OpCode::kCheck));
  EXPECT_EQ(out.result.multi(4).type(), ToInt(OpCode::kDelete));
  EXPECT_EQ(out.result.multi(5).type(), ToInt(OpCode::kCreateContainer));
  for (const auto& r : out.result.multi()) EXPECT_EQ(r.err(), 0);
  // Every op of a multi shares its zxid.
  EXPECT_EQ(h.Stat("/m").czxid(), h.zxid());
  EXPECT_EQ(h.Stat("/a").mzxid(), h.zxid());
  EXPECT_EQ(h.Stat("/m").cversion(), 2);  // one child created and deleted
}

TEST(Multi, FailureRollsBackAndReportsLikeZooKeeper) {
  Harness h;
  h.Apply(CreateOp("/a", "v"));
  h.Apply(CreateOp("/p"));
  const uint64_t digest = h.sm().Digest();
  const auto root = h.Stat("/");
  const auto p = h.Stat("/p");
  // Observed on 3.8: [ok -> 0, NodeExists, RuntimeInconsistency].
  auto out = h.Apply(MultiOp({CreateOp("/m1"), CreateOp("/p/s", "", 2), SetDataOp("/a", "x"),
                              DeleteOp("/p"), CreateOp("/a"), CreateOp("/m2")}));
  EXPECT_EQ(out.result.err(), ToInt(ZkError::kNotEmpty));
  ASSERT_EQ(out.result.multi_size(), 6);
  const int32_t expected[] = {0,
                              0,
                              0,
                              ToInt(ZkError::kNotEmpty),
                              ToInt(ZkError::kRuntimeInconsistency),
                              ToInt(ZkError::kRuntimeInconsistency)};
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(out.result.multi(i).type(), ToInt(OpCode::kError)) << i;
    EXPECT_EQ(out.result.multi(i).err(), expected[i]) << i;
  }
  EXPECT_TRUE(out.events.empty());
  EXPECT_EQ(h.sm().Digest(), digest);
  EXPECT_FALSE(h.Exists("/m1"));
  EXPECT_EQ(h.Read(ToInt(OpCode::kGetData), "/a").data(), "v");
  EXPECT_EQ(h.Stat("/").cversion(), root.cversion());
  EXPECT_EQ(h.Stat("/p").cversion(), p.cversion());
  EXPECT_EQ(h.Stat("/p").pzxid(), p.pzxid());
  // The sequence number used inside the failed multi is free again.
  EXPECT_EQ(h.Apply(CreateOp("/p/s", "", 2)).result.result().path(), "/p/s0000000000");
}

TEST(Multi, RollsBackDeletesOfEphemeralsAndQuotaUpdates) {
  Harness h;
  h.Apply(CreateOp("/q"));
  h.Apply(CreateOp("/zookeeper/quota/q"));
  h.Apply(CreateOp("/zookeeper/quota/q/zookeeper_limits", "count=10,bytes=100"));
  h.Apply(CreateOp("/zookeeper/quota/q/zookeeper_stats", "count=0,bytes=0"));
  h.Apply(CreateOp("/q/e", "abc", 1));
  const uint64_t digest = h.sm().Digest();
  auto out = h.Apply(MultiOp({DeleteOp("/q/e"), CreateOp("/q/n", "12"),
                              DeleteOp("/zookeeper/quota/q/zookeeper_limits"), CheckOp("/q", 7)}));
  EXPECT_EQ(out.result.err(), ToInt(ZkError::kBadVersion));
  EXPECT_EQ(h.sm().Digest(), digest);
  EXPECT_TRUE(h.Exists("/q/e"));
  EXPECT_EQ(h.sm().EphemeralCount(), 1u);
  EXPECT_EQ(h.Read(ToInt(OpCode::kGetData), "/zookeeper/quota/q/zookeeper_stats").data(),
            "count=2,bytes=3");
  // The quota still applies after the rollback.
  h.Apply(CreateOp("/q/z", "1"));
  EXPECT_EQ(h.Read(ToInt(OpCode::kGetData), "/zookeeper/quota/q/zookeeper_stats").data(),
            "count=3,bytes=4");
}

TEST(Multi, OnlyTransactionOpsAreAllowed) {
  Harness h;
  auto out = h.Apply(MultiOp({CreateOp("/a"), SetAclOp("/a", testing::OpenAcl())}));
  EXPECT_EQ(out.result.err(), ToInt(ZkError::kMarshallingError));
  EXPECT_EQ(out.result.multi_size(), 0);
  EXPECT_FALSE(h.Exists("/a"));
  EXPECT_EQ(h.Err(MultiOp({})), 0);  // an empty multi succeeds
}

TEST(Reads, MultiReadHasPerOpResults) {
  Harness h;
  h.Apply(CreateOp("/a", "x"));
  h.Apply(CreateOp("/a/b"));
  ensemble::storage::v1::ReadRequest req;
  req.set_type(ToInt(OpCode::kMultiRead));
  req.set_session_id(1);
  auto* r1 = req.add_multi();
  r1->set_type(ToInt(OpCode::kGetData));
  r1->set_path("/a");
  r1->set_watch(true);  // ignored inside multiRead
  auto* r2 = req.add_multi();
  r2->set_type(ToInt(OpCode::kGetChildren));
  r2->set_path("/a");
  auto* r3 = req.add_multi();
  r3->set_type(ToInt(OpCode::kGetData));
  r3->set_path("/missing");
  auto res = h.ReadRequest(req);
  ASSERT_EQ(res.err(), 0);
  ASSERT_EQ(res.multi_size(), 3);
  EXPECT_EQ(res.multi(0).data(), "x");
  ASSERT_EQ(res.multi(1).children_size(), 1);
  EXPECT_EQ(res.multi(1).children(0), "b");
  EXPECT_EQ(res.multi(2).err(), ToInt(ZkError::kNoNode));
  EXPECT_EQ(h.sm().WatchCount(), 0u);
  req.add_multi()->set_type(ToInt(OpCode::kExists));
  EXPECT_EQ(h.ReadRequest(req).err(), ToInt(ZkError::kMarshallingError));
}

TEST(Reads, ChildrenAreSortedAndResultCarriesZxid) {
  Harness h;
  h.Apply(CreateOp("/p"));
  for (const char* c : {"c", "a", "b"}) h.Apply(CreateOp(std::string("/p/") + c));
  auto r = h.Read(ToInt(OpCode::kGetChildren2), "/p");
  ASSERT_EQ(r.children_size(), 3);
  EXPECT_EQ(r.children(0), "a");
  EXPECT_EQ(r.children(2), "c");
  EXPECT_EQ(r.stat().num_children(), 3);
  EXPECT_EQ(r.zxid(), h.zxid());
  EXPECT_EQ(h.Read(ToInt(OpCode::kSync), "/p").err(), 0);
  EXPECT_EQ(h.Read(ToInt(OpCode::kExists), std::string("/p\0", 3)).err(),
            ToInt(ZkError::kBadArguments));
  EXPECT_EQ(h.Read(9999, "/p").err(), ToInt(ZkError::kUnimplemented));
}

// --- Determinism: the same random transactions give the same results,
// events and digests on two state machines.

uint64_t RecomputedTreeDigest(const DataTree& tree) {
  uint64_t sum = 0;
  tree.ForEachPreorder(
      [&](absl::string_view path, const Node& node) { sum += DataTree::NodeHash(path, node); });
  return sum;
}

TEST(Determinism, SameTxnsSameDigests) {
  for (uint64_t seed : {1ULL, 2ULL, 3ULL, 0xdeadbeefULL}) {
    StateMachine a;
    StateMachine b;
    testing::RandomTxns gen(seed);
    int errors = 0;
    size_t events = 0;
    for (int64_t zxid = 1; zxid <= 3000; ++zxid) {
      if (gen.rng().OneIn(3)) {
        const auto req = gen.Read();
        const uint64_t gateway = 1 + gen.rng().Uniform(2);
        std::vector<FiredEvent> ea, eb;
        const auto ra = a.Read(req, gateway, &ea);
        const auto rb = b.Read(req, gateway, &eb);
        ASSERT_EQ(ra.SerializeAsString(), rb.SerializeAsString());
        ASSERT_EQ(ea.size(), eb.size());
      }
      const ensemble::v1::Txn txn = gen.Next(zxid);
      const ApplyOutput oa = a.Apply(txn);
      const ApplyOutput ob = b.Apply(txn);
      ASSERT_EQ(oa.result.SerializeAsString(), ob.result.SerializeAsString()) << "zxid " << zxid;
      ASSERT_EQ(oa.events.size(), ob.events.size());
      for (size_t i = 0; i < oa.events.size(); ++i) {
        ASSERT_EQ(oa.events[i].gateway_id, ob.events[i].gateway_id);
        ASSERT_EQ(oa.events[i].event.SerializeAsString(), ob.events[i].event.SerializeAsString());
      }
      ASSERT_EQ(a.Digest(), b.Digest()) << "seed " << seed << " zxid " << zxid;
      errors += oa.result.err() != 0;
      events += oa.events.size();
      if (zxid % 500 == 0) {
        ASSERT_EQ(RecomputedTreeDigest(a.tree()), a.tree().Digest()) << "zxid " << zxid;
        auto copy = a.Clone();
        ASSERT_EQ(copy->Digest(), a.Digest());
      }
    }
    EXPECT_GT(errors, 100) << "the generator should exercise failures";
    EXPECT_LT(errors, 2900) << "and successes";
    EXPECT_GT(a.ZnodeCount(), 4u);
    EXPECT_GT(events, 0u);
    EXPECT_EQ(RecomputedTreeDigest(a.tree()), a.tree().Digest());
  }
}

TEST(Determinism, DigestDependsOnContent) {
  Harness a;
  Harness b;
  a.Apply(CreateOp("/x", "1"));
  b.Apply(CreateOp("/x", "2"));
  EXPECT_NE(a.sm().Digest(), b.sm().Digest());
  b.Apply(SetDataOp("/x", "1"));
  EXPECT_NE(a.sm().Digest(), b.sm().Digest());  // version and mzxid differ
}

}  // namespace
}  // namespace ensemble::storage

// Tree semantics through the StateMachine facade: each case is a ZooKeeper
// 3.8 behaviour (PrepRequestProcessor's checks, DataTree's updates); the
// values marked "observed" were read from a real 3.8.0 server.

#include "services/storage/core/data_tree.h"

#include <string>

#include "gtest/gtest.h"
#include "services/storage/core/acl.h"
#include "services/storage/core/ephemeral_type.h"
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
using testing::SetAclOp;
using testing::SetDataOp;

constexpr int kPersistent = 0;
constexpr int kEphemeral = 1;
constexpr int kPersistentSequential = 2;
constexpr int kEphemeralSequential = 3;
constexpr int kContainer = 4;
constexpr int kTtl = 5;
constexpr int kTtlSequential = 6;

int32_t Code(ZkError e) { return ToInt(e); }

TEST(InitialTree, HasZooKeepersSystemNodes) {
  Harness h;
  // Observed: "/" cversion -1 (one child, none created), /zookeeper -2.
  EXPECT_EQ(h.Stat("/").cversion(), -1);
  EXPECT_EQ(h.Stat("/").num_children(), 1);
  EXPECT_EQ(h.Stat("/zookeeper").cversion(), -2);
  EXPECT_EQ(h.Stat("/zookeeper").num_children(), 2);
  EXPECT_TRUE(h.Exists("/zookeeper/quota"));
  auto config = h.Read(ToInt(OpCode::kGetAcl), "/zookeeper/config");
  ASSERT_EQ(config.err(), 0);
  ASSERT_EQ(config.acl_size(), 1);
  EXPECT_EQ(config.acl(0).perms(), perms::kRead);
  EXPECT_EQ(config.acl(0).id().scheme(), "world");
  EXPECT_EQ(config.stat().aversion(), -1);
  EXPECT_EQ(h.sm().ZnodeCount(), 4u);
}

TEST(Create, SetsStatAndParentCounters) {
  Harness h;
  auto out = h.Apply(CreateOp("/a", "hello"));
  ASSERT_EQ(out.result.err(), 0);
  const int64_t zxid = h.zxid();
  EXPECT_EQ(out.result.zxid(), zxid);
  EXPECT_EQ(out.result.result().path(), "/a");
  const auto& s = out.result.result().stat();
  EXPECT_EQ(s.czxid(), zxid);
  EXPECT_EQ(s.mzxid(), zxid);
  EXPECT_EQ(s.pzxid(), zxid);
  EXPECT_EQ(s.ctime(), 1000 * zxid);
  EXPECT_EQ(s.mtime(), 1000 * zxid);
  EXPECT_EQ(s.version(), 0);
  EXPECT_EQ(s.cversion(), 0);
  EXPECT_EQ(s.aversion(), 0);
  EXPECT_EQ(s.ephemeral_owner(), 0);
  EXPECT_EQ(s.data_length(), 5);
  EXPECT_EQ(s.num_children(), 0);
  const auto root = h.Stat("/");
  EXPECT_EQ(root.pzxid(), zxid);
  EXPECT_EQ(root.num_children(), 2);
  EXPECT_EQ(root.cversion(), 0);  // stored 1, two children: 2*1-2
}

TEST(Delete, CountsInVisibleCversionAndMovesPzxid) {
  Harness h;
  h.Apply(CreateOp("/a"));
  h.Apply(CreateOp("/a/b"));
  EXPECT_EQ(h.Stat("/a").cversion(), 1);  // observed
  ASSERT_EQ(h.Err(DeleteOp("/a/b")), 0);
  const auto a = h.Stat("/a");
  EXPECT_EQ(a.cversion(), 2);  // observed: creates plus deletes
  EXPECT_EQ(a.pzxid(), h.zxid());
  EXPECT_EQ(a.num_children(), 0);
  EXPECT_FALSE(h.Exists("/a/b"));
}

TEST(Sequential, SuffixIsTheStoredCversion) {
  Harness h;
  h.Apply(CreateOp("/a"));
  h.Apply(CreateOp("/a/b"));
  h.Apply(DeleteOp("/a/b"));
  // Observed: after one create and one delete the next suffix is 1.
  auto s = h.Apply(CreateOp("/a/s", "", kPersistentSequential));
  EXPECT_EQ(s.result.result().path(), "/a/s0000000001");
  // A trailing slash is allowed with a sequential flag: the name is the suffix.
  auto t = h.Apply(CreateOp("/a/", "", kPersistentSequential));
  EXPECT_EQ(t.result.result().path(), "/a/0000000002");
  EXPECT_EQ(h.Err(CreateOp("/a/", "", kPersistent)), Code(ZkError::kBadArguments));
}

TEST(Create, ErrorsInZooKeepersOrder) {
  Harness h;
  h.Apply(CreateOp("/a"));
  EXPECT_EQ(h.Err(CreateOp("/a")), Code(ZkError::kNodeExists));
  EXPECT_EQ(h.Err(CreateOp("/")), Code(ZkError::kNodeExists));  // observed
  EXPECT_EQ(h.Err(CreateOp("/x/y")), Code(ZkError::kNoNode));
  EXPECT_EQ(h.Err(CreateOp("abc")), Code(ZkError::kBadArguments));
  EXPECT_EQ(h.Err(CreateOp("a/b")), Code(ZkError::kNoNode));  // parent "a" looked up
  EXPECT_EQ(h.Err(CreateOp(std::string("/a\0b", 4))), Code(ZkError::kBadArguments));
  EXPECT_EQ(h.Err(CreateOp("/a/./b")), Code(ZkError::kNoNode));  // parent "/a/." missing
  EXPECT_EQ(h.Err(CreateOp("/a/.")), Code(ZkError::kBadArguments));
  EXPECT_EQ(h.Err(CreateOp("/a/b", "", 9)), Code(ZkError::kBadArguments));  // bad mode
  EXPECT_EQ(h.Err(CreateOp("/a/b", "", kPersistent, {})), Code(ZkError::kInvalidAcl));
  // The ACL is checked before the parent's existence.
  EXPECT_EQ(h.Err(CreateOp("/x/y", "", kPersistent, {})), Code(ZkError::kInvalidAcl));
}

TEST(Create, NoChildrenForEphemerals) {
  Harness h;
  h.Apply(CreateOp("/e", "", kEphemeral));
  EXPECT_EQ(h.Err(CreateOp("/e/x")), Code(ZkError::kNoChildrenForEphemerals));
  EXPECT_EQ(h.Err(CreateOp("/e/x", "", kPersistentSequential)),
            Code(ZkError::kNoChildrenForEphemerals));
}

TEST(Create, EphemeralNeedsAnOpenSession) {
  Harness h;
  EXPECT_EQ(h.Err(CreateOp("/e", "", kEphemeral), /*session=*/99), Code(ZkError::kSessionExpired));
  EXPECT_EQ(h.Err(CreateOp("/e", "", kEphemeralSequential), /*session=*/99),
            Code(ZkError::kSessionExpired));
  // The session check comes before path validation (validateCreateRequest).
  EXPECT_EQ(h.Err(CreateOp("bad", "", kEphemeral), /*session=*/99), Code(ZkError::kSessionExpired));
  // Any request of a session that is gone fails (ZooKeeper's checkSession);
  // requests the leader issues itself carry session 0.
  EXPECT_EQ(h.Err(CreateOp("/p"), /*session=*/99), Code(ZkError::kSessionExpired));
  EXPECT_EQ(h.Err(CreateOp("/p"), /*session=*/0), 0);
}

TEST(FailedOp, LeavesTheTreeAndDigestAloneButAdvancesZxid) {
  Harness h;
  h.Apply(CreateOp("/a", "x"));
  const uint64_t digest = h.sm().Digest();
  const auto before = h.Stat("/a");
  auto out = h.Apply(SetDataOp("/a", "y", /*version=*/5));
  EXPECT_EQ(out.result.err(), Code(ZkError::kBadVersion));
  EXPECT_FALSE(out.result.result().has_stat());
  EXPECT_EQ(h.sm().last_applied_zxid(), h.zxid());
  EXPECT_EQ(h.sm().Digest(), digest);
  EXPECT_EQ(h.Stat("/a").mzxid(), before.mzxid());
}

TEST(Delete, Errors) {
  Harness h;
  h.Apply(CreateOp("/a"));
  h.Apply(CreateOp("/a/b"));
  EXPECT_EQ(h.Err(DeleteOp("/a")), Code(ZkError::kNotEmpty));
  EXPECT_EQ(h.Err(DeleteOp("/a/b", 3)), Code(ZkError::kBadVersion));
  EXPECT_EQ(h.Err(DeleteOp("/a/c")), Code(ZkError::kNoNode));
  EXPECT_EQ(h.Err(DeleteOp("/x/c")), Code(ZkError::kNoNode));
  EXPECT_EQ(h.Err(DeleteOp("/")), Code(ZkError::kBadArguments));           // observed
  EXPECT_EQ(h.Err(DeleteOp("/zookeeper")), Code(ZkError::kBadArguments));  // observed
  EXPECT_EQ(h.Err(DeleteOp("/zookeeper/quota")), Code(ZkError::kBadArguments));
  EXPECT_EQ(h.Err(DeleteOp("/zookeeper/config")), Code(ZkError::kBadArguments));
  EXPECT_EQ(h.Err(DeleteOp("nope")), Code(ZkError::kBadArguments));
  EXPECT_EQ(h.Err(DeleteOp("/a/b", 0)), 0);
}

TEST(SetData, BumpsVersionAndMzxid) {
  Harness h;
  h.Apply(CreateOp("/a", "1"));
  auto out = h.Apply(SetDataOp("/a", "22", 0));
  ASSERT_EQ(out.result.err(), 0);
  EXPECT_EQ(out.result.result().stat().version(), 1);
  EXPECT_EQ(out.result.result().stat().mzxid(), h.zxid());
  EXPECT_EQ(out.result.result().stat().data_length(), 2);
  EXPECT_EQ(h.Err(SetDataOp("/a", "3", 0)), Code(ZkError::kBadVersion));
  EXPECT_EQ(h.Err(SetDataOp("/a", "3", -1)), 0);
  EXPECT_EQ(h.Err(SetDataOp("/nope", "3")), Code(ZkError::kNoNode));
  EXPECT_EQ(h.Err(SetDataOp("/a/", "3")), Code(ZkError::kBadArguments));
  EXPECT_EQ(h.Read(ToInt(OpCode::kGetData), "/a").data(), "3");
}

TEST(SetAcl, BumpsAversionAndChecksIt) {
  Harness h;
  h.Apply(CreateOp("/a"));
  auto out = h.Apply(SetAclOp("/a", {MakeAcl(perms::kRead, "world", "anyone")}, 0));
  ASSERT_EQ(out.result.err(), 0);
  EXPECT_EQ(out.result.result().stat().aversion(), 1);
  EXPECT_EQ(h.Err(SetAclOp("/a", {MakeAcl(31, "world", "anyone")}, 0)),
            Code(ZkError::kNoAuth));  // ADMIN is gone
  EXPECT_EQ(h.Err(SetAclOp("/a", {})), Code(ZkError::kInvalidAcl));
  EXPECT_EQ(h.Err(SetAclOp("/nope", {MakeAcl(31, "world", "anyone")})), Code(ZkError::kNoNode));
}

TEST(Check, ComparesVersionAndNeedsRead) {
  Harness h;
  h.Apply(CreateOp("/a"));
  h.Apply(SetDataOp("/a", "x"));
  EXPECT_EQ(h.Err(CheckOp("/a", 1)), 0);
  EXPECT_EQ(h.Err(CheckOp("/a", -1)), 0);
  EXPECT_EQ(h.Err(CheckOp("/a", 0)), Code(ZkError::kBadVersion));
  EXPECT_EQ(h.Err(CheckOp("/b", 0)), Code(ZkError::kNoNode));
  h.Apply(CreateOp("/w", "", kPersistent, {MakeAcl(perms::kWrite, "world", "anyone")}));
  EXPECT_EQ(h.Err(CheckOp("/w", 0)), Code(ZkError::kNoAuth));
}

TEST(Ephemeral, OwnedBySessionAndDeletedOnClose) {
  Harness h;
  constexpr int64_t kOther = 0x100000826df0001;
  h.Apply(CreateSessionOp(5000), kOther);
  h.Apply(CreateOp("/app"));
  auto e1 = h.Apply(CreateOp("/app/e", "", kEphemeral), kOther);
  ASSERT_EQ(e1.result.err(), 0);
  EXPECT_EQ(e1.result.result().stat().ephemeral_owner(), kOther);
  h.Apply(CreateOp("/app/s", "", kEphemeralSequential), kOther);
  h.Apply(CreateOp("/top", "", kEphemeral), kOther);
  EXPECT_EQ(h.sm().EphemeralCount(), 3u);
  auto sessions = h.sm().Sessions();
  ASSERT_EQ(sessions.size(), 2u);
  EXPECT_EQ(sessions[1].session_id(), kOther);
  EXPECT_EQ(sessions[1].ephemeral_count(), 3);
  EXPECT_EQ(sessions[1].timeout_ms(), 5000);

  auto closed = h.Apply(CloseSessionOp(), kOther);
  EXPECT_EQ(closed.result.err(), 0);
  EXPECT_FALSE(h.Exists("/app/e"));
  EXPECT_FALSE(h.Exists("/app/s0000000001"));
  EXPECT_FALSE(h.Exists("/top"));
  EXPECT_EQ(h.sm().EphemeralCount(), 0u);
  EXPECT_EQ(h.sm().SessionCount(), 1u);
  EXPECT_EQ(h.Stat("/app").pzxid(), h.zxid());
  // The closed session can no longer own ephemerals.
  EXPECT_EQ(h.Err(CreateOp("/again", "", kEphemeral), kOther), Code(ZkError::kSessionExpired));
  // Closing an unknown session is a no-op that succeeds.
  EXPECT_EQ(h.Err(CloseSessionOp(), 4242), 0);
}

TEST(Ephemeral, GetEphemeralsFiltersByPrefix) {
  Harness h;
  h.Apply(CreateOp("/a"));
  h.Apply(CreateOp("/a/x", "", kEphemeral));
  h.Apply(CreateOp("/b", "", kEphemeral));
  auto all = h.Read(ToInt(OpCode::kGetEphemerals), "/");
  ASSERT_EQ(all.children_size(), 2);
  EXPECT_EQ(all.children(0), "/a/x");
  EXPECT_EQ(all.children(1), "/b");
  EXPECT_EQ(h.Read(ToInt(OpCode::kGetEphemerals), "  ").children_size(), 2);
  auto a = h.Read(ToInt(OpCode::kGetEphemerals), "/a");
  ASSERT_EQ(a.children_size(), 1);
  EXPECT_EQ(a.children(0), "/a/x");
  EXPECT_EQ(h.Read(ToInt(OpCode::kGetEphemerals), "/", false, /*session=*/5).children_size(), 0);
}

TEST(Container, MarkerOwnerHiddenFromClientsAndDeletableWhenEmpty) {
  Harness h;
  auto c = h.Apply(CreateOp("/c", "x", kContainer));
  ASSERT_EQ(c.result.err(), 0);
  EXPECT_EQ(c.result.result().stat().ephemeral_owner(), 0);  // observed
  EXPECT_EQ(h.sm().tree().Find("/c")->stat.ephemeral_owner, kContainerEphemeralOwner);
  EXPECT_EQ(h.sm().tree().Containers(), std::vector<std::string>{"/c"});
  h.Apply(CreateOp("/c/x"));
  EXPECT_EQ(h.Err(DeleteContainerOp("/c")), Code(ZkError::kNotEmpty));
  h.Apply(DeleteOp("/c/x"));
  h.Apply(CreateOp("/p"));
  EXPECT_EQ(h.Err(DeleteContainerOp("/p")), Code(ZkError::kBadVersion));  // not a container
  EXPECT_EQ(h.Err(DeleteContainerOp("/nope")), Code(ZkError::kNoNode));
  EXPECT_EQ(h.Err(DeleteContainerOp("/zookeeper")), Code(ZkError::kBadArguments));
  EXPECT_EQ(h.Err(DeleteContainerOp("/c")), 0);
  EXPECT_FALSE(h.Exists("/c"));
  EXPECT_TRUE(h.sm().tree().Containers().empty());
}

TEST(Ttl, EncodesTtlInOwnerAndExpiresByHeaderTime) {
  Harness h;
  auto t = h.Apply(CreateOp("/t", "", kTtl, testing::OpenAcl(), 5000));
  ASSERT_EQ(t.result.err(), 0);
  EXPECT_EQ(t.result.result().stat().ephemeral_owner(), 0);  // observed
  const int64_t owner = h.sm().tree().Find("/t")->stat.ephemeral_owner;
  EXPECT_EQ(static_cast<uint64_t>(owner), 0xff00000000001388ULL);
  EXPECT_EQ(TtlFromEphemeralOwner(owner), 5000);
  // Each Apply advances time by 1000 ms: 5 steps are not enough (<=), 6 are.
  for (int i = 0; i < 4; ++i) h.Apply(testing::CreateOp("/filler" + std::to_string(i)));
  EXPECT_EQ(h.Err(DeleteContainerOp("/t")), Code(ZkError::kBadVersion));
  EXPECT_EQ(h.Err(DeleteContainerOp("/t")), 0);
  // Ephemeral children of TTL nodes are allowed (observed).
  auto t2 = h.Apply(CreateOp("/t2", "", kTtlSequential, testing::OpenAcl(), 100));
  ASSERT_EQ(t2.result.err(), 0);
  EXPECT_EQ(t2.result.result().path(), "/t20000000005");  // five creates under "/" before
  EXPECT_EQ(h.Err(CreateOp(t2.result.result().path() + "/e", "", kEphemeral)), 0);
}

TEST(Ttl, ValidatesTheTtl) {
  Harness h;
  EXPECT_EQ(h.Err(CreateOp("/t", "", kTtl, testing::OpenAcl(), 0)), Code(ZkError::kBadArguments));
  EXPECT_EQ(h.Err(CreateOp("/t", "", kTtl, testing::OpenAcl(), -5)), Code(ZkError::kBadArguments));
  EXPECT_EQ(h.Err(CreateOp("/t", "", kTtl, testing::OpenAcl(), kMaxTtlMs + 1)),
            Code(ZkError::kBadArguments));
  EXPECT_EQ(h.Err(CreateOp("/t", "", kTtl, testing::OpenAcl(), kMaxTtlMs)), 0);
  // A TTL with a mode that takes none.
  EXPECT_EQ(h.Err(CreateOp("/u", "", kPersistent, testing::OpenAcl(), 100)),
            Code(ZkError::kBadArguments));
}

TEST(Ttl, UnimplementedWithoutExtendedTypes) {
  Harness h(StateMachineOptions{.extended_types_enabled = false});
  EXPECT_EQ(h.Err(CreateOp("/t", "", kTtl, testing::OpenAcl(), 100)),
            Code(ZkError::kUnimplemented));
}

TEST(Acl, DigestProtectedNode) {
  Harness h;
  const std::string bob = DigestId("bob:pw");
  const auto bob_id = MakeId("digest", bob);
  h.Apply(CreateOp("/d", "secret", kPersistent,
                   {MakeAcl(perms::kRead | perms::kWrite, "digest", bob)}));
  EXPECT_EQ(h.Read(ToInt(OpCode::kGetData), "/d").err(), Code(ZkError::kNoAuth));
  auto ok =
      h.Read(ToInt(OpCode::kGetData), "/d", false, Harness::kSession, Harness::kGateway, {bob_id});
  EXPECT_EQ(ok.err(), 0);
  EXPECT_EQ(ok.data(), "secret");
  EXPECT_EQ(h.Err(SetDataOp("/d", "x")), Code(ZkError::kNoAuth));
  EXPECT_EQ(h.Err(SetDataOp("/d", "x"), Harness::kSession, {bob_id}), 0);
  // No CREATE bit for anybody.
  EXPECT_EQ(h.Err(CreateOp("/d/c"), Harness::kSession, {bob_id}), Code(ZkError::kNoAuth));
  // exists needs no permission.
  EXPECT_TRUE(h.Exists("/d"));
  // getChildren needs READ.
  EXPECT_EQ(h.Read(ToInt(OpCode::kGetChildren), "/d").err(), Code(ZkError::kNoAuth));
  // super passes.
  EXPECT_EQ(h.Err(CreateOp("/d/c"), Harness::kSession, {MakeId("super", "")}), 0);
}

TEST(Acl, DeleteNeedsDeleteOnTheParent) {
  Harness h;
  h.Apply(
      CreateOp("/p", "", kPersistent, {MakeAcl(perms::kAll & ~perms::kDelete, "world", "anyone")}));
  h.Apply(CreateOp("/p/c"));
  EXPECT_EQ(h.Err(DeleteOp("/p/c")), Code(ZkError::kNoAuth));
  EXPECT_EQ(h.Err(DeleteOp("/p")), Code(ZkError::kNotEmpty));  // the root allows DELETE
}

TEST(Acl, AuthSchemeExpandsToTheSessionsDigest) {
  Harness h;
  EXPECT_EQ(h.Err(CreateOp("/aa", "", kPersistent, {MakeAcl(31, "auth", "")}), Harness::kSession,
                  {MakeId("ip", "127.0.0.1")}),
            Code(ZkError::kInvalidAcl));  // observed
  const auto user = MakeId("digest", DigestId("user:pass"));
  ASSERT_EQ(h.Err(CreateOp("/aa", "", kPersistent,
                           {MakeAcl(perms::kRead | perms::kAdmin, "auth", "ignored")}),
                  Harness::kSession, {MakeId("ip", "127.0.0.1"), user}),
            0);
  auto acl =
      h.Read(ToInt(OpCode::kGetAcl), "/aa", false, Harness::kSession, Harness::kGateway, {user});
  ASSERT_EQ(acl.err(), 0);
  ASSERT_EQ(acl.acl_size(), 1);
  EXPECT_EQ(acl.acl(0).perms(), 17);
  EXPECT_EQ(acl.acl(0).id().id(), "user:smGaoVKd/cQkjm7b88GyorAUz20=");  // observed
}

TEST(Acl, GetAclMasksDigestWithoutAdminAndNeedsReadOrAdmin) {
  Harness h;
  const std::string bob = DigestId("bob:pw");
  h.Apply(CreateOp("/r", "", kPersistent,
                   {MakeAcl(perms::kRead, "world", "anyone"), MakeAcl(31, "digest", bob)}));
  auto anon = h.Read(ToInt(OpCode::kGetAcl), "/r");
  ASSERT_EQ(anon.err(), 0);
  EXPECT_EQ(anon.acl(1).id().id(), "bob:x");
  auto owner = h.Read(ToInt(OpCode::kGetAcl), "/r", false, Harness::kSession, Harness::kGateway,
                      {MakeId("digest", bob)});
  EXPECT_EQ(owner.acl(1).id().id(), bob);
  h.Apply(CreateOp("/n", "", kPersistent, {MakeAcl(31, "digest", bob)}));
  EXPECT_EQ(h.Read(ToInt(OpCode::kGetAcl), "/n").err(), Code(ZkError::kNoAuth));  // observed
}

TEST(Acl, IpSchemeMatchesTheSessionAddress) {
  Harness h;
  h.Apply(CreateOp("/ten", "", kPersistent, {MakeAcl(31, "ip", "10.0.0.0/8")}));
  h.Apply(CreateOp("/lo", "", kPersistent, {MakeAcl(31, "ip", "127.0.0.0/8")}));
  const std::vector<ensemble::v1::Id> local = {MakeId("ip", "127.0.0.1")};
  EXPECT_EQ(h.Read(ToInt(OpCode::kGetData), "/ten", false, 1, 7, local).err(),
            Code(ZkError::kNoAuth));                                               // observed
  EXPECT_EQ(h.Read(ToInt(OpCode::kGetData), "/lo", false, 1, 7, local).err(), 0);  // observed
  EXPECT_EQ(h.Err(CreateOp("/bad", "", kPersistent, {MakeAcl(31, "ip", "1.2.3.4/33")})),
            Code(ZkError::kInvalidAcl));  // observed
}

TEST(Quota, StatsNodeTracksCountAndBytes) {
  Harness h;
  h.Apply(CreateOp("/q"));
  h.Apply(CreateOp("/q/a"));
  h.Apply(CreateOp("/q/a/b", "12345"));
  h.Apply(CreateOp("/zookeeper/quota/q"));
  h.Apply(CreateOp("/zookeeper/quota/q/zookeeper_limits", "count=10,bytes=100"));
  h.Apply(CreateOp("/zookeeper/quota/q/zookeeper_stats", "count=0,bytes=0"));
  const std::string stats = "/zookeeper/quota/q/zookeeper_stats";
  auto get = [&] { return h.Read(ToInt(OpCode::kGetData), stats).data(); };
  EXPECT_EQ(get(), "count=3,bytes=5");  // observed
  h.Apply(CreateOp("/q/c", "xx"));
  EXPECT_EQ(get(), "count=4,bytes=7");  // observed
  h.Apply(SetDataOp("/q/c", "xxxxx"));
  EXPECT_EQ(get(), "count=4,bytes=10");
  h.Apply(DeleteOp("/q/c"));
  EXPECT_EQ(get(), "count=3,bytes=5");
  h.Apply(CreateOp("/qq", "zzz"));  // not under /q
  EXPECT_EQ(get(), "count=3,bytes=5");
  h.Apply(SetDataOp(stats, "count=1;foo=3"));
  h.Apply(CreateOp("/q/d", "x"));
  EXPECT_EQ(get(), "count=2,bytes=0=;foo=3");  // observed
  // Stats updates touch the data only.
  EXPECT_EQ(h.Stat(stats).version(), 1);
  // Without the limit node the quota is gone.
  h.Apply(DeleteOp("/zookeeper/quota/q/zookeeper_limits"));
  h.Apply(CreateOp("/q/e", "x"));
  EXPECT_EQ(get(), "count=2,bytes=0=;foo=3");
}

TEST(AllChildrenNumber, CountsTheSubtree) {
  Harness h;
  h.Apply(CreateOp("/a"));
  h.Apply(CreateOp("/a/b"));
  h.Apply(CreateOp("/a/b/c"));
  h.Apply(CreateOp("/a/d"));
  EXPECT_EQ(h.Read(ToInt(OpCode::kGetAllChildrenNumber), "/a").number(), 3);
  EXPECT_EQ(h.Read(ToInt(OpCode::kGetAllChildrenNumber), "/a/d").number(), 0);
  // Everything but the root: /zookeeper, quota, config and the four above.
  EXPECT_EQ(h.Read(ToInt(OpCode::kGetAllChildrenNumber), "/").number(), 7);
  EXPECT_EQ(h.Read(ToInt(OpCode::kGetAllChildrenNumber), "/x").err(), Code(ZkError::kNoNode));
}

TEST(Clone, IsIndependentAndEqual) {
  Harness h;
  h.Apply(CreateOp("/a", "1"));
  h.Apply(CreateOp("/a/e", "", kEphemeral));
  h.Apply(CreateOp("/c", "", kContainer));
  auto copy = h.sm().Clone();
  EXPECT_EQ(copy->Digest(), h.sm().Digest());
  EXPECT_EQ(copy->last_applied_zxid(), h.sm().last_applied_zxid());
  EXPECT_EQ(copy->EphemeralCount(), 1u);
  h.Apply(SetDataOp("/a", "2"));
  h.Apply(CloseSessionOp());
  EXPECT_NE(copy->Digest(), h.sm().Digest());
  EXPECT_EQ(copy->tree().Find("/a")->data, "1");
  EXPECT_NE(copy->tree().Find("/a/e"), nullptr);
  EXPECT_EQ(copy->tree().Find("/a")->children.size(), 1u);
  EXPECT_EQ(copy->tree().Containers(), std::vector<std::string>{"/c"});
}

}  // namespace
}  // namespace ensemble::storage

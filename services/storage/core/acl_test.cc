#include "services/storage/core/acl.h"

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"

namespace ensemble::storage {
namespace {

TEST(DigestId, MatchesZooKeepersFormat) {
  // Value computed by ZooKeeper 3.8 (DigestAuthenticationProvider) for user:pass.
  EXPECT_EQ(DigestId("user:pass"), "user:smGaoVKd/cQkjm7b88GyorAUz20=");
}

TEST(Sha1, KnownVectors) {
  EXPECT_EQ(absl::BytesToHexString(Sha1("")), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(absl::BytesToHexString(Sha1("abc")), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(
      absl::BytesToHexString(Sha1("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
      "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
}

TEST(CheckAcl, WorldAnyoneAndPermissionBits) {
  const AclList acl = {Acl{perms::kRead, Id{"world", "anyone"}}};
  EXPECT_EQ(CheckAcl(acl, perms::kRead, {}), ZkError::kOk);
  EXPECT_EQ(CheckAcl(acl, perms::kWrite, {}), ZkError::kNoAuth);
  EXPECT_EQ(CheckAcl({}, perms::kWrite, {}), ZkError::kOk);  // empty ACL: no check
}

TEST(CheckAcl, DigestNeedsTheSameIdentity) {
  const std::string id = DigestId("bob:secret");
  const AclList acl = {Acl{perms::kAll, Id{"digest", id}}};
  EXPECT_EQ(CheckAcl(acl, perms::kRead, {}), ZkError::kNoAuth);
  EXPECT_EQ(CheckAcl(acl, perms::kRead, {Id{"digest", DigestId("bob:wrong")}}), ZkError::kNoAuth);
  EXPECT_EQ(CheckAcl(acl, perms::kRead, {Id{"ip", "127.0.0.1"}, Id{"digest", id}}), ZkError::kOk);
}

TEST(CheckAcl, SuperPassesEverything) {
  const AclList acl = {Acl{perms::kRead, Id{"digest", DigestId("bob:secret")}}};
  EXPECT_EQ(CheckAcl(acl, perms::kAdmin, {Id{"super", ""}}), ZkError::kOk);
}

TEST(CheckAcl, IpMatchesAddressAndPrefix) {
  const AclList net = {Acl{perms::kAll, Id{"ip", "10.1.0.0/16"}}};
  EXPECT_EQ(CheckAcl(net, perms::kRead, {Id{"ip", "10.1.200.3"}}), ZkError::kOk);
  EXPECT_EQ(CheckAcl(net, perms::kRead, {Id{"ip", "10.2.0.1"}}), ZkError::kNoAuth);
  const AclList host = {Acl{perms::kAll, Id{"ip", "127.0.0.1"}}};
  EXPECT_EQ(CheckAcl(host, perms::kRead, {Id{"ip", "127.0.0.1"}}), ZkError::kOk);
  EXPECT_EQ(CheckAcl(host, perms::kRead, {Id{"ip", "127.0.0.2"}}), ZkError::kNoAuth);
  const AclList odd = {Acl{perms::kAll, Id{"ip", "192.168.1.128/25"}}};
  EXPECT_EQ(CheckAcl(odd, perms::kRead, {Id{"ip", "192.168.1.200"}}), ZkError::kOk);
  EXPECT_EQ(CheckAcl(odd, perms::kRead, {Id{"ip", "192.168.1.100"}}), ZkError::kNoAuth);
}

TEST(FixupAcl, RejectsEmptyAndUnknown) {
  AclList out;
  EXPECT_EQ(FixupAcl({}, {}, &out), ZkError::kInvalidAcl);
  EXPECT_EQ(FixupAcl({Acl{31, Id{"world", "someone"}}}, {}, &out), ZkError::kInvalidAcl);
  EXPECT_EQ(FixupAcl({Acl{31, Id{"super", ""}}}, {}, &out), ZkError::kInvalidAcl);
  EXPECT_EQ(FixupAcl({Acl{31, Id{"x509", "CN=a"}}}, {}, &out), ZkError::kInvalidAcl);
  EXPECT_EQ(FixupAcl({Acl{31, Id{"digest", "user"}}}, {}, &out), ZkError::kInvalidAcl);
  EXPECT_EQ(FixupAcl({Acl{31, Id{"digest", "a:b:c"}}}, {}, &out), ZkError::kInvalidAcl);
  EXPECT_EQ(FixupAcl({Acl{31, Id{"ip", "1.2.3.4/33"}}}, {}, &out), ZkError::kInvalidAcl);
  EXPECT_EQ(FixupAcl({Acl{31, Id{"ip", "1.2.3"}}}, {}, &out), ZkError::kInvalidAcl);
  EXPECT_EQ(FixupAcl({Acl{31, Id{"ip", "1.2.3.256"}}}, {}, &out), ZkError::kInvalidAcl);
  EXPECT_EQ(FixupAcl({Acl{31, Id{"ip", "::1"}}}, {}, &out), ZkError::kInvalidAcl);
}

TEST(FixupAcl, KeepsValidEntriesAndDropsDuplicates) {
  AclList out;
  const AclList in = {Acl{31, Id{"world", "anyone"}}, Acl{31, Id{"world", "anyone"}},
                      Acl{1, Id{"ip", "10.0.0.0/8"}}, Acl{3, Id{"digest", "u:h"}}};
  ASSERT_EQ(FixupAcl(in, {}, &out), ZkError::kOk);
  EXPECT_EQ(out, (AclList{in[0], in[2], in[3]}));
}

TEST(FixupAcl, AuthSchemeExpandsToAuthenticatedIdentities) {
  AclList out;
  EXPECT_EQ(FixupAcl({Acl{31, Id{"auth", ""}}}, {Id{"ip", "127.0.0.1"}}, &out),
            ZkError::kInvalidAcl);  // ip is not an authenticated identity
  const std::vector<Id> auth = {Id{"ip", "127.0.0.1"}, Id{"digest", "a:x"}, Id{"super", ""},
                                Id{"digest", "b:y"}};
  ASSERT_EQ(FixupAcl({Acl{17, Id{"auth", "ignored"}}}, auth, &out), ZkError::kOk);
  EXPECT_EQ(out, (AclList{Acl{17, Id{"digest", "a:x"}}, Acl{17, Id{"digest", "b:y"}}}));
}

TEST(MaskDigestIds, HidesTheHash) {
  AclList acls = {Acl{31, Id{"digest", "user:abc="}}, Acl{1, Id{"ip", "1.2.3.4"}}};
  MaskDigestIds(&acls);
  EXPECT_EQ(acls[0].id.id, "user:x");
  EXPECT_EQ(acls[1].id.id, "1.2.3.4");
}

TEST(AclCache, InternsEqualListsOnce) {
  AclCache cache;
  AclRef a = cache.Intern(OpenAclUnsafe());
  AclRef b = cache.Intern(OpenAclUnsafe());
  AclRef c = cache.Intern(ReadAclUnsafe());
  EXPECT_EQ(a.get(), b.get());
  EXPECT_NE(a.get(), c.get());
  EXPECT_NE(a->hash, c->hash);
  c.reset();
  cache.PurgeUnused();
  EXPECT_EQ(cache.size(), 1u);
}

}  // namespace
}  // namespace ensemble::storage

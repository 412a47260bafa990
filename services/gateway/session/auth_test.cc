#include "services/gateway/session/auth.h"

#include <gtest/gtest.h>

namespace ensemble::gateway {
namespace {

// Expected values printed by ZooKeeper 3.8.0 itself:
//   java -cp "/usr/share/java/*" org.apache.zookeeper.server.auth.DigestAuthenticationProvider \
//       user:password super:secret
TEST(DigestOf, MatchesZooKeeperDigestAuthenticationProvider) {
  EXPECT_EQ(DigestOf("user:password"), "user:tpUq/4Pn5A64fVZyQ0gOJ8ZWqkY=");
  EXPECT_EQ(DigestOf("super:secret"), "super:lK75jTNcA+U9vtVEw5vB51mj/w4=");
}

TEST(DigestOf, WithoutColonUsesTheWholeInputAsUser) {
  std::string digest = DigestOf("alone");
  EXPECT_EQ(digest.rfind("alone:", 0), 0u);
  EXPECT_EQ(digest.size(), std::string("alone:").size() + 28);  // base64 of 20 bytes
}

TEST(SessionPassword, IsSixteenBytesAndDeterministic) {
  std::string a = SessionPassword("k", 0x1234);
  EXPECT_EQ(a.size(), 16u);
  EXPECT_EQ(a, SessionPassword("k", 0x1234));
  EXPECT_NE(a, SessionPassword("k", 0x1235));
  EXPECT_NE(a, SessionPassword("other", 0x1234));
}

TEST(SessionPassword, CheckAcceptsOnlyTheRightPassword) {
  std::string good = SessionPassword(kDefaultSessionSecret, 77);
  EXPECT_TRUE(CheckSessionPassword(kDefaultSessionSecret, 77, good));
  std::string bad = good;
  bad[3] ^= 1;
  EXPECT_FALSE(CheckSessionPassword(kDefaultSessionSecret, 77, bad));
  EXPECT_FALSE(CheckSessionPassword(kDefaultSessionSecret, 77, good.substr(0, 15)));
  EXPECT_FALSE(CheckSessionPassword(kDefaultSessionSecret, 78, good));
}

TEST(Identities, StartWithIpAndIgnoreDuplicates) {
  Identities ids("10.0.0.7");
  ids.Add("digest", "u:x");
  ids.Add("digest", "u:x");
  ASSERT_EQ(ids.ids().size(), 2u);
  EXPECT_EQ(ids.ids()[0].scheme(), "ip");
  EXPECT_EQ(ids.ids()[0].id(), "10.0.0.7");
  EXPECT_TRUE(ids.Has("digest", "u:x"));
}

TEST(ApplyAuth, DigestAddsIdentityAndSuperWhenItMatchesSuperDigest) {
  Identities ids("127.0.0.1");
  EXPECT_EQ(
      ApplyAuth("digest", "super:secret", "super:lK75jTNcA+U9vtVEw5vB51mj/w4=", "127.0.0.1", &ids),
      AuthOutcome::kOk);
  EXPECT_TRUE(ids.Has("super", ""));
  EXPECT_TRUE(ids.Has("digest", "super:lK75jTNcA+U9vtVEw5vB51mj/w4="));

  Identities plain("127.0.0.1");
  EXPECT_EQ(ApplyAuth("digest", "user:password", "super:lK75jTNcA+U9vtVEw5vB51mj/w4=", "127.0.0.1",
                      &plain),
            AuthOutcome::kOk);
  EXPECT_FALSE(plain.Has("super", ""));
}

TEST(ApplyAuth, UnknownSchemeFails) {
  Identities ids("127.0.0.1");
  EXPECT_EQ(ApplyAuth("kerberos", "x", "", "127.0.0.1", &ids), AuthOutcome::kAuthFailed);
  EXPECT_EQ(ApplyAuth("world", "anyone", "", "127.0.0.1", &ids), AuthOutcome::kAuthFailed);
  EXPECT_EQ(ids.ids().size(), 1u);
}

TEST(WhoAmIUser, DigestShowsTheUserOnly) {
  ensemble::v1::Id id;
  id.set_scheme("digest");
  id.set_id("user:tpUq/4Pn5A64fVZyQ0gOJ8ZWqkY=");
  EXPECT_EQ(WhoAmIUser(id), "user");
  id.set_scheme("ip");
  id.set_id("127.0.0.1");
  EXPECT_EQ(WhoAmIUser(id), "127.0.0.1");
}

}  // namespace
}  // namespace ensemble::gateway

#include "services/storage/core/quota.h"

#include "gtest/gtest.h"

namespace ensemble::storage {
namespace {

TEST(StatsTrack, ParsesAndFormatsLikeZooKeeper) {
  auto t = StatsTrack::Parse("count=3,bytes=5");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->count(), 3);
  EXPECT_EQ(t->bytes(), 5);
  EXPECT_EQ(t->ToString(), "count=3,bytes=5");
}

TEST(StatsTrack, MissingValuesReadAsMinusOneAndExtrasFollow) {
  // Observed on ZooKeeper 3.8: stats "count=1;foo=3" plus one node of one
  // byte becomes "count=2,bytes=0=;foo=3".
  auto t = StatsTrack::Parse("count=1;foo=3");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->bytes(), -1);
  t->set_count(t->count() + 1);
  t->set_bytes(t->bytes() + 1);
  EXPECT_EQ(t->ToString(), "count=2,bytes=0=;foo=3");
}

TEST(StatsTrack, RejectsMalformedText) {
  EXPECT_FALSE(StatsTrack::Parse("count").has_value());
  EXPECT_FALSE(StatsTrack::Parse("count=x").has_value());
  EXPECT_FALSE(StatsTrack::Parse(",count=1").has_value());
  EXPECT_FALSE(StatsTrack::Parse("count=,bytes=2").has_value());  // Java: kv[1] out of bounds
  auto empty_value = StatsTrack::Parse("count==5,bytes=2");       // kv[1] is "" -> -1
  ASSERT_TRUE(empty_value.has_value());
  EXPECT_EQ(empty_value->count(), -1);
}

TEST(QuotaPrefixes, LongestCoveringPrefix) {
  QuotaPrefixes q;
  EXPECT_FALSE(q.MaxPrefix("/a/b").has_value());
  q.Add("/a");
  q.Add("/a/b");
  EXPECT_EQ(q.MaxPrefix("/a/b/c").value(), "/a/b");
  EXPECT_EQ(q.MaxPrefix("/a/bc").value(), "/a");
  EXPECT_EQ(q.MaxPrefix("/a").value(), "/a");
  EXPECT_FALSE(q.MaxPrefix("/ab").has_value());
  EXPECT_EQ(QuotaPrefixOfParent("/zookeeper/quota/a/b").value(), "/a/b");
  EXPECT_FALSE(QuotaPrefixOfParent("/zookeeper/quota").has_value());
  EXPECT_FALSE(QuotaPrefixOfParent("/zookeeper/quotax/a").has_value());
}

}  // namespace
}  // namespace ensemble::storage

#include "bench/loadgen/workload.h"

#include <array>

#include "gtest/gtest.h"

namespace ensemble::bench {
namespace {

TEST(WorkloadTest, ParsesShortAndZooKeeperNames) {
  auto mix = ParseMix("get=90,set=10");
  ASSERT_TRUE(mix.ok()) << mix.status();
  EXPECT_EQ(mix->Weight(OpKind::kGet), 90u);
  EXPECT_EQ(mix->Weight(OpKind::kSet), 10u);
  EXPECT_EQ(mix->Total(), 100u);
  EXPECT_EQ(mix->ToString(), "setData=10,getData=90");
  auto same = ParseMix("getData=90,setData=10");
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->weights, mix->weights);
}

TEST(WorkloadTest, SingleOpNameMeansOnlyThatOp) {
  auto mix = ParseMix("multi");
  ASSERT_TRUE(mix.ok());
  EXPECT_TRUE(mix->Only(OpKind::kMulti));
  EXPECT_FALSE(mix->Only(OpKind::kGet));
}

TEST(WorkloadTest, RejectsBadMixes) {
  for (const char* bad : {"", "get", "get=", "get=x", "get=-1", "get=1,get=2", "foo=1",
                          "get=0,set=0", "get=1,", "get:1"}) {
    if (std::string_view(bad) == "get") continue;  // a bare op name is valid
    EXPECT_FALSE(ParseMix(bad).ok()) << bad;
  }
  EXPECT_FALSE(ParseMix("nosuchop").ok());
}

TEST(WorkloadTest, ChooserFollowsWeights) {
  auto mix = ParseMix("get=90,set=10");
  ASSERT_TRUE(mix.ok());
  OpChooser chooser(*mix, 1);
  std::array<int, kOpKindCount> seen{};
  for (int i = 0; i < 100000; ++i) ++seen[static_cast<int>(chooser.Next())];
  EXPECT_NEAR(seen[static_cast<int>(OpKind::kGet)], 90000, 1000);
  EXPECT_NEAR(seen[static_cast<int>(OpKind::kSet)], 10000, 1000);
  EXPECT_EQ(seen[static_cast<int>(OpKind::kCreate)], 0);
}

TEST(WorkloadTest, SameSeedSameSequence) {
  auto mix = ParseMix("create=1,delete=1,exists=1");
  ASSERT_TRUE(mix.ok());
  OpChooser a(*mix, 9), b(*mix, 9);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(a.Next(), b.Next());
}

}  // namespace
}  // namespace ensemble::bench

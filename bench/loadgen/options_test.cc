#include "bench/loadgen/options.h"

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace ensemble::bench {
namespace {

TEST(OptionsTest, DefaultsAreBoundedByCountAndTime) {
  auto o = ParseOptions({"--servers", "127.0.0.1:2181"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->mode, Mode::kOps);
  EXPECT_GT(o->seconds, 0);
  EXPECT_GT(o->count, 0u);
  EXPECT_TRUE(o->mix.Only(OpKind::kGet));
  EXPECT_TRUE(o->cleanup);
}

TEST(OptionsTest, ParsesModeAndFlagsInBothForms) {
  auto o = ParseOptions({"watch-fanout", "--servers=127.0.0.1:1,127.0.0.1:2", "--watchers", "50",
                         "--repeat=3", "--json", "--allow-errors", "--seconds", "2.5"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->mode, Mode::kWatchFanout);
  EXPECT_EQ(o->servers, "127.0.0.1:1,127.0.0.1:2");
  EXPECT_EQ(o->watchers, 50);
  EXPECT_EQ(o->repeat, 3);
  EXPECT_TRUE(o->json);
  EXPECT_TRUE(o->allow_errors);
  EXPECT_DOUBLE_EQ(o->seconds, 2.5);
}

TEST(OptionsTest, MixAndOp) {
  auto o = ParseOptions({"--servers", "x:1", "--mix", "get=90,set=10", "--sessions", "8",
                         "--outstanding", "32", "--no-cleanup"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->mix.Weight(OpKind::kGet), 90u);
  EXPECT_EQ(o->sessions, 8);
  EXPECT_EQ(o->outstanding, 32);
  EXPECT_FALSE(o->cleanup);
  auto op = ParseOptions({"--servers", "x:1", "--op", "create"});
  ASSERT_TRUE(op.ok());
  EXPECT_TRUE(op->mix.Only(OpKind::kCreate));
  EXPECT_FALSE(ParseOptions({"--servers", "x:1", "--op", "get=1,set=1"}).ok());
}

TEST(OptionsTest, RejectsBadInput) {
  EXPECT_FALSE(ParseOptions({}).ok());  // no --servers
  EXPECT_FALSE(ParseOptions({"bogus-mode", "--servers", "x:1"}).ok());
  EXPECT_FALSE(ParseOptions({"--servers", "x:1", "--nope", "1"}).ok());
  EXPECT_FALSE(ParseOptions({"--servers", "x:1", "--sessions", "0"}).ok());
  EXPECT_FALSE(ParseOptions({"--servers", "x:1", "--sessions", "two"}).ok());
  EXPECT_FALSE(ParseOptions({"--servers", "x:1", "--seconds", "-1"}).ok());
  EXPECT_FALSE(ParseOptions({"--servers", "x:1", "--seconds"}).ok());
  EXPECT_FALSE(ParseOptions({"--servers", "x:1", "--json=yes"}).ok());
  EXPECT_FALSE(ParseOptions({"--servers", "x:1", "--root", "relative"}).ok());
  // Neither bound: refused.
  EXPECT_FALSE(ParseOptions({"--servers", "x:1", "--seconds", "0", "--count", "0"}).ok());
  EXPECT_TRUE(ParseOptions({"--servers", "x:1", "--seconds", "0"}).ok());
}

TEST(OptionsTest, ProbeTakesGetOrCreate) {
  auto o = ParseOptions({"probe", "--servers", "x:1"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_TRUE(o->mix.Only(OpKind::kGet));
  EXPECT_TRUE(ParseOptions({"probe", "--servers", "x:1", "--op", "create"}).ok());
  EXPECT_FALSE(ParseOptions({"probe", "--servers", "x:1", "--op", "delete"}).ok());
}

TEST(OptionsTest, HelpIsCancelled) {
  auto o = ParseOptions({"--help"});
  EXPECT_TRUE(absl::IsCancelled(o.status()));
  EXPECT_NE(Usage().find("watch-fanout"), std::string::npos);
}

}  // namespace
}  // namespace ensemble::bench

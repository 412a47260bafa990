#include "common/runtime/process_options.h"

#include <gtest/gtest.h>

namespace ensemble::runtime {
namespace {

TEST(ProcessOptions, ParsesConfigAndRepeatedOverrides) {
  const char* argv[] = {"x", "--config", "a.cfg", "--set", "tickTime=500", "--set=clientPort=1"};
  auto options = ParseProcessOptions(6, argv);
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->config_path, "a.cfg");
  ASSERT_EQ(options->overrides.size(), 2u);
  EXPECT_EQ(options->overrides[1], "clientPort=1");
}

TEST(ProcessOptions, RequiresConfig) {
  const char* argv[] = {"x"};
  EXPECT_FALSE(ParseProcessOptions(1, argv).ok());
}

TEST(ProcessOptions, RejectsUnknownFlagAndNamesIt) {
  const char* argv[] = {"x", "--config", "a", "--bogus"};
  auto options = ParseProcessOptions(4, argv);
  ASSERT_FALSE(options.ok());
  EXPECT_NE(options.status().message().find("--bogus"), std::string::npos);
}

TEST(ProcessOptions, RejectsOverrideWithoutEquals) {
  const char* argv[] = {"x", "--config", "a", "--set", "tickTime"};
  EXPECT_FALSE(ParseProcessOptions(5, argv).ok());
}

}  // namespace
}  // namespace ensemble::runtime

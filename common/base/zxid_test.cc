#include "common/base/zxid.h"

#include <gtest/gtest.h>

namespace ensemble {
namespace {

TEST(Zxid, SplitsEpochAndCounter) {
  int64_t z = Zxid::Make(3, 0x12);
  EXPECT_EQ(z, 0x300000012LL);
  EXPECT_EQ(Zxid::Epoch(z), 3);
  EXPECT_EQ(Zxid::Counter(z), 0x12);
  EXPECT_EQ(Zxid::Hex(z), "0x300000012");
}

TEST(Zxid, CounterWrapsIntoEpochBitsOnlyThroughMake) {
  int64_t z = Zxid::Make(1, 0xffffffffLL);
  EXPECT_EQ(Zxid::Counter(z), 0xffffffffLL);
  EXPECT_EQ(Zxid::Epoch(z), 1);
}

}  // namespace
}  // namespace ensemble

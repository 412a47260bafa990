#include "services/storage/log/crc32c.h"

#include <string>

#include "gtest/gtest.h"

namespace ensemble::storage {
namespace {

TEST(Crc32c, MatchesStandardCheckValue) { EXPECT_EQ(Crc32c("123456789"), 0xe3069283u); }

TEST(Crc32c, MatchesRfc3720Vectors) {
  // RFC 3720 B.4: 32 bytes of zeros, of 0xff, and an ascending sequence.
  EXPECT_EQ(Crc32c(std::string(32, '\0')), 0x8a9136aau);
  EXPECT_EQ(Crc32c(std::string(32, '\xff')), 0x62a8ab43u);
  std::string ascending;
  for (int i = 0; i < 32; ++i) ascending.push_back(static_cast<char>(i));
  EXPECT_EQ(Crc32c(ascending), 0x46dd794eu);
}

TEST(Crc32c, ExtendEqualsWholeForEverySplit) {
  std::string data = "the quick brown fox jumps over the lazy dog, twice over";
  uint32_t whole = Crc32c(data);
  for (size_t split = 0; split <= data.size(); ++split) {
    uint32_t part =
        Crc32cExtend(Crc32c(data.substr(0, split)), data.data() + split, data.size() - split);
    EXPECT_EQ(part, whole) << "split=" << split;
  }
}

TEST(Crc32c, DetectsSingleBitFlip) {
  std::string data(100, 'a');
  uint32_t before = Crc32c(data);
  data[57] ^= 0x10;
  EXPECT_NE(Crc32c(data), before);
}

}  // namespace
}  // namespace ensemble::storage

#include "common/jute/frame.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ensemble::jute {
namespace {

using ::testing::HasSubstr;

// Drains every complete frame; fails the test on a decoder error.
std::vector<std::string> Drain(FrameDecoder& d) {
  std::vector<std::string> frames;
  for (;;) {
    auto next = d.Next();
    EXPECT_TRUE(next.ok()) << next.status();
    if (!next.ok() || !next->has_value()) return frames;
    frames.emplace_back(**next);
  }
}

TEST(EncodeFrame, PrefixesBigEndianLength) {
  EXPECT_EQ(EncodeFrame("abc"), std::string("\0\0\0\3abc", 7));
  EXPECT_EQ(EncodeFrame(""), std::string("\0\0\0\0", 4));
}

TEST(BeginEndFrame, FillsInLengthOfWhatWasAppended) {
  std::string out = "prefix";
  size_t begin = BeginFrame(&out);
  out += "hello";
  EndFrame(&out, begin);
  EXPECT_EQ(out, std::string("prefix\0\0\0\5hello", 15));
}

TEST(FrameDecoder, YieldsNothingUntilFrameComplete) {
  FrameDecoder d;
  d.Feed(std::string("\0\0\0", 3));
  auto next = d.Next();
  ASSERT_TRUE(next.ok());
  EXPECT_FALSE(next->has_value());
  d.Feed(std::string("\5hell", 5));
  next = d.Next();
  ASSERT_TRUE(next.ok());
  EXPECT_FALSE(next->has_value());
  d.Feed("o");
  EXPECT_EQ(Drain(d), std::vector<std::string>{"hello"});
  EXPECT_EQ(d.buffered(), 0u);
}

TEST(FrameDecoder, ByteByByteFeedingReassemblesEveryFrame) {
  std::string stream = EncodeFrame("one") + EncodeFrame("") + EncodeFrame(std::string(300, 'x'));
  FrameDecoder d;
  std::vector<std::string> frames;
  for (char c : stream) {
    d.Feed(std::string_view(&c, 1));
    for (const std::string& f : Drain(d)) frames.push_back(f);
  }
  EXPECT_EQ(frames, (std::vector<std::string>{"one", "", std::string(300, 'x')}));
}

TEST(FrameDecoder, SeveralFramesInOneChunk) {
  FrameDecoder d;
  d.Feed(EncodeFrame("a") + EncodeFrame("bb") + EncodeFrame("ccc").substr(0, 5));
  EXPECT_EQ(Drain(d), (std::vector<std::string>{"a", "bb"}));
  EXPECT_EQ(d.buffered(), 5u);
  d.Feed("cc");
  EXPECT_EQ(Drain(d), (std::vector<std::string>{"ccc"}));
}

TEST(FrameDecoder, NegativeLengthFailsAndStaysFailed) {
  FrameDecoder d;
  d.Feed(std::string("\xff\xff\xff\xfe", 4));
  auto next = d.Next();
  ASSERT_FALSE(next.ok());
  EXPECT_EQ(next.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(next.status().message(), HasSubstr("negative length -2"));
  EXPECT_TRUE(d.failed());
  d.Feed(EncodeFrame("ok"));
  EXPECT_FALSE(d.Next().ok());
}

TEST(FrameDecoder, LengthAboveMaxFailsBeforeTheBytesArrive) {
  FrameDecoder d(/*max_frame_length=*/1000);
  d.Feed(std::string("\0\0\x03\xe9", 4));  // 1001
  auto next = d.Next();
  ASSERT_FALSE(next.ok());
  EXPECT_EQ(next.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(next.status().message(), HasSubstr("length 1001 exceeds jute.maxbuffer 1000"));
}

TEST(FrameDecoder, LengthEqualToMaxIsAccepted) {
  FrameDecoder d(/*max_frame_length=*/1000);
  d.Feed(EncodeFrame(std::string(1000, 'q')));
  std::vector<std::string> frames = Drain(d);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].size(), 1000u);
}

TEST(FrameDecoder, DefaultMaxIsJuteMaxBufferDefault) {
  FrameDecoder d;
  EXPECT_EQ(d.max_frame_length(), 1049600);
  d.Feed(std::string("\0\x10\x04\x01", 4));  // 1049601
  EXPECT_EQ(d.Next().status().code(), absl::StatusCode::kResourceExhausted);
}

TEST(FrameDecoder, FourLetterWordReadsAsOversizedLength) {
  // "ruok" = 0x72756f6b: the gateway must detect four-letter words first.
  FrameDecoder d;
  d.Feed("ruok");
  EXPECT_EQ(d.Next().status().code(), absl::StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace ensemble::jute

#include "common/config/properties.h"

#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ensemble::config {
namespace {

using ::testing::ElementsAre;
using ::testing::FieldsAre;
using ::testing::HasSubstr;

std::vector<PropertyLine> Read(std::string_view text) {
  absl::StatusOr<std::vector<PropertyLine>> lines = ReadProperties(text, "t.cfg");
  EXPECT_TRUE(lines.ok()) << lines.status();
  return lines.ok() ? *lines : std::vector<PropertyLine>{};
}

TEST(ReadProperties, AcceptsEverySeparatorJavaAccepts) {
  EXPECT_THAT(Read("a=1\n"
                   "b = 2\n"
                   "c:3\n"
                   "d 4\n"
                   "e\t=\t5\n"
                   "f : = 6\n"
                   "g\n"
                   "h=\n"),
              ElementsAre(FieldsAre("a", "1", 1), FieldsAre("b", "2", 2), FieldsAre("c", "3", 3),
                          FieldsAre("d", "4", 4), FieldsAre("e", "5", 5),
                          // Only one separator is skipped: the second '=' is data.
                          FieldsAre("f", "= 6", 6), FieldsAre("g", "", 7), FieldsAre("h", "", 8)));
}

TEST(ReadProperties, SkipsCommentsAndBlankLinesButCountsThem) {
  EXPECT_THAT(Read("# hash comment\n"
                   "! bang comment\n"
                   "   # indented comment\n"
                   "\n"
                   "  \t \n"
                   "tickTime=2000\n"
                   "dataDir=/tmp/a#not-a-comment\n"),
              ElementsAre(FieldsAre("tickTime", "2000", 6),
                          FieldsAre("dataDir", "/tmp/a#not-a-comment", 7)));
}

TEST(ReadProperties, TrimsValuesLikeQuorumPeerConfig) {
  EXPECT_THAT(Read("  clientPort = 2181   \t\n"), ElementsAre(FieldsAre("clientPort", "2181", 1)));
}

TEST(ReadProperties, JoinsContinuationLinesAndReportsTheFirstLine) {
  EXPECT_THAT(Read("a=1\n"
                   "server.1=zk1:\\\n"
                   "        2888:\\\n"
                   "   3888\n"
                   "b=2\n"),
              ElementsAre(FieldsAre("a", "1", 1), FieldsAre("server.1", "zk1:2888:3888", 2),
                          FieldsAre("b", "2", 5)));
}

TEST(ReadProperties, ContinuationLineStartingWithHashIsData) {
  EXPECT_THAT(Read("k=a\\\n#b\n"), ElementsAre(FieldsAre("k", "a#b", 1)));
}

TEST(ReadProperties, EvenTrailingBackslashesDoNotContinue) {
  EXPECT_THAT(Read("p=c:\\\\\nq=1\n"),
              ElementsAre(FieldsAre("p", "c:\\", 1), FieldsAre("q", "1", 2)));
}

TEST(ReadProperties, ContinuationIntoBlankLineEndsTheEntry) {
  EXPECT_THAT(Read("k=v\\\n\nnext=1\n"),
              ElementsAre(FieldsAre("k", "v", 1), FieldsAre("next", "1", 3)));
}

TEST(ReadProperties, DecodesEscapes) {
  EXPECT_THAT(
      Read("key\\ with\\ spaces=v\n"
           "k\\=eq=x\\ty\n"
           "u=\\u0041\\u00e9\\ud83d\\ude00\n"
           "other=\\q\\\\\n"),
      ElementsAre(FieldsAre("key with spaces", "v", 1), FieldsAre("k=eq", "x\ty", 2),
                  FieldsAre("u", "A\xC3\xA9\xF0\x9F\x98\x80", 3), FieldsAre("other", "q\\", 4)));
}

TEST(ReadProperties, HandlesCrLfAndCrLineEnds) {
  EXPECT_THAT(Read("a=1\r\nb=2\rc=3"),
              ElementsAre(FieldsAre("a", "1", 1), FieldsAre("b", "2", 2), FieldsAre("c", "3", 3)));
}

TEST(ReadProperties, SkipsUtf8ByteOrderMark) {
  EXPECT_THAT(Read("\xEF\xBB\xBFtickTime=1\n"), ElementsAre(FieldsAre("tickTime", "1", 1)));
}

TEST(ReadProperties, KeepsRepeatedKeysForTheCaller) {
  EXPECT_THAT(Read("a=1\na=2\n"), ElementsAre(FieldsAre("a", "1", 1), FieldsAre("a", "2", 2)));
}

TEST(ReadProperties, MalformedUnicodeEscapeNamesTheLine) {
  absl::StatusOr<std::vector<PropertyLine>> lines = ReadProperties("a=1\n\nb=\\u12x4\n", "z.cfg");
  ASSERT_FALSE(lines.ok());
  EXPECT_EQ(lines.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(lines.status().message(), HasSubstr("z.cfg:3: malformed \\uXXXX escape"));
}

TEST(ReadProperties, LoneSurrogateIsMalformed) {
  EXPECT_FALSE(ReadProperties("a=\\ud83d\n", "z.cfg").ok());
}

TEST(ReadProperties, EmptyKeyIsAnError) {
  absl::StatusOr<std::vector<PropertyLine>> lines = ReadProperties("\n=value\n", "z.cfg");
  ASSERT_FALSE(lines.ok());
  EXPECT_THAT(lines.status().message(), HasSubstr("z.cfg:2: missing key"));
}

TEST(EscapeProperty, RoundTripsAwkwardKeysAndValues) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"plain", "value"},
      {"with space", " leading space kept by the escape"},
      {"a=b:c", "x=y:z"},
      {"#hash", "!bang"},
      {"back\\slash", "C:\\data\\zk"},
      {"tab\tkey", "line\nbreak\rand\ttab\fform"},
  };
  for (const auto& [key, value] : cases) {
    const std::string text = EscapePropertyKey(key) + "=" + EscapePropertyValue(value) + "\n";
    std::vector<PropertyLine> lines = Read(text);
    ASSERT_EQ(lines.size(), 1u) << text;
    EXPECT_EQ(lines[0].key, key) << text;
    // ZooKeeper trims values after decoding them, so even an escaped leading blank
    // does not survive; everything else does.
    EXPECT_EQ(lines[0].value, std::string(absl::StripAsciiWhitespace(value))) << text;
  }
}

}  // namespace
}  // namespace ensemble::config

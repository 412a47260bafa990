#include "common/jute/archive.h"

#include <optional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ensemble::jute {
namespace {

using ::testing::HasSubstr;

std::string Bytes(std::initializer_list<int> bytes) {
  std::string s;
  for (int b : bytes) s.push_back(static_cast<char>(b));
  return s;
}

TEST(Writer, IntsAndLongsAreBigEndianTwosComplement) {
  Writer w;
  w.WriteInt(0x01020304);
  w.WriteInt(-2);
  w.WriteLong(0x0102030405060708LL);
  w.WriteLong(-1);
  EXPECT_EQ(w.data(), Bytes({1, 2, 3, 4, 0xff, 0xff, 0xff, 0xfe, 1,    2,    3,    4,
                             5, 6, 7, 8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}));
}

TEST(Writer, BoolIsOneByte) {
  Writer w;
  w.WriteBool(true);
  w.WriteBool(false);
  EXPECT_EQ(w.data(), Bytes({1, 0}));
}

TEST(Writer, BufferIsLengthPrefixedAndNullIsMinusOne) {
  Writer w;
  w.WriteBuffer("ab");
  w.WriteNullableBuffer(std::nullopt);
  w.WriteNullableBuffer(std::string());
  EXPECT_EQ(w.data(), Bytes({0, 0, 0, 2, 'a', 'b', 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}));
}

TEST(Writer, AppendsToTargetString) {
  std::string out = "x";
  Writer w(&out);
  w.WriteBool(true);
  EXPECT_EQ(out, Bytes({'x', 1}));
}

TEST(Writer, PatchIntOverwritesInPlace) {
  Writer w;
  w.WriteInt(0);
  w.WriteBool(true);
  w.PatchInt(0, 0x0a0b0c0d);
  EXPECT_EQ(w.data(), Bytes({0x0a, 0x0b, 0x0c, 0x0d, 1}));
}

TEST(Reader, ReadsWhatWriterWrote) {
  Writer w;
  w.WriteInt(-123456);
  w.WriteLong(INT64_MIN);
  w.WriteBool(true);
  w.WriteString("path");
  w.WriteNullableBuffer(std::nullopt);
  w.WriteStringVector({"a", "", "ccc"});
  Reader r(w.data());
  int32_t i = 0;
  int64_t l = 0;
  bool b = false;
  std::string s;
  std::optional<std::string> n = "x";
  std::vector<std::string> v;
  ASSERT_TRUE(r.ReadInt("i", &i).ok());
  ASSERT_TRUE(r.ReadLong("l", &l).ok());
  ASSERT_TRUE(r.ReadBool("b", &b).ok());
  ASSERT_TRUE(r.ReadString("s", &s).ok());
  ASSERT_TRUE(r.ReadNullableBuffer("n", &n).ok());
  ASSERT_TRUE(r.ReadStringVector("v", &v).ok());
  EXPECT_EQ(i, -123456);
  EXPECT_EQ(l, INT64_MIN);
  EXPECT_TRUE(b);
  EXPECT_EQ(s, "path");
  EXPECT_FALSE(n.has_value());
  EXPECT_EQ(v, (std::vector<std::string>{"a", "", "ccc"}));
  EXPECT_TRUE(r.AtEnd());
  EXPECT_TRUE(r.ExpectEnd("test").ok());
}

TEST(Reader, AnyNonZeroByteIsTrueLikeJavaReadBoolean) {
  const std::string in = Bytes({2, 0});
  Reader r(in);
  bool b = false;
  ASSERT_TRUE(r.ReadBool("b", &b).ok());
  EXPECT_TRUE(b);
  ASSERT_TRUE(r.ReadBool("b", &b).ok());
  EXPECT_FALSE(b);
}

TEST(Reader, NullBufferReadsAsEmptyInPlainString) {
  const std::string in = Bytes({0xff, 0xff, 0xff, 0xff});
  Reader r(in);
  std::string s = "old";
  ASSERT_TRUE(r.ReadBuffer("f", &s).ok());
  EXPECT_EQ(s, "");
}

TEST(Reader, NullVectorReadsAsEmpty) {
  const std::string in = Bytes({0xff, 0xff, 0xff, 0xff});
  Reader r(in);
  std::vector<std::string> v = {"old"};
  ASSERT_TRUE(r.ReadStringVector("f", &v).ok());
  EXPECT_TRUE(v.empty());
}

TEST(Reader, TruncatedIntNamesFieldAndOffset) {
  const std::string in = Bytes({0, 0, 1});
  Reader r(in);
  int32_t i = 0;
  absl::Status s = r.ReadInt("ReplyHeader.xid", &i);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("ReplyHeader.xid"));
  EXPECT_THAT(s.message(), HasSubstr("truncated"));
  EXPECT_THAT(s.message(), HasSubstr("needs 4 bytes at offset 0, 3 left"));
}

TEST(Reader, TruncatedLong) {
  const std::string in = Bytes({0, 0, 0, 0, 0, 0, 0});
  Reader r(in);
  int64_t l = 0;
  EXPECT_EQ(r.ReadLong("x", &l).code(), absl::StatusCode::kInvalidArgument);
}

TEST(Reader, EmptyInputFailsBool) {
  Reader r(std::string_view(""));
  bool b = false;
  EXPECT_EQ(r.ReadBool("x", &b).code(), absl::StatusCode::kInvalidArgument);
}

TEST(Reader, BufferShorterThanItsLengthIsTruncated) {
  const std::string in = Bytes({0, 0, 0, 5, 'a', 'b'});
  Reader r(in);
  std::string s;
  absl::Status st = r.ReadBuffer("CreateRequest.data", &s);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(st.message(), HasSubstr("CreateRequest.data: truncated"));
}

TEST(Reader, NegativeLengthOtherThanMinusOneIsRejected) {
  const std::string in = Bytes({0xff, 0xff, 0xff, 0xfe});
  Reader r(in);
  std::string s;
  absl::Status st = r.ReadString("CreateRequest.path", &s);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(st.message(), HasSubstr("CreateRequest.path: negative length -2"));
}

TEST(Reader, NegativeLengthRejectedForNullableToo) {
  const std::string in = Bytes({0x80, 0, 0, 0});
  Reader r(in);
  std::optional<std::string> s;
  EXPECT_EQ(r.ReadNullableBuffer("f", &s).code(), absl::StatusCode::kInvalidArgument);
}

TEST(Reader, LengthAboveDefaultMaxBufferIsResourceExhausted) {
  // 1049601 = kDefaultMaxBuffer + 1, with no bytes following: the bound is checked
  // before the bytes are looked for.
  Writer w;
  w.WriteInt(kDefaultMaxBuffer + 1);
  Reader r(w.data());
  std::string s;
  absl::Status st = r.ReadBuffer("SetDataRequest.data", &s);
  EXPECT_EQ(st.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(st.message(),
              HasSubstr("SetDataRequest.data: length 1049601 exceeds jute.maxbuffer 1049600"));
}

TEST(Reader, LengthAtMaxIsAccepted) {
  Writer w;
  w.WriteBuffer(std::string(100, 'z'));
  Reader r(w.data(), /*max_length=*/100);
  std::string s;
  ASSERT_TRUE(r.ReadBuffer("f", &s).ok());
  EXPECT_EQ(s.size(), 100u);
}

TEST(Reader, ConfiguredMaxIsEnforced) {
  Writer w;
  w.WriteBuffer(std::string(101, 'z'));
  Reader r(w.data(), /*max_length=*/100);
  std::string s;
  EXPECT_EQ(r.ReadBuffer("f", &s).code(), absl::StatusCode::kResourceExhausted);
}

TEST(Reader, NegativeVectorCountIsRejected) {
  const std::string in = Bytes({0xff, 0xff, 0xff, 0xf0});
  Reader r(in);
  std::vector<std::string> v;
  absl::Status st = r.ReadStringVector("GetChildrenResponse.children", &v);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(st.message(), HasSubstr("negative vector count -16"));
}

TEST(Reader, VectorCountLargerThanInputIsRejectedBeforeAllocating) {
  Writer w;
  w.WriteInt(1000000);
  w.WriteString("a");
  Reader r(w.data());
  std::vector<std::string> v;
  absl::Status st = r.ReadStringVector("SetWatches.dataWatches", &v);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(st.message(), HasSubstr("SetWatches.dataWatches: vector count 1000000"));
}

TEST(Reader, VectorCountAboveMaxIsResourceExhausted) {
  Writer w;
  w.WriteInt(kDefaultMaxBuffer + 1);
  Reader r(w.data());
  std::vector<std::string> v;
  EXPECT_EQ(r.ReadStringVector("f", &v).code(), absl::StatusCode::kResourceExhausted);
}

TEST(Reader, BadVectorElementNamesItsIndex) {
  Writer w;
  w.WriteInt(3);
  w.WriteString("a");
  w.WriteString("b");
  w.WriteInt(-7);  // third element: bad length
  w.WriteInt(0);
  Reader r(w.data());
  std::vector<std::string> v;
  absl::Status st = r.ReadStringVector("GetChildrenResponse.children", &v);
  EXPECT_THAT(st.message(), HasSubstr("GetChildrenResponse.children[2]: negative length -7"));
}

TEST(Reader, ExpectEndReportsTrailingBytes) {
  const std::string in = Bytes({0, 0, 0, 1, 9, 9});
  Reader r(in);
  int32_t i = 0;
  ASSERT_TRUE(r.ReadInt("i", &i).ok());
  absl::Status st = r.ExpectEnd("ping");
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(st.message(), HasSubstr("ping: 2 unexpected trailing bytes at offset 4"));
}

TEST(Annotate, PrefixesMessageAndKeepsCode) {
  absl::Status s = Annotate(absl::ResourceExhaustedError("x: too big"), "create (op 1) xid 4");
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(s.message(), "create (op 1) xid 4: x: too big");
  EXPECT_TRUE(Annotate(absl::OkStatus(), "x").ok());
}

}  // namespace
}  // namespace ensemble::jute

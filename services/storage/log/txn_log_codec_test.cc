#include "services/storage/log/txn_log_codec.h"

#include <string>

#include "gtest/gtest.h"
#include "services/storage/log/testing/test_txns.h"
#include "services/storage/log/txn_log_format.h"

namespace ensemble::storage {
namespace {

using testing::MakeTxn;

TEST(TxnLogCodec, KeyIsPrefixAndBigEndianZxid) {
  EXPECT_EQ(EncodeTxnKey(0x0000000300000012), std::string("z\x00\x00\x00\x03\x00\x00\x00\x12", 9));
}

TEST(TxnLogCodec, KeyOrderIsZxidOrderAcrossEpochs) {
  // Bytewise order must follow numeric order, also where a little-endian
  // encoding would not (counter overflowing a byte, epoch change).
  int64_t zxids[] = {0, 1, 0xff, 0x100, 0xffffffff, 0x100000000, 0x100000001, 0x7fffffffffffffff};
  for (size_t i = 1; i < std::size(zxids); ++i) {
    EXPECT_LT(EncodeTxnKey(zxids[i - 1]), EncodeTxnKey(zxids[i])) << i;
  }
}

TEST(TxnLogCodec, TxnKeysSortAfterMetadataKeys) {
  EXPECT_LT(std::string(txn_log_format::kPurgedZxidKey), EncodeTxnKey(0));
  EXPECT_LT(std::string(txn_log_format::kFormatVersionKey), EncodeTxnKey(0));
}

TEST(TxnLogCodec, KeyRoundTrips) {
  auto zxid = DecodeTxnKey(EncodeTxnKey(0x500000007));
  ASSERT_TRUE(zxid.ok()) << zxid.status();
  EXPECT_EQ(*zxid, 0x500000007);
}

TEST(TxnLogCodec, ShortKeyIsDataLoss) {
  EXPECT_EQ(DecodeTxnKey(std::string("z\x01", 2)).status().code(), absl::StatusCode::kDataLoss);
}

TEST(TxnLogCodec, NegativeZxidKeyIsDataLoss) {
  EXPECT_EQ(DecodeTxnKey(std::string("z\x80\0\0\0\0\0\0\x01", 9)).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST(TxnLogCodec, ValueRoundTrips) {
  ensemble::v1::Txn txn = MakeTxn(0x200000001, 100);
  auto value = EncodeTxnValue(txn);
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(static_cast<uint8_t>((*value)[0]), txn_log_format::kTxnValueTag);
  ensemble::v1::Txn back;
  ASSERT_TRUE(DecodeTxnValue(0x200000001, *value, &back).ok());
  EXPECT_EQ(back.SerializeAsString(), txn.SerializeAsString());
}

TEST(TxnLogCodec, FlippedPayloadBitIsDataLossNamingZxid) {
  std::string value = *EncodeTxnValue(MakeTxn(0x200000001, 100));
  value[value.size() - 3] ^= 0x01;
  ensemble::v1::Txn back;
  absl::Status s = DecodeTxnValue(0x200000001, value, &back);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("0x200000001"), std::string::npos) << s;
  EXPECT_NE(s.message().find("checksum"), std::string::npos) << s;
}

TEST(TxnLogCodec, TruncatedValueIsDataLoss) {
  std::string value = *EncodeTxnValue(MakeTxn(7, 100));
  ensemble::v1::Txn back;
  EXPECT_EQ(DecodeTxnValue(7, value.substr(0, value.size() - 1), &back).code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(DecodeTxnValue(7, value.substr(0, 3), &back).code(), absl::StatusCode::kDataLoss);
}

TEST(TxnLogCodec, UnknownTagIsDataLoss) {
  std::string value = *EncodeTxnValue(MakeTxn(7));
  value[0] = 0x02;
  ensemble::v1::Txn back;
  EXPECT_EQ(DecodeTxnValue(7, value, &back).code(), absl::StatusCode::kDataLoss);
}

TEST(TxnLogCodec, ValueUnderTheWrongKeyIsDataLoss) {
  std::string value = *EncodeTxnValue(MakeTxn(7));
  ensemble::v1::Txn back;
  absl::Status s = DecodeTxnValue(8, value, &back);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("0x7"), std::string::npos) << s;
}

TEST(TxnLogCodec, MetaInt64RoundTripsAndChecksLength) {
  EXPECT_EQ(*DecodeMetaInt64("k", EncodeMetaInt64(0x123456789)), 0x123456789);
  EXPECT_EQ(DecodeMetaInt64("k", "1234567").status().code(), absl::StatusCode::kDataLoss);
}

TEST(TxnLogCodec, FormatVersionRoundTrips) {
  EXPECT_EQ(*DecodeFormatVersion(EncodeFormatVersion(txn_log_format::kFormatVersion)),
            txn_log_format::kFormatVersion);
  EXPECT_EQ(DecodeFormatVersion("12345").status().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace ensemble::storage

#include "services/storage/log/txn_log_codec.h"

#include <climits>

#include "absl/strings/str_cat.h"
#include "common/base/check.h"
#include "common/base/zxid.h"
#include "services/storage/log/crc32c.h"
#include "services/storage/log/txn_log_format.h"

namespace ensemble::storage {
namespace {

namespace fmt = txn_log_format;

void PutBigEndian(uint64_t v, int bytes, std::string* out) {
  for (int i = bytes - 1; i >= 0; --i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// absl 20220623 on Debian has its own absl::string_view (not std's).
absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }

uint64_t GetBigEndian(std::string_view in) {
  uint64_t v = 0;
  for (char c : in) v = (v << 8) | static_cast<unsigned char>(c);
  return v;
}

}  // namespace

std::string EncodeTxnKey(int64_t zxid) {
  ENSEMBLE_CHECK(zxid >= 0);
  std::string key;
  key.reserve(fmt::kTxnKeySize);
  key.push_back(fmt::kTxnKeyPrefix);
  PutBigEndian(static_cast<uint64_t>(zxid), 8, &key);
  return key;
}

bool IsTxnKey(std::string_view key) { return !key.empty() && key[0] == fmt::kTxnKeyPrefix; }

absl::StatusOr<int64_t> DecodeTxnKey(std::string_view key) {
  if (key.size() != fmt::kTxnKeySize || key[0] != fmt::kTxnKeyPrefix) {
    return absl::DataLossError(
        absl::StrCat("txn log: malformed key of ", key.size(), " bytes in the txn key range"));
  }
  uint64_t zxid = GetBigEndian(key.substr(1));
  if (zxid > static_cast<uint64_t>(INT64_MAX)) {
    return absl::DataLossError(
        absl::StrCat("txn log: key holds a negative zxid ", Zxid::Hex(static_cast<int64_t>(zxid))));
  }
  return static_cast<int64_t>(zxid);
}

absl::StatusOr<std::string> EncodeTxnValue(const ensemble::v1::Txn& txn) {
  size_t size = txn.ByteSizeLong();
  if (size > static_cast<size_t>(INT_MAX)) {
    return absl::InvalidArgumentError(absl::StrCat("txn log: txn ", Zxid::Hex(txn.header().zxid()),
                                                   " is too large (", size, " bytes)"));
  }
  std::string value(fmt::kTxnValueHeaderSize + size, '\0');
  char* payload = value.data() + fmt::kTxnValueHeaderSize;
  if (!txn.SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(payload))) {
    return absl::InvalidArgumentError(
        absl::StrCat("txn log: cannot serialize txn ", Zxid::Hex(txn.header().zxid())));
  }
  uint32_t crc = Crc32cExtend(0, payload, size);
  value[0] = static_cast<char>(fmt::kTxnValueTag);
  for (int i = 0; i < 4; ++i) value[1 + i] = static_cast<char>((crc >> (8 * i)) & 0xff);
  return value;
}

absl::Status DecodeTxnValue(int64_t zxid, std::string_view value, ensemble::v1::Txn* txn) {
  auto corrupt = [zxid](std::string_view why) {
    return absl::DataLossError(absl::StrCat("txn log: entry ", Zxid::Hex(zxid), ": ", Sv(why)));
  };
  if (value.size() < fmt::kTxnValueHeaderSize) {
    return corrupt(absl::StrCat("value of ", value.size(), " bytes is shorter than its header"));
  }
  if (static_cast<uint8_t>(value[0]) != fmt::kTxnValueTag) {
    return corrupt(absl::StrCat("unknown value tag ", static_cast<int>(uint8_t(value[0]))));
  }
  uint32_t stored = 0;
  for (int i = 0; i < 4; ++i) stored |= static_cast<uint32_t>(uint8_t(value[1 + i])) << (8 * i);
  std::string_view payload = value.substr(fmt::kTxnValueHeaderSize);
  if (payload.size() > static_cast<size_t>(INT_MAX)) return corrupt("payload over 2 GiB");
  uint32_t actual = Crc32c(payload);
  if (stored != actual) return corrupt("checksum mismatch");
  if (!txn->ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    return corrupt("payload does not parse as a Txn");
  }
  if (txn->header().zxid() != zxid) {
    return corrupt(absl::StrCat("holds txn ", Zxid::Hex(txn->header().zxid())));
  }
  return absl::OkStatus();
}

std::string EncodeMetaInt64(int64_t value) {
  std::string out;
  PutBigEndian(static_cast<uint64_t>(value), 8, &out);
  return out;
}

absl::StatusOr<int64_t> DecodeMetaInt64(std::string_view key, std::string_view value) {
  if (value.size() != 8) {
    return absl::DataLossError(
        absl::StrCat("txn log: metadata ", Sv(key), " has ", value.size(), " bytes, want 8"));
  }
  return static_cast<int64_t>(GetBigEndian(value));
}

std::string EncodeFormatVersion(uint32_t version) {
  std::string out;
  PutBigEndian(version, 4, &out);
  return out;
}

absl::StatusOr<uint32_t> DecodeFormatVersion(std::string_view value) {
  if (value.size() != 4) {
    return absl::DataLossError(absl::StrCat("txn log: metadata ", Sv(fmt::kFormatVersionKey),
                                            " has ", value.size(), " bytes, want 4"));
  }
  return static_cast<uint32_t>(GetBigEndian(value));
}

}  // namespace ensemble::storage

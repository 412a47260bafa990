#pragma once

// Encoding and decoding of the transaction log's keys and values
// (txn_log_format.h, docs/formats/txn_log.md). Pure: no I/O.

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ensemble/types.pb.h"

namespace ensemble::storage {

// The key of the entry for `zxid`. REQUIRES: zxid >= 0.
std::string EncodeTxnKey(int64_t zxid);

// True if `key` lies in the transaction key range (by its prefix only).
bool IsTxnKey(std::string_view key);

// The zxid of a transaction key. DATA_LOSS if the key has the transaction
// prefix but the wrong length or a negative zxid.
absl::StatusOr<int64_t> DecodeTxnKey(std::string_view key);

// The value stored for `txn`. INVALID_ARGUMENT if the message cannot be
// serialized (over 2 GiB).
absl::StatusOr<std::string> EncodeTxnValue(const ensemble::v1::Txn& txn);

// Parses the value stored under the key of `zxid` into *txn. DATA_LOSS naming
// the zxid if the value is short, has an unknown tag, fails its CRC, does not
// parse, or holds a transaction whose header.zxid is not `zxid`.
absl::Status DecodeTxnValue(int64_t zxid, std::string_view value, ensemble::v1::Txn* txn);

// Metadata integers: 8 big-endian bytes.
std::string EncodeMetaInt64(int64_t value);
// DATA_LOSS naming `key` unless `value` is exactly 8 bytes.
absl::StatusOr<int64_t> DecodeMetaInt64(std::string_view key, std::string_view value);

// The format version value: 4 big-endian bytes.
std::string EncodeFormatVersion(uint32_t version);
absl::StatusOr<uint32_t> DecodeFormatVersion(std::string_view value);

}  // namespace ensemble::storage

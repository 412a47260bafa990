#pragma once

// Constants of the transaction log's LevelDB layout, shared by the writer, the
// reader, tools and fuzzers. The prose is docs/formats/txn_log.md.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ensemble::storage::txn_log_format {

// The format version, stored under kFormatVersionKey when a log is created.
// Opening a log with another version fails with FAILED_PRECONDITION.
//
// Changelog:
//   1  keys: 'z' + big-endian zxid; values: tag 0x01, little-endian CRC-32C of
//      the payload, payload = serialized ensemble.v1.Txn; metadata under 'm/'.
inline constexpr uint32_t kFormatVersion = 1;

// Every transaction key: kTxnKeyPrefix followed by the zxid as 8 big-endian
// bytes, so LevelDB's bytewise order is zxid order. Zxids are >= 0.
inline constexpr char kTxnKeyPrefix = 'z';
inline constexpr size_t kTxnKeySize = 9;

// Metadata keys, all under the prefix "m/" (sorted before every 'z' key).
// Integer values are 8 big-endian bytes (kFormatVersionKey: 4 bytes).
inline constexpr char kMetaKeyPrefix = 'm';
inline constexpr std::string_view kFormatVersionKey = "m/format_version";
inline constexpr std::string_view kAcceptedEpochKey = "m/accepted_epoch";
inline constexpr std::string_view kCurrentEpochKey = "m/current_epoch";
// Every entry with zxid <= this value may have been purged (PurgeBefore); a
// read that starts below it fails with OUT_OF_RANGE. Absent means 0.
inline constexpr std::string_view kPurgedZxidKey = "m/purged_zxid";
// Every entry with zxid <= this value is known committed (a lower bound: it is
// written, unsynced, with later appends). A restart applies the log only up
// to it; the rest waits for the leader's commit. Absent in a log created
// before the key existed: everything logged counts as committed (those logs
// come from a quorum of one).
inline constexpr std::string_view kCommittedZxidKey = "m/committed_zxid";

// A transaction value: kTxnValueTag, then the CRC-32C of the payload as 4
// little-endian bytes, then the payload (the serialized ensemble.v1.Txn, whose
// header.zxid equals the key's zxid).
inline constexpr uint8_t kTxnValueTag = 0x01;
inline constexpr size_t kTxnValueHeaderSize = 5;

}  // namespace ensemble::storage::txn_log_format

// libFuzzer target for the transaction log's record codec (services/storage/log/
// txn_log_codec.h) and for what recovery does with the records it decodes:
// apply them to the storage state machine. A log on a damaged disk, or a
// transaction a buggy or malicious leader proposed, is arbitrary input: decoding
// must end in a record or a DATA_LOSS status, and applying any transaction that
// decodes must leave a consistent state -- never a crash, an overread or UB.
//
// Input: flags:u8 record*;  record := key_len:u8 key value_len:u16 value
//   flags bit 0: recompute each value's CRC-32C before decoding, so mutations
//                reach the protobuf payload and the state machine.
//
// Properties checked:
//   - a key that decodes re-encodes to the same bytes; a value that decodes
//     re-encodes to a value that decodes to the same transaction;
//   - the decoded transactions are applied in zxid order (as recovery replays
//     the log) to a state machine; afterwards its Clone has the same digest
//     and a snapshot of it reads back to the same digest.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "google/protobuf/stubs/logging.h"
#include "services/storage/core/state_machine.h"
#include "services/storage/log/crc32c.h"
#include "services/storage/log/txn_log_codec.h"
#include "services/storage/log/txn_log_format.h"
#include "services/storage/snapshot/snapshot_reader.h"
#include "services/storage/snapshot/snapshot_writer.h"
#include "tests/fuzz/fuzz_input.h"

namespace ensemble::fuzz {
namespace {

namespace fmt = storage::txn_log_format;
constexpr char kTarget[] = "txn_log_record_fuzz";

void FixCrc(std::string& value) {
  if (value.size() < fmt::kTxnValueHeaderSize) return;
  const uint32_t crc = storage::Crc32c(std::string_view(value).substr(fmt::kTxnValueHeaderSize));
  for (int i = 0; i < 4; ++i) value[1 + i] = static_cast<char>((crc >> (8 * i)) & 0xff);
}

// One record; returns the decoded transaction's zxid or -1.
int64_t CheckRecord(std::string_view key, std::string_view value, ensemble::v1::Txn* txn) {
  (void)storage::IsTxnKey(key);
  if (auto meta = storage::DecodeMetaInt64(key, value); meta.ok()) {
    if (storage::EncodeMetaInt64(*meta) != value) Fail(kTarget, "metadata int does not round-trip");
  }
  if (auto version = storage::DecodeFormatVersion(value); version.ok()) {
    if (storage::EncodeFormatVersion(*version) != value) {
      Fail(kTarget, "format version does not round-trip");
    }
  }
  absl::StatusOr<int64_t> zxid = storage::DecodeTxnKey(key);
  if (!zxid.ok()) {
    if (zxid.status().code() != absl::StatusCode::kDataLoss) Fail(kTarget, "key: not DATA_LOSS");
    return -1;
  }
  if (*zxid < 0 || storage::EncodeTxnKey(*zxid) != key) Fail(kTarget, "key does not round-trip");
  absl::Status decoded = storage::DecodeTxnValue(*zxid, value, txn);
  if (!decoded.ok()) {
    if (decoded.code() != absl::StatusCode::kDataLoss) Fail(kTarget, "value: not DATA_LOSS");
    return -1;
  }
  absl::StatusOr<std::string> again = storage::EncodeTxnValue(*txn);
  if (!again.ok()) Fail(kTarget, "a decoded txn does not encode: " + again.status().ToString());
  ensemble::v1::Txn reread;
  if (!storage::DecodeTxnValue(*zxid, *again, &reread).ok() ||
      reread.SerializeAsString() != txn->SerializeAsString()) {
    Fail(kTarget, "value does not round-trip");
  }
  return *zxid;
}

void CheckState(const storage::StateMachine& sm) {
  if (sm.Clone()->Digest() != sm.Digest()) Fail(kTarget, "Clone() changes the digest");
  std::string bytes;
  storage::SnapshotWriter writer(
      [&bytes](absl::string_view b) {
        bytes.append(b.data(), b.size());
        return absl::OkStatus();
      },
      /*chunk_bytes=*/512);
  absl::Status written = writer.Write(sm);
  if (!written.ok()) {
    // Only a record over the format's chunk limit may refuse; none is that big here.
    Fail(kTarget, "snapshot of the applied state failed: " + written.ToString());
  }
  auto loaded = storage::ReadSnapshot(bytes, sm.options());
  if (!loaded.ok()) {
    Fail(kTarget, "snapshot of the applied state does not read: " + loaded.status().ToString());
  }
  if ((*loaded)->Digest() != sm.Digest() || (*loaded)->ZnodeCount() != sm.ZnodeCount() ||
      (*loaded)->EphemeralCount() != sm.EphemeralCount() ||
      (*loaded)->SessionCount() != sm.SessionCount()) {
    Fail(kTarget, "snapshot of the applied state reads back differently");
  }
}

}  // namespace
}  // namespace ensemble::fuzz

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Fuzzed strings are often not UTF-8: protobuf's parse warnings are noise.
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ensemble::fuzz;
  Input in(data, size);
  const uint8_t flags = in.Byte();
  ensemble::storage::StateMachine sm;
  bool applied = false;
  while (!in.empty()) {
    const std::string key(in.Bytes(in.Byte()));
    std::string value(in.Bytes(in.U16()));
    if (flags & 1) FixCrc(value);
    ensemble::v1::Txn txn;
    const int64_t zxid = CheckRecord(key, value, &txn);
    if (zxid > sm.last_applied_zxid()) {
      (void)sm.Apply(txn);
      applied = true;
    }
  }
  if (applied) CheckState(sm);
  return 0;
}

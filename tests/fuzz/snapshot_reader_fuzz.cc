// libFuzzer target for the snapshot reader (services/storage/snapshot/
// snapshot_reader.h): a snapshot file, or a syncing leader's snapshot stream,
// is untrusted input. Whatever the bytes, reading must end in a state machine
// or an error status -- never a crash, an overread, a huge allocation or a hang.
//
// Input: flags:u8 piece:u8 snapshot-bytes
//   flags bit 0: recompute the header CRC and every whole chunk's CRC before
//                reading, so the mutations reach the record parsers behind the
//                checksums (otherwise nearly every mutation is a CRC mismatch);
//   piece:       SnapshotReader::Feed gets the bytes in pieces of piece + 1.
//
// Properties checked:
//   - ReadSnapshot (all at once) and SnapshotReader (in pieces) agree: both
//     succeed with the same zxid and digest, or both fail;
//   - a snapshot that reads back is written again by SnapshotWriter, and that
//     reads back to the same digest, zxid and counts; writing is deterministic;
//   - the loaded state is usable: reads, then closing every session (which
//     deletes its ephemeral nodes), leave a consistent tree (Clone digest).

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/storage/core/state_machine.h"
#include "services/storage/snapshot/snapshot_format.h"
#include "services/storage/snapshot/snapshot_reader.h"
#include "services/storage/snapshot/snapshot_writer.h"
#include "tests/fuzz/fuzz_input.h"
#include "zlib.h"

namespace ensemble::fuzz {
namespace {

namespace snap = storage::snapshot;
constexpr char kTarget[] = "snapshot_reader_fuzz";

uint32_t Crc32(uint32_t crc, const char* p, size_t n) {
  return static_cast<uint32_t>(crc32(crc, reinterpret_cast<const Bytef*>(p), static_cast<uInt>(n)));
}
uint32_t LoadU32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);  // little-endian hosts only, as the format
  return v;
}
void StoreU32(char* p, uint32_t v) { std::memcpy(p, &v, 4); }

// Rewrites the header CRC and the CRC of every whole chunk.
void FixCrcs(std::string& bytes) {
  if (bytes.size() < snap::kHeaderSize) return;
  StoreU32(&bytes[snap::kHeaderCrcOffset], Crc32(0, bytes.data(), snap::kHeaderCrcOffset));
  size_t pos = snap::kHeaderSize;
  while (bytes.size() - pos >= snap::kChunkHeaderSize) {
    const uint64_t length = LoadU32(&bytes[pos + 4]);
    const uint64_t total = snap::kChunkHeaderSize + length + snap::kChunkCrcSize;
    if (bytes.size() - pos < total) return;
    const size_t crc_at = pos + snap::kChunkHeaderSize + length;
    StoreU32(&bytes[crc_at], Crc32(0, bytes.data() + pos, snap::kChunkHeaderSize + length));
    pos += total;
  }
}

std::string WriteOrDie(const storage::StateMachine& sm) {
  std::string out;
  storage::SnapshotWriter writer(
      [&out](absl::string_view b) {
        out.append(b.data(), b.size());
        return absl::OkStatus();
      },
      /*chunk_bytes=*/256);
  absl::Status status = writer.Write(sm);
  if (!status.ok())
    Fail(kTarget, "writing a snapshot that was read back failed: " + status.ToString());
  return out;
}

void Exercise(storage::StateMachine& sm) {
  std::vector<storage::FiredEvent> events;
  for (int32_t type : {8, 12, 104}) {  // getChildren, getChildren2, getAllChildrenNumber
    ensemble::storage::v1::ReadRequest read;
    read.set_type(type);
    read.set_path("/");
    (void)sm.Read(read, 1, &events);
  }
  ensemble::storage::v1::ReadRequest ephemerals;
  ephemerals.set_type(103);  // getEphemerals
  for (const auto& session : sm.Sessions()) {
    ephemerals.set_session_id(session.session_id());
    (void)sm.Read(ephemerals, 1, &events);
  }
  int64_t zxid = sm.last_applied_zxid();
  if (zxid < 0 || zxid > INT64_MAX - 1000000) return;
  for (const auto& session : sm.Sessions()) {
    ensemble::v1::Txn close;
    close.mutable_header()->set_session_id(session.session_id());
    close.mutable_header()->set_zxid(++zxid);
    close.mutable_header()->set_type(-11);
    close.mutable_op()->mutable_close_session();
    (void)sm.Apply(close);
  }
  if (sm.Clone()->Digest() != sm.Digest()) Fail(kTarget, "Clone() changes the digest");
}

void Check(std::string bytes, size_t piece) {
  absl::StatusOr<std::unique_ptr<storage::StateMachine>> whole = storage::ReadSnapshot(bytes);

  storage::SnapshotReader reader;
  absl::Status fed;
  for (size_t i = 0; i < bytes.size() && fed.ok(); i += piece) {
    fed = reader.Feed(absl::string_view(bytes).substr(i, piece));
  }
  absl::StatusOr<std::unique_ptr<storage::StateMachine>> pieces =
      fed.ok() ? reader.Finish() : absl::StatusOr<std::unique_ptr<storage::StateMachine>>(fed);

  if (whole.ok() != pieces.ok()) {
    Fail(kTarget, absl::StrCat("whole and piecewise reads disagree: ", whole.status().ToString(),
                               " vs ", pieces.status().ToString()));
  }
  if (!whole.ok()) {
    const absl::StatusCode code = whole.status().code();
    if (code != absl::StatusCode::kDataLoss && code != absl::StatusCode::kFailedPrecondition) {
      Fail(kTarget, "unexpected error code: " + whole.status().ToString());
    }
    return;
  }
  storage::StateMachine& sm = **whole;
  if (sm.Digest() != (*pieces)->Digest() ||
      sm.last_applied_zxid() != (*pieces)->last_applied_zxid()) {
    Fail(kTarget, "whole and piecewise reads built different states");
  }
  const std::string again = WriteOrDie(sm);
  if (WriteOrDie(sm) != again) Fail(kTarget, "SnapshotWriter is not deterministic");
  auto reread = storage::ReadSnapshot(again);
  if (!reread.ok())
    Fail(kTarget, "a rewritten snapshot does not read: " + reread.status().ToString());
  if ((*reread)->Digest() != sm.Digest() ||
      (*reread)->last_applied_zxid() != sm.last_applied_zxid() ||
      (*reread)->ZnodeCount() != sm.ZnodeCount() ||
      (*reread)->SessionCount() != sm.SessionCount()) {
    Fail(kTarget, "a rewritten snapshot reads back differently");
  }
  Exercise(sm);
}

}  // namespace
}  // namespace ensemble::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ensemble::fuzz::Input in(data, size);
  const uint8_t flags = in.Byte();
  const size_t piece = static_cast<size_t>(in.Byte()) + 1;
  std::string bytes(in.Rest());
  if (flags & 1) ensemble::fuzz::FixCrcs(bytes);
  ensemble::fuzz::Check(std::move(bytes), piece);
  return 0;
}

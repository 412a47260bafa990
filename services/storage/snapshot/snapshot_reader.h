#pragma once

// Rebuilds a StateMachine from a snapshot (snapshot_format.h,
// docs/formats/snapshot.md), fed in pieces of any size (a file read in
// blocks, or the chunks of a syncing peer's stream).
//
// Nothing in the input is trusted: every length is checked against what is
// left and against the format's limits before anything is allocated, every
// chunk's CRC32 is verified before it is parsed, and the rebuilt state must
// match the counts and the digest the snapshot declares.
//
// Errors (sticky: after one, every call returns it):
//   DATA_LOSS            corrupt or torn input: bad magic, CRC mismatch,
//                        impossible length, bad record, missing trailer,
//                        bytes after the trailer, digest or count mismatch
//   FAILED_PRECONDITION  a snapshot of a format version this build cannot read

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/storage/core/state_machine.h"

namespace ensemble::storage {

class SnapshotReader {
 public:
  explicit SnapshotReader(StateMachineOptions options = {});

  // Consumes the next bytes of the snapshot.
  [[nodiscard]] absl::Status Feed(absl::string_view bytes);

  // Call after the last Feed: the rebuilt state machine (its
  // last_applied_zxid is the snapshot's zxid). DATA_LOSS if the input ended
  // early.
  [[nodiscard]] absl::StatusOr<std::unique_ptr<StateMachine>> Finish();

  // The snapshot's zxid and digest, once the header has been read.
  bool header_read() const { return stage_ != Stage::kHeader; }
  int64_t zxid() const { return zxid_; }
  uint64_t digest() const { return digest_; }

 private:
  enum class Stage { kHeader, kAcls, kNodes, kSessions, kDone };

  absl::Status Process();
  absl::Status ParseHeader(absl::string_view header);
  absl::Status ParseChunk(uint32_t type, absl::string_view payload);
  absl::Status ParseAcls(absl::string_view payload);
  absl::Status ParseNodes(absl::string_view payload);
  absl::Status ParseSessions(absl::string_view payload);
  absl::Status ParseTrailer(absl::string_view payload);
  absl::Status Fail(absl::Status status);

  StateMachineOptions options_;
  Stage stage_ = Stage::kHeader;
  absl::Status error_;
  std::string buffer_;  // bytes not yet consumed
  size_t offset_ = 0;   // file offset of buffer_[0], for messages

  int64_t zxid_ = 0;
  uint64_t digest_ = 0;
  uint64_t declared_nodes_ = 0;
  uint64_t declared_sessions_ = 0;
  std::vector<AclList> acls_;
  std::unique_ptr<DataTree> tree_;
  SessionTable sessions_;
  uint64_t nodes_read_ = 0;
  uint64_t sessions_read_ = 0;
};

// Reads a whole snapshot held in memory.
[[nodiscard]] absl::StatusOr<std::unique_ptr<StateMachine>> ReadSnapshot(
    absl::string_view bytes, StateMachineOptions options = {});

}  // namespace ensemble::storage

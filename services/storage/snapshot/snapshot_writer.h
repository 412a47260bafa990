#pragma once

// Serialises a StateMachine (tree, sessions, zxid, digest) in the snapshot
// format (snapshot_format.h, docs/formats/snapshot.md) to a byte sink, so
// the same code writes a file and streams to a syncing peer.
//
// To snapshot without stalling writes, take `auto copy = sm.Clone();` on the
// applying thread and write `*copy` from another thread.

#include <cstdint>
#include <functional>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "services/storage/core/state_machine.h"

namespace ensemble::storage {

// Receives the snapshot in pieces, in order. A non-OK status aborts writing
// and is returned by Write.
using ByteSink = std::function<absl::Status(absl::string_view bytes)>;

class SnapshotWriter {
 public:
  // `chunk_bytes`: target payload per chunk (tests use small values).
  explicit SnapshotWriter(ByteSink sink, size_t chunk_bytes = 1 << 20);

  // Writes the whole snapshot of `sm`, which must not change meanwhile.
  // Errors: the sink's; INVALID_ARGUMENT if a single record exceeds the
  // format's chunk limit.
  [[nodiscard]] absl::Status Write(const StateMachine& sm);

  uint64_t bytes_written() const { return bytes_written_; }

 private:
  absl::Status Emit(absl::string_view bytes);
  absl::Status FlushChunk(uint32_t type, std::string* payload);
  // Appends `record` to the chunk being built, flushing first if full.
  absl::Status AddRecord(uint32_t type, std::string* payload, const std::string& record);

  ByteSink sink_;
  size_t chunk_bytes_;
  uint64_t bytes_written_ = 0;
};

}  // namespace ensemble::storage

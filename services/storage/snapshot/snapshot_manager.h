#pragma once

// Snapshot files in a directory: naming, durable writing, listing, loading
// the newest valid one (setting corrupt ones aside) and retention. These
// touch the filesystem (POSIX); call them from the storage shell, not from
// the core's thread if latency matters.
//
// Files: "snapshot.<zxid hex>" (ZooKeeper's naming), written as
// "snapshot.<zxid hex>.tmp" then fsync, rename, fsync of the directory; a
// snapshot that fails to load with DATA_LOSS is renamed "<name>.broken".

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/storage/core/state_machine.h"

namespace ensemble::storage {

struct SnapshotFile {
  int64_t zxid = 0;
  std::string path;
};

// "snapshot.<zxid in lowercase hex>".
std::string SnapshotFileName(int64_t zxid);
// The zxid of a snapshot file name; nullopt for anything else (temporary
// and broken files included).
std::optional<int64_t> ParseSnapshotFileName(absl::string_view name);

// The snapshots in `dir`, newest (highest zxid) first.
[[nodiscard]] absl::StatusOr<std::vector<SnapshotFile>> ListSnapshots(const std::string& dir);

// Writes `sm` durably as dir/snapshot.<zxid>: tmp file, fsync, rename,
// fsync dir. Returns the file's path. `sm` must not change meanwhile (pass a
// Clone() when writing off the applying thread). Errors: I/O (INTERNAL with
// the path and errno text); on error no tmp file is left behind.
[[nodiscard]] absl::StatusOr<std::string> WriteSnapshotFile(const std::string& dir,
                                                            const StateMachine& sm);

// Reads one snapshot file. DATA_LOSS if it is corrupt or torn.
[[nodiscard]] absl::StatusOr<std::unique_ptr<StateMachine>> ReadSnapshotFile(
    const std::string& path, StateMachineOptions options = {});

struct LoadedSnapshot {
  std::unique_ptr<StateMachine> state;
  SnapshotFile file;
  std::vector<std::string> set_aside;  // corrupt files renamed to .broken
};

// Loads the newest snapshot that reads back intact. A newer one that fails
// with DATA_LOSS (or whose content zxid differs from its name) is renamed
// "<name>.broken" and the next older one is tried. NOT_FOUND if no valid
// snapshot is left (start from an empty tree); other errors (I/O, an
// unsupported format version) are returned as they are, touching nothing.
[[nodiscard]] absl::StatusOr<LoadedSnapshot> LoadNewestValid(const std::string& dir,
                                                             StateMachineOptions options = {});

// Deletes all but the newest `keep` snapshots (autopurge.snapRetainCount).
// REQUIRES keep >= 1 (else INVALID_ARGUMENT). Returns the deleted paths.
[[nodiscard]] absl::StatusOr<std::vector<std::string>> PurgeSnapshots(const std::string& dir,
                                                                      size_t keep);

// Removes leftover "*.tmp" snapshot files (a crash mid-write). Call at start,
// before any writer runs.
[[nodiscard]] absl::Status RemoveTempSnapshots(const std::string& dir);

}  // namespace ensemble::storage

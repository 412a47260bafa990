#include "services/storage/snapshot/snapshot_manager.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/base/status.h"
#include "services/storage/snapshot/snapshot_format.h"
#include "services/storage/snapshot/snapshot_reader.h"
#include "services/storage/snapshot/snapshot_writer.h"

namespace ensemble::storage {
namespace {

absl::Status ErrnoError(absl::string_view what, const std::string& path, int err) {
  return absl::InternalError(absl::StrCat(what, " ", path, ": ", std::strerror(err)));
}

std::string JoinPath(const std::string& dir, absl::string_view name) {
  if (!dir.empty() && dir.back() == '/') return absl::StrCat(dir, name);
  return absl::StrCat(dir, "/", name);
}

absl::Status FsyncDir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("open dir", dir, errno);
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return ErrnoError("fsync dir", dir, err);
  return absl::OkStatus();
}

absl::Status WriteAll(int fd, absl::string_view bytes, const std::string& path) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("write", path, errno);
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> ListNames(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return ErrnoError("opendir", dir, errno);
  std::vector<std::string> names;
  errno = 0;
  while (struct dirent* e = ::readdir(d)) names.emplace_back(e->d_name);
  const int err = errno;
  ::closedir(d);
  if (err != 0) return ErrnoError("readdir", dir, err);
  return names;
}

}  // namespace

std::string SnapshotFileName(int64_t zxid) {
  return absl::StrFormat("%s%x", snapshot::kFilePrefix, static_cast<uint64_t>(zxid));
}

std::optional<int64_t> ParseSnapshotFileName(absl::string_view name) {
  if (!absl::StartsWith(name, snapshot::kFilePrefix)) return std::nullopt;
  const absl::string_view hex = name.substr(snapshot::kFilePrefix.size());
  if (hex.empty() || hex.size() > 16) return std::nullopt;
  uint64_t v = 0;
  for (char c : hex) {
    int digit;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      digit = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      digit = c - 'A' + 10;
    } else {
      return std::nullopt;
    }
    v = (v << 4) | static_cast<uint64_t>(digit);
  }
  return static_cast<int64_t>(v);
}

absl::StatusOr<std::vector<SnapshotFile>> ListSnapshots(const std::string& dir) {
  ENSEMBLE_ASSIGN_OR_RETURN(std::vector<std::string> names, ListNames(dir));
  std::vector<SnapshotFile> files;
  for (const std::string& name : names) {
    if (std::optional<int64_t> zxid = ParseSnapshotFileName(name)) {
      files.push_back(SnapshotFile{*zxid, JoinPath(dir, name)});
    }
  }
  std::sort(files.begin(), files.end(),
            [](const SnapshotFile& a, const SnapshotFile& b) { return a.zxid > b.zxid; });
  return files;
}

absl::StatusOr<std::string> WriteSnapshotFile(const std::string& dir, const StateMachine& sm) {
  const std::string path = JoinPath(dir, SnapshotFileName(sm.last_applied_zxid()));
  const std::string tmp = absl::StrCat(path, snapshot::kTempSuffix);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoError("open", tmp, errno);

  // Buffer to about a chunk per write(2).
  std::string buffer;
  auto sink = [&](absl::string_view bytes) -> absl::Status {
    buffer.append(bytes.data(), bytes.size());
    if (buffer.size() < (1 << 20)) return absl::OkStatus();
    absl::Status s = WriteAll(fd, buffer, tmp);
    buffer.clear();
    return s;
  };
  SnapshotWriter writer(sink);
  absl::Status status = writer.Write(sm);
  if (status.ok()) status = WriteAll(fd, buffer, tmp);
  if (status.ok() && ::fsync(fd) != 0) status = ErrnoError("fsync", tmp, errno);
  if (::close(fd) != 0 && status.ok()) status = ErrnoError("close", tmp, errno);
  if (status.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) {
    status = ErrnoError("rename", tmp, errno);
  }
  if (!status.ok()) {
    ::unlink(tmp.c_str());
    return status;
  }
  ENSEMBLE_RETURN_IF_ERROR(FsyncDir(dir));
  return path;
}

absl::StatusOr<std::unique_ptr<StateMachine>> ReadSnapshotFile(const std::string& path,
                                                               StateMachineOptions options) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("open", path, errno);
  SnapshotReader reader(options);
  std::string block(1 << 20, '\0');
  absl::Status status;
  while (status.ok()) {
    const ssize_t n = ::read(fd, block.data(), block.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      status = ErrnoError("read", path, errno);
      break;
    }
    if (n == 0) break;
    status = reader.Feed(absl::string_view(block.data(), static_cast<size_t>(n)));
  }
  ::close(fd);
  if (!status.ok()) {
    return absl::Status(status.code(), absl::StrCat(path, ": ", status.message()));
  }
  absl::StatusOr<std::unique_ptr<StateMachine>> sm = reader.Finish();
  if (!sm.ok()) {
    return absl::Status(sm.status().code(), absl::StrCat(path, ": ", sm.status().message()));
  }
  return sm;
}

absl::StatusOr<LoadedSnapshot> LoadNewestValid(const std::string& dir,
                                               StateMachineOptions options) {
  ENSEMBLE_ASSIGN_OR_RETURN(std::vector<SnapshotFile> files, ListSnapshots(dir));
  LoadedSnapshot loaded;
  for (SnapshotFile& file : files) {
    absl::StatusOr<std::unique_ptr<StateMachine>> sm = ReadSnapshotFile(file.path, options);
    absl::Status status = sm.status();
    if (status.ok() && (*sm)->last_applied_zxid() != file.zxid) {
      status = absl::DataLossError(absl::StrFormat(
          "%s: holds zxid 0x%x", file.path, static_cast<uint64_t>((*sm)->last_applied_zxid())));
    }
    if (status.ok()) {
      loaded.state = std::move(*sm);
      loaded.file = std::move(file);
      return loaded;
    }
    if (status.code() != absl::StatusCode::kDataLoss) return status;
    const std::string broken = absl::StrCat(file.path, snapshot::kBrokenSuffix);
    if (::rename(file.path.c_str(), broken.c_str()) != 0) {
      return ErrnoError("rename", file.path, errno);
    }
    loaded.set_aside.push_back(broken);
  }
  if (!loaded.set_aside.empty()) ENSEMBLE_RETURN_IF_ERROR(FsyncDir(dir));
  return absl::NotFoundError(absl::StrCat("no valid snapshot in ", dir));
}

absl::StatusOr<std::vector<std::string>> PurgeSnapshots(const std::string& dir, size_t keep) {
  if (keep < 1) return absl::InvalidArgumentError("must keep at least one snapshot");
  ENSEMBLE_ASSIGN_OR_RETURN(std::vector<SnapshotFile> files, ListSnapshots(dir));
  std::vector<std::string> deleted;
  for (size_t i = keep; i < files.size(); ++i) {
    if (::unlink(files[i].path.c_str()) != 0 && errno != ENOENT) {
      return ErrnoError("unlink", files[i].path, errno);
    }
    deleted.push_back(files[i].path);
  }
  if (!deleted.empty()) ENSEMBLE_RETURN_IF_ERROR(FsyncDir(dir));
  return deleted;
}

absl::Status RemoveTempSnapshots(const std::string& dir) {
  ENSEMBLE_ASSIGN_OR_RETURN(std::vector<std::string> names, ListNames(dir));
  for (const std::string& name : names) {
    if (absl::StartsWith(name, snapshot::kFilePrefix) &&
        absl::EndsWith(name, snapshot::kTempSuffix)) {
      const std::string path = JoinPath(dir, name);
      if (::unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoError("unlink", path, errno);
    }
  }
  return absl::OkStatus();
}

}  // namespace ensemble::storage

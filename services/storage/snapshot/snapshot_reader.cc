#include "services/storage/snapshot/snapshot_reader.h"

#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/base/status.h"
#include "services/storage/snapshot/snapshot_codec.h"
#include "services/storage/snapshot/snapshot_format.h"
#include "zlib.h"

namespace ensemble::storage {

using snapshot::ChunkType;

namespace {

uint32_t Crc32(uint32_t crc, absl::string_view bytes) {
  return static_cast<uint32_t>(
      crc32(crc, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(bytes.size())));
}

bool IsKnownChunk(uint32_t type) {
  switch (static_cast<ChunkType>(type)) {
    case ChunkType::kAcls:
    case ChunkType::kNodes:
    case ChunkType::kSessions:
    case ChunkType::kTrailer:
      return true;
  }
  return false;
}

}  // namespace

SnapshotReader::SnapshotReader(StateMachineOptions options) : options_(options) {}

absl::Status SnapshotReader::Fail(absl::Status status) {
  error_ = std::move(status);
  buffer_.clear();
  return error_;
}

absl::Status SnapshotReader::Feed(absl::string_view bytes) {
  if (!error_.ok()) return error_;
  buffer_.append(bytes.data(), bytes.size());
  return Process();
}

absl::Status SnapshotReader::Process() {
  size_t pos = 0;
  absl::Status status;
  while (status.ok()) {
    const size_t avail = buffer_.size() - pos;
    const char* p = buffer_.data() + pos;
    if (stage_ == Stage::kHeader) {
      if (avail < snapshot::kHeaderSize) break;
      status = ParseHeader(absl::string_view(p, snapshot::kHeaderSize));
      pos += snapshot::kHeaderSize;
      continue;
    }
    if (stage_ == Stage::kDone) {
      if (avail > 0) {
        status = absl::DataLossError(absl::StrCat(
            "snapshot: ", avail, " bytes after the trailer at offset ", offset_ + pos));
      }
      break;
    }
    if (avail < snapshot::kChunkHeaderSize) break;
    const uint32_t type = snapshot::LoadU32(p);
    const uint32_t length = snapshot::LoadU32(p + 4);
    if (!IsKnownChunk(type)) {
      status = absl::DataLossError(
          absl::StrFormat("snapshot: unknown chunk type 0x%08x at offset %d", type, offset_ + pos));
      break;
    }
    const bool trailer = type == static_cast<uint32_t>(ChunkType::kTrailer);
    if (length > snapshot::kMaxChunkPayload ||
        (trailer && length != snapshot::kTrailerPayloadSize)) {
      status = absl::DataLossError(
          absl::StrCat("snapshot: impossible chunk length ", length, " at offset ", offset_ + pos));
      break;
    }
    const size_t total = snapshot::kChunkHeaderSize + length + snapshot::kChunkCrcSize;
    if (avail < total) break;
    const absl::string_view head(p, snapshot::kChunkHeaderSize);
    const absl::string_view payload(p + snapshot::kChunkHeaderSize, length);
    const uint32_t stored_crc = snapshot::LoadU32(p + snapshot::kChunkHeaderSize + length);
    if (Crc32(Crc32(0, head), payload) != stored_crc) {
      status = absl::DataLossError(
          absl::StrCat("snapshot: chunk CRC mismatch at offset ", offset_ + pos));
      break;
    }
    status = ParseChunk(type, payload);
    pos += total;
  }
  if (!status.ok()) return Fail(std::move(status));
  buffer_.erase(0, pos);
  offset_ += pos;
  return absl::OkStatus();
}

absl::Status SnapshotReader::ParseHeader(absl::string_view header) {
  if (std::memcmp(header.data(), snapshot::kMagic, sizeof(snapshot::kMagic)) != 0) {
    return absl::DataLossError("snapshot: bad magic (not a snapshot file)");
  }
  const char* p = header.data();
  if (Crc32(0, header.substr(0, snapshot::kHeaderCrcOffset)) !=
      snapshot::LoadU32(p + snapshot::kHeaderCrcOffset)) {
    return absl::DataLossError("snapshot: header CRC mismatch");
  }
  const uint32_t version = snapshot::LoadU32(p + 8);
  if (version != snapshot::kVersion) {
    return absl::FailedPreconditionError(absl::StrCat("snapshot: format version ", version,
                                                      " not supported (this build reads ",
                                                      snapshot::kVersion, ")"));
  }
  // p + 12: flags, none defined.
  zxid_ = static_cast<int64_t>(snapshot::LoadU64(p + 16));
  digest_ = snapshot::LoadU64(p + 24);
  declared_nodes_ = snapshot::LoadU64(p + 32);
  declared_sessions_ = snapshot::LoadU64(p + 40);
  stage_ = Stage::kAcls;
  return absl::OkStatus();
}

absl::Status SnapshotReader::ParseChunk(uint32_t type, absl::string_view payload) {
  switch (static_cast<ChunkType>(type)) {
    case ChunkType::kAcls:
      if (stage_ != Stage::kAcls) return absl::DataLossError("snapshot: ACL chunk out of order");
      return ParseAcls(payload);
    case ChunkType::kNodes:
      if (stage_ != Stage::kAcls && stage_ != Stage::kNodes) {
        return absl::DataLossError("snapshot: node chunk out of order");
      }
      stage_ = Stage::kNodes;
      return ParseNodes(payload);
    case ChunkType::kSessions:
      stage_ = Stage::kSessions;
      return ParseSessions(payload);
    case ChunkType::kTrailer:
      return ParseTrailer(payload);
  }
  return absl::DataLossError("snapshot: unknown chunk");
}

absl::Status SnapshotReader::ParseAcls(absl::string_view payload) {
  snapshot::Cursor in(payload);
  while (in.remaining() > 0) {
    uint32_t count;
    if (!in.U32(&count)) break;
    // An entry takes at least 12 bytes: never reserve for more than fits.
    if (count > in.remaining() / 12) return absl::DataLossError("snapshot: bad ACL entry count");
    AclList acl;
    acl.reserve(count);
    for (uint32_t i = 0; i < count; ++i) {
      Acl a;
      if (!in.I32(&a.perms) || !in.Bytes(&a.id.scheme) || !in.Bytes(&a.id.id)) break;
      acl.push_back(std::move(a));
    }
    if (!in.ok()) break;
    acls_.push_back(std::move(acl));
  }
  if (!in.done()) return absl::DataLossError("snapshot: malformed ACL record");
  return absl::OkStatus();
}

absl::Status SnapshotReader::ParseNodes(absl::string_view payload) {
  if (tree_ == nullptr) tree_ = DataTree::Empty();
  snapshot::Cursor in(payload);
  while (in.remaining() > 0) {
    std::string path;
    uint8_t kind;
    StatPersisted s;
    uint32_t acl_index;
    std::string data;
    if (!in.Bytes(&path) || !in.U8(&kind) || !in.I64(&s.czxid) || !in.I64(&s.mzxid) ||
        !in.I64(&s.ctime) || !in.I64(&s.mtime) || !in.I64(&s.ephemeral_owner) ||
        !in.I64(&s.pzxid) || !in.I32(&s.version) || !in.I32(&s.cversion) || !in.I32(&s.aversion) ||
        !in.U32(&acl_index) || !in.Bytes(&data)) {
      return absl::DataLossError("snapshot: malformed node record");
    }
    if (kind > snapshot::kMaxNodeKind) {
      return absl::DataLossError(absl::StrCat("snapshot: bad node kind ", kind, " for ", path));
    }
    if (acl_index >= acls_.size()) {
      return absl::DataLossError(
          absl::StrCat("snapshot: bad ACL index ", acl_index, " for ", path));
    }
    if (++nodes_read_ > declared_nodes_) {
      return absl::DataLossError("snapshot: more nodes than the header declares");
    }
    ENSEMBLE_RETURN_IF_ERROR(tree_->LoadNode(std::move(path), std::move(data), acls_[acl_index], s,
                                             static_cast<NodeKind>(kind)));
  }
  return absl::OkStatus();
}

absl::Status SnapshotReader::ParseSessions(absl::string_view payload) {
  snapshot::Cursor in(payload);
  while (in.remaining() > 0) {
    int64_t id;
    int32_t timeout;
    if (!in.I64(&id) || !in.I32(&timeout)) {
      return absl::DataLossError("snapshot: malformed session record");
    }
    if (sessions_.Contains(id)) {
      return absl::DataLossError(absl::StrCat("snapshot: duplicate session ", id));
    }
    if (++sessions_read_ > declared_sessions_) {
      return absl::DataLossError("snapshot: more sessions than the header declares");
    }
    sessions_.Add(id, timeout);
  }
  return absl::OkStatus();
}

absl::Status SnapshotReader::ParseTrailer(absl::string_view payload) {
  snapshot::Cursor in(payload);
  uint64_t nodes, sessions, acls, digest;
  int64_t zxid;
  if (!in.U64(&nodes) || !in.U64(&sessions) || !in.U64(&acls) || !in.I64(&zxid) ||
      !in.U64(&digest) || !in.done()) {
    return absl::DataLossError("snapshot: malformed trailer");
  }
  if (nodes != declared_nodes_ || nodes != nodes_read_ || sessions != declared_sessions_ ||
      sessions != sessions_read_ || acls != acls_.size() || zxid != zxid_ || digest != digest_) {
    return absl::DataLossError("snapshot: trailer does not match the contents");
  }
  stage_ = Stage::kDone;
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<StateMachine>> SnapshotReader::Finish() {
  if (!error_.ok()) return error_;
  if (stage_ != Stage::kDone) {
    return Fail(absl::DataLossError(
        absl::StrCat("snapshot: truncated after ", offset_ + buffer_.size(), " bytes")));
  }
  if (tree_ == nullptr) return Fail(absl::DataLossError("snapshot: no nodes"));
  if (absl::Status s = tree_->FinishLoad(); !s.ok()) return Fail(std::move(s));
  std::unique_ptr<StateMachine> sm =
      StateMachine::FromParts(std::move(tree_), std::move(sessions_), zxid_, options_);
  if (sm->Digest() != digest_) {
    return Fail(absl::DataLossError(absl::StrFormat(
        "snapshot: digest mismatch (declared %016x, rebuilt %016x)", digest_, sm->Digest())));
  }
  return sm;
}

absl::StatusOr<std::unique_ptr<StateMachine>> ReadSnapshot(absl::string_view bytes,
                                                           StateMachineOptions options) {
  SnapshotReader reader(options);
  ENSEMBLE_RETURN_IF_ERROR(reader.Feed(bytes));
  return reader.Finish();
}

}  // namespace ensemble::storage

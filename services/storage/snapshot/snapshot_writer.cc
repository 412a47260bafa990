#include "services/storage/snapshot/snapshot_writer.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/base/check.h"
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

}  // namespace

SnapshotWriter::SnapshotWriter(ByteSink sink, size_t chunk_bytes)
    : sink_(std::move(sink)), chunk_bytes_(chunk_bytes == 0 ? 1 : chunk_bytes) {}

absl::Status SnapshotWriter::Emit(absl::string_view bytes) {
  ENSEMBLE_RETURN_IF_ERROR(sink_(bytes));
  bytes_written_ += bytes.size();
  return absl::OkStatus();
}

absl::Status SnapshotWriter::FlushChunk(uint32_t type, std::string* payload) {
  if (payload->empty() && type != static_cast<uint32_t>(ChunkType::kTrailer)) {
    return absl::OkStatus();
  }
  std::string head;
  snapshot::PutU32(&head, type);
  snapshot::PutU32(&head, static_cast<uint32_t>(payload->size()));
  uint32_t crc = Crc32(Crc32(0, head), *payload);
  std::string tail;
  snapshot::PutU32(&tail, crc);
  ENSEMBLE_RETURN_IF_ERROR(Emit(head));
  ENSEMBLE_RETURN_IF_ERROR(Emit(*payload));
  ENSEMBLE_RETURN_IF_ERROR(Emit(tail));
  payload->clear();
  return absl::OkStatus();
}

absl::Status SnapshotWriter::AddRecord(uint32_t type, std::string* payload,
                                       const std::string& record) {
  if (record.size() > snapshot::kMaxChunkPayload) {
    return absl::InvalidArgumentError(
        absl::StrCat("snapshot record of ", record.size(), " bytes exceeds the chunk limit"));
  }
  if (!payload->empty() && (payload->size() + record.size() > chunk_bytes_ ||
                            payload->size() + record.size() > snapshot::kMaxChunkPayload)) {
    ENSEMBLE_RETURN_IF_ERROR(FlushChunk(type, payload));
  }
  payload->append(record);
  if (payload->size() >= chunk_bytes_) ENSEMBLE_RETURN_IF_ERROR(FlushChunk(type, payload));
  return absl::OkStatus();
}

absl::Status SnapshotWriter::Write(const StateMachine& sm) {
  const DataTree& tree = sm.tree();
  const std::vector<SessionEntry> sessions = sm.sessions().List();

  // The ACL table: every distinct ACL set, numbered in preorder of first use.
  absl::flat_hash_map<const AclSet*, uint32_t> acl_index;
  std::vector<const AclSet*> acl_sets;
  uint64_t node_count = 0;
  tree.ForEachPreorder([&](absl::string_view, const Node& node) {
    ++node_count;
    ENSEMBLE_CHECK(node.acl != nullptr);
    if (acl_index.try_emplace(node.acl.get(), static_cast<uint32_t>(acl_sets.size())).second) {
      acl_sets.push_back(node.acl.get());
    }
  });
  ENSEMBLE_CHECK(node_count == tree.NodeCount());

  std::string header(snapshot::kMagic, sizeof(snapshot::kMagic));
  snapshot::PutU32(&header, snapshot::kVersion);
  snapshot::PutU32(&header, 0);  // flags
  snapshot::PutI64(&header, sm.last_applied_zxid());
  snapshot::PutU64(&header, sm.Digest());
  snapshot::PutU64(&header, node_count);
  snapshot::PutU64(&header, sessions.size());
  ENSEMBLE_CHECK(header.size() == snapshot::kHeaderCrcOffset);
  snapshot::PutU32(&header, Crc32(0, header));
  ENSEMBLE_RETURN_IF_ERROR(Emit(header));

  std::string payload;
  std::string record;
  const auto acls = static_cast<uint32_t>(ChunkType::kAcls);
  for (const AclSet* set : acl_sets) {
    record.clear();
    snapshot::PutU32(&record, static_cast<uint32_t>(set->acls.size()));
    for (const Acl& a : set->acls) {
      snapshot::PutI32(&record, a.perms);
      snapshot::PutBytes(&record, a.id.scheme);
      snapshot::PutBytes(&record, a.id.id);
    }
    ENSEMBLE_RETURN_IF_ERROR(AddRecord(acls, &payload, record));
  }
  ENSEMBLE_RETURN_IF_ERROR(FlushChunk(acls, &payload));

  const auto nodes = static_cast<uint32_t>(ChunkType::kNodes);
  absl::Status status;
  tree.ForEachPreorder([&](absl::string_view path, const Node& node) {
    if (!status.ok()) return;
    record.clear();
    snapshot::PutBytes(&record, path);
    snapshot::PutU8(&record, static_cast<uint8_t>(node.kind));
    const StatPersisted& s = node.stat;
    for (int64_t v : {s.czxid, s.mzxid, s.ctime, s.mtime, s.ephemeral_owner, s.pzxid}) {
      snapshot::PutI64(&record, v);
    }
    for (int32_t v : {s.version, s.cversion, s.aversion}) snapshot::PutI32(&record, v);
    snapshot::PutU32(&record, acl_index.at(node.acl.get()));
    snapshot::PutBytes(&record, node.data);
    status = AddRecord(nodes, &payload, record);
  });
  ENSEMBLE_RETURN_IF_ERROR(status);
  ENSEMBLE_RETURN_IF_ERROR(FlushChunk(nodes, &payload));

  const auto session_type = static_cast<uint32_t>(ChunkType::kSessions);
  for (const SessionEntry& s : sessions) {
    record.clear();
    snapshot::PutI64(&record, s.session_id);
    snapshot::PutI32(&record, s.timeout_ms);
    ENSEMBLE_RETURN_IF_ERROR(AddRecord(session_type, &payload, record));
  }
  ENSEMBLE_RETURN_IF_ERROR(FlushChunk(session_type, &payload));

  snapshot::PutU64(&payload, node_count);
  snapshot::PutU64(&payload, sessions.size());
  snapshot::PutU64(&payload, acl_sets.size());
  snapshot::PutI64(&payload, sm.last_applied_zxid());
  snapshot::PutU64(&payload, sm.Digest());
  return FlushChunk(static_cast<uint32_t>(ChunkType::kTrailer), &payload);
}

}  // namespace ensemble::storage

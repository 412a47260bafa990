#include "common/jute/records.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/base/check.h"
#include "common/base/status.h"

namespace ensemble::jute {
namespace {

// Reads a nested record, prefixing its errors with the enclosing field.
template <typename T>
absl::Status ReadNested(Reader& r, std::string_view field, T* out) {
  return Annotate(out->Read(r), field);
}

}  // namespace

// ---- data ----

absl::Status Id::Read(Reader& r) {
  ENSEMBLE_RETURN_IF_ERROR(r.ReadString("Id.scheme", &scheme));
  return r.ReadString("Id.id", &id);
}
void Id::Write(Writer& w) const {
  w.WriteString(scheme);
  w.WriteString(id);
}

absl::Status Acl::Read(Reader& r) {
  ENSEMBLE_RETURN_IF_ERROR(r.ReadInt("ACL.perms", &perms));
  return ReadNested(r, "ACL.id", &id);
}
void Acl::Write(Writer& w) const {
  w.WriteInt(perms);
  id.Write(w);
}

absl::Status Stat::Read(Reader& r) {
  ENSEMBLE_RETURN_IF_ERROR(r.ReadLong("Stat.czxid", &czxid));
  ENSEMBLE_RETURN_IF_ERROR(r.ReadLong("Stat.mzxid", &mzxid));
  ENSEMBLE_RETURN_IF_ERROR(r.ReadLong("Stat.ctime", &ctime));
  ENSEMBLE_RETURN_IF_ERROR(r.ReadLong("Stat.mtime", &mtime));
  ENSEMBLE_RETURN_IF_ERROR(r.ReadInt("Stat.version", &version));
  ENSEMBLE_RETURN_IF_ERROR(r.ReadInt("Stat.cversion", &cversion));
  ENSEMBLE_RETURN_IF_ERROR(r.ReadInt("Stat.aversion", &aversion));
  ENSEMBLE_RETURN_IF_ERROR(r.ReadLong("Stat.ephemeralOwner", &ephemeral_owner));
  ENSEMBLE_RETURN_IF_ERROR(r.ReadInt("Stat.dataLength", &data_length));
  ENSEMBLE_RETURN_IF_ERROR(r.ReadInt("Stat.numChildren", &num_children));
  return r.ReadLong("Stat.pzxid", &pzxid);
}
void Stat::Write(Writer& w) const {
  w.WriteLong(czxid);
  w.WriteLong(mzxid);
  w.WriteLong(ctime);
  w.WriteLong(mtime);
  w.WriteInt(version);
  w.WriteInt(cversion);
  w.WriteInt(aversion);
  w.WriteLong(ephemeral_owner);
  w.WriteInt(data_length);
  w.WriteInt(num_children);
  w.WriteLong(pzxid);
}

absl::Status ClientInfo::Read(Reader& r) {
  ENSEMBLE_RETURN_IF_ERROR(r.ReadString("ClientInfo.authScheme", &auth_scheme));
  return r.ReadString("ClientInfo.user", &user);
}
void ClientInfo::Write(Writer& w) const {
  w.WriteString(auth_scheme);
  w.WriteString(user);
}

// ---- session and framing ----

absl::Status ConnectRequest::Read(Reader& r) {
  ENSEMBLE_RETURN_IF_ERROR(r.ReadInt("ConnectRequest.protocolVersion", &protocol_version));
  ENSEMBLE_RETURN_IF_ERROR(r.ReadLong("ConnectRequest.lastZxidSeen", &last_zxid_seen));
  ENSEMBLE_RETURN_IF_ERROR(r.ReadInt("ConnectRequest.timeOut", &timeout_ms));
  ENSEMBLE_RETURN_IF_ERROR(r.ReadLong("ConnectRequest.sessionId", &session_id));
  ENSEMBLE_RETURN_IF_ERROR(r.ReadBuffer("ConnectRequest.passwd", &passwd));
  // ZooKeeperServer.processConnectRequest: a missing readOnly byte marks an old client.
  has_read_only = !r.AtEnd();
  read_only = false;
  if (has_read_only) return r.ReadBool("ConnectRequest.readOnly", &read_only);
  return absl::OkStatus();
}
void ConnectRequest::Write(Writer& w) const {
  w.WriteInt(protocol_version);
  w.WriteLong(last_zxid_seen);
  w.WriteInt(timeout_ms);
  w.WriteLong(session_id);
  w.WriteBuffer(passwd);
  if (has_read_only) w.WriteBool(read_only);
}

absl::Status ConnectResponse::Read(Reader& r) {
  ENSEMBLE_RETURN_IF_ERROR(r.ReadInt("ConnectResponse.protocolVersion", &protocol_version));
  ENSEMBLE_RETURN_IF_ERROR(r.ReadInt("ConnectResponse.timeOut", &timeout_ms));
  ENSEMBLE_RETURN_IF_ERROR(r.ReadLong("ConnectResponse.sessionId", &session_id));
  ENSEMBLE_RETURN_IF_ERROR(r.ReadBuffer("ConnectResponse.passwd", &passwd));
  has_read_only = !r.AtEnd();
  read_only = false;
  if (has_read_only) return r.ReadBool("ConnectResponse.readOnly", &read_only);
  return absl::OkStatus();
}
void ConnectResponse::Write(Writer& w) const {
  w.WriteInt(protocol_version);
  w.WriteInt(timeout_ms);
  w.WriteLong(session_id);
  w.WriteBuffer(passwd);
  if (has_read_only) w.WriteBool(read_only);
}

absl::Status RequestHeader::Read(Reader& r) {
  ENSEMBLE_RETURN_IF_ERROR(r.ReadInt("RequestHeader.xid", &xid));
  return r.ReadInt("RequestHeader.type", &type);
}
void RequestHeader::Write(Writer& w) const {
  w.WriteInt(xid);
  w.WriteInt(type);
}

absl::Status ReplyHeader::Read(Reader& r) {
  ENSEMBLE_RETURN_IF_ERROR(r.ReadInt("ReplyHeader.xid", &xid));
  ENSEMBLE_RETURN_IF_ERROR(r.ReadLong("ReplyHeader.zxid", &zxid));
  return r.ReadInt("ReplyHeader.err", &err);
}
void ReplyHeader::Write(Writer& w) const {
  w.WriteInt(xid);
  w.WriteLong(zxid);
  w.WriteInt(err);
}

absl::Status MultiHeader::Read(Reader& r) {
  ENSEMBLE_RETURN_IF_ERROR(r.ReadInt("MultiHeader.type", &type));
  ENSEMBLE_RETURN_IF_ERROR(r.ReadBool("MultiHeader.done", &done));
  return r.ReadInt("MultiHeader.err", &err);
}
void MultiHeader::Write(Writer& w) const {
  w.WriteInt(type);
  w.WriteBool(done);
  w.WriteInt(err);
}

absl::Status AuthPacket::Read(Reader& r) {
  ENSEMBLE_RETURN_IF_ERROR(r.ReadInt("AuthPacket.type", &type));
  ENSEMBLE_RETURN_IF_ERROR(r.ReadString("AuthPacket.scheme", &scheme));
  return r.ReadBuffer("AuthPacket.auth", &auth);
}
void AuthPacket::Write(Writer& w) const {
  w.WriteInt(type);
  w.WriteString(scheme);
  w.WriteBuffer(auth);
}

absl::Status WatcherEvent::Read(Reader& r) {
  ENSEMBLE_RETURN_IF_ERROR(r.ReadInt("WatcherEvent.type", &type));
  ENSEMBLE_RETURN_IF_ERROR(r.ReadInt("WatcherEvent.state", &state));
  return r.ReadString("WatcherEvent.path", &path);
}
void WatcherEvent::Write(Writer& w) const {
  w.WriteInt(type);
  w.WriteInt(state);
  w.WriteString(path);
}

absl::Status SetWatches::Read(Reader& r) {
  ENSEMBLE_RETURN_IF_ERROR(r.ReadLong("SetWatches.relativeZxid", &relative_zxid));
  ENSEMBLE_RETURN_IF_ERROR(r.ReadStringVector("SetWatches.dataWatches", &data_watches));
  ENSEMBLE_RETURN_IF_ERROR(r.ReadStringVector("SetWatches.existWatches", &exist_watches));
  return r.ReadStringVector("SetWatches.childWatches", &child_watches);
}
void SetWatches::Write(Writer& w) const {
  w.WriteLong(relative_zxid);
  w.WriteStringVector(data_watches);
  w.WriteStringVector(exist_watches);
  w.WriteStringVector(child_watches);
}

absl::Status SetWatches2::Read(Reader& r) {
  ENSEMBLE_RETURN_IF_ERROR(r.ReadLong("SetWatches2.relativeZxid", &relative_zxid));
  ENSEMBLE_RETURN_IF_ERROR(r.ReadStringVector("SetWatches2.dataWatches", &data_watches));
  ENSEMBLE_RETURN_IF_ERROR(r.ReadStringVector("SetWatches2.existWatches", &exist_watches));
  ENSEMBLE_RETURN_IF_ERROR(r.ReadStringVector("SetWatches2.childWatches", &child_watches));
  ENSEMBLE_RETURN_IF_ERROR(
      r.ReadStringVector("SetWatches2.persistentWatches", &persistent_watches));
  return r.ReadStringVector("SetWatches2.persistentRecursiveWatches",
                            &persistent_recursive_watches);
}
void SetWatches2::Write(Writer& w) const {
  w.WriteLong(relative_zxid);
  w.WriteStringVector(data_watches);
  w.WriteStringVector(exist_watches);
  w.WriteStringVector(child_watches);
  w.WriteStringVector(persistent_watches);
  w.WriteStringVector(persistent_recursive_watches);
}

// ---- requests ----

absl::Status CreateRequest::Read(Reader& r) {
  ENSEMBLE_RETURN_IF_ERROR(r.ReadString("CreateRequest.path", &path));
  ENSEMBLE_RETURN_IF_ERROR(r.ReadNullableBuffer("CreateRequest.data", &data));
  ENSEMBLE_RETURN_IF_ERROR(r.ReadRecordVector("CreateRequest.acl", &acl));
  return r.ReadInt("CreateRequest.flags", &flags);
}
void CreateRequest::Write(Writer& w) const {
  w.WriteString(path);
  w.WriteNullableBuffer(data);
  w.WriteRecordVector(acl);
  w.WriteInt(flags);
}

absl::Status CreateTtlRequest::Read(Reader& r) {
  ENSEMBLE_RETURN_IF_ERROR(r.ReadString("CreateTTLRequest.path", &path));
  ENSEMBLE_RETURN_IF_ERROR(r.ReadNullableBuffer("CreateTTLRequest.data", &data));
  ENSEMBLE_RETURN_IF_ERROR(r.ReadRecordVector("CreateTTLRequest.acl", &acl));
  ENSEMBLE_RETURN_IF_ERROR(r.ReadInt("CreateTTLRequest.flags", &flags));
  return r.ReadLong("CreateTTLRequest.ttl", &ttl);
}
void CreateTtlRequest::Write(Writer& w) const {
  w.WriteString(path);
  w.WriteNullableBuffer(data);
  w.WriteRecordVector(acl);
  w.WriteInt(flags);
  w.WriteLong(ttl);
}

absl::Status DeleteRequest::Read(Reader& r) {
  ENSEMBLE_RETURN_IF_ERROR(r.ReadString("DeleteRequest.path", &path));
  return r.ReadInt("DeleteRequest.version", &version);
}
void DeleteRequest::Write(Writer& w) const {
  w.WriteString(path);
  w.WriteInt(version);
}

absl::Status ExistsRequest::Read(Reader& r) {
  ENSEMBLE_RETURN_IF_ERROR(r.ReadString("ExistsRequest.path", &path));
  return r.ReadBool("ExistsRequest.watch", &watch);
}
void ExistsRequest::Write(Writer& w) const {
  w.WriteString(path);
  w.WriteBool(watch);
}

absl::Status GetDataRequest::Read(Reader& r) {
  ENSEMBLE_RETURN_IF_ERROR(r.ReadString("GetDataRequest.path", &path));
  return r.ReadBool("GetDataRequest.watch", &watch);
}
void GetDataRequest::Write(Writer& w) const {
  w.WriteString(path);
  w.WriteBool(watch);
}

absl::Status SetDataRequest::Read(Reader& r) {
  ENSEMBLE_RETURN_IF_ERROR(r.ReadString("SetDataRequest.path", &path));
  ENSEMBLE_RETURN_IF_ERROR(r.ReadNullableBuffer("SetDataRequest.data", &data));
  return r.ReadInt("SetDataRequest.version", &version);
}
void SetDataRequest::Write(Writer& w) const {
  w.WriteString(path);
  w.WriteNullableBuffer(data);
  w.WriteInt(version);
}

absl::Status GetAclRequest::Read(Reader& r) { return r.ReadString("GetACLRequest.path", &path); }
void GetAclRequest::Write(Writer& w) const { w.WriteString(path); }

absl::Status SetAclRequest::Read(Reader& r) {
  ENSEMBLE_RETURN_IF_ERROR(r.ReadString("SetACLRequest.path", &path));
  ENSEMBLE_RETURN_IF_ERROR(r.ReadRecordVector("SetACLRequest.acl", &acl));
  return r.ReadInt("SetACLRequest.version", &version);
}
void SetAclRequest::Write(Writer& w) const {
  w.WriteString(path);
  w.WriteRecordVector(acl);
  w.WriteInt(version);
}

absl::Status GetChildrenRequest::Read(Reader& r) {
  ENSEMBLE_RETURN_IF_ERROR(r.ReadString("GetChildrenRequest.path", &path));
  return r.ReadBool("GetChildrenRequest.watch", &watch);
}
void GetChildrenRequest::Write(Writer& w) const {
  w.WriteString(path);
  w.WriteBool(watch);
}

absl::Status GetChildren2Request::Read(Reader& r) {
  ENSEMBLE_RETURN_IF_ERROR(r.ReadString("GetChildren2Request.path", &path));
  return r.ReadBool("GetChildren2Request.watch", &watch);
}
void GetChildren2Request::Write(Writer& w) const {
  w.WriteString(path);
  w.WriteBool(watch);
}

absl::Status GetAllChildrenNumberRequest::Read(Reader& r) {
  return r.ReadString("GetAllChildrenNumberRequest.path", &path);
}
void GetAllChildrenNumberRequest::Write(Writer& w) const { w.WriteString(path); }

absl::Status GetEphemeralsRequest::Read(Reader& r) {
  return r.ReadString("GetEphemeralsRequest.prefixPath", &prefix_path);
}
void GetEphemeralsRequest::Write(Writer& w) const { w.WriteString(prefix_path); }

absl::Status SyncRequest::Read(Reader& r) { return r.ReadString("SyncRequest.path", &path); }
void SyncRequest::Write(Writer& w) const { w.WriteString(path); }

absl::Status CheckVersionRequest::Read(Reader& r) {
  ENSEMBLE_RETURN_IF_ERROR(r.ReadString("CheckVersionRequest.path", &path));
  return r.ReadInt("CheckVersionRequest.version", &version);
}
void CheckVersionRequest::Write(Writer& w) const {
  w.WriteString(path);
  w.WriteInt(version);
}

absl::Status AddWatchRequest::Read(Reader& r) {
  ENSEMBLE_RETURN_IF_ERROR(r.ReadString("AddWatchRequest.path", &path));
  return r.ReadInt("AddWatchRequest.mode", &mode);
}
void AddWatchRequest::Write(Writer& w) const {
  w.WriteString(path);
  w.WriteInt(mode);
}

absl::Status CheckWatchesRequest::Read(Reader& r) {
  ENSEMBLE_RETURN_IF_ERROR(r.ReadString("CheckWatchesRequest.path", &path));
  return r.ReadInt("CheckWatchesRequest.type", &type);
}
void CheckWatchesRequest::Write(Writer& w) const {
  w.WriteString(path);
  w.WriteInt(type);
}

absl::Status RemoveWatchesRequest::Read(Reader& r) {
  ENSEMBLE_RETURN_IF_ERROR(r.ReadString("RemoveWatchesRequest.path", &path));
  return r.ReadInt("RemoveWatchesRequest.type", &type);
}
void RemoveWatchesRequest::Write(Writer& w) const {
  w.WriteString(path);
  w.WriteInt(type);
}

absl::Status ReconfigRequest::Read(Reader& r) {
  ENSEMBLE_RETURN_IF_ERROR(
      r.ReadNullableString("ReconfigRequest.joiningServers", &joining_servers));
  ENSEMBLE_RETURN_IF_ERROR(
      r.ReadNullableString("ReconfigRequest.leavingServers", &leaving_servers));
  ENSEMBLE_RETURN_IF_ERROR(r.ReadNullableString("ReconfigRequest.newMembers", &new_members));
  return r.ReadLong("ReconfigRequest.curConfigId", &cur_config_id);
}
void ReconfigRequest::Write(Writer& w) const {
  w.WriteNullableString(joining_servers);
  w.WriteNullableString(leaving_servers);
  w.WriteNullableString(new_members);
  w.WriteLong(cur_config_id);
}

absl::Status GetSaslRequest::Read(Reader& r) {
  return r.ReadNullableBuffer("GetSASLRequest.token", &token);
}
void GetSaslRequest::Write(Writer& w) const { w.WriteNullableBuffer(token); }

absl::Status SetSaslRequest::Read(Reader& r) {
  return r.ReadNullableBuffer("SetSASLRequest.token", &token);
}
void SetSaslRequest::Write(Writer& w) const { w.WriteNullableBuffer(token); }

// ---- responses ----

absl::Status CreateResponse::Read(Reader& r) { return r.ReadString("CreateResponse.path", &path); }
void CreateResponse::Write(Writer& w) const { w.WriteString(path); }

absl::Status Create2Response::Read(Reader& r) {
  ENSEMBLE_RETURN_IF_ERROR(r.ReadString("Create2Response.path", &path));
  return ReadNested(r, "Create2Response.stat", &stat);
}
void Create2Response::Write(Writer& w) const {
  w.WriteString(path);
  stat.Write(w);
}

absl::Status ExistsResponse::Read(Reader& r) { return ReadNested(r, "ExistsResponse.stat", &stat); }
void ExistsResponse::Write(Writer& w) const { stat.Write(w); }

absl::Status GetDataResponse::Read(Reader& r) {
  ENSEMBLE_RETURN_IF_ERROR(r.ReadNullableBuffer("GetDataResponse.data", &data));
  return ReadNested(r, "GetDataResponse.stat", &stat);
}
void GetDataResponse::Write(Writer& w) const {
  w.WriteNullableBuffer(data);
  stat.Write(w);
}

absl::Status SetDataResponse::Read(Reader& r) {
  return ReadNested(r, "SetDataResponse.stat", &stat);
}
void SetDataResponse::Write(Writer& w) const { stat.Write(w); }

absl::Status GetAclResponse::Read(Reader& r) {
  ENSEMBLE_RETURN_IF_ERROR(r.ReadRecordVector("GetACLResponse.acl", &acl));
  return ReadNested(r, "GetACLResponse.stat", &stat);
}
void GetAclResponse::Write(Writer& w) const {
  w.WriteRecordVector(acl);
  stat.Write(w);
}

absl::Status SetAclResponse::Read(Reader& r) { return ReadNested(r, "SetACLResponse.stat", &stat); }
void SetAclResponse::Write(Writer& w) const { stat.Write(w); }

absl::Status GetChildrenResponse::Read(Reader& r) {
  return r.ReadStringVector("GetChildrenResponse.children", &children);
}
void GetChildrenResponse::Write(Writer& w) const { w.WriteStringVector(children); }

absl::Status GetChildren2Response::Read(Reader& r) {
  ENSEMBLE_RETURN_IF_ERROR(r.ReadStringVector("GetChildren2Response.children", &children));
  return ReadNested(r, "GetChildren2Response.stat", &stat);
}
void GetChildren2Response::Write(Writer& w) const {
  w.WriteStringVector(children);
  stat.Write(w);
}

absl::Status GetAllChildrenNumberResponse::Read(Reader& r) {
  return r.ReadInt("GetAllChildrenNumberResponse.totalNumber", &total_number);
}
void GetAllChildrenNumberResponse::Write(Writer& w) const { w.WriteInt(total_number); }

absl::Status GetEphemeralsResponse::Read(Reader& r) {
  return r.ReadStringVector("GetEphemeralsResponse.ephemerals", &ephemerals);
}
void GetEphemeralsResponse::Write(Writer& w) const { w.WriteStringVector(ephemerals); }

absl::Status SyncResponse::Read(Reader& r) { return r.ReadString("SyncResponse.path", &path); }
void SyncResponse::Write(Writer& w) const { w.WriteString(path); }

absl::Status SetSaslResponse::Read(Reader& r) {
  return r.ReadNullableBuffer("SetSASLResponse.token", &token);
}
void SetSaslResponse::Write(Writer& w) const { w.WriteNullableBuffer(token); }

absl::Status WhoAmIResponse::Read(Reader& r) {
  return r.ReadRecordVector("WhoAmIResponse.clientInfo", &client_info);
}
void WhoAmIResponse::Write(Writer& w) const { w.WriteRecordVector(client_info); }

absl::Status ErrorResponse::Read(Reader& r) { return r.ReadInt("ErrorResponse.err", &err); }
void ErrorResponse::Write(Writer& w) const { w.WriteInt(err); }

// ---- multi ----

namespace {

// The record a multi op of this type carries, or nullopt if the type is not
// allowed inside multi (MultiOperationRecord.deserialize).
std::optional<MultiOpRecord> EmptyMultiOpRecord(OpCode type) {
  switch (type) {
    case OpCode::kCreate:
    case OpCode::kCreate2:
    case OpCode::kCreateContainer:
      return CreateRequest{};
    case OpCode::kCreateTtl:
      return CreateTtlRequest{};
    case OpCode::kDelete:
      return DeleteRequest{};
    case OpCode::kSetData:
      return SetDataRequest{};
    case OpCode::kCheck:
      return CheckVersionRequest{};
    case OpCode::kGetChildren:
      return GetChildrenRequest{};
    case OpCode::kGetData:
      return GetDataRequest{};
    default:
      return std::nullopt;
  }
}

// Reads / writes a MultiResult; delete and check results carry no record.
struct MultiResultReader {
  Reader& r;
  absl::Status operator()(MultiDeleteResult&) const { return absl::OkStatus(); }
  absl::Status operator()(MultiCheckResult&) const { return absl::OkStatus(); }
  absl::Status operator()(auto& rec) const { return rec.Read(r); }
};
struct MultiResultWriter {
  Writer& w;
  void operator()(const MultiDeleteResult&) const {}
  void operator()(const MultiCheckResult&) const {}
  void operator()(const auto& rec) const { rec.Write(w); }
};

}  // namespace

absl::Status MultiRequest::Read(Reader& r) {
  ops.clear();
  for (size_t i = 0;; ++i) {
    auto where = [i] { return absl::StrCat("MultiRequest.ops[", i, "]"); };
    MultiHeader h;
    absl::Status s = h.Read(r);
    if (!s.ok()) return Annotate(s, where());
    if (h.done) return absl::OkStatus();
    const auto type = static_cast<OpCode>(h.type);
    std::optional<MultiOpRecord> record = EmptyMultiOpRecord(type);
    if (!record.has_value()) {
      return absl::InvalidArgumentError(absl::StrCat(where(), ": op type ", h.type, " (",
                                                     AbslView(OpCodeName(type)),
                                                     ") is not allowed in multi"));
    }
    s = std::visit([&r](auto& rec) { return rec.Read(r); }, *record);
    if (!s.ok()) return Annotate(s, where());
    ops.push_back(MultiOp{type, std::move(*record)});
  }
}

void MultiRequest::Write(Writer& w) const {
  for (const MultiOp& op : ops) {
    std::optional<MultiOpRecord> expected = EmptyMultiOpRecord(op.type);
    ENSEMBLE_CHECK(expected.has_value() && expected->index() == op.request.index());
    MultiHeader{static_cast<int32_t>(op.type), false, -1}.Write(w);
    std::visit([&w](const auto& rec) { rec.Write(w); }, op.request);
  }
  MultiHeader{-1, true, -1}.Write(w);
}

OpCode MultiResultType(const MultiResult& result) {
  struct Visitor {
    OpCode operator()(const CreateResponse&) const { return OpCode::kCreate; }
    OpCode operator()(const Create2Response&) const { return OpCode::kCreate2; }
    OpCode operator()(const MultiDeleteResult&) const { return OpCode::kDelete; }
    OpCode operator()(const MultiCheckResult&) const { return OpCode::kCheck; }
    OpCode operator()(const SetDataResponse&) const { return OpCode::kSetData; }
    OpCode operator()(const GetChildrenResponse&) const { return OpCode::kGetChildren; }
    OpCode operator()(const GetDataResponse&) const { return OpCode::kGetData; }
    OpCode operator()(const ErrorResponse&) const { return OpCode::kError; }
  };
  return std::visit(Visitor{}, result);
}

absl::Status MultiResponse::Read(Reader& r) {
  results.clear();
  for (size_t i = 0;; ++i) {
    auto where = [i] { return absl::StrCat("MultiResponse.results[", i, "]"); };
    MultiHeader h;
    absl::Status s = h.Read(r);
    if (!s.ok()) return Annotate(s, where());
    if (h.done) return absl::OkStatus();
    MultiResult result;
    switch (static_cast<OpCode>(h.type)) {
      case OpCode::kCreate:
        result = CreateResponse{};
        break;
      case OpCode::kCreate2:
        result = Create2Response{};
        break;
      case OpCode::kDelete:
        result = MultiDeleteResult{};
        break;
      case OpCode::kCheck:
        result = MultiCheckResult{};
        break;
      case OpCode::kSetData:
        result = SetDataResponse{};
        break;
      case OpCode::kGetChildren:
        result = GetChildrenResponse{};
        break;
      case OpCode::kGetData:
        result = GetDataResponse{};
        break;
      case OpCode::kError:
        result = ErrorResponse{};
        break;
      default:
        return absl::InvalidArgumentError(absl::StrCat(
            where(), ": result type ", h.type, " (",
            AbslView(OpCodeName(static_cast<OpCode>(h.type))), ") is not allowed in multi"));
    }
    s = std::visit(MultiResultReader{r}, result);
    if (!s.ok()) return Annotate(s, where());
    results.push_back(std::move(result));
  }
}

void MultiResponse::Write(Writer& w) const {
  for (const MultiResult& result : results) {
    const auto* error = std::get_if<ErrorResponse>(&result);
    MultiHeader{static_cast<int32_t>(MultiResultType(result)), false,
                error != nullptr ? error->err : 0}
        .Write(w);
    std::visit(MultiResultWriter{w}, result);
  }
  MultiHeader{-1, true, -1}.Write(w);
}

}  // namespace ensemble::jute

#include "common/jute/request.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/base/check.h"
#include "common/base/status.h"
#include "common/jute/frame.h"
#include "common/jute/zoo_defs.h"

namespace ensemble::jute {
namespace {

absl::Status CheckEnd(const Reader& r, const DecodeOptions& options, std::string_view what) {
  if (options.allow_trailing_bytes) return absl::OkStatus();
  return r.ExpectEnd(what);
}

std::string OpLabel(int32_t type) {
  return absl::StrCat(AbslView(OpCodeName(static_cast<OpCode>(type))), " (op ", type, ")");
}

template <typename Body>
void AppendPacket(std::string* out, const auto& header, const Body& body) {
  const size_t begin = BeginFrame(out);
  Writer w(out);
  header.Write(w);
  std::visit([&w](const auto& rec) { rec.Write(w); }, body);
  EndFrame(out, begin);
}

}  // namespace

// ---- op code tables ----

absl::StatusOr<RequestBody> EmptyRequestBody(int32_t op_code) {
  switch (static_cast<OpCode>(op_code)) {
    case OpCode::kCreate:
    case OpCode::kCreate2:
    case OpCode::kCreateContainer:
      return CreateRequest{};
    case OpCode::kCreateTtl:
      return CreateTtlRequest{};
    case OpCode::kDelete:
      return DeleteRequest{};
    case OpCode::kExists:
      return ExistsRequest{};
    case OpCode::kGetData:
      return GetDataRequest{};
    case OpCode::kSetData:
      return SetDataRequest{};
    case OpCode::kGetAcl:
      return GetAclRequest{};
    case OpCode::kSetAcl:
      return SetAclRequest{};
    case OpCode::kGetChildren:
      return GetChildrenRequest{};
    case OpCode::kGetChildren2:
      return GetChildren2Request{};
    case OpCode::kSync:
      return SyncRequest{};
    case OpCode::kCheck:
      return CheckVersionRequest{};
    case OpCode::kMulti:
    case OpCode::kMultiRead:
      return MultiRequest{};
    case OpCode::kReconfig:
      return ReconfigRequest{};
    case OpCode::kCheckWatches:
      return CheckWatchesRequest{};
    case OpCode::kRemoveWatches:
      return RemoveWatchesRequest{};
    case OpCode::kAuth:
      return AuthPacket{};
    case OpCode::kSetWatches:
      return SetWatches{};
    case OpCode::kSetWatches2:
      return SetWatches2{};
    case OpCode::kSasl:
      return GetSaslRequest{};
    case OpCode::kGetEphemerals:
      return GetEphemeralsRequest{};
    case OpCode::kGetAllChildrenNumber:
      return GetAllChildrenNumberRequest{};
    case OpCode::kAddWatch:
      return AddWatchRequest{};
    case OpCode::kPing:
    case OpCode::kCloseSession:
    case OpCode::kWhoAmI:
      return EmptyRecord{};
    case OpCode::kNotification:
    case OpCode::kError:
    case OpCode::kCreateSession:
    case OpCode::kDeleteContainer:
      return absl::UnimplementedError(
          absl::StrCat("op code ", OpLabel(op_code), " is not a client request"));
  }
  return absl::UnimplementedError(absl::StrCat("unknown op code ", op_code));
}

absl::StatusOr<ResponseBody> EmptyResponseBody(OpCode op) {
  switch (op) {
    case OpCode::kCreate:
      return CreateResponse{};
    case OpCode::kCreate2:
    case OpCode::kCreateContainer:
    case OpCode::kCreateTtl:
      return Create2Response{};
    case OpCode::kExists:
      return ExistsResponse{};
    case OpCode::kGetData:
    case OpCode::kReconfig:
      return GetDataResponse{};
    case OpCode::kSetData:
    case OpCode::kCheck:
      return SetDataResponse{};
    case OpCode::kGetAcl:
      return GetAclResponse{};
    case OpCode::kSetAcl:
      return SetAclResponse{};
    case OpCode::kGetChildren:
      return GetChildrenResponse{};
    case OpCode::kGetChildren2:
      return GetChildren2Response{};
    case OpCode::kSync:
      return SyncResponse{};
    case OpCode::kMulti:
    case OpCode::kMultiRead:
      return MultiResponse{};
    case OpCode::kSasl:
      return SetSaslResponse{};
    case OpCode::kGetEphemerals:
      return GetEphemeralsResponse{};
    case OpCode::kGetAllChildrenNumber:
      return GetAllChildrenNumberResponse{};
    case OpCode::kAddWatch:
      return ErrorResponse{};
    case OpCode::kWhoAmI:
      return WhoAmIResponse{};
    case OpCode::kDelete:
    case OpCode::kPing:
    case OpCode::kCloseSession:
    case OpCode::kCheckWatches:
    case OpCode::kRemoveWatches:
    case OpCode::kAuth:
    case OpCode::kSetWatches:
    case OpCode::kSetWatches2:
      return EmptyRecord{};
    case OpCode::kNotification:
    case OpCode::kError:
    case OpCode::kCreateSession:
    case OpCode::kDeleteContainer:
      break;
  }
  return absl::UnimplementedError(
      absl::StrCat("op code ", OpLabel(static_cast<int32_t>(op)), " has no client reply"));
}

// ---- server side ----

absl::StatusOr<ConnectRequest> DecodeConnectRequest(std::string_view payload,
                                                    const DecodeOptions& options) {
  Reader r(payload, options.max_length);
  ConnectRequest request;
  ENSEMBLE_RETURN_IF_ERROR(request.Read(r));
  ENSEMBLE_RETURN_IF_ERROR(CheckEnd(r, options, "ConnectRequest"));
  return request;
}

absl::StatusOr<RequestHeader> DecodeRequestHeader(std::string_view payload) {
  Reader r(payload);
  RequestHeader header;
  ENSEMBLE_RETURN_IF_ERROR(header.Read(r));
  return header;
}

absl::StatusOr<Request> DecodeRequest(std::string_view payload, const DecodeOptions& options) {
  Reader r(payload, options.max_length);
  Request request;
  ENSEMBLE_RETURN_IF_ERROR(request.header.Read(r));
  absl::StatusOr<RequestBody> body = EmptyRequestBody(request.header.type);
  if (!body.ok()) return Annotate(body.status(), absl::StrCat("xid ", request.header.xid));
  request.body = std::move(*body);
  absl::Status s = std::visit([&r](auto& rec) { return rec.Read(r); }, request.body);
  if (s.ok()) s = CheckEnd(r, options, "request");
  if (!s.ok()) {
    return Annotate(s, absl::StrCat(OpLabel(request.header.type), " xid ", request.header.xid));
  }
  return request;
}

std::string EncodeConnectResponse(const ConnectResponse& response) {
  std::string out;
  const size_t begin = BeginFrame(&out);
  Writer w(&out);
  response.Write(w);
  EndFrame(&out, begin);
  return out;
}

void AppendResponse(std::string* out, const ReplyHeader& header, const ResponseBody& body) {
  AppendPacket(out, header, body);
}

std::string EncodeResponse(const ReplyHeader& header, const ResponseBody& body) {
  std::string out;
  AppendResponse(&out, header, body);
  return out;
}

std::string EncodeNotification(const WatcherEvent& event) {
  return EncodeResponse(ReplyHeader{kNotificationXid, -1, 0}, event);
}

// ---- client side ----

std::string EncodeConnectRequest(const ConnectRequest& request) {
  std::string out;
  const size_t begin = BeginFrame(&out);
  Writer w(&out);
  request.Write(w);
  EndFrame(&out, begin);
  return out;
}

void AppendRequest(std::string* out, const RequestHeader& header, const RequestBody& body) {
  absl::StatusOr<RequestBody> expected = EmptyRequestBody(header.type);
  ENSEMBLE_CHECK(expected.ok() && expected->index() == body.index());
  AppendPacket(out, header, body);
}

std::string EncodeRequest(const RequestHeader& header, const RequestBody& body) {
  std::string out;
  AppendRequest(&out, header, body);
  return out;
}

absl::StatusOr<ConnectResponse> DecodeConnectResponse(std::string_view payload,
                                                      const DecodeOptions& options) {
  Reader r(payload, options.max_length);
  ConnectResponse response;
  ENSEMBLE_RETURN_IF_ERROR(response.Read(r));
  ENSEMBLE_RETURN_IF_ERROR(CheckEnd(r, options, "ConnectResponse"));
  return response;
}

absl::StatusOr<ReplyHeader> DecodeReplyHeader(std::string_view payload) {
  Reader r(payload);
  ReplyHeader header;
  ENSEMBLE_RETURN_IF_ERROR(header.Read(r));
  return header;
}

absl::StatusOr<Response> DecodeResponse(std::string_view payload, OpCode op,
                                        const DecodeOptions& options) {
  Reader r(payload, options.max_length);
  Response response;
  ENSEMBLE_RETURN_IF_ERROR(response.header.Read(r));
  const int32_t xid = response.header.xid;
  std::string label;
  if (xid == kNotificationXid) {
    response.body = WatcherEvent{};
    label = "notification";
  } else if (xid == kPingXid || xid == kAuthXid || xid == kSetWatchesXid) {
    response.body = EmptyRecord{};
    label = absl::StrCat("reply to special xid ", xid);
  } else {
    label = absl::StrCat("reply to ", OpLabel(static_cast<int32_t>(op)), " xid ", xid);
    if (response.header.err != 0) {
      // ZooKeeper sends no record after a non-zero err (ClientCnxn reads none).
      response.body = EmptyRecord{};
    } else {
      absl::StatusOr<ResponseBody> body = EmptyResponseBody(op);
      if (!body.ok()) return Annotate(body.status(), label);
      response.body = std::move(*body);
    }
  }
  absl::Status s = std::visit([&r](auto& rec) { return rec.Read(r); }, response.body);
  if (s.ok()) s = CheckEnd(r, options, "reply");
  if (!s.ok()) return Annotate(s, label);
  return response;
}

}  // namespace ensemble::jute

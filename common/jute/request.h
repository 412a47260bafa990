#pragma once

// Whole client-protocol packets, on top of records.h and frame.h.
//
// Server side (the gateway):
//   DecodeConnectRequest(payload)      first frame of a connection
//   DecodeRequest(payload)             every later frame: RequestHeader + record by op
//   EncodeConnectResponse / AppendResponse / EncodeResponse / EncodeNotification
// Client side (test tools, benchmarks):
//   EncodeConnectRequest / EncodeRequest
//   DecodeConnectResponse(payload)
//   DecodeResponse(payload, op)        ReplyHeader + record chosen by the op the
//                                      caller sent with that xid
//
// "payload" is a frame without its 4-byte length (what FrameDecoder yields);
// Encode* return whole frames, length included.
//
// Op code -> request record (ZooKeeper's FinalRequestProcessor / ZooKeeper.java):
//   create, create2, createContainer  CreateRequest
//   createTTL                         CreateTtlRequest
//   delete                            DeleteRequest
//   exists                            ExistsRequest
//   getData (and getConfig)           GetDataRequest
//   setData                           SetDataRequest
//   getACL / setACL                   GetAclRequest / SetAclRequest
//   getChildren / getChildren2        GetChildrenRequest / GetChildren2Request
//   sync                              SyncRequest
//   check                             CheckVersionRequest
//   multi, multiRead                  MultiRequest
//   reconfig                          ReconfigRequest
//   checkWatches / removeWatches      CheckWatchesRequest / RemoveWatchesRequest
//   auth                              AuthPacket (xid kAuthXid)
//   setWatches / setWatches2          SetWatches / SetWatches2 (xid kSetWatchesXid)
//   sasl                              GetSaslRequest
//   getEphemerals                     GetEphemeralsRequest
//   getAllChildrenNumber              GetAllChildrenNumberRequest
//   addWatch                          AddWatchRequest
//   ping (xid kPingXid), closeSession, whoAmI      EmptyRecord
//
// Op code -> response record when ReplyHeader.err == 0 (nothing follows the header
// when err != 0):
//   create -> CreateResponse; create2, createContainer, createTTL -> Create2Response;
//   exists -> ExistsResponse; getData, reconfig -> GetDataResponse;
//   setData, check -> SetDataResponse; getACL -> GetAclResponse;
//   setACL -> SetAclResponse; getChildren -> GetChildrenResponse;
//   getChildren2 -> GetChildren2Response; sync -> SyncResponse;
//   multi, multiRead -> MultiResponse; sasl -> SetSaslResponse;
//   getEphemerals -> GetEphemeralsResponse;
//   getAllChildrenNumber -> GetAllChildrenNumberResponse; addWatch -> ErrorResponse;
//   whoAmI -> WhoAmIResponse; everything else -> EmptyRecord.
//   xid kNotificationXid -> WatcherEvent, whatever the op.

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/jute/archive.h"
#include "common/jute/records.h"

namespace ensemble::jute {

struct DecodeOptions {
  // Bound on every length-prefixed field (jute.maxbuffer).
  int32_t max_length = kDefaultMaxBuffer;
  // ZooKeeper ignores bytes after a record; we reject them unless this is set.
  bool allow_trailing_bytes = false;
};

using RequestBody =
    std::variant<EmptyRecord, CreateRequest, CreateTtlRequest, DeleteRequest, ExistsRequest,
                 GetDataRequest, SetDataRequest, GetAclRequest, SetAclRequest, GetChildrenRequest,
                 GetChildren2Request, SyncRequest, CheckVersionRequest, MultiRequest,
                 ReconfigRequest, CheckWatchesRequest, RemoveWatchesRequest, AuthPacket, SetWatches,
                 SetWatches2, GetSaslRequest, GetEphemeralsRequest, GetAllChildrenNumberRequest,
                 AddWatchRequest>;

struct Request {
  RequestHeader header;
  RequestBody body;

  OpCode op() const { return header.op(); }
  bool operator==(const Request&) const = default;
};

using ResponseBody =
    std::variant<EmptyRecord, CreateResponse, Create2Response, ExistsResponse, GetDataResponse,
                 SetDataResponse, GetAclResponse, SetAclResponse, GetChildrenResponse,
                 GetChildren2Response, SyncResponse, MultiResponse, GetAllChildrenNumberResponse,
                 GetEphemeralsResponse, WhoAmIResponse, SetSaslResponse, ErrorResponse,
                 WatcherEvent>;

struct Response {
  ReplyHeader header;
  ResponseBody body;

  bool operator==(const Response&) const = default;
};

// ---- server side ----

// Decodes the first frame of a connection, with or without the trailing readOnly
// byte. Errors: as Reader's, prefixed with "ConnectRequest".
absl::StatusOr<ConnectRequest> DecodeConnectRequest(std::string_view payload,
                                                    const DecodeOptions& options = {});

// Reads only the RequestHeader, so a caller can answer a request whose body failed
// to decode (its xid) or whose op is unknown.
absl::StatusOr<RequestHeader> DecodeRequestHeader(std::string_view payload);

// Decodes a request frame.
// Errors: Unimplemented naming the op code when it is not a client request
//   (unknown numbers, and notification, error, createSession, deleteContainer);
//   InvalidArgument / ResourceExhausted from the record, prefixed with the op name
//   and xid; InvalidArgument for trailing bytes unless allowed.
absl::StatusOr<Request> DecodeRequest(std::string_view payload, const DecodeOptions& options = {});

// The request record an op code carries, default-constructed, or Unimplemented.
absl::StatusOr<RequestBody> EmptyRequestBody(int32_t op_code);

// The ConnectResponse frame (readOnly byte only if response.has_read_only).
std::string EncodeConnectResponse(const ConnectResponse& response);

// Appends a reply frame: header, then the body (nothing for EmptyRecord).
void AppendResponse(std::string* out, const ReplyHeader& header, const ResponseBody& body);
std::string EncodeResponse(const ReplyHeader& header, const ResponseBody& body);

// A watch notification frame: ReplyHeader{kNotificationXid, zxid -1, err 0} +
// WatcherEvent, as ZooKeeper's ServerCnxn.process sends it.
std::string EncodeNotification(const WatcherEvent& event);

// ---- client side ----

std::string EncodeConnectRequest(const ConnectRequest& request);

// REQUIRES: body is the record for header.type (EmptyRequestBody's alternative),
// checked with ENSEMBLE_CHECK.
void AppendRequest(std::string* out, const RequestHeader& header, const RequestBody& body);
std::string EncodeRequest(const RequestHeader& header, const RequestBody& body);

absl::StatusOr<ConnectResponse> DecodeConnectResponse(std::string_view payload,
                                                      const DecodeOptions& options = {});

// Reads only the ReplyHeader, so the caller can find the op it sent with that xid.
absl::StatusOr<ReplyHeader> DecodeReplyHeader(std::string_view payload);

// Decodes a reply frame. `op` is the op of the request with this xid; it is
// ignored for notifications (xid kNotificationXid) and for the special xids
// kPingXid, kAuthXid, kSetWatchesXid, whose replies are header-only.
// Errors: as DecodeRequest's; Unimplemented if `op` has no reply.
absl::StatusOr<Response> DecodeResponse(std::string_view payload, OpCode op,
                                        const DecodeOptions& options = {});

// The response record a successful reply to `op` carries, default-constructed, or
// Unimplemented.
absl::StatusOr<ResponseBody> EmptyResponseBody(OpCode op);

}  // namespace ensemble::jute

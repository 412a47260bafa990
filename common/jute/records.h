#pragma once

// The records of zookeeper.jute (modules org.apache.zookeeper.data and
// org.apache.zookeeper.proto) that the client protocol uses, one struct each, with
// fields in the order of the jute file. Names follow ZooKeeper's, in C++ case
// (GetACLRequest -> GetAclRequest); kName holds the jute name and prefixes errors.
//
// Null handling: a jute `buffer` or `ustring` can be null (length -1).
//   - Fields where ZooKeeper gives null a meaning are std::optional<std::string>:
//     znode data (null data is returned as null by getData), SASL tokens, and the
//     three server lists of ReconfigRequest.
//   - Every other string or buffer reads null as empty and writes empty.
//   - A null vector reads as empty and is written as an empty vector.
//
// Each record has
//   absl::Status Read(Reader&)  -- errors as Reader's, naming the field
//   void Write(Writer&) const
// Read consumes exactly the record; the caller decides about trailing bytes.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "common/jute/archive.h"
#include "common/jute/op_code.h"
#include "common/jute/zk_error.h"

namespace ensemble::jute {

// ---- module org.apache.zookeeper.data ----

struct Id {
  static constexpr std::string_view kName = "Id";
  static constexpr size_t kMinWireSize = 8;
  std::string scheme;
  std::string id;

  [[nodiscard]] absl::Status Read(Reader& r);
  void Write(Writer& w) const;
  bool operator==(const Id&) const = default;
};

struct Acl {
  static constexpr std::string_view kName = "ACL";
  static constexpr size_t kMinWireSize = 4 + Id::kMinWireSize;
  int32_t perms = 0;  // perms::kRead | ...
  Id id;

  [[nodiscard]] absl::Status Read(Reader& r);
  void Write(Writer& w) const;
  bool operator==(const Acl&) const = default;
};

struct Stat {
  static constexpr std::string_view kName = "Stat";
  static constexpr size_t kMinWireSize = 68;
  int64_t czxid = 0;            // zxid of the create
  int64_t mzxid = 0;            // zxid of the last setData
  int64_t ctime = 0;            // ms since the epoch, create
  int64_t mtime = 0;            // ms since the epoch, last setData
  int32_t version = 0;          // data version
  int32_t cversion = 0;         // child version
  int32_t aversion = 0;         // ACL version
  int64_t ephemeral_owner = 0;  // session id if ephemeral, else 0
  int32_t data_length = 0;
  int32_t num_children = 0;
  int64_t pzxid = 0;  // zxid of the last child change

  [[nodiscard]] absl::Status Read(Reader& r);
  void Write(Writer& w) const;
  bool operator==(const Stat&) const = default;
};

struct ClientInfo {
  static constexpr std::string_view kName = "ClientInfo";
  static constexpr size_t kMinWireSize = 8;
  std::string auth_scheme;
  std::string user;

  [[nodiscard]] absl::Status Read(Reader& r);
  void Write(Writer& w) const;
  bool operator==(const ClientInfo&) const = default;
};

// ---- module org.apache.zookeeper.proto: session and framing ----

// The first frame a client sends. Not in zookeeper.jute 3.8 as one record: the
// client writes the jute ConnectRequest and then a boolean readOnly, which clients
// from before 3.4 leave out; 3.9 folds it into the record with the same bytes.
struct ConnectRequest {
  static constexpr std::string_view kName = "ConnectRequest";
  int32_t protocol_version = 0;
  int64_t last_zxid_seen = 0;
  int32_t timeout_ms = 0;  // timeOut: requested session timeout
  int64_t session_id = 0;  // 0 for a new session
  std::string passwd;
  bool read_only = false;     // client accepts a read-only server
  bool has_read_only = true;  // false: the readOnly byte was absent (old client)

  // Accepts both lengths: without the readOnly byte it sets has_read_only = false.
  // The byte is detected by whether any input is left, so `r` must hold exactly
  // the frame's payload (DecodeConnectRequest does this).
  [[nodiscard]] absl::Status Read(Reader& r);
  // Writes the readOnly byte only if has_read_only.
  void Write(Writer& w) const;
  bool operator==(const ConnectRequest&) const = default;
};

// The server's answer to ConnectRequest; readOnly is optional as above. The server
// omits it when the client omitted it in its request.
struct ConnectResponse {
  static constexpr std::string_view kName = "ConnectResponse";
  int32_t protocol_version = 0;
  int32_t timeout_ms = 0;  // timeOut: negotiated session timeout; 0 = session expired
  int64_t session_id = 0;
  std::string passwd;
  bool read_only = false;
  bool has_read_only = true;

  [[nodiscard]] absl::Status Read(Reader& r);
  void Write(Writer& w) const;
  bool operator==(const ConnectResponse&) const = default;
};

struct RequestHeader {
  static constexpr std::string_view kName = "RequestHeader";
  int32_t xid = 0;
  int32_t type = 0;  // an OpCode number; kept raw so unknown codes can be reported

  OpCode op() const { return static_cast<OpCode>(type); }
  [[nodiscard]] absl::Status Read(Reader& r);
  void Write(Writer& w) const;
  bool operator==(const RequestHeader&) const = default;
};

struct ReplyHeader {
  static constexpr std::string_view kName = "ReplyHeader";
  int32_t xid = 0;
  int64_t zxid = 0;
  int32_t err = 0;  // a ZkError number

  ZkError error() const { return static_cast<ZkError>(err); }
  [[nodiscard]] absl::Status Read(Reader& r);
  void Write(Writer& w) const;
  bool operator==(const ReplyHeader&) const = default;
};

struct MultiHeader {
  static constexpr std::string_view kName = "MultiHeader";
  int32_t type = 0;
  bool done = false;
  int32_t err = 0;

  [[nodiscard]] absl::Status Read(Reader& r);
  void Write(Writer& w) const;
  bool operator==(const MultiHeader&) const = default;
};

struct AuthPacket {
  static constexpr std::string_view kName = "AuthPacket";
  int32_t type = 0;  // always 0 in practice
  std::string scheme;
  std::string auth;

  [[nodiscard]] absl::Status Read(Reader& r);
  void Write(Writer& w) const;
  bool operator==(const AuthPacket&) const = default;
};

struct WatcherEvent {
  static constexpr std::string_view kName = "WatcherEvent";
  int32_t type = 0;   // EventType
  int32_t state = 0;  // KeeperState
  std::string path;

  [[nodiscard]] absl::Status Read(Reader& r);
  void Write(Writer& w) const;
  bool operator==(const WatcherEvent&) const = default;
};

struct SetWatches {
  static constexpr std::string_view kName = "SetWatches";
  int64_t relative_zxid = 0;
  std::vector<std::string> data_watches;
  std::vector<std::string> exist_watches;
  std::vector<std::string> child_watches;

  [[nodiscard]] absl::Status Read(Reader& r);
  void Write(Writer& w) const;
  bool operator==(const SetWatches&) const = default;
};

struct SetWatches2 {
  static constexpr std::string_view kName = "SetWatches2";
  int64_t relative_zxid = 0;
  std::vector<std::string> data_watches;
  std::vector<std::string> exist_watches;
  std::vector<std::string> child_watches;
  std::vector<std::string> persistent_watches;
  std::vector<std::string> persistent_recursive_watches;

  [[nodiscard]] absl::Status Read(Reader& r);
  void Write(Writer& w) const;
  bool operator==(const SetWatches2&) const = default;
};

// ---- requests ----

// A request or response that is only a header (ping, closeSession, whoAmI,
// delete's reply, ...).
struct EmptyRecord {
  static constexpr std::string_view kName = "(empty)";
  [[nodiscard]] absl::Status Read(Reader&) { return absl::OkStatus(); }
  void Write(Writer&) const {}
  bool operator==(const EmptyRecord&) const = default;
};

// create, create2 and createContainer.
struct CreateRequest {
  static constexpr std::string_view kName = "CreateRequest";
  std::string path;
  std::optional<std::string> data;
  std::vector<Acl> acl;
  int32_t flags = 0;  // CreateMode

  [[nodiscard]] absl::Status Read(Reader& r);
  void Write(Writer& w) const;
  bool operator==(const CreateRequest&) const = default;
};

struct CreateTtlRequest {
  static constexpr std::string_view kName = "CreateTTLRequest";
  std::string path;
  std::optional<std::string> data;
  std::vector<Acl> acl;
  int32_t flags = 0;
  int64_t ttl = 0;  // ms

  [[nodiscard]] absl::Status Read(Reader& r);
  void Write(Writer& w) const;
  bool operator==(const CreateTtlRequest&) const = default;
};

struct DeleteRequest {
  static constexpr std::string_view kName = "DeleteRequest";
  std::string path;
  int32_t version = -1;

  [[nodiscard]] absl::Status Read(Reader& r);
  void Write(Writer& w) const;
  bool operator==(const DeleteRequest&) const = default;
};

struct ExistsRequest {
  static constexpr std::string_view kName = "ExistsRequest";
  std::string path;
  bool watch = false;

  [[nodiscard]] absl::Status Read(Reader& r);
  void Write(Writer& w) const;
  bool operator==(const ExistsRequest&) const = default;
};

// Also how getConfig is sent: path kConfigNode.
struct GetDataRequest {
  static constexpr std::string_view kName = "GetDataRequest";
  std::string path;
  bool watch = false;

  [[nodiscard]] absl::Status Read(Reader& r);
  void Write(Writer& w) const;
  bool operator==(const GetDataRequest&) const = default;
};

struct SetDataRequest {
  static constexpr std::string_view kName = "SetDataRequest";
  std::string path;
  std::optional<std::string> data;
  int32_t version = -1;

  [[nodiscard]] absl::Status Read(Reader& r);
  void Write(Writer& w) const;
  bool operator==(const SetDataRequest&) const = default;
};

struct GetAclRequest {
  static constexpr std::string_view kName = "GetACLRequest";
  std::string path;

  [[nodiscard]] absl::Status Read(Reader& r);
  void Write(Writer& w) const;
  bool operator==(const GetAclRequest&) const = default;
};

struct SetAclRequest {
  static constexpr std::string_view kName = "SetACLRequest";
  std::string path;
  std::vector<Acl> acl;
  int32_t version = -1;

  [[nodiscard]] absl::Status Read(Reader& r);
  void Write(Writer& w) const;
  bool operator==(const SetAclRequest&) const = default;
};

struct GetChildrenRequest {
  static constexpr std::string_view kName = "GetChildrenRequest";
  std::string path;
  bool watch = false;

  [[nodiscard]] absl::Status Read(Reader& r);
  void Write(Writer& w) const;
  bool operator==(const GetChildrenRequest&) const = default;
};

struct GetChildren2Request {
  static constexpr std::string_view kName = "GetChildren2Request";
  std::string path;
  bool watch = false;

  [[nodiscard]] absl::Status Read(Reader& r);
  void Write(Writer& w) const;
  bool operator==(const GetChildren2Request&) const = default;
};

struct GetAllChildrenNumberRequest {
  static constexpr std::string_view kName = "GetAllChildrenNumberRequest";
  std::string path;

  [[nodiscard]] absl::Status Read(Reader& r);
  void Write(Writer& w) const;
  bool operator==(const GetAllChildrenNumberRequest&) const = default;
};

struct GetEphemeralsRequest {
  static constexpr std::string_view kName = "GetEphemeralsRequest";
  std::string prefix_path;

  [[nodiscard]] absl::Status Read(Reader& r);
  void Write(Writer& w) const;
  bool operator==(const GetEphemeralsRequest&) const = default;
};

struct SyncRequest {
  static constexpr std::string_view kName = "SyncRequest";
  std::string path;

  [[nodiscard]] absl::Status Read(Reader& r);
  void Write(Writer& w) const;
  bool operator==(const SyncRequest&) const = default;
};

// check (standalone, or inside multi).
struct CheckVersionRequest {
  static constexpr std::string_view kName = "CheckVersionRequest";
  std::string path;
  int32_t version = -1;

  [[nodiscard]] absl::Status Read(Reader& r);
  void Write(Writer& w) const;
  bool operator==(const CheckVersionRequest&) const = default;
};

struct AddWatchRequest {
  static constexpr std::string_view kName = "AddWatchRequest";
  std::string path;
  int32_t mode = 0;  // AddWatchMode

  [[nodiscard]] absl::Status Read(Reader& r);
  void Write(Writer& w) const;
  bool operator==(const AddWatchRequest&) const = default;
};

struct CheckWatchesRequest {
  static constexpr std::string_view kName = "CheckWatchesRequest";
  std::string path;
  int32_t type = 0;  // WatcherType

  [[nodiscard]] absl::Status Read(Reader& r);
  void Write(Writer& w) const;
  bool operator==(const CheckWatchesRequest&) const = default;
};

struct RemoveWatchesRequest {
  static constexpr std::string_view kName = "RemoveWatchesRequest";
  std::string path;
  int32_t type = 0;  // WatcherType

  [[nodiscard]] absl::Status Read(Reader& r);
  void Write(Writer& w) const;
  bool operator==(const RemoveWatchesRequest&) const = default;
};

// Null server lists mean "not given" (zkCli's reconfig -add only sets joining).
struct ReconfigRequest {
  static constexpr std::string_view kName = "ReconfigRequest";
  std::optional<std::string> joining_servers;
  std::optional<std::string> leaving_servers;
  std::optional<std::string> new_members;
  int64_t cur_config_id = -1;

  [[nodiscard]] absl::Status Read(Reader& r);
  void Write(Writer& w) const;
  bool operator==(const ReconfigRequest&) const = default;
};

// The sasl request (op sasl) the client sends; SetSASLRequest has the same bytes.
struct GetSaslRequest {
  static constexpr std::string_view kName = "GetSASLRequest";
  std::optional<std::string> token;

  [[nodiscard]] absl::Status Read(Reader& r);
  void Write(Writer& w) const;
  bool operator==(const GetSaslRequest&) const = default;
};

struct SetSaslRequest {
  static constexpr std::string_view kName = "SetSASLRequest";
  std::optional<std::string> token;

  [[nodiscard]] absl::Status Read(Reader& r);
  void Write(Writer& w) const;
  bool operator==(const SetSaslRequest&) const = default;
};

// ---- responses ----

struct CreateResponse {
  static constexpr std::string_view kName = "CreateResponse";
  std::string path;

  [[nodiscard]] absl::Status Read(Reader& r);
  void Write(Writer& w) const;
  bool operator==(const CreateResponse&) const = default;
};

// Reply to create2, createContainer and createTTL.
struct Create2Response {
  static constexpr std::string_view kName = "Create2Response";
  std::string path;
  Stat stat;

  [[nodiscard]] absl::Status Read(Reader& r);
  void Write(Writer& w) const;
  bool operator==(const Create2Response&) const = default;
};

struct ExistsResponse {
  static constexpr std::string_view kName = "ExistsResponse";
  Stat stat;

  [[nodiscard]] absl::Status Read(Reader& r);
  void Write(Writer& w) const;
  bool operator==(const ExistsResponse&) const = default;
};

// Reply to getData and to reconfig (the new config and its stat).
struct GetDataResponse {
  static constexpr std::string_view kName = "GetDataResponse";
  std::optional<std::string> data;
  Stat stat;

  [[nodiscard]] absl::Status Read(Reader& r);
  void Write(Writer& w) const;
  bool operator==(const GetDataResponse&) const = default;
};

// Reply to setData and to a standalone check.
struct SetDataResponse {
  static constexpr std::string_view kName = "SetDataResponse";
  Stat stat;

  [[nodiscard]] absl::Status Read(Reader& r);
  void Write(Writer& w) const;
  bool operator==(const SetDataResponse&) const = default;
};

struct GetAclResponse {
  static constexpr std::string_view kName = "GetACLResponse";
  std::vector<Acl> acl;
  Stat stat;

  [[nodiscard]] absl::Status Read(Reader& r);
  void Write(Writer& w) const;
  bool operator==(const GetAclResponse&) const = default;
};

struct SetAclResponse {
  static constexpr std::string_view kName = "SetACLResponse";
  Stat stat;

  [[nodiscard]] absl::Status Read(Reader& r);
  void Write(Writer& w) const;
  bool operator==(const SetAclResponse&) const = default;
};

struct GetChildrenResponse {
  static constexpr std::string_view kName = "GetChildrenResponse";
  std::vector<std::string> children;

  [[nodiscard]] absl::Status Read(Reader& r);
  void Write(Writer& w) const;
  bool operator==(const GetChildrenResponse&) const = default;
};

struct GetChildren2Response {
  static constexpr std::string_view kName = "GetChildren2Response";
  std::vector<std::string> children;
  Stat stat;

  [[nodiscard]] absl::Status Read(Reader& r);
  void Write(Writer& w) const;
  bool operator==(const GetChildren2Response&) const = default;
};

struct GetAllChildrenNumberResponse {
  static constexpr std::string_view kName = "GetAllChildrenNumberResponse";
  int32_t total_number = 0;

  [[nodiscard]] absl::Status Read(Reader& r);
  void Write(Writer& w) const;
  bool operator==(const GetAllChildrenNumberResponse&) const = default;
};

struct GetEphemeralsResponse {
  static constexpr std::string_view kName = "GetEphemeralsResponse";
  std::vector<std::string> ephemerals;

  [[nodiscard]] absl::Status Read(Reader& r);
  void Write(Writer& w) const;
  bool operator==(const GetEphemeralsResponse&) const = default;
};

struct SyncResponse {
  static constexpr std::string_view kName = "SyncResponse";
  std::string path;

  [[nodiscard]] absl::Status Read(Reader& r);
  void Write(Writer& w) const;
  bool operator==(const SyncResponse&) const = default;
};

struct SetSaslResponse {
  static constexpr std::string_view kName = "SetSASLResponse";
  std::optional<std::string> token;

  [[nodiscard]] absl::Status Read(Reader& r);
  void Write(Writer& w) const;
  bool operator==(const SetSaslResponse&) const = default;
};

struct WhoAmIResponse {
  static constexpr std::string_view kName = "WhoAmIResponse";
  std::vector<ClientInfo> client_info;

  [[nodiscard]] absl::Status Read(Reader& r);
  void Write(Writer& w) const;
  bool operator==(const WhoAmIResponse&) const = default;
};

// Reply to addWatch (err 0), and a failed op's result inside a multi response.
struct ErrorResponse {
  static constexpr std::string_view kName = "ErrorResponse";
  int32_t err = 0;  // a ZkError number

  [[nodiscard]] absl::Status Read(Reader& r);
  void Write(Writer& w) const;
  bool operator==(const ErrorResponse&) const = default;
};

// ---- multi (MultiOperationRecord / MultiResponse) ----
//
// A multi or multiRead request is a sequence of MultiHeader{type, done=false,
// err=-1} + op record, ended by MultiHeader{-1, true, -1}. Allowed op types:
// create, create2, createContainer (CreateRequest), createTTL (CreateTTLRequest),
// delete, setData, check (write multi) and getChildren, getData (multiRead).

using MultiOpRecord = std::variant<CreateRequest, CreateTtlRequest, DeleteRequest, SetDataRequest,
                                   CheckVersionRequest, GetChildrenRequest, GetDataRequest>;

struct MultiOp {
  OpCode type = OpCode::kCreate;  // selects the record and, for CreateRequest, the create kind
  MultiOpRecord request;
  bool operator==(const MultiOp&) const = default;
};

struct MultiRequest {
  static constexpr std::string_view kName = "MultiRequest";
  std::vector<MultiOp> ops;

  // Errors: as Reader's, and InvalidArgument for an op type not allowed in multi.
  [[nodiscard]] absl::Status Read(Reader& r);
  // REQUIRES: each op's record matches its type (ENSEMBLE_CHECK).
  void Write(Writer& w) const;
  bool operator==(const MultiRequest&) const = default;
};

// The result of one op of a multi, as ZooKeeper's OpResult. The header type comes
// from the alternative: CreateResponse -> create, Create2Response -> create2,
// kDelete/kCheck results carry no record, ErrorResponse -> error (-1).
struct MultiDeleteResult {
  bool operator==(const MultiDeleteResult&) const = default;
};
struct MultiCheckResult {
  bool operator==(const MultiCheckResult&) const = default;
};
using MultiResult =
    std::variant<CreateResponse, Create2Response, MultiDeleteResult, MultiCheckResult,
                 SetDataResponse, GetChildrenResponse, GetDataResponse, ErrorResponse>;

// MultiHeader.type written for a result.
OpCode MultiResultType(const MultiResult& result);

// A sequence of MultiHeader{type, false, err} + result record, ended by
// MultiHeader{-1, true, -1}; err is the ErrorResponse's err for a failed op, else 0.
// An aborted write multi has an ErrorResponse for every op (the codes are the
// server's business, not the codec's).
struct MultiResponse {
  static constexpr std::string_view kName = "MultiResponse";
  std::vector<MultiResult> results;

  [[nodiscard]] absl::Status Read(Reader& r);
  void Write(Writer& w) const;
  bool operator==(const MultiResponse&) const = default;
};

}  // namespace ensemble::jute

#include "common/jute/request.h"

#include <string>
#include <vector>

#include "common/jute/frame.h"
#include "common/jute/zoo_defs.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ensemble::jute {
namespace {

using ::testing::HasSubstr;

// Strips the 4-byte length of a single encoded frame, checking it.
std::string Payload(const std::string& frame) {
  FrameDecoder d;
  d.Feed(frame);
  auto next = d.Next();
  EXPECT_TRUE(next.ok() && next->has_value());
  EXPECT_EQ(d.buffered(), 0u);
  if (!next.ok() || !next->has_value()) return "";
  return std::string(**next);
}

RequestHeader Header(int32_t xid, OpCode op) {
  return RequestHeader{xid, static_cast<int32_t>(op)};
}

std::vector<Acl> OpenAcl() { return {Acl{perms::kAll, Id{"world", "anyone"}}}; }

// One request per client op, each with the record its op selects.
std::vector<Request> EveryClientRequest() {
  MultiRequest multi;
  multi.ops.push_back({OpCode::kCreate, CreateRequest{"/m", "d", OpenAcl(), 0}});
  multi.ops.push_back({OpCode::kCheck, CheckVersionRequest{"/m", 0}});
  MultiRequest multi_read;
  multi_read.ops.push_back({OpCode::kGetData, GetDataRequest{"/m", false}});
  return {
      {Header(1, OpCode::kCreate), CreateRequest{"/a", "x", OpenAcl(), 0}},
      {Header(2, OpCode::kCreate2), CreateRequest{"/a", std::nullopt, OpenAcl(), 2}},
      {Header(3, OpCode::kCreateContainer), CreateRequest{"/c", "", OpenAcl(), 4}},
      {Header(4, OpCode::kCreateTtl), CreateTtlRequest{"/t", "x", OpenAcl(), 5, 1000}},
      {Header(5, OpCode::kDelete), DeleteRequest{"/a", -1}},
      {Header(6, OpCode::kExists), ExistsRequest{"/a", true}},
      {Header(7, OpCode::kGetData), GetDataRequest{std::string(kConfigNode), true}},
      {Header(8, OpCode::kSetData), SetDataRequest{"/a", "y", 1}},
      {Header(9, OpCode::kGetAcl), GetAclRequest{"/a"}},
      {Header(10, OpCode::kSetAcl), SetAclRequest{"/a", OpenAcl(), 0}},
      {Header(11, OpCode::kGetChildren), GetChildrenRequest{"/", false}},
      {Header(12, OpCode::kSync), SyncRequest{"/"}},
      {Header(kPingXid, OpCode::kPing), EmptyRecord{}},
      {Header(13, OpCode::kGetChildren2), GetChildren2Request{"/", true}},
      {Header(14, OpCode::kCheck), CheckVersionRequest{"/a", 3}},
      {Header(15, OpCode::kMulti), multi},
      {Header(16, OpCode::kReconfig), ReconfigRequest{std::nullopt, "3", std::nullopt, -1}},
      {Header(17, OpCode::kCheckWatches), CheckWatchesRequest{"/a", 1}},
      {Header(18, OpCode::kRemoveWatches), RemoveWatchesRequest{"/a", 3}},
      {Header(19, OpCode::kMultiRead), multi_read},
      {Header(kAuthXid, OpCode::kAuth), AuthPacket{0, "digest", "u:p"}},
      {Header(kSetWatchesXid, OpCode::kSetWatches), SetWatches{5, {"/a"}, {"/b"}, {"/c"}}},
      {Header(20, OpCode::kSasl), GetSaslRequest{"token"}},
      {Header(21, OpCode::kGetEphemerals), GetEphemeralsRequest{"/"}},
      {Header(22, OpCode::kGetAllChildrenNumber), GetAllChildrenNumberRequest{"/"}},
      {Header(kSetWatchesXid, OpCode::kSetWatches2),
       SetWatches2{6, {"/a"}, {}, {}, {"/p"}, {"/r"}}},
      {Header(23, OpCode::kAddWatch), AddWatchRequest{"/a", 1}},
      {Header(24, OpCode::kWhoAmI), EmptyRecord{}},
      {Header(25, OpCode::kCloseSession), EmptyRecord{}},
  };
}

TEST(Request, EveryClientOpRoundTripsThroughClientEncodeAndServerDecode) {
  std::vector<Request> requests = EveryClientRequest();
  EXPECT_EQ(requests.size(), 29u);
  for (const Request& request : requests) {
    SCOPED_TRACE(std::string(OpCodeName(request.op())));
    std::string frame = EncodeRequest(request.header, request.body);
    absl::StatusOr<Request> decoded = DecodeRequest(Payload(frame));
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(*decoded, request);
  }
}

TEST(Request, StreamOfManyRequestsDecodesInOrder) {
  std::string stream;
  std::vector<Request> requests = EveryClientRequest();
  for (const Request& request : requests) AppendRequest(&stream, request.header, request.body);
  FrameDecoder decoder;
  std::vector<Request> decoded;
  // Feed in 7-byte chunks: frames straddle chunk boundaries.
  for (size_t i = 0; i < stream.size(); i += 7) {
    decoder.Feed(std::string_view(stream).substr(i, 7));
    for (;;) {
      auto frame = decoder.Next();
      ASSERT_TRUE(frame.ok());
      if (!frame->has_value()) break;
      absl::StatusOr<Request> request = DecodeRequest(**frame);
      ASSERT_TRUE(request.ok()) << request.status();
      decoded.push_back(*std::move(request));
    }
  }
  EXPECT_EQ(decoded, requests);
}

TEST(Request, UnknownOpCodeIsUnimplementedAndNamesIt) {
  Writer w;
  RequestHeader{9, 55}.Write(w);
  absl::StatusOr<Request> decoded = DecodeRequest(w.data());
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(decoded.status().message(), HasSubstr("unknown op code 55"));
  EXPECT_THAT(decoded.status().message(), HasSubstr("xid 9"));
}

TEST(Request, ServerInternalOpCodesAreNotClientRequests) {
  for (OpCode op :
       {OpCode::kNotification, OpCode::kError, OpCode::kCreateSession, OpCode::kDeleteContainer}) {
    Writer w;
    Header(1, op).Write(w);
    absl::StatusOr<Request> decoded = DecodeRequest(w.data());
    ASSERT_FALSE(decoded.ok());
    EXPECT_EQ(decoded.status().code(), absl::StatusCode::kUnimplemented);
    EXPECT_THAT(decoded.status().message(), HasSubstr(std::string(OpCodeName(op))));
  }
}

TEST(Request, HeaderIsReadableWhenBodyIsBad) {
  Writer w;
  Header(77, OpCode::kGetData).Write(w);
  w.WriteInt(-9);  // bad path length
  absl::StatusOr<Request> decoded = DecodeRequest(w.data());
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(decoded.status().message(),
              HasSubstr("getData (op 4) xid 77: GetDataRequest.path: negative length -9"));
  absl::StatusOr<RequestHeader> header = DecodeRequestHeader(w.data());
  ASSERT_TRUE(header.ok());
  EXPECT_EQ(header->xid, 77);
  EXPECT_EQ(header->op(), OpCode::kGetData);
}

TEST(Request, TruncatedHeaderFails) {
  EXPECT_EQ(DecodeRequest(std::string("\0\0\0", 3)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DecodeRequest("").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(DecodeRequestHeader("1234567").ok());
}

TEST(Request, TrailingBytesRejectedByDefaultAndAllowedOnRequest) {
  Writer w;
  Header(3, OpCode::kPing).Write(w);
  w.WriteBool(true);
  absl::StatusOr<Request> strict = DecodeRequest(w.data());
  ASSERT_FALSE(strict.ok());
  EXPECT_EQ(strict.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(strict.status().message(), HasSubstr("1 unexpected trailing bytes"));
  absl::StatusOr<Request> lenient = DecodeRequest(w.data(), {.allow_trailing_bytes = true});
  ASSERT_TRUE(lenient.ok()) << lenient.status();
  EXPECT_EQ(lenient->op(), OpCode::kPing);
}

TEST(Request, MaxLengthOptionBoundsFields) {
  std::string frame =
      EncodeRequest(Header(1, OpCode::kSetData), SetDataRequest{"/a", std::string(2000, 'd'), -1});
  EXPECT_TRUE(DecodeRequest(Payload(frame)).ok());
  absl::StatusOr<Request> bounded = DecodeRequest(Payload(frame), {.max_length = 1000});
  EXPECT_EQ(bounded.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(bounded.status().message(), HasSubstr("SetDataRequest.data: length 2000"));
}

TEST(Request, EmptyRequestBodyMatchesRecordPerOp) {
  EXPECT_TRUE(std::holds_alternative<CreateRequest>(*EmptyRequestBody(19)));
  EXPECT_TRUE(std::holds_alternative<CreateTtlRequest>(*EmptyRequestBody(21)));
  EXPECT_TRUE(std::holds_alternative<MultiRequest>(*EmptyRequestBody(22)));
  EXPECT_TRUE(std::holds_alternative<GetSaslRequest>(*EmptyRequestBody(102)));
  EXPECT_TRUE(std::holds_alternative<EmptyRecord>(*EmptyRequestBody(107)));
  EXPECT_FALSE(EmptyRequestBody(10).ok());
}

// ---- connect ----

TEST(Connect, RequestWithAndWithoutReadOnlyDecode) {
  ConnectRequest c{0, 0x100000005, 10000, 0, std::string(16, '\0'), true, true};
  absl::StatusOr<ConnectRequest> with = DecodeConnectRequest(Payload(EncodeConnectRequest(c)));
  ASSERT_TRUE(with.ok()) << with.status();
  EXPECT_EQ(*with, c);

  c.has_read_only = false;
  c.read_only = false;
  absl::StatusOr<ConnectRequest> without = DecodeConnectRequest(Payload(EncodeConnectRequest(c)));
  ASSERT_TRUE(without.ok()) << without.status();
  EXPECT_FALSE(without->has_read_only);
  EXPECT_EQ(*without, c);
}

TEST(Connect, TrailingBytesAfterReadOnlyAreRejected) {
  ConnectRequest c{0, 0, 10000, 0, std::string(16, '\0'), false, true};
  std::string payload = Payload(EncodeConnectRequest(c)) + "zz";
  absl::StatusOr<ConnectRequest> decoded = DecodeConnectRequest(payload);
  EXPECT_EQ(decoded.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(decoded.status().message(), HasSubstr("ConnectRequest: 2 unexpected trailing bytes"));
}

TEST(Connect, ResponseOmitsReadOnlyForOldClient) {
  ConnectResponse r{0, 4000, 0x42, std::string(16, '\7'), false, false};
  std::string frame = EncodeConnectResponse(r);
  EXPECT_EQ(frame.size(), 4u + 36);
  absl::StatusOr<ConnectResponse> decoded = DecodeConnectResponse(Payload(frame));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, r);
  r.has_read_only = true;
  EXPECT_EQ(EncodeConnectResponse(r).size(), 4u + 37);
}

// ---- responses ----

TEST(Response, EveryOpReplyRoundTripsThroughServerEncodeAndClientDecode) {
  Stat stat;
  stat.czxid = 5;
  stat.num_children = 1;
  MultiResponse multi;
  multi.results = {CreateResponse{"/m"}, MultiCheckResult{}};
  struct Case {
    OpCode op;
    ResponseBody body;
  };
  std::vector<Case> cases = {
      {OpCode::kCreate, CreateResponse{"/a"}},
      {OpCode::kCreate2, Create2Response{"/a", stat}},
      {OpCode::kCreateContainer, Create2Response{"/c", stat}},
      {OpCode::kCreateTtl, Create2Response{"/t", stat}},
      {OpCode::kDelete, EmptyRecord{}},
      {OpCode::kExists, ExistsResponse{stat}},
      {OpCode::kGetData, GetDataResponse{"data", stat}},
      {OpCode::kGetData, GetDataResponse{std::nullopt, stat}},
      {OpCode::kReconfig, GetDataResponse{"server.1=a:1:2", stat}},
      {OpCode::kSetData, SetDataResponse{stat}},
      {OpCode::kCheck, SetDataResponse{stat}},
      {OpCode::kGetAcl, GetAclResponse{OpenAcl(), stat}},
      {OpCode::kSetAcl, SetAclResponse{stat}},
      {OpCode::kGetChildren, GetChildrenResponse{{"a", "b"}}},
      {OpCode::kGetChildren2, GetChildren2Response{{"a"}, stat}},
      {OpCode::kSync, SyncResponse{"/"}},
      {OpCode::kMulti, multi},
      {OpCode::kMultiRead, MultiResponse{}},
      {OpCode::kCheckWatches, EmptyRecord{}},
      {OpCode::kRemoveWatches, EmptyRecord{}},
      {OpCode::kSasl, SetSaslResponse{std::nullopt}},
      {OpCode::kGetEphemerals, GetEphemeralsResponse{{"/e"}}},
      {OpCode::kGetAllChildrenNumber, GetAllChildrenNumberResponse{3}},
      {OpCode::kAddWatch, ErrorResponse{0}},
      {OpCode::kWhoAmI, WhoAmIResponse{{ClientInfo{"ip", "127.0.0.1"}}}},
      {OpCode::kCloseSession, EmptyRecord{}},
  };
  int32_t xid = 100;
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(OpCodeName(c.op)));
    ReplyHeader header{++xid, 0x100000010, 0};
    std::string frame = EncodeResponse(header, c.body);
    absl::StatusOr<ReplyHeader> peek = DecodeReplyHeader(Payload(frame));
    ASSERT_TRUE(peek.ok());
    EXPECT_EQ(peek->xid, xid);
    absl::StatusOr<Response> decoded = DecodeResponse(Payload(frame), c.op);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(decoded->header, header);
    EXPECT_EQ(decoded->body, c.body);
  }
}

TEST(Response, ErrorReplyHasNoBody) {
  ReplyHeader header{7, 0x10, static_cast<int32_t>(ZkError::kNoNode)};
  std::string frame = EncodeResponse(header, EmptyRecord{});
  EXPECT_EQ(frame.size(), 4u + 16);
  absl::StatusOr<Response> decoded = DecodeResponse(Payload(frame), OpCode::kGetData);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->header.error(), ZkError::kNoNode);
  EXPECT_TRUE(std::holds_alternative<EmptyRecord>(decoded->body));
}

TEST(Response, NotificationIsDecodedWhateverTheOp) {
  WatcherEvent event{static_cast<int32_t>(EventType::kNodeDataChanged),
                     static_cast<int32_t>(KeeperState::kSyncConnected), "/w"};
  std::string frame = EncodeNotification(event);
  absl::StatusOr<Response> decoded = DecodeResponse(Payload(frame), OpCode::kError);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->header, (ReplyHeader{kNotificationXid, -1, 0}));
  EXPECT_EQ(std::get<WatcherEvent>(decoded->body), event);
}

TEST(Response, SpecialXidRepliesAreHeaderOnly) {
  for (int32_t xid : {kPingXid, kAuthXid, kSetWatchesXid}) {
    std::string frame = EncodeResponse(ReplyHeader{xid, 0x99, 0}, EmptyRecord{});
    absl::StatusOr<Response> decoded = DecodeResponse(Payload(frame), OpCode::kGetData);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_TRUE(std::holds_alternative<EmptyRecord>(decoded->body));
  }
}

TEST(Response, TruncatedBodyNamesTheOpAndXid) {
  std::string frame = EncodeResponse(ReplyHeader{12, 1, 0}, ExistsResponse{});
  std::string payload = Payload(frame);
  payload.resize(payload.size() - 3);
  absl::StatusOr<Response> decoded = DecodeResponse(payload, OpCode::kExists);
  ASSERT_FALSE(decoded.ok());
  EXPECT_THAT(
      decoded.status().message(),
      HasSubstr("reply to exists (op 3) xid 12: ExistsResponse.stat: Stat.pzxid: truncated"));
}

TEST(Response, OpWithoutReplyIsUnimplemented) {
  std::string frame = EncodeResponse(ReplyHeader{12, 1, 0}, EmptyRecord{});
  EXPECT_EQ(DecodeResponse(Payload(frame), OpCode::kCreateSession).status().code(),
            absl::StatusCode::kUnimplemented);
}

}  // namespace
}  // namespace ensemble::jute

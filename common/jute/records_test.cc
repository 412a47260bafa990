#include "common/jute/records.h"

#include <string>
#include <vector>

#include "common/jute/zoo_defs.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ensemble::jute {
namespace {

using ::testing::HasSubstr;

template <typename T>
std::string Encode(const T& record) {
  Writer w;
  record.Write(w);
  return w.Release();
}

// Writes `record`, reads it back, and checks it is equal and consumed every byte;
// then checks that every strict prefix of the bytes fails to decode cleanly.
// REQUIRES: T's encoding has no optional tail (not ConnectRequest/Response).
template <typename T>
void ExpectRoundTrip(const T& record) {
  SCOPED_TRACE(std::string(T::kName));
  const std::string bytes = Encode(record);
  {
    Reader r(bytes);
    T decoded;
    absl::Status s = decoded.Read(r);
    ASSERT_TRUE(s.ok()) << s;
    EXPECT_TRUE(r.AtEnd()) << r.remaining() << " bytes left";
    EXPECT_EQ(decoded, record);
    EXPECT_EQ(Encode(decoded), bytes);
  }
  for (size_t n = 0; n < bytes.size(); ++n) {
    Reader r(std::string_view(bytes).substr(0, n));
    T decoded;
    absl::Status s = decoded.Read(r);
    // A record whose every field is empty can legitimately decode from fewer
    // bytes only if it is EmptyRecord; all others must report truncation.
    EXPECT_FALSE(s.ok()) << "prefix of " << n << " bytes decoded";
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  }
}

Stat SampleStat() {
  Stat s;
  s.czxid = 0x100000001;
  s.mzxid = 0x200000002;
  s.ctime = 1700000000123;
  s.mtime = 1700000000456;
  s.version = 7;
  s.cversion = -3;
  s.aversion = 1;
  s.ephemeral_owner = static_cast<int64_t>(0x8123456789abcdefULL);
  s.data_length = 6;
  s.num_children = 2;
  s.pzxid = 0x300000003;
  return s;
}

std::vector<Acl> SampleAcls() {
  return {Acl{perms::kAll, Id{"world", "anyone"}}, Acl{perms::kRead, Id{"digest", "u:h="}}};
}

const std::string kData("\0\1\2\xff\x80z", 6);

TEST(Records, DataRecordsRoundTrip) {
  ExpectRoundTrip(Id{"ip", "10.0.0.1"});
  ExpectRoundTrip(Acl{perms::kRead | perms::kAdmin, Id{"sasl", "zk"}});
  ExpectRoundTrip(SampleStat());
  ExpectRoundTrip(ClientInfo{"digest", "alice"});
}

TEST(Records, HeadersRoundTrip) {
  ExpectRoundTrip(RequestHeader{kPingXid, static_cast<int32_t>(OpCode::kPing)});
  ExpectRoundTrip(ReplyHeader{17, 0x500000001, static_cast<int32_t>(ZkError::kNoNode)});
  ExpectRoundTrip(MultiHeader{static_cast<int32_t>(OpCode::kDelete), false, -1});
  ExpectRoundTrip(MultiHeader{-1, true, -1});
}

TEST(Records, SessionRecordsRoundTrip) {
  ExpectRoundTrip(AuthPacket{0, "digest", "alice:pw"});
  ExpectRoundTrip(WatcherEvent{static_cast<int32_t>(EventType::kNodeDeleted),
                               static_cast<int32_t>(KeeperState::kSyncConnected), "/a/b"});
  ExpectRoundTrip(SetWatches{0x10, {"/d1", "/d2"}, {}, {"/c"}});
  ExpectRoundTrip(SetWatches2{0x20, {"/d"}, {"/e"}, {}, {"/p"}, {"/r1", "/r2"}});
}

TEST(Records, RequestsRoundTrip) {
  ExpectRoundTrip(CreateRequest{"/n", kData, SampleAcls(),
                                static_cast<int32_t>(CreateMode::kEphemeralSequential)});
  ExpectRoundTrip(CreateRequest{"/null-data", std::nullopt, SampleAcls(), 0});
  ExpectRoundTrip(CreateTtlRequest{"/ttl", kData, SampleAcls(),
                                   static_cast<int32_t>(CreateMode::kPersistentWithTtl), 5000});
  ExpectRoundTrip(DeleteRequest{"/d", 3});
  ExpectRoundTrip(ExistsRequest{"/e", true});
  ExpectRoundTrip(GetDataRequest{std::string(kConfigNode), true});
  ExpectRoundTrip(SetDataRequest{"/s", kData, -1});
  ExpectRoundTrip(SetDataRequest{"/s", std::nullopt, 2});
  ExpectRoundTrip(GetAclRequest{"/acl"});
  ExpectRoundTrip(SetAclRequest{"/acl", SampleAcls(), 4});
  ExpectRoundTrip(GetChildrenRequest{"/c", true});
  ExpectRoundTrip(GetChildren2Request{"/c2", false});
  ExpectRoundTrip(GetAllChildrenNumberRequest{"/all"});
  ExpectRoundTrip(GetEphemeralsRequest{"/pre"});
  ExpectRoundTrip(SyncRequest{"/sync"});
  ExpectRoundTrip(CheckVersionRequest{"/chk", 8});
  ExpectRoundTrip(AddWatchRequest{"/w", static_cast<int32_t>(AddWatchMode::kPersistentRecursive)});
  ExpectRoundTrip(CheckWatchesRequest{"/w", static_cast<int32_t>(WatcherType::kData)});
  ExpectRoundTrip(RemoveWatchesRequest{"/w", static_cast<int32_t>(WatcherType::kAny)});
  ExpectRoundTrip(ReconfigRequest{"server.4=h:1:2;3", std::nullopt, std::nullopt, -1});
  ExpectRoundTrip(ReconfigRequest{std::nullopt, "2", "", 0x700000000});
  ExpectRoundTrip(GetSaslRequest{kData});
  ExpectRoundTrip(GetSaslRequest{std::nullopt});
  ExpectRoundTrip(SetSaslRequest{std::string()});
}

TEST(Records, ResponsesRoundTrip) {
  ExpectRoundTrip(CreateResponse{"/n0000000001"});
  ExpectRoundTrip(Create2Response{"/n", SampleStat()});
  ExpectRoundTrip(ExistsResponse{SampleStat()});
  ExpectRoundTrip(GetDataResponse{kData, SampleStat()});
  ExpectRoundTrip(GetDataResponse{std::nullopt, SampleStat()});
  ExpectRoundTrip(SetDataResponse{SampleStat()});
  ExpectRoundTrip(GetAclResponse{SampleAcls(), SampleStat()});
  ExpectRoundTrip(SetAclResponse{SampleStat()});
  ExpectRoundTrip(GetChildrenResponse{{"a", "b", ""}});
  ExpectRoundTrip(GetChildren2Response{{"x"}, SampleStat()});
  ExpectRoundTrip(GetAllChildrenNumberResponse{42});
  ExpectRoundTrip(GetEphemeralsResponse{{"/e1", "/e2"}});
  ExpectRoundTrip(SyncResponse{"/sync"});
  ExpectRoundTrip(SetSaslResponse{kData});
  ExpectRoundTrip(SetSaslResponse{std::nullopt});
  ExpectRoundTrip(WhoAmIResponse{{ClientInfo{"ip", "127.0.0.1"}, ClientInfo{"digest", "bob"}}});
  ExpectRoundTrip(ErrorResponse{static_cast<int32_t>(ZkError::kNodeExists)});
}

TEST(Records, MultiRoundTrip) {
  MultiRequest multi;
  multi.ops.push_back({OpCode::kCreate, CreateRequest{"/a", kData, SampleAcls(), 0}});
  multi.ops.push_back({OpCode::kCreate2, CreateRequest{"/b", std::nullopt, SampleAcls(), 1}});
  multi.ops.push_back({OpCode::kCreateContainer, CreateRequest{"/c", kData, SampleAcls(), 4}});
  multi.ops.push_back({OpCode::kCreateTtl, CreateTtlRequest{"/t", kData, SampleAcls(), 5, 100}});
  multi.ops.push_back({OpCode::kDelete, DeleteRequest{"/d", -1}});
  multi.ops.push_back({OpCode::kSetData, SetDataRequest{"/a", kData, 3}});
  multi.ops.push_back({OpCode::kCheck, CheckVersionRequest{"/a", 4}});
  ExpectRoundTrip(multi);
  ExpectRoundTrip(MultiRequest{});

  MultiRequest read;
  read.ops.push_back({OpCode::kGetChildren, GetChildrenRequest{"/", false}});
  read.ops.push_back({OpCode::kGetData, GetDataRequest{"/a", false}});
  ExpectRoundTrip(read);

  MultiResponse response;
  response.results = {CreateResponse{"/a"},
                      Create2Response{"/b", SampleStat()},
                      MultiDeleteResult{},
                      SetDataResponse{SampleStat()},
                      MultiCheckResult{},
                      GetChildrenResponse{{"x"}},
                      GetDataResponse{kData, SampleStat()},
                      ErrorResponse{static_cast<int32_t>(ZkError::kBadVersion)}};
  ExpectRoundTrip(response);
  ExpectRoundTrip(MultiResponse{});
}

TEST(Records, MultiHeadersCarryZooKeeperTypeDoneAndErr) {
  MultiRequest multi;
  multi.ops.push_back({OpCode::kDelete, DeleteRequest{"/d", 1}});
  Writer expected;
  MultiHeader{2, false, -1}.Write(expected);
  DeleteRequest{"/d", 1}.Write(expected);
  MultiHeader{-1, true, -1}.Write(expected);
  EXPECT_EQ(Encode(multi), expected.data());

  MultiResponse response;
  response.results = {MultiDeleteResult{}, ErrorResponse{-101}};
  Writer expected_response;
  MultiHeader{2, false, 0}.Write(expected_response);
  MultiHeader{-1, false, -101}.Write(expected_response);
  ErrorResponse{-101}.Write(expected_response);
  MultiHeader{-1, true, -1}.Write(expected_response);
  EXPECT_EQ(Encode(response), expected_response.data());
}

TEST(Records, MultiRejectsOpTypeNotAllowedInMulti) {
  Writer w;
  MultiHeader{static_cast<int32_t>(OpCode::kSetAcl), false, -1}.Write(w);
  SetAclRequest{"/a", {}, 1}.Write(w);
  MultiHeader{-1, true, -1}.Write(w);
  Reader r(w.data());
  MultiRequest multi;
  absl::Status s = multi.Read(r);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("MultiRequest.ops[0]: op type 7 (setACL) is not allowed"));
}

TEST(Records, MultiWithoutDoneHeaderIsTruncated) {
  Writer w;
  MultiHeader{static_cast<int32_t>(OpCode::kDelete), false, -1}.Write(w);
  DeleteRequest{"/a", 1}.Write(w);
  Reader r(w.data());
  MultiRequest multi;
  absl::Status s = multi.Read(r);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("MultiRequest.ops[1]: MultiHeader.type: truncated"));
}

TEST(Records, MultiResponseRejectsUnknownResultType) {
  Writer w;
  MultiHeader{static_cast<int32_t>(OpCode::kSync), false, 0}.Write(w);
  Reader r(w.data());
  MultiResponse response;
  EXPECT_THAT(response.Read(r).message(), HasSubstr("result type 9 (sync) is not allowed"));
}

TEST(Records, MultiResultTypes) {
  EXPECT_EQ(MultiResultType(CreateResponse{}), OpCode::kCreate);
  EXPECT_EQ(MultiResultType(Create2Response{}), OpCode::kCreate2);
  EXPECT_EQ(MultiResultType(MultiDeleteResult{}), OpCode::kDelete);
  EXPECT_EQ(MultiResultType(MultiCheckResult{}), OpCode::kCheck);
  EXPECT_EQ(MultiResultType(ErrorResponse{}), OpCode::kError);
}

TEST(Records, NestedErrorsNameTheWholePath) {
  Writer w;
  w.WriteString("/p");
  w.WriteNullableBuffer(std::nullopt);
  w.WriteInt(2);  // two ACLs
  Acl{1, Id{"a", "b"}}.Write(w);
  w.WriteInt(31);  // second ACL: perms, then a truncated Id
  w.WriteString("world");
  Reader r(w.data());
  CreateRequest req;
  absl::Status s = req.Read(r);
  EXPECT_THAT(s.message(), HasSubstr("CreateRequest.acl[1]: ACL.id: Id.id: truncated"));
}

TEST(Records, StatIsSixtyEightBytes) { EXPECT_EQ(Encode(SampleStat()).size(), Stat::kMinWireSize); }

// ---- ConnectRequest / ConnectResponse: the optional readOnly byte ----

ConnectRequest SampleConnect() {
  ConnectRequest c;
  c.protocol_version = 0;
  c.last_zxid_seen = 0x500000007;
  c.timeout_ms = 30000;
  c.session_id = 0x1234567890abcdef;
  c.passwd = std::string(16, '\x5a');
  c.read_only = true;
  return c;
}

TEST(ConnectRequest, WithReadOnlyByteIsFortyFiveBytes) {
  ConnectRequest c = SampleConnect();
  std::string bytes = Encode(c);
  EXPECT_EQ(bytes.size(), 4u + 8 + 4 + 8 + 4 + 16 + 1);
  EXPECT_EQ(bytes.back(), '\1');
  Reader r(bytes);
  ConnectRequest decoded;
  ASSERT_TRUE(decoded.Read(r).ok());
  EXPECT_TRUE(r.AtEnd());
  EXPECT_TRUE(decoded.has_read_only);
  EXPECT_TRUE(decoded.read_only);
  EXPECT_EQ(decoded, c);
}

TEST(ConnectRequest, OldClientWithoutReadOnlyByteDecodes) {
  ConnectRequest c = SampleConnect();
  c.has_read_only = false;
  c.read_only = false;
  std::string bytes = Encode(c);
  EXPECT_EQ(bytes.size(), 44u);
  Reader r(bytes);
  ConnectRequest decoded;
  ASSERT_TRUE(decoded.Read(r).ok());
  EXPECT_FALSE(decoded.has_read_only);
  EXPECT_FALSE(decoded.read_only);
  EXPECT_EQ(decoded, c);
  EXPECT_EQ(Encode(decoded), bytes);
}

TEST(ConnectRequest, TruncatedBeforeReadOnlyFails) {
  std::string bytes = Encode(SampleConnect());
  for (size_t n = 0; n < 44; ++n) {
    Reader r(std::string_view(bytes).substr(0, n));
    ConnectRequest decoded;
    EXPECT_FALSE(decoded.Read(r).ok()) << n;
  }
}

TEST(ConnectRequest, OversizedPasswordIsRejected) {
  Writer w;
  w.WriteInt(0);
  w.WriteLong(0);
  w.WriteInt(30000);
  w.WriteLong(0);
  w.WriteInt(kDefaultMaxBuffer + 5);
  Reader r(w.data());
  ConnectRequest decoded;
  absl::Status s = decoded.Read(r);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(s.message(), HasSubstr("ConnectRequest.passwd"));
}

TEST(ConnectResponse, BothLengthsRoundTrip) {
  ConnectResponse c{0, 20000, 0x77, std::string(16, '\1'), true, true};
  std::string with = Encode(c);
  EXPECT_EQ(with.size(), 37u);
  Reader r(with);
  ConnectResponse decoded;
  ASSERT_TRUE(decoded.Read(r).ok());
  EXPECT_EQ(decoded, c);

  c.has_read_only = false;
  c.read_only = false;
  std::string without = Encode(c);
  EXPECT_EQ(without.size(), 36u);
  Reader r2(without);
  ASSERT_TRUE(decoded.Read(r2).ok());
  EXPECT_EQ(decoded, c);
}

// ---- code tables ----

TEST(OpCode, NamesAndNumbersMatchZooDefs) {
  EXPECT_EQ(OpCodeName(OpCode::kGetChildren2), "getChildren2");
  EXPECT_EQ(static_cast<int32_t>(OpCode::kWhoAmI), 107);
  EXPECT_EQ(static_cast<int32_t>(OpCode::kCloseSession), -11);
  EXPECT_EQ(OpCodeFromInt(106), OpCode::kAddWatch);
  EXPECT_EQ(OpCodeFromInt(10), std::nullopt);
  EXPECT_EQ(OpCodeFromInt(108), std::nullopt);
  EXPECT_EQ(OpCodeName(static_cast<OpCode>(55)), "unknown");
}

TEST(ZkError, NamesMatchKeeperExceptionCode) {
  EXPECT_EQ(ZkErrorName(ZkError::kNoNode), "NONODE");
  EXPECT_EQ(ZkErrorName(ZkError::kThrottledOp), "THROTTLEDOP");
  EXPECT_EQ(ToInt(ZkError::kSessionExpired), -112);
  EXPECT_EQ(ZkErrorName(static_cast<ZkError>(-126)), "UNKNOWN");
}

}  // namespace
}  // namespace ensemble::jute

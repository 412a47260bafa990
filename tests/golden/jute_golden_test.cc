// Compares Ensemble's jute codec with bytes produced by ZooKeeper's own classes.
//
// GoldenRecords.java (run at build time, see CMakeLists.txt) writes one line
// "<name> <hex>" per record. For every name this test builds the same record with
// our codec and checks (1) our bytes equal ZooKeeper's and (2) decoding ZooKeeper's
// bytes gives back the record. The values below mirror GoldenRecords.java.

#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "common/jute/archive.h"
#include "common/jute/frame.h"
#include "common/jute/records.h"
#include "common/jute/request.h"
#include "common/jute/zoo_defs.h"
#include "gtest/gtest.h"

namespace ensemble::jute {
namespace {

// ---- values shared with GoldenRecords.java ----

const std::string kPath = "/ensemble/golden";
// "/ensemble/ünï/日本" in UTF-8.
const std::string kUnicodePath = "/ensemble/\xc3\xbcn\xc3\xaf/\xe6\x97\xa5\xe6\x9c\xac";
const std::string kData(
    "\x00\x01\x02\xff\x80"
    "a",
    6);
const std::string kPasswd("\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\xff", 16);

Stat GoldenStat() {
  Stat s;
  s.czxid = 0x100000001;
  s.mzxid = 0x200000002;
  s.ctime = 1700000000123;
  s.mtime = 1700000000456;
  s.version = 7;
  s.cversion = 3;
  s.aversion = 1;
  s.ephemeral_owner = static_cast<int64_t>(0x8123456789abcdefULL);
  s.data_length = 6;
  s.num_children = 2;
  s.pzxid = 0x300000003;
  return s;
}

std::vector<Acl> GoldenAcls() {
  return {Acl{perms::kAll, Id{"world", "anyone"}},
          Acl{perms::kRead, Id{"digest", "user:SHA1hash="}},
          Acl{perms::kRead | perms::kCreate, Id{"ip", "10.0.0.0/8"}}};
}

ConnectRequest GoldenConnect(bool has_read_only, bool read_only) {
  return ConnectRequest{0,       0x500000007, 30000,        0x1234567890abcdef,
                        kPasswd, read_only,   has_read_only};
}

ConnectResponse GoldenConnected(bool has_read_only, bool read_only) {
  return ConnectResponse{0, 20000, 0x1234567890abcdef, kPasswd, read_only, has_read_only};
}

RequestHeader Header(int32_t xid, OpCode op) { return {xid, static_cast<int32_t>(op)}; }

// ---- checks ----

using Check = std::function<void(const std::string& zk_bytes)>;

std::string Hex(std::string_view bytes) {
  return absl::BytesToHexString(absl::string_view(bytes.data(), bytes.size()));
}

// A record on its own: our encoding equals ZooKeeper's, and ZooKeeper's decodes to it.
template <typename T>
Check RecordCheck(T expected) {
  return [expected](const std::string& zk_bytes) {
    Writer w;
    expected.Write(w);
    EXPECT_EQ(Hex(w.data()), Hex(zk_bytes)) << "our encoding differs from ZooKeeper's";
    Reader r(zk_bytes);
    T decoded;
    absl::Status s = decoded.Read(r);
    ASSERT_TRUE(s.ok()) << s;
    EXPECT_TRUE(r.AtEnd()) << r.remaining() << " bytes of ZooKeeper's encoding left unread";
    EXPECT_TRUE(decoded == expected) << "decoding ZooKeeper's bytes gave a different record";
  };
}

// Strips the length of a single frame, checking it matches the bytes.
std::string Payload(const std::string& frame) {
  FrameDecoder d;
  d.Feed(frame);
  auto next = d.Next();
  EXPECT_TRUE(next.ok() && next->has_value()) << "not one whole frame";
  EXPECT_EQ(d.buffered(), 0u) << "bytes after the frame";
  if (!next.ok() || !next->has_value()) return "";
  return std::string(**next);
}

Check RequestFrameCheck(Request expected) {
  return [expected](const std::string& zk_bytes) {
    EXPECT_EQ(Hex(EncodeRequest(expected.header, expected.body)), Hex(zk_bytes));
    absl::StatusOr<Request> decoded = DecodeRequest(Payload(zk_bytes));
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_TRUE(*decoded == expected);
  };
}

Check ReplyFrameCheck(OpCode op, Response expected) {
  return [op, expected](const std::string& zk_bytes) {
    EXPECT_EQ(Hex(EncodeResponse(expected.header, expected.body)), Hex(zk_bytes));
    absl::StatusOr<Response> decoded = DecodeResponse(Payload(zk_bytes), op);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_TRUE(*decoded == expected);
  };
}

MultiRequest GoldenMulti() {
  MultiRequest m;
  m.ops.push_back(
      {OpCode::kCreate, CreateRequest{kPath, kData, GoldenAcls(),
                                      static_cast<int32_t>(CreateMode::kPersistentSequential)}});
  m.ops.push_back(
      {OpCode::kCreateContainer, CreateRequest{kPath + "/c", std::nullopt, GoldenAcls(),
                                               static_cast<int32_t>(CreateMode::kContainer)}});
  m.ops.push_back({OpCode::kCreateTtl,
                   CreateTtlRequest{kPath + "/t", kData, GoldenAcls(),
                                    static_cast<int32_t>(CreateMode::kPersistentWithTtl), 60000}});
  m.ops.push_back({OpCode::kDelete, DeleteRequest{kPath + "/d", 4}});
  m.ops.push_back({OpCode::kSetData, SetDataRequest{kPath, kData, -1}});
  m.ops.push_back({OpCode::kCheck, CheckVersionRequest{kPath, 7}});
  return m;
}

MultiRequest GoldenMultiRead() {
  MultiRequest m;
  m.ops.push_back({OpCode::kGetChildren, GetChildrenRequest{kPath, false}});
  m.ops.push_back({OpCode::kGetData, GetDataRequest{kUnicodePath, false}});
  return m;
}

const std::map<std::string, Check>& Checks() {
  static const auto* checks = new std::map<std::string, Check>{
      // data
      {"Id", RecordCheck(Id{"digest", "user:SHA1hash="})},
      {"ACL", RecordCheck(Acl{perms::kRead | perms::kWrite, Id{"world", "anyone"}})},
      {"Stat", RecordCheck(GoldenStat())},
      {"ClientInfo", RecordCheck(ClientInfo{"digest", "alice"})},
      // session
      {"ConnectRequest", RecordCheck(GoldenConnect(true, true))},
      {"ConnectRequestNoReadOnly", RecordCheck(GoldenConnect(false, false))},
      {"ConnectResponse", RecordCheck(GoldenConnected(true, false))},
      {"ConnectResponseNoReadOnly", RecordCheck(GoldenConnected(false, false))},
      {"RequestHeader", RecordCheck(Header(42, OpCode::kGetData))},
      {"ReplyHeader", RecordCheck(ReplyHeader{42, 0x400000009, ToInt(ZkError::kNoNode)})},
      {"MultiHeader", RecordCheck(MultiHeader{static_cast<int32_t>(OpCode::kSetData), false, -1})},
      {"AuthPacket", RecordCheck(AuthPacket{0, "digest", "alice:secret"})},
      {"WatcherEvent", RecordCheck(WatcherEvent{static_cast<int32_t>(EventType::kNodeDataChanged),
                                                static_cast<int32_t>(KeeperState::kSyncConnected),
                                                kUnicodePath})},
      {"SetWatches", RecordCheck(SetWatches{0x600000001, {"/a", "/b"}, {"/c"}, {}})},
      {"SetWatches2",
       RecordCheck(SetWatches2{0x600000002, {"/a"}, {}, {"/c", "/d"}, {"/p"}, {"/r", kUnicodePath}})},
      // requests
      {"CreateRequest", RecordCheck(CreateRequest{kPath, kData, GoldenAcls(), 3})},
      {"CreateRequestNullData", RecordCheck(CreateRequest{kPath, std::nullopt, GoldenAcls(), 0})},
      {"CreateTTLRequest", RecordCheck(CreateTtlRequest{kPath, kData, GoldenAcls(), 5, 86400000})},
      {"DeleteRequest", RecordCheck(DeleteRequest{kPath, -1})},
      {"ExistsRequest", RecordCheck(ExistsRequest{kPath, true})},
      {"GetDataRequest", RecordCheck(GetDataRequest{kUnicodePath, false})},
      {"GetConfigRequest", RecordCheck(GetDataRequest{std::string(kConfigNode), true})},
      {"SetDataRequest", RecordCheck(SetDataRequest{kPath, kData, 7})},
      {"GetACLRequest", RecordCheck(GetAclRequest{kPath})},
      {"SetACLRequest", RecordCheck(SetAclRequest{kPath, GoldenAcls(), 2})},
      {"GetChildrenRequest", RecordCheck(GetChildrenRequest{kPath, true})},
      {"GetChildren2Request", RecordCheck(GetChildren2Request{kPath, false})},
      {"GetAllChildrenNumberRequest", RecordCheck(GetAllChildrenNumberRequest{kPath})},
      {"GetEphemeralsRequest", RecordCheck(GetEphemeralsRequest{"/ens"})},
      {"SyncRequest", RecordCheck(SyncRequest{kPath})},
      {"CheckVersionRequest", RecordCheck(CheckVersionRequest{kPath, 9})},
      {"AddWatchRequest",
       RecordCheck(AddWatchRequest{kPath, static_cast<int32_t>(AddWatchMode::kPersistentRecursive)})},
      {"CheckWatchesRequest",
       RecordCheck(CheckWatchesRequest{kPath, static_cast<int32_t>(WatcherType::kData)})},
      {"RemoveWatchesRequest",
       RecordCheck(RemoveWatchesRequest{kPath, static_cast<int32_t>(WatcherType::kAny)})},
      {"ReconfigRequest", RecordCheck(ReconfigRequest{"server.4=h4:2888:3888;2181", std::nullopt,
                                                      std::nullopt, -1})},
      {"ReconfigRequestAll",
       RecordCheck(ReconfigRequest{"", "2,3", "server.1=h1:2888:3888", 0x700000000})},
      {"GetSASLRequest", RecordCheck(GetSaslRequest{kData})},
      {"SetSASLRequest", RecordCheck(SetSaslRequest{std::string()})},
      // responses
      {"CreateResponse", RecordCheck(CreateResponse{kPath + "0000000001"})},
      {"Create2Response", RecordCheck(Create2Response{kPath, GoldenStat()})},
      {"ExistsResponse", RecordCheck(ExistsResponse{GoldenStat()})},
      {"GetDataResponse", RecordCheck(GetDataResponse{kData, GoldenStat()})},
      {"GetDataResponseNullData", RecordCheck(GetDataResponse{std::nullopt, GoldenStat()})},
      {"SetDataResponse", RecordCheck(SetDataResponse{GoldenStat()})},
      {"GetACLResponse", RecordCheck(GetAclResponse{GoldenAcls(), GoldenStat()})},
      {"SetACLResponse", RecordCheck(SetAclResponse{GoldenStat()})},
      {"GetChildrenResponse", RecordCheck(GetChildrenResponse{{"a", "b", kUnicodePath}})},
      {"GetChildrenResponseEmpty", RecordCheck(GetChildrenResponse{})},
      {"GetChildren2Response", RecordCheck(GetChildren2Response{{"x"}, GoldenStat()})},
      {"GetAllChildrenNumberResponse", RecordCheck(GetAllChildrenNumberResponse{12345})},
      {"GetEphemeralsResponse", RecordCheck(GetEphemeralsResponse{{"/ens/e1", "/ens/e2"}})},
      {"SyncResponse", RecordCheck(SyncResponse{kPath})},
      {"SetSASLResponse", RecordCheck(SetSaslResponse{kData})},
      {"SetSASLResponseNull", RecordCheck(SetSaslResponse{std::nullopt})},
      {"WhoAmIResponse",
       RecordCheck(WhoAmIResponse{{ClientInfo{"ip", "127.0.0.1"}, ClientInfo{"digest", "alice"}}})},
      {"ErrorResponse", RecordCheck(ErrorResponse{ToInt(ZkError::kNodeExists)})},
      // multi, through ZooKeeper's MultiOperationRecord and MultiResponse
      {"MultiRequest", RecordCheck(GoldenMulti())},
      {"MultiReadRequest", RecordCheck(GoldenMultiRead())},
      {"MultiRequestEmpty", RecordCheck(MultiRequest{})},
      {"MultiResponse",
       RecordCheck(MultiResponse{{CreateResponse{kPath + "0000000001"},
                                  Create2Response{kPath + "/c", GoldenStat()}, MultiDeleteResult{},
                                  SetDataResponse{GoldenStat()}, MultiCheckResult{}}})},
      {"MultiResponseFailed",
       RecordCheck(MultiResponse{{ErrorResponse{0}, ErrorResponse{ToInt(ZkError::kNoNode)},
                                  ErrorResponse{ToInt(ZkError::kRuntimeInconsistency)}}})},
      {"MultiReadResponse",
       RecordCheck(MultiResponse{{GetChildrenResponse{{"a", "b"}},
                                  GetDataResponse{kData, GoldenStat()},
                                  ErrorResponse{ToInt(ZkError::kNoNode)}}})},
      // whole frames
      {"Frame.ConnectRequest",
       [](const std::string& zk_bytes) {
         ConnectRequest expected = GoldenConnect(true, false);
         EXPECT_EQ(Hex(EncodeConnectRequest(expected)), Hex(zk_bytes));
         absl::StatusOr<ConnectRequest> decoded = DecodeConnectRequest(Payload(zk_bytes));
         ASSERT_TRUE(decoded.ok()) << decoded.status();
         EXPECT_TRUE(*decoded == expected);
       }},
      {"Frame.ConnectResponse",
       [](const std::string& zk_bytes) {
         ConnectResponse expected = GoldenConnected(true, true);
         EXPECT_EQ(Hex(EncodeConnectResponse(expected)), Hex(zk_bytes));
         absl::StatusOr<ConnectResponse> decoded = DecodeConnectResponse(Payload(zk_bytes));
         ASSERT_TRUE(decoded.ok()) << decoded.status();
         EXPECT_TRUE(*decoded == expected);
       }},
      {"Frame.Ping", RequestFrameCheck({Header(kPingXid, OpCode::kPing), EmptyRecord{}})},
      {"Frame.CloseSession", RequestFrameCheck({Header(7, OpCode::kCloseSession), EmptyRecord{}})},
      {"Frame.GetData",
       RequestFrameCheck({Header(5, OpCode::kGetData), GetDataRequest{kPath, true}})},
      {"Frame.Create2", RequestFrameCheck({Header(6, OpCode::kCreate2),
                                           CreateRequest{kPath, kData, GoldenAcls(), 1}})},
      {"Frame.SetWatches",
       RequestFrameCheck({Header(kSetWatchesXid, OpCode::kSetWatches),
                          SetWatches{0x600000001, {"/a"}, {"/b"}, {"/c"}}})},
      {"Frame.Auth", RequestFrameCheck({Header(kAuthXid, OpCode::kAuth),
                                        AuthPacket{0, "digest", "alice:secret"}})},
      {"Frame.GetDataReply",
       ReplyFrameCheck(OpCode::kGetData, {ReplyHeader{5, 0x400000009, 0},
                                          GetDataResponse{kData, GoldenStat()}})},
      {"Frame.NoNodeReply",
       ReplyFrameCheck(OpCode::kGetData,
                       {ReplyHeader{5, 0x400000009, ToInt(ZkError::kNoNode)}, EmptyRecord{}})},
      {"Frame.Notification",
       [](const std::string& zk_bytes) {
         WatcherEvent event{static_cast<int32_t>(EventType::kNodeChildrenChanged),
                            static_cast<int32_t>(KeeperState::kSyncConnected), kPath};
         EXPECT_EQ(Hex(EncodeNotification(event)), Hex(zk_bytes));
         ReplyFrameCheck(OpCode::kNotification,
                         {ReplyHeader{kNotificationXid, -1, 0}, event})(zk_bytes);
       }},
  };
  return *checks;
}

// ---- the golden file ----

struct GoldenFile {
  std::string error;  // non-empty if the file could not be used
  std::map<std::string, std::string> bytes_by_name;
};

const GoldenFile& Golden() {
  static const GoldenFile* golden = [] {
    auto* g = new GoldenFile;
#if defined(ENSEMBLE_JUTE_GOLDEN_MISSING)
    g->error = std::string("golden bytes were not generated: ") + ENSEMBLE_JUTE_GOLDEN_MISSING +
               " (install openjdk-17-jdk-headless and zookeeper, then re-run cmake)";
#elif defined(ENSEMBLE_JUTE_GOLDEN_FILE)
    std::ifstream in(ENSEMBLE_JUTE_GOLDEN_FILE);
    if (!in) {
      g->error = std::string("cannot open golden file ") + ENSEMBLE_JUTE_GOLDEN_FILE;
      return g;
    }
    std::string name, hex;
    while (in >> name >> hex) {
      if (hex.size() % 2 != 0 || hex.find_first_not_of("0123456789abcdef") != std::string::npos) {
        g->error = "bad hex for " + name;
        return g;
      }
      g->bytes_by_name[name] = absl::HexStringToBytes(hex);
    }
    if (g->bytes_by_name.empty()) g->error = "golden file is empty";
#else
    g->error = "built without ENSEMBLE_JUTE_GOLDEN_FILE";
#endif
    return g;
  }();
  return *golden;
}

std::vector<std::string> CheckNames() {
  std::vector<std::string> names;
  for (const auto& [name, check] : Checks()) names.push_back(name);
  return names;
}

class GoldenRecord : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenRecord, MatchesZooKeeperBytesBothWays) {
  const GoldenFile& golden = Golden();
  ASSERT_TRUE(golden.error.empty()) << golden.error;
  auto it = golden.bytes_by_name.find(GetParam());
  ASSERT_NE(it, golden.bytes_by_name.end())
      << GetParam() << " is missing from the golden file (GoldenRecords.java)";
  Checks().at(GetParam())(it->second);
}

INSTANTIATE_TEST_SUITE_P(ZooKeeper38, GoldenRecord, ::testing::ValuesIn(CheckNames()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           for (char& c : name) {
                             if (c == '.') c = '_';
                           }
                           return name;
                         });

TEST(GoldenFile, EveryRecordZooKeeperWroteHasACheck) {
  const GoldenFile& golden = Golden();
  ASSERT_TRUE(golden.error.empty()) << golden.error;
  std::set<std::string> unchecked;
  for (const auto& [name, bytes] : golden.bytes_by_name) {
    if (Checks().count(name) == 0) unchecked.insert(name);
  }
  EXPECT_TRUE(unchecked.empty()) << "records in the golden file without a check, e.g. "
                                 << (unchecked.empty() ? "" : *unchecked.begin());
  EXPECT_EQ(golden.bytes_by_name.size(), Checks().size());
}

}  // namespace
}  // namespace ensemble::jute

#include "services/gateway/session/ops.h"

#include <gtest/gtest.h>

#include "absl/strings/escaping.h"

namespace ensemble::gateway {
namespace {

using jute::OpCode;

std::string Hex(const std::string& bytes) { return absl::BytesToHexString(bytes); }

// The reply frame without its length prefix, as the bytes ZooKeeper sends.
std::string ReplyHex(int32_t xid, int64_t zxid, const Reply& reply) {
  std::string frame = jute::EncodeResponse(jute::ReplyHeader{xid, zxid, reply.err}, reply.body);
  return Hex(frame.substr(4));
}

ensemble::v1::Stat MakeStat(int64_t zxid, int64_t time, int32_t version, int32_t data_length) {
  ensemble::v1::Stat s;
  s.set_czxid(zxid);
  s.set_mzxid(zxid);
  s.set_ctime(time);
  s.set_mtime(time);
  s.set_version(version);
  s.set_data_length(data_length);
  s.set_pzxid(zxid);
  return s;
}

// Golden bytes captured from ZooKeeper 3.8.0 for a multi of create /n1, create2 /n2,
// createContainer /n3, check /n1, setData /n1, delete /n2. ZooKeeper answers create2
// inside a multi with a plain CreateResponse, and createContainer with Create2Response.
TEST(WriteReplyOf, MultiMatchesZooKeeperBytes) {
  ensemble::v1::TxnResult result;
  result.set_zxid(0x22);
  const int64_t time = 0x1a208a7d6ed;
  auto add = [&](OpCode type, std::string path, const ensemble::v1::Stat* stat) {
    auto* r = result.add_multi();
    r->set_type(static_cast<int32_t>(type));
    r->set_path(std::move(path));
    if (stat) *r->mutable_stat() = *stat;
  };
  ensemble::v1::Stat created = MakeStat(0x22, time, 0, 1);
  ensemble::v1::Stat changed = MakeStat(0x22, time, 1, 1);
  add(OpCode::kCreate, "/n1", nullptr);
  add(OpCode::kCreate2, "/n2", &created);
  add(OpCode::kCreateContainer, "/n3", &created);
  add(OpCode::kCheck, "", nullptr);
  add(OpCode::kSetData, "", &changed);
  add(OpCode::kDelete, "", nullptr);
  std::vector<OpCode> ops = {OpCode::kCreate, OpCode::kCreate2, OpCode::kCreateContainer,
                             OpCode::kCheck,  OpCode::kSetData, OpCode::kDelete};
  Reply reply = WriteReplyOf(OpCode::kMulti, ops, result);
  EXPECT_EQ(ReplyHex(2, 0x22, reply),
            "000000020000000000000022"
            "00000000"
            "000000010000000000000000032f6e31"
            "000000010000000000000000032f6e32"
            "0000000f0000000000000000032f6e33"
            "00000000000000220000000000000022000001a208a7d6ed000001a208a7d6ed"
            "000000000000000000000000000000000000000000000001000000000000000000000022"
            "0000000d0000000000"
            "000000050000000000"
            "00000000000000220000000000000022000001a208a7d6ed000001a208a7d6ed"
            "000000010000000000000000000000000000000000000001000000000000000000000022"
            "000000020000000000"
            "ffffffff01ffffffff");
}

// A failed multi: err 0 in the header and one error result per op (0 before the
// failing op, its error, then RUNTIMEINCONSISTENCY), bytes from ZooKeeper 3.8.0.
TEST(WriteReplyOf, FailedMultiMatchesZooKeeperBytes) {
  ensemble::v1::TxnResult result;
  result.set_zxid(0x1a);
  result.set_err(-101);
  for (int32_t err : {0, 0, -101, -2}) {
    auto* r = result.add_multi();
    r->set_type(-1);
    r->set_err(err);
  }
  std::vector<OpCode> ops = {OpCode::kCreate, OpCode::kCreate2, OpCode::kDelete, OpCode::kCreate};
  Reply reply = WriteReplyOf(OpCode::kMulti, ops, result);
  EXPECT_EQ(reply.err, 0);
  EXPECT_EQ(ReplyHex(1, 0x1a, reply),
            "00000001000000000000001a00000000"
            "ffffffff000000000000000000"
            "ffffffff000000000000000000"
            "ffffffff00ffffff9bffffff9b"
            "ffffffff00fffffffefffffffe"
            "ffffffff01ffffffff");
}

// multiRead of getChildren /, getData /nonexist, getData /m1 (bytes from ZooKeeper).
TEST(ReadReplyOf, MultiReadMatchesZooKeeperBytes) {
  ensemble::storage::v1::ReadResult result;
  auto* children = result.add_multi();
  for (const char* c : {"a", "zookeeper", "m1", "m3"}) children->add_children(c);
  result.add_multi()->set_err(-101);
  auto* data = result.add_multi();
  data->set_data("b");
  *data->mutable_stat() = MakeStat(0x1b, 0x1a208a78f56, 1, 1);
  Reply reply = ReadReplyOf(OpCode::kMultiRead,
                            {OpCode::kGetChildren, OpCode::kGetData, OpCode::kGetData}, result);
  EXPECT_EQ(ReplyHex(3, 0x1b, reply),
            "00000003000000000000001b00000000"
            "000000080000000000"
            "00000004000000016100000009"
            "7a6f6f6b6565706572000000026d31000000026d33"
            "ffffffff00ffffff9bffffff9b"
            "000000040000000000"
            "0000000162"
            "000000000000001b000000000000001b000001a208a78f56000001a208a78f56"
            "00000001000000000000000000000000000000000000000100000000000000000000001b"
            "ffffffff01ffffffff");
}

TEST(ReadReplyOf, ErrorHasNoBody) {
  ensemble::storage::v1::ReadResult result;
  result.set_err(-101);
  Reply reply = ReadReplyOf(OpCode::kGetData, {}, result);
  EXPECT_EQ(reply.err, -101);
  EXPECT_TRUE(std::holds_alternative<jute::EmptyRecord>(reply.body));
}

TEST(ReadReplyOf, AddWatchAnswersErrorResponseZero) {
  Reply reply = ReadReplyOf(OpCode::kAddWatch, {}, {});
  ASSERT_TRUE(std::holds_alternative<jute::ErrorResponse>(reply.body));
  EXPECT_EQ(ReplyHex(9, 0x24, reply),
            "00000009000000000000002400000000"
            "00000000");
}

TEST(WriteReplyOf, CreateAndCreate2) {
  ensemble::v1::TxnResult result;
  result.mutable_result()->set_path("/a0000000001");
  result.mutable_result()->mutable_stat()->set_czxid(5);
  Reply create = WriteReplyOf(OpCode::kCreate, {}, result);
  ASSERT_TRUE(std::holds_alternative<jute::CreateResponse>(create.body));
  EXPECT_EQ(std::get<jute::CreateResponse>(create.body).path, "/a0000000001");
  Reply create2 = WriteReplyOf(OpCode::kCreate2, {}, result);
  ASSERT_TRUE(std::holds_alternative<jute::Create2Response>(create2.body));
  EXPECT_EQ(std::get<jute::Create2Response>(create2.body).stat.czxid, 5);
  result.set_err(-110);
  Reply exists = WriteReplyOf(OpCode::kCreate, {}, result);
  EXPECT_EQ(exists.err, -110);
  EXPECT_TRUE(std::holds_alternative<jute::EmptyRecord>(exists.body));
}

TEST(ReadOf, MapsRequestFields) {
  jute::Request request;
  request.header = {7, static_cast<int32_t>(OpCode::kGetChildren2)};
  request.body = jute::GetChildren2Request{"/x", true};
  auto read = ReadOf(request);
  EXPECT_EQ(read.type(), 12);
  EXPECT_EQ(read.path(), "/x");
  EXPECT_TRUE(read.watch());

  jute::SetWatches2 sw;
  sw.relative_zxid = 9;
  sw.data_watches = {"/d"};
  sw.persistent_recursive_watches = {"/r"};
  request.header = {-8, static_cast<int32_t>(OpCode::kSetWatches2)};
  request.body = sw;
  read = ReadOf(request);
  EXPECT_EQ(read.type(), 105);
  EXPECT_EQ(read.set_watches().relative_zxid(), 9);
  ASSERT_EQ(read.set_watches().data_size(), 1);
  ASSERT_EQ(read.set_watches().persistent_recursive_size(), 1);

  jute::MultiRequest multi;
  multi.ops.push_back({OpCode::kGetData, jute::GetDataRequest{"/a", false}});
  multi.ops.push_back({OpCode::kGetChildren, jute::GetChildrenRequest{"/b", true}});
  request.header = {3, static_cast<int32_t>(OpCode::kMultiRead)};
  request.body = multi;
  read = ReadOf(request);
  ASSERT_EQ(read.multi_size(), 2);
  EXPECT_EQ(read.multi(0).type(), 4);
  EXPECT_EQ(read.multi(1).path(), "/b");
  EXPECT_TRUE(read.multi(1).watch());
}

TEST(WriteOpOf, PassesCreateFlagsAndTtlThrough) {
  jute::CreateTtlRequest create;
  create.path = "/t";
  create.data = "v";
  create.acl = {jute::Acl{31, jute::Id{"world", "anyone"}}};
  create.flags = 5;
  create.ttl = 1000;
  jute::Request request;
  request.header = {1, static_cast<int32_t>(OpCode::kCreateTtl)};
  request.body = create;
  ensemble::v1::Op op = WriteOpOf(request);
  ASSERT_TRUE(op.has_create());
  EXPECT_EQ(op.create().mode(), ensemble::v1::CREATE_MODE_PERSISTENT_WITH_TTL);
  EXPECT_EQ(op.create().ttl_ms(), 1000);
  ASSERT_EQ(op.create().acl_size(), 1);
  EXPECT_EQ(op.create().acl(0).id().scheme(), "world");

  jute::CreateRequest bad;
  bad.path = "/b";
  bad.flags = 42;  // invalid: storage decides
  request.header = {2, static_cast<int32_t>(OpCode::kCreate)};
  request.body = bad;
  EXPECT_EQ(static_cast<int>(WriteOpOf(request).create().mode()), 42);
}

TEST(WriteOpOf, MultiHoldsEveryOp) {
  jute::MultiRequest multi;
  multi.ops.push_back({OpCode::kCreate, jute::CreateRequest{"/a", "x", {}, 0}});
  multi.ops.push_back({OpCode::kDelete, jute::DeleteRequest{"/b", 3}});
  multi.ops.push_back({OpCode::kCheck, jute::CheckVersionRequest{"/c", 1}});
  multi.ops.push_back({OpCode::kSetData, jute::SetDataRequest{"/d", "y", -1}});
  jute::Request request;
  request.header = {1, static_cast<int32_t>(OpCode::kMulti)};
  request.body = multi;
  ensemble::v1::Op op = WriteOpOf(request);
  ASSERT_EQ(op.multi().ops_size(), 4);
  EXPECT_EQ(op.multi().ops(1).delete_().version(), 3);
  EXPECT_EQ(op.multi().ops(2).check().path(), "/c");
  EXPECT_EQ(op.multi().ops(3).set_data().data(), "y");
  EXPECT_EQ(SubOpsOf(request).size(), 4u);
}

}  // namespace
}  // namespace ensemble::gateway

#include "services/gateway/session/connection.h"

#include <gtest/gtest.h>

#include <memory>

#include "common/base/rng.h"
#include "common/jute/zk_error.h"
#include "common/jute/zoo_defs.h"

namespace ensemble::gateway {
namespace {

using jute::OpCode;

constexpr uint64_t kConnId = 7;
constexpr int64_t kSession = 0x1234567890abcdefLL;

class ConnectionTest : public ::testing::Test {
 protected:
  ConnectionTest() {
    env_.now_ms = 1000;
    env_.wall_ms = 1700000000000;
    env_.applied_zxid = 0x100;
    env_.storage_up = true;
    env_.replication_up = true;
    Reset();
  }

  void Reset() {
    conn_ = std::make_unique<Connection>(kConnId, "/127.0.0.1:5555", "127.0.0.1", &options_, &env_);
    out_.clear();
    effects_ = Effects{};
  }

  // Collects what the connection produced (bytes go to out_).
  Effects& Take() {
    Effects e = conn_->TakeEffects();
    out_ += e.to_client;
    effects_.reads.insert(effects_.reads.end(), e.reads.begin(), e.reads.end());
    effects_.txns.insert(effects_.txns.end(), e.txns.begin(), e.txns.end());
    effects_.syncs.insert(effects_.syncs.end(), e.syncs.begin(), e.syncs.end());
    effects_.touched |= e.touched;
    if (e.attached_session) effects_.attached_session = e.attached_session;
    if (e.four_letter_word) effects_.four_letter_word = e.four_letter_word;
    effects_.auth_failed |= e.auth_failed;
    effects_.close |= e.close;
    effects_.protocol_error |= e.protocol_error;
    if (!e.close_reason.empty()) effects_.close_reason = e.close_reason;
    return effects_;
  }

  void Send(const std::string& bytes) {
    conn_->OnBytes(bytes);
    Take();
  }

  static std::string Connect(int64_t session_id, std::string passwd, int32_t timeout_ms,
                             bool has_read_only = true, int64_t last_zxid = 0) {
    jute::ConnectRequest req;
    req.protocol_version = 0;
    req.last_zxid_seen = last_zxid;
    req.timeout_ms = timeout_ms;
    req.session_id = session_id;
    req.passwd = std::move(passwd);
    req.has_read_only = has_read_only;
    return jute::EncodeConnectRequest(req);
  }

  static std::string Req(int32_t xid, OpCode op, const jute::RequestBody& body) {
    return jute::EncodeRequest(jute::RequestHeader{xid, static_cast<int32_t>(op)}, body);
  }

  // Frames written to the client so far, removed from out_.
  std::vector<std::string> Frames() {
    jute::FrameDecoder decoder(1 << 24);
    decoder.Feed(out_);
    out_.clear();
    std::vector<std::string> frames;
    while (true) {
      auto next = decoder.Next();
      EXPECT_TRUE(next.ok());
      if (!next.ok() || !next->has_value()) break;
      frames.emplace_back(**next);
    }
    return frames;
  }

  static jute::ReplyHeader Header(const std::string& frame) {
    auto h = jute::DecodeReplyHeader(frame);
    EXPECT_TRUE(h.ok());
    return h.ok() ? *h : jute::ReplyHeader{};
  }

  // A new session, established; clears the recorded effects.
  void Establish(int32_t timeout_ms = 30000) {
    Send(Connect(0, std::string(16, '\0'), timeout_ms));
    ASSERT_EQ(effects_.txns.size(), 1u);
    ensemble::v1::TxnResult created;
    created.set_session_id(kSession);
    created.set_cxid(conn_->CreateSessionCxid());
    created.set_type(static_cast<int32_t>(OpCode::kCreateSession));
    created.set_zxid(0x101);
    created.set_session_timeout_ms(timeout_ms);
    conn_->OnWriteResult(created);
    Take();
    ASSERT_TRUE(conn_->established());
    ASSERT_EQ(Frames().size(), 1u);
    effects_ = Effects{};
  }

  ensemble::storage::v1::ReadResult ReadResultFor(size_t i, int32_t err = 0) {
    ensemble::storage::v1::ReadResult r;
    r.set_id(effects_.reads.at(i).id());
    r.set_err(err);
    r.set_zxid(env_.applied_zxid);
    return r;
  }

  ensemble::v1::TxnResult WriteResultFor(size_t i, int32_t err = 0) {
    const auto& txn = effects_.txns.at(i);
    ensemble::v1::TxnResult r;
    r.set_session_id(txn.header().session_id());
    r.set_cxid(txn.header().cxid());
    r.set_type(txn.header().type());
    r.set_zxid(env_.applied_zxid + 1);
    r.set_err(err);
    return r;
  }

  ConnectionOptions options_;
  ConnectionEnv env_;
  std::unique_ptr<Connection> conn_;
  std::string out_;
  Effects effects_;
};

// ---- handshake ----

TEST_F(ConnectionTest, NewSessionSubmitsCreateSessionAndAnswersWithPassword) {
  Send(Connect(0, std::string(16, '\0'), 30000));
  ASSERT_EQ(effects_.txns.size(), 1u);
  const auto& txn = effects_.txns[0];
  EXPECT_EQ(txn.header().type(), -10);
  EXPECT_EQ(txn.header().cxid(), static_cast<int32_t>(kConnId));
  EXPECT_EQ(txn.op().create_session().timeout_ms(), 30000);
  EXPECT_FALSE(conn_->WantsRead());
  EXPECT_TRUE(Frames().empty());

  ensemble::v1::TxnResult created;
  created.set_session_id(kSession);
  created.set_cxid(static_cast<int32_t>(kConnId));
  created.set_type(-10);
  created.set_session_timeout_ms(30000);
  conn_->OnWriteResult(created);
  Take();
  auto frames = Frames();
  ASSERT_EQ(frames.size(), 1u);
  auto response = jute::DecodeConnectResponse(frames[0]);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->session_id, kSession);
  EXPECT_EQ(response->timeout_ms, 30000);
  EXPECT_EQ(response->passwd, SessionPassword(kDefaultSessionSecret, kSession));
  EXPECT_TRUE(response->has_read_only);
  EXPECT_FALSE(response->read_only);
  EXPECT_EQ(effects_.attached_session, kSession);
  EXPECT_TRUE(conn_->WantsRead());
}

TEST_F(ConnectionTest, TimeoutIsClampedBetweenMinAndMax) {
  Send(Connect(0, "", 1));
  EXPECT_EQ(effects_.txns.at(0).op().create_session().timeout_ms(), 4000);
  Reset();
  Send(Connect(0, "", 1000000000));
  EXPECT_EQ(effects_.txns.at(0).op().create_session().timeout_ms(), 40000);
}

// ZooKeeper 3.3 clients send no readOnly byte; the reply must not carry one either.
TEST_F(ConnectionTest, OldClientWithoutReadOnlyByteGetsOldResponse) {
  Send(Connect(0, std::string(16, '\0'), 10000, /*has_read_only=*/false));
  ensemble::v1::TxnResult created;
  created.set_session_id(kSession);
  created.set_cxid(static_cast<int32_t>(kConnId));
  created.set_type(-10);
  conn_->OnWriteResult(created);
  Take();
  auto frames = Frames();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].size(), 36u);  // 4 + 4 + 8 + (4 + 16): no readOnly byte
  auto response = jute::DecodeConnectResponse(frames[0]);
  ASSERT_TRUE(response.ok());
  EXPECT_FALSE(response->has_read_only);
  EXPECT_EQ(response->timeout_ms, 10000);
}

TEST_F(ConnectionTest, ReattachRevalidatesWithStorageAndKeepsStoredTimeout) {
  Send(Connect(kSession, SessionPassword(kDefaultSessionSecret, kSession), 30000));
  ASSERT_EQ(effects_.reads.size(), 1u);
  EXPECT_EQ(effects_.reads[0].type(), kRevalidateSessionType);
  EXPECT_EQ(effects_.reads[0].session_id(), kSession);
  EXPECT_TRUE(effects_.txns.empty());
  auto result = ReadResultFor(0);
  result.set_number(12000);
  conn_->OnReadResult(result);
  Take();
  auto frames = Frames();
  ASSERT_EQ(frames.size(), 1u);
  auto response = jute::DecodeConnectResponse(frames[0]);
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->session_id, kSession);
  EXPECT_EQ(response->timeout_ms, 12000);
  EXPECT_EQ(effects_.attached_session, kSession);
}

TEST_F(ConnectionTest, WrongPasswordGetsExpiredResponseAndClose) {
  Send(Connect(kSession, std::string(16, 'x'), 30000));
  EXPECT_TRUE(effects_.reads.empty());
  EXPECT_TRUE(effects_.close);
  auto frames = Frames();
  ASSERT_EQ(frames.size(), 1u);
  // The bytes ZooKeeper 3.8.0 sends: protocol 0, timeout 0, session 0, a zero
  // password of 16 bytes, readOnly false.
  EXPECT_EQ(frames[0], std::string("\0\0\0\0"
                                   "\0\0\0\0"
                                   "\0\0\0\0\0\0\0\0"
                                   "\0\0\0\x10",
                                   20) +
                           std::string(16, '\0') + std::string(1, '\0'));
}

TEST_F(ConnectionTest, ExpiredSessionIsRefused) {
  Send(Connect(kSession, SessionPassword(kDefaultSessionSecret, kSession), 30000));
  conn_->OnReadResult(ReadResultFor(0, jute::ToInt(jute::ZkError::kSessionExpired)));
  Take();
  EXPECT_TRUE(effects_.close);
  auto frames = Frames();
  ASSERT_EQ(frames.size(), 1u);
  auto response = jute::DecodeConnectResponse(frames[0]);
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->timeout_ms, 0);
  EXPECT_EQ(response->session_id, 0);
  EXPECT_EQ(effects_.attached_session, 0);
}

TEST_F(ConnectionTest, ClientAheadOfStorageIsRefusedWithoutReply) {
  Send(Connect(0, "", 30000, true, /*last_zxid=*/0x200));
  EXPECT_TRUE(effects_.close);
  EXPECT_TRUE(effects_.txns.empty());
  EXPECT_TRUE(Frames().empty());
}

TEST_F(ConnectionTest, NoSessionWhileStorageIsDown) {
  env_.storage_up = false;
  Send(Connect(0, "", 30000));
  EXPECT_TRUE(effects_.close);
  EXPECT_TRUE(effects_.txns.empty());
}

TEST_F(ConnectionTest, GarbageConnectRequestCloses) {
  Send(std::string("\0\0\0\x08garbage!", 12));
  EXPECT_TRUE(effects_.close);
  EXPECT_TRUE(effects_.protocol_error);
  EXPECT_TRUE(Frames().empty());
}

TEST_F(ConnectionTest, FrameOverJuteMaxBufferCloses) {
  options_.max_frame_bytes = 1000;
  Reset();
  Send(std::string("\0\0\x13\x88", 4));  // 5000 bytes announced
  EXPECT_TRUE(effects_.close);
  EXPECT_TRUE(effects_.protocol_error);
}

TEST_F(ConnectionTest, NegativeLengthCloses) {
  Send(std::string("\xff\xff\xff\xfb", 4));
  EXPECT_TRUE(effects_.close);
}

TEST_F(ConnectionTest, ConnectRequestSplitAcrossReadsWorks) {
  std::string connect = Connect(0, std::string(16, '\0'), 30000);
  for (char c : connect) Send(std::string(1, c));
  EXPECT_EQ(effects_.txns.size(), 1u);
  EXPECT_FALSE(effects_.close);
}

// ---- four-letter words ----

TEST_F(ConnectionTest, FourLetterWordIsRecognisedInFirstBytes) {
  Send("ru");
  EXPECT_FALSE(effects_.four_letter_word.has_value());
  Send("ok");
  ASSERT_TRUE(effects_.four_letter_word.has_value());
  EXPECT_EQ(effects_.four_letter_word->word, FourLetterWord::kRuok);
  EXPECT_TRUE(effects_.close);
}

TEST_F(ConnectionTest, StmkWaitsForItsEightByteArgument) {
  Send("stmk");
  EXPECT_FALSE(effects_.four_letter_word.has_value());
  Send(std::string("\0\0\0\0\0\0\x01\x32", 8));
  ASSERT_TRUE(effects_.four_letter_word.has_value());
  EXPECT_EQ(effects_.four_letter_word->argument, 306);
}

TEST_F(ConnectionTest, UnknownFourBytesAreALength) {
  Send("xyzw");  // 0x78797a77: far above jute.maxbuffer
  EXPECT_FALSE(effects_.four_letter_word.has_value());
  EXPECT_TRUE(effects_.close);
}

TEST_F(ConnectionTest, FourLetterWordAfterHandshakeIsJustBadInput) {
  Establish();
  Send("ruok");
  EXPECT_FALSE(effects_.four_letter_word.has_value());
  EXPECT_TRUE(effects_.close);
}

// ---- requests ----

TEST_F(ConnectionTest, RequestsPipelinedBehindConnectWaitForTheSession) {
  Send(Connect(0, std::string(16, '\0'), 30000) +
       Req(1, OpCode::kGetData, jute::GetDataRequest{"/a", false}));
  EXPECT_TRUE(effects_.reads.empty());
  ensemble::v1::TxnResult created;
  created.set_session_id(kSession);
  created.set_cxid(static_cast<int32_t>(kConnId));
  created.set_type(-10);
  conn_->OnWriteResult(created);
  Take();
  ASSERT_EQ(effects_.reads.size(), 1u);
  EXPECT_EQ(effects_.reads[0].session_id(), kSession);
  EXPECT_EQ(effects_.reads[0].path(), "/a");
}

TEST_F(ConnectionTest, PingIsAnsweredAtOnceEvenBehindAPendingRead) {
  Establish();
  Send(Req(1, OpCode::kGetData, jute::GetDataRequest{"/a", false}) +
       Req(jute::kPingXid, OpCode::kPing, jute::EmptyRecord{}));
  auto frames = Frames();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(Header(frames[0]).xid, jute::kPingXid);
  EXPECT_EQ(Header(frames[0]).zxid, 0x100);
  EXPECT_TRUE(effects_.touched);
}

TEST_F(ConnectionTest, ConsecutiveReadsAreSentTogether) {
  Establish();
  Send(Req(1, OpCode::kGetData, jute::GetDataRequest{"/a", false}) +
       Req(2, OpCode::kExists, jute::ExistsRequest{"/b", true}) +
       Req(3, OpCode::kGetChildren, jute::GetChildrenRequest{"/c", false}));
  ASSERT_EQ(effects_.reads.size(), 3u);
  EXPECT_EQ(effects_.reads[1].type(), 3);
  EXPECT_TRUE(effects_.reads[1].watch());
  EXPECT_NE(effects_.reads[0].id(), effects_.reads[1].id());
  EXPECT_EQ(Connection::UpstreamIdOwner(effects_.reads[2].id()), kConnId);
}

TEST_F(ConnectionTest, ReadAfterWriteWaitsForTheWriteResult) {
  Establish();
  Send(Req(1, OpCode::kCreate, jute::CreateRequest{"/a", "x", {}, 0}) +
       Req(2, OpCode::kGetData, jute::GetDataRequest{"/a", false}));
  ASSERT_EQ(effects_.txns.size(), 1u);
  EXPECT_TRUE(effects_.reads.empty());
  const auto& header = effects_.txns[0].header();
  EXPECT_EQ(header.session_id(), kSession);
  EXPECT_EQ(header.cxid(), 1);
  EXPECT_EQ(header.type(), 1);

  auto result = WriteResultFor(0);
  result.mutable_result()->set_path("/a");
  conn_->OnWriteResult(result);
  Take();
  ASSERT_EQ(effects_.reads.size(), 1u);
  auto frames = Frames();
  ASSERT_EQ(frames.size(), 1u);
  auto reply = jute::DecodeResponse(frames[0], OpCode::kCreate);
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->header.xid, 1);
  EXPECT_EQ(reply->header.zxid, 0x101);
  EXPECT_EQ(std::get<jute::CreateResponse>(reply->body).path, "/a");

  auto read = ReadResultFor(0);
  read.set_data("x");
  conn_->OnReadResult(read);
  Take();
  frames = Frames();
  ASSERT_EQ(frames.size(), 1u);
  auto data = jute::DecodeResponse(frames[0], OpCode::kGetData);
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(std::get<jute::GetDataResponse>(data->body).data, "x");
}

TEST_F(ConnectionTest, WriteAfterReadWaitsForTheReadResult) {
  Establish();
  Send(Req(1, OpCode::kGetData, jute::GetDataRequest{"/a", false}) +
       Req(2, OpCode::kSetData, jute::SetDataRequest{"/a", "y", -1}));
  EXPECT_EQ(effects_.reads.size(), 1u);
  EXPECT_TRUE(effects_.txns.empty());
  conn_->OnReadResult(ReadResultFor(0));
  Take();
  ASSERT_EQ(effects_.txns.size(), 1u);
  EXPECT_EQ(effects_.txns[0].op().set_data().data(), "y");
}

TEST_F(ConnectionTest, ConsecutiveWritesAreSentTogether) {
  Establish();
  Send(Req(1, OpCode::kCreate, jute::CreateRequest{"/a", "", {}, 0}) +
       Req(2, OpCode::kDelete, jute::DeleteRequest{"/b", -1}));
  EXPECT_EQ(effects_.txns.size(), 2u);
}

TEST_F(ConnectionTest, RepliesLeaveInRequestOrder) {
  Establish();
  Send(Req(1, OpCode::kGetData, jute::GetDataRequest{"/a", false}) +
       Req(2, OpCode::kGetData, jute::GetDataRequest{"/b", false}));
  conn_->OnReadResult(ReadResultFor(1));
  Take();
  EXPECT_TRUE(Frames().empty());
  conn_->OnReadResult(ReadResultFor(0));
  Take();
  auto frames = Frames();
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(Header(frames[0]).xid, 1);
  EXPECT_EQ(Header(frames[1]).xid, 2);
}

TEST_F(ConnectionTest, MaxOutstandingStopsReadingUntilRepliesLeave) {
  options_.max_outstanding = 2;
  Reset();
  Establish();
  Send(Req(1, OpCode::kGetData, jute::GetDataRequest{"/a", false}) +
       Req(2, OpCode::kGetData, jute::GetDataRequest{"/b", false}) +
       Req(3, OpCode::kGetData, jute::GetDataRequest{"/c", false}));
  EXPECT_EQ(effects_.reads.size(), 2u);
  EXPECT_FALSE(conn_->WantsRead());
  conn_->OnReadResult(ReadResultFor(0));
  Take();
  EXPECT_EQ(effects_.reads.size(), 3u);
  EXPECT_EQ(effects_.reads[2].path(), "/c");
}

TEST_F(ConnectionTest, BlockedOutputStopsParsingAndDispatchUntilUnblocked) {
  Establish(/*timeout_ms=*/10000);
  Send(Req(1, OpCode::kGetData, jute::GetDataRequest{"/a", false}));
  ASSERT_EQ(effects_.reads.size(), 1u);
  conn_->SetOutputBlocked(true);
  EXPECT_FALSE(conn_->WantsRead());
  // Bytes already received are held: not parsed, nothing goes upstream.
  Send(Req(2, OpCode::kGetData, jute::GetDataRequest{"/b", false}));
  EXPECT_EQ(effects_.reads.size(), 1u);
  EXPECT_EQ(conn_->queued(), 1u);
  // The reply to what was in flight is still produced.
  conn_->OnReadResult(ReadResultFor(0));
  Take();
  EXPECT_EQ(Frames().size(), 1u);
  // No idle timeout while the gateway is not reading the client.
  env_.now_ms += 60000;
  conn_->OnTick();
  Take();
  EXPECT_FALSE(effects_.close);
  conn_->SetOutputBlocked(false);
  Take();
  EXPECT_TRUE(conn_->WantsRead());
  ASSERT_EQ(effects_.reads.size(), 2u);
  EXPECT_EQ(effects_.reads[1].path(), "/b");
  EXPECT_FALSE(effects_.close);
}

TEST_F(ConnectionTest, MaxWatchesRefusesNewWatchesWithOperationTimeout) {
  options_.max_watches = 2;
  Reset();
  Establish();
  Send(Req(1, OpCode::kGetData, jute::GetDataRequest{"/a", true}) +
       Req(2, OpCode::kGetChildren, jute::GetChildrenRequest{"/a", true}) +
       // The same (path, kind) again costs nothing; a watchless read is free.
       Req(3, OpCode::kExists, jute::ExistsRequest{"/a", true}) +
       Req(4, OpCode::kGetData, jute::GetDataRequest{"/b", false}) +
       // A third watch is refused, whole: the read is not sent.
       Req(5, OpCode::kExists, jute::ExistsRequest{"/c", true}) +
       Req(6, OpCode::kAddWatch, jute::AddWatchRequest{"/d", 0}));
  ASSERT_EQ(effects_.reads.size(), 4u);
  EXPECT_EQ(conn_->watch_count(), 2u);
  for (size_t i = 0; i < 4; ++i) conn_->OnReadResult(ReadResultFor(i));
  Take();
  auto frames = Frames();
  ASSERT_EQ(frames.size(), 6u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(Header(frames[i]).err, 0) << i;
  EXPECT_EQ(Header(frames[4]).xid, 5);
  EXPECT_EQ(Header(frames[4]).err, jute::ToInt(jute::ZkError::kOperationTimeout));
  EXPECT_EQ(Header(frames[5]).err, jute::ToInt(jute::ZkError::kOperationTimeout));
  EXPECT_FALSE(effects_.close);

  // The data watch on /a fires: room for one more.
  ensemble::v1::WatchEvent event;
  event.set_session_id(kSession);
  event.set_type(static_cast<int32_t>(jute::EventType::kNodeDataChanged));
  event.set_path("/a");
  conn_->OnWatchEvent(event);
  EXPECT_EQ(conn_->watch_count(), 1u);
  effects_ = Effects{};
  Send(Req(7, OpCode::kExists, jute::ExistsRequest{"/c", true}));
  ASSERT_EQ(effects_.reads.size(), 1u);
  // exists on a missing node sets its watch; a failed getData does not.
  conn_->OnReadResult(ReadResultFor(0, jute::ToInt(jute::ZkError::kNoNode)));
  EXPECT_EQ(conn_->watch_count(), 2u);
  effects_ = Effects{};
  Send(Req(8, OpCode::kRemoveWatches,
           jute::RemoveWatchesRequest{"/c", static_cast<int32_t>(jute::WatcherType::kAny)}));
  ASSERT_EQ(effects_.reads.size(), 1u);
  conn_->OnReadResult(ReadResultFor(0));
  EXPECT_EQ(conn_->watch_count(), 1u);
  effects_ = Effects{};
  Send(Req(9, OpCode::kGetData, jute::GetDataRequest{"/gone", true}));
  ASSERT_EQ(effects_.reads.size(), 1u);
  EXPECT_EQ(conn_->watch_count(), 2u);  // counted while in flight
  conn_->OnReadResult(ReadResultFor(0, jute::ToInt(jute::ZkError::kNoNode)));
  EXPECT_EQ(conn_->watch_count(), 1u);
}

TEST_F(ConnectionTest, ErrorReplyHasHeaderOnly) {
  Establish();
  Send(Req(1, OpCode::kGetData, jute::GetDataRequest{"/none", false}));
  conn_->OnReadResult(ReadResultFor(0, -101));
  Take();
  auto frames = Frames();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].size(), 16u);
  EXPECT_EQ(Header(frames[0]).err, -101);
}

TEST_F(ConnectionTest, MalformedBodyAnswersMarshallingErrorAndKeepsTheConnection) {
  Establish();
  Send(
      std::string("\0\0\0\x0a"
                  "\0\0\0\x03"
                  "\0\0\0\x04"
                  "\0\0",
                  14));  // getData, 2 bytes
  auto frames = Frames();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(Header(frames[0]).xid, 3);
  EXPECT_EQ(Header(frames[0]).err, -5);
  EXPECT_FALSE(effects_.close);
}

TEST_F(ConnectionTest, UnknownOpAnswersUnimplementedAndCloses) {
  Establish();
  Send(
      std::string("\0\0\0\x08"
                  "\0\0\0\x0b"
                  "\0\0\x03\xe7",
                  12));  // op 999
  auto frames = Frames();
  ASSERT_EQ(frames.size(), 1u);
  auto h = Header(frames[0]);
  EXPECT_EQ(h.xid, 11);
  EXPECT_EQ(h.zxid, -1);
  EXPECT_EQ(h.err, -6);
  EXPECT_TRUE(effects_.close);
}

TEST_F(ConnectionTest, ClientDeleteContainerIsBadArguments) {
  Establish();
  Send(
      std::string("\0\0\0\x0f"
                  "\0\0\0\x01"
                  "\0\0\0\x14"
                  "\0\0\0\x03/ab",
                  19));
  auto frames = Frames();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(Header(frames[0]).err, -8);
  EXPECT_FALSE(effects_.close);
}

TEST_F(ConnectionTest, DigestAuthAddsIdentityToLaterRequests) {
  Establish();
  Send(Req(jute::kAuthXid, OpCode::kAuth, jute::AuthPacket{0, "digest", "user:password"}) +
       Req(1, OpCode::kCreate, jute::CreateRequest{"/a", "", {}, 0}));
  auto frames = Frames();
  ASSERT_EQ(frames.size(), 1u);
  auto h = Header(frames[0]);
  EXPECT_EQ(h.xid, -4);
  EXPECT_EQ(h.zxid, 0);
  EXPECT_EQ(h.err, 0);
  ASSERT_EQ(effects_.txns.size(), 1u);
  const auto& auth = effects_.txns[0].header().auth();
  ASSERT_EQ(auth.size(), 2);
  EXPECT_EQ(auth[0].scheme(), "ip");
  EXPECT_EQ(auth[0].id(), "127.0.0.1");
  EXPECT_EQ(auth[1].scheme(), "digest");
  EXPECT_EQ(auth[1].id(), "user:tpUq/4Pn5A64fVZyQ0gOJ8ZWqkY=");
}

TEST_F(ConnectionTest, SuperDigestGrantsSuper) {
  options_.super_digest = "super:lK75jTNcA+U9vtVEw5vB51mj/w4=";
  Reset();
  Establish();
  Send(Req(jute::kAuthXid, OpCode::kAuth, jute::AuthPacket{0, "digest", "super:secret"}));
  EXPECT_TRUE(conn_->identities().Has("super", ""));
}

TEST_F(ConnectionTest, UnknownAuthSchemeAnswersAuthFailedAndCloses) {
  Establish();
  Send(Req(jute::kAuthXid, OpCode::kAuth, jute::AuthPacket{0, "bogus", "x"}));
  auto frames = Frames();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(Header(frames[0]).err, -115);
  EXPECT_TRUE(effects_.close);
  EXPECT_TRUE(effects_.auth_failed);
}

TEST_F(ConnectionTest, SaslIsRefusedWithAuthFailed) {
  Establish();
  Send(Req(5, OpCode::kSasl, jute::GetSaslRequest{std::string("tok")}));
  auto frames = Frames();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(Header(frames[0]).err, -115);
  EXPECT_TRUE(effects_.close);
}

TEST_F(ConnectionTest, WhoAmIListsTheIdentities) {
  Establish();
  Send(Req(jute::kAuthXid, OpCode::kAuth, jute::AuthPacket{0, "digest", "user:password"}) +
       Req(2, OpCode::kWhoAmI, jute::EmptyRecord{}));
  auto frames = Frames();
  ASSERT_EQ(frames.size(), 2u);
  auto who = jute::DecodeResponse(frames[1], OpCode::kWhoAmI);
  ASSERT_TRUE(who.ok()) << who.status();
  const auto& info = std::get<jute::WhoAmIResponse>(who->body).client_info;
  ASSERT_EQ(info.size(), 2u);
  EXPECT_EQ(info[0].auth_scheme, "ip");
  EXPECT_EQ(info[0].user, "127.0.0.1");
  EXPECT_EQ(info[1].auth_scheme, "digest");
  EXPECT_EQ(info[1].user, "user");
}

TEST_F(ConnectionTest, ReconfigIsDisabled) {
  Establish();
  Send(Req(4, OpCode::kReconfig, jute::ReconfigRequest{}));
  auto frames = Frames();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(Header(frames[0]).err, -123);
}

TEST_F(ConnectionTest, SyncGoesThroughABarrierThenStorage) {
  Establish();
  Send(Req(1, OpCode::kSync, jute::SyncRequest{"/s"}) +
       Req(2, OpCode::kGetData, jute::GetDataRequest{"/s", false}));
  ASSERT_EQ(effects_.syncs.size(), 1u);
  EXPECT_TRUE(effects_.reads.empty());
  EXPECT_EQ(Connection::UpstreamIdOwner(effects_.syncs[0]), kConnId);
  conn_->OnSyncDone(effects_.syncs[0], 0x150);
  Take();
  ASSERT_EQ(effects_.reads.size(), 1u);
  EXPECT_EQ(effects_.reads[0].type(), 9);
  EXPECT_EQ(effects_.reads[0].min_zxid(), 0x150);
  EXPECT_EQ(effects_.reads[0].path(), "/s");
  conn_->OnReadResult(ReadResultFor(0));
  Take();
  // The getData after the sync goes out only now.
  ASSERT_EQ(effects_.reads.size(), 2u);
  EXPECT_EQ(effects_.reads[1].type(), 4);
  auto frames = Frames();
  ASSERT_EQ(frames.size(), 1u);
  auto sync = jute::DecodeResponse(frames[0], OpCode::kSync);
  ASSERT_TRUE(sync.ok());
  EXPECT_EQ(std::get<jute::SyncResponse>(sync->body).path, "/s");
}

TEST_F(ConnectionTest, CloseSessionRepliesThenCloses) {
  Establish();
  Send(Req(9, OpCode::kCloseSession, jute::EmptyRecord{}) +
       Req(10, OpCode::kGetData, jute::GetDataRequest{"/ignored", false}));
  ASSERT_EQ(effects_.txns.size(), 1u);
  EXPECT_EQ(effects_.txns[0].header().type(), -11);
  EXPECT_TRUE(effects_.txns[0].op().has_close_session());
  EXPECT_FALSE(effects_.close);
  conn_->OnWriteResult(WriteResultFor(0));
  Take();
  auto frames = Frames();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(Header(frames[0]).xid, 9);
  EXPECT_TRUE(effects_.close);
  EXPECT_TRUE(effects_.reads.empty());
}

TEST_F(ConnectionTest, WatchEventIsWrittenAsANotification) {
  Establish();
  ensemble::v1::WatchEvent event;
  event.set_session_id(kSession);
  event.set_type(3);
  event.set_path("/w");
  event.set_zxid(0x105);
  conn_->OnWatchEvent(event);
  Take();
  auto frames = Frames();
  ASSERT_EQ(frames.size(), 1u);
  auto n = jute::DecodeResponse(frames[0], OpCode::kNotification);
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(n->header.xid, -1);
  EXPECT_EQ(n->header.zxid, -1);
  const auto& w = std::get<jute::WatcherEvent>(n->body);
  EXPECT_EQ(w.type, 3);
  EXPECT_EQ(w.state, 3);
  EXPECT_EQ(w.path, "/w");
}

TEST_F(ConnectionTest, LosingReplicationClosesOnlyConnectionsWithWritesInFlight) {
  Establish();
  Send(Req(1, OpCode::kGetData, jute::GetDataRequest{"/a", false}));
  conn_->OnUpstreamLost(/*lost_storage=*/false);
  Take();
  EXPECT_FALSE(effects_.close);
  conn_->OnReadResult(ReadResultFor(0));
  Send(Req(2, OpCode::kDelete, jute::DeleteRequest{"/a", -1}));
  conn_->OnUpstreamLost(false);
  Take();
  EXPECT_TRUE(effects_.close);
}

TEST_F(ConnectionTest, LosingStorageClosesEveryConnection) {
  Establish();
  conn_->OnUpstreamLost(/*lost_storage=*/true);
  Take();
  EXPECT_TRUE(effects_.close);
}

TEST_F(ConnectionTest, WriteRejectedWithConnectionLossCloses) {
  Establish();
  Send(Req(1, OpCode::kCreate, jute::CreateRequest{"/a", "", {}, 0}));
  conn_->OnRejected(1, jute::ToInt(jute::ZkError::kConnectionLoss));
  Take();
  EXPECT_TRUE(effects_.close);
  EXPECT_TRUE(Frames().empty());
}

TEST_F(ConnectionTest, RefusedTouchOfAnExpiredSessionCloses) {
  Establish();
  conn_->OnRejected(0, jute::ToInt(jute::ZkError::kSessionExpired));
  Take();
  EXPECT_TRUE(effects_.close);
}

TEST_F(ConnectionTest, WriteRejectedWithSessionExpiredRepliesThenCloses) {
  Establish();
  Send(Req(1, OpCode::kSetData, jute::SetDataRequest{"/a", "x", -1}));
  conn_->OnRejected(1, jute::ToInt(jute::ZkError::kSessionExpired));
  Take();
  auto frames = Frames();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(Header(frames[0]).err, -112);
  EXPECT_TRUE(effects_.close);
}

TEST_F(ConnectionTest, SessionClosedElsewhereClosesTheConnection) {
  Establish();
  ensemble::v1::TxnResult closed;
  closed.set_session_id(kSession);
  closed.set_type(-11);
  conn_->OnWriteResult(closed);
  Take();
  EXPECT_TRUE(effects_.close);
}

TEST_F(ConnectionTest, IdleSessionTimesOut) {
  Establish(/*timeout_ms=*/10000);
  env_.now_ms += 9000;
  conn_->OnTick();
  Take();
  EXPECT_FALSE(effects_.close);
  Send(Req(jute::kPingXid, OpCode::kPing, jute::EmptyRecord{}));
  env_.now_ms += 9000;
  conn_->OnTick();
  Take();
  EXPECT_FALSE(effects_.close);
  env_.now_ms += 2000;
  conn_->OnTick();
  Take();
  EXPECT_TRUE(effects_.close);
}

TEST_F(ConnectionTest, HandshakeMustFinishInTime) {
  Send(Connect(0, "", 30000));
  env_.now_ms += options_.sessionless_timeout_ms + 1;
  conn_->OnTick();
  Take();
  EXPECT_TRUE(effects_.close);
}

TEST_F(ConnectionTest, InfoReportsStatistics) {
  Establish();
  Send(Req(1, OpCode::kGetData, jute::GetDataRequest{"/a", false}));
  env_.now_ms += 5;
  conn_->OnReadResult(ReadResultFor(0));
  Take();
  ConnectionInfo info = conn_->Info();
  EXPECT_EQ(info.session_id, kSession);
  EXPECT_EQ(info.received, 2);  // connect + getData
  EXPECT_EQ(info.sent, 2);      // connect response + reply
  EXPECT_EQ(info.last_op, "GETD");
  EXPECT_EQ(info.last_cxid, 1);
  EXPECT_EQ(info.last_latency_ms, 5);
  EXPECT_EQ(info.max_latency_ms, 5);
  EXPECT_EQ(info.remote, "/127.0.0.1:5555");
}

// Random bytes, random frames with random op codes and random upstream results, in
// random chunks: the connection must never crash, and once closed it stays closed.
TEST_F(ConnectionTest, SurvivesRandomInput) {
  for (uint64_t seed = 1; seed <= 300; ++seed) {
    Rng rng(seed);
    Reset();
    Establish();
    std::string stream;
    for (int i = 0; i < 20; ++i) {
      switch (rng.Uniform(3)) {
        case 0: {  // a frame with a random op and a random body
          std::string body;
          const size_t n = rng.Uniform(40);
          for (size_t j = 0; j < n; ++j) body.push_back(static_cast<char>(rng.Next()));
          const int32_t ops[] = {1,   2,   3,   4,   5,   6,   7,   8,  9,   11,  12,  13,
                                 14,  15,  16,  17,  18,  19,  20,  21, 22,  100, 101, 102,
                                 103, 104, 105, 106, 107, -11, -10, 0,  999, -1};
          const int32_t op = ops[rng.Uniform(sizeof(ops) / sizeof(ops[0]))];
          jute::Writer w;
          w.WriteInt(static_cast<int32_t>(rng.Uniform(100)));
          w.WriteInt(op);
          std::string payload = w.Release() + body;
          stream += jute::EncodeFrame(payload);
          break;
        }
        case 1: {  // raw garbage
          const size_t n = rng.Uniform(12);
          for (size_t j = 0; j < n; ++j) stream.push_back(static_cast<char>(rng.Next()));
          break;
        }
        default:  // a well-formed read
          stream += Req(static_cast<int32_t>(rng.Uniform(50)), OpCode::kGetData,
                        jute::GetDataRequest{"/r", rng.OneIn(2)});
      }
    }
    size_t pos = 0;
    while (pos < stream.size()) {
      const size_t n = 1 + rng.Uniform(64);
      conn_->OnBytes(std::string_view(stream).substr(pos, n));
      pos += n;
      Take();
      // Answer some of what went upstream, sometimes with garbage ids.
      for (const auto& read : effects_.reads) {
        ensemble::storage::v1::ReadResult r;
        r.set_id(rng.OneIn(5) ? rng.Next() : read.id());
        r.set_err(rng.OneIn(3) ? -101 : 0);
        conn_->OnReadResult(r);
      }
      for (const auto& txn : effects_.txns) {
        ensemble::v1::TxnResult r;
        r.set_cxid(txn.header().cxid());
        r.set_type(txn.header().type());
        r.set_session_id(kSession);
        if (rng.OneIn(4)) {
          conn_->OnRejected(txn.header().cxid(), -4);
        } else {
          conn_->OnWriteResult(r);
        }
      }
      for (uint64_t sync : effects_.syncs) conn_->OnSyncDone(sync, 5);
      effects_.reads.clear();
      effects_.txns.clear();
      effects_.syncs.clear();
      Take();
    }
    if (effects_.close) {
      EXPECT_TRUE(conn_->closing());
      EXPECT_FALSE(conn_->WantsRead());
    }
    Frames();  // every byte written is a whole, well-formed frame
  }
}

}  // namespace
}  // namespace ensemble::gateway

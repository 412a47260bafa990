// libFuzzer target for the gateway's request handling: whatever a client sends
// goes through the real per-connection state machine (services/gateway/session/
// connection.h) against a real in-memory storage state machine
// (services/storage/core/state_machine.h), end to end, without sockets. The
// harness plays the gateway server's part (gateway_server.cc): it feeds socket
// bytes while the connection wants to read, takes its effects after every call,
// sends reads to storage, orders writes (a Sequencer, as the leader would),
// applies them and routes every result and watch event back, as the storage and
// replication services would.
//
// The input is a script (fuzz_input.h, gateway_cmd): client bytes (whole
// length-prefixed frames, or anything else) interleaved with upstream events
// (answers in any order, refusals, lost streams, clock ticks, session expiry).
//
// The connection may close itself at any point (bad input is answered by a
// close); it must never crash, leak or hit undefined behaviour, and it must
// keep these properties:
//   - what it writes to the client is whole frames, as many as it counts
//     (except a four-letter word's text);
//   - every upstream request carries this connection's id, and every write its
//     own session;
//   - once closed, it produces nothing more.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/base/zxid.h"
#include "common/jute/frame.h"
#include "common/jute/op_code.h"
#include "common/jute/zk_error.h"
#include "services/gateway/session/auth.h"
#include "services/gateway/session/connection.h"
#include "services/gateway/session/four_letter_words.h"
#include "services/gateway/session/ops.h"
#include "services/replication/core/sequencer.h"
#include "services/storage/core/state_machine.h"
#include "tests/fuzz/fuzz_input.h"

namespace ensemble::fuzz {
namespace {

using gateway::Connection;
using gateway::ConnectionEnv;
using gateway::ConnectionOptions;
using gateway::Effects;

constexpr char kTarget[] = "gateway_frames_fuzz";
constexpr uint64_t kGatewayId = 0x77;
constexpr int32_t kOpCreateSession = -10;
constexpr int32_t kOpCloseSession = -11;
constexpr int32_t kOpSync = 9;

// The refusal codes replication can send (and a few it does not).
constexpr int32_t kRejectErrors[8] = {
    jute::ToInt(jute::ZkError::kConnectionLoss), jute::ToInt(jute::ZkError::kSessionExpired),
    jute::ToInt(jute::ZkError::kSessionMoved),   jute::ToInt(jute::ZkError::kMarshallingError),
    jute::ToInt(jute::ZkError::kSystemError),    0,
    jute::ToInt(jute::ZkError::kNoNode),         -1234,
};

ensemble::v1::Acl OpenAcl() {
  ensemble::v1::Acl acl;
  acl.set_perms(31);
  acl.mutable_id()->set_scheme("world");
  acl.mutable_id()->set_id("anyone");
  return acl;
}

class Harness {
 public:
  explicit Harness(uint8_t flags) {
    using namespace gateway_cmd;
    if (flags & kFlagSmallOutstanding) options_.max_outstanding = 2;
    if (flags & kFlagSmallFrames) options_.max_frame_bytes = 96;
    options_.reconfig_enabled = (flags & kFlagReconfig) != 0;
    if (flags & kFlagSuperDigest) options_.super_digest = gateway::DigestOf("super:secret");
    env_.now_ms = 1000;
    env_.wall_ms = 1700000000000;
    env_.storage_up = (flags & kFlagStorageDown) == 0;
    env_.replication_up = (flags & kFlagReplicationDown) == 0;
    Preset();
    env_.applied_zxid = sm_.last_applied_zxid();
    sequencer_ = std::make_unique<zab::Sequencer>(/*sid=*/1, /*epoch=*/1, sm_.last_applied_zxid(),
                                                  env_.wall_ms);
    conn_ = std::make_unique<Connection>(kGatewayConnectionId, "/127.0.0.1:43440", "127.0.0.1",
                                         &options_, &env_);
  }

  void Run(Input& in) {
    using namespace gateway_cmd;
    while (!in.empty()) {
      const uint8_t op = in.Byte();
      const uint8_t arg = op >> 3;
      switch (static_cast<Kind>(op & 7)) {
        case kData:
          socket_.append(in.Bytes(in.U16() & 0x1fff));
          FeedSocket();
          break;
        case kDeliverAll:
          DeliverAll();
          break;
        case kDeliverOne:
          DeliverOne(arg % 3);
          break;
        case kReject:
          if (!writes_.empty()) {
            const ensemble::v1::Txn txn = std::move(writes_.front());
            writes_.pop_front();
            conn_->OnRejected(txn.header().cxid(), kRejectErrors[arg % 8]);
            Take();
          }
          break;
        case kTick:
          env_.now_ms += (static_cast<int64_t>(in.Byte()) + 1) * 100;
          env_.wall_ms += 100;
          conn_->OnTick();
          Take();
          break;
        case kUpstream:
          Upstream(arg % 4);
          break;
        case kExpire:
          Expire();
          break;
        case kEndOfStream:
          conn_->OnEndOfStream();
          Take();
          break;
      }
      FeedSocket();
    }
    // The rest of the conversation: everything is answered, then the client
    // goes quiet until the session times out.
    env_.storage_up = env_.replication_up = true;
    for (int i = 0; i < 4 && !conn_->closing(); ++i) {
      FeedSocket();
      DeliverAll();
    }
    env_.now_ms += 1000000;
    conn_->OnTick();
    Take();
    if (!conn_->closing()) Fail(kTarget, "connection still open after its timeout");
    conn_->OnBytes("more bytes after the close");
    conn_->OnEndOfStream();
    Take();
    (void)conn_->Info();
  }

 private:
  // A session, a few nodes and an ephemeral, as if the ensemble had run for a while.
  void Preset() {
    int64_t counter = 0;
    auto apply = [&](int64_t session, int32_t type, ensemble::v1::Op op) {
      ensemble::v1::Txn txn;
      txn.mutable_header()->set_session_id(session);
      txn.mutable_header()->set_zxid(Zxid::Make(1, ++counter));
      txn.mutable_header()->set_time_ms(env_.wall_ms);
      txn.mutable_header()->set_type(type);
      *txn.mutable_op() = std::move(op);
      (void)sm_.Apply(txn);
    };
    auto create = [&](const std::string& path, const std::string& data, int mode) {
      ensemble::v1::Op op;
      auto* c = op.mutable_create();
      c->set_path(path);
      c->set_data(data);
      c->set_mode(static_cast<ensemble::v1::CreateMode>(mode));
      *c->add_acl() = OpenAcl();
      apply(kGatewayPresetSession, static_cast<int32_t>(jute::OpCode::kCreate), std::move(op));
    };
    ensemble::v1::Op session;
    session.mutable_create_session()->set_timeout_ms(30000);
    apply(kGatewayPresetSession, kOpCreateSession, std::move(session));
    create("/a", "data of a", 0);
    create("/a/b", "", 0);
    create("/a/c", std::string(40, 'c'), 0);
    create("/e", "ephemeral", 1);
    create("/q", "", 4);  // a container
  }

  // Feeds buffered client bytes while the connection wants them (the server
  // reads the socket only then).
  void FeedSocket() {
    while (!socket_.empty() && conn_->WantsRead()) {
      // Pieces of up to 61 bytes, so frames straddle reads.
      const size_t n = std::min<size_t>(socket_.size(), 1 + socket_.size() % 61);
      const std::string piece = socket_.substr(0, n);
      socket_.erase(0, n);
      conn_->OnBytes(piece);
      Take();
    }
  }

  void Take() {
    Effects e = conn_->TakeEffects();
    if (closed_ && (!e.to_client.empty() || !e.reads.empty() || !e.txns.empty() ||
                    !e.syncs.empty() || e.attached_session != 0)) {
      Fail(kTarget, "a closed connection produced output");
    }
    if (!e.four_letter_word) {
      CheckFrames(e.to_client, e.frames_out);
    } else {
      gateway::ServerInfo info;
      info.zxid = env_.applied_zxid;
      info.node_count = static_cast<int64_t>(sm_.ZnodeCount());
      info.connections.push_back(conn_->Info());
      info.trace_mask = e.four_letter_word->argument;
      (void)gateway::FormatFourLetterWord(e.four_letter_word->word, info);
    }
    for (auto& read : e.reads) {
      if (Connection::UpstreamIdOwner(read.id()) != kGatewayConnectionId) {
        Fail(kTarget, "a read with another connection's id");
      }
      reads_.push_back(std::move(read));
    }
    for (auto& txn : e.txns) {
      const auto& h = txn.header();
      const bool create_session = h.type() == kOpCreateSession;
      if (create_session ? (h.session_id() != 0 || h.cxid() != conn_->CreateSessionCxid())
                         : h.session_id() != conn_->session_id()) {
        Fail(kTarget, absl::StrCat("a write of type ", h.type(), " for session ", h.session_id(),
                                   " on a connection of session ", conn_->session_id()));
      }
      txn.mutable_header()->set_origin(kGatewayId);
      writes_.push_back(std::move(txn));
    }
    for (uint64_t id : e.syncs) {
      if (Connection::UpstreamIdOwner(id) != kGatewayConnectionId) {
        Fail(kTarget, "a sync barrier with another connection's id");
      }
      syncs_.push_back(id);
    }
    if (e.close) {
      if (Tracing()) std::fprintf(stderr, "gateway: closed: %s\n", e.close_reason.c_str());
      closed_ = true;
    }
    if (Tracing()) {
      for (const auto& c : e.completed) {
        std::fprintf(stderr, "gateway: completed op %d err %d\n", static_cast<int>(c.op), c.err);
      }
    }
    if (closed_ != conn_->closing()) Fail(kTarget, "close effect and closing() disagree");
  }

  static void CheckFrames(const std::string& bytes, int64_t frames_out) {
    jute::FrameDecoder decoder(1 << 24);
    decoder.Feed(bytes);
    int64_t frames = 0;
    for (;;) {
      auto next = decoder.Next();
      if (!next.ok()) Fail(kTarget, "the connection wrote a malformed frame");
      if (!next->has_value()) break;
      ++frames;
    }
    if (decoder.buffered() != 0) Fail(kTarget, "the connection wrote a partial frame");
    if (frames != frames_out) Fail(kTarget, "frames_out does not count the frames written");
  }

  bool Idle() const { return reads_.empty() && writes_.empty() && syncs_.empty(); }

  void DeliverAll() {
    for (int round = 0; round < 64 && !Idle(); ++round) {
      while (!reads_.empty()) DeliverOne(0);
      while (!writes_.empty()) DeliverOne(1);
      while (!syncs_.empty()) DeliverOne(2);
      FeedSocket();
    }
  }

  void DeliverOne(int which) {
    switch (which) {
      case 0:
        if (!reads_.empty()) {
          ensemble::storage::v1::ReadRequest read = std::move(reads_.front());
          reads_.pop_front();
          AnswerRead(read);
        }
        break;
      case 1:
        if (!writes_.empty()) {
          ensemble::v1::Txn txn = std::move(writes_.front());
          writes_.pop_front();
          ApplyWrite(std::move(txn));
        }
        break;
      default:
        if (!syncs_.empty()) {
          const uint64_t id = syncs_.front();
          syncs_.pop_front();
          conn_->OnSyncDone(id, sm_.last_applied_zxid());
          Take();
        }
        break;
    }
  }

  // As StorageDriver::AnswerRead.
  void AnswerRead(const ensemble::storage::v1::ReadRequest& read) {
    if (read.min_zxid() > sm_.last_applied_zxid()) {
      reads_.push_back(read);  // parked until storage applies that far
      return;
    }
    ensemble::storage::v1::ReadResult result;
    std::vector<storage::FiredEvent> events;
    if (read.type() == kOpSync) {
      result.set_id(read.id());
      result.set_zxid(sm_.last_applied_zxid());
    } else if (read.type() == gateway::kRevalidateSessionType) {
      result.set_id(read.id());
      result.set_zxid(sm_.last_applied_zxid());
      std::optional<int32_t> timeout = sm_.sessions().Timeout(read.session_id());
      if (timeout) {
        result.set_number(*timeout);
      } else {
        result.set_err(jute::ToInt(jute::ZkError::kSessionExpired));
      }
    } else {
      result = sm_.Read(read, kGatewayId, &events);
      result.set_id(read.id());
      result.set_zxid(sm_.last_applied_zxid());
    }
    RouteEvents(events);
    conn_->OnReadResult(result);
    Take();
  }

  // The leader orders the write, every peer applies it, the home storage
  // answers the origin gateway.
  void ApplyWrite(ensemble::v1::Txn txn) {
    sequencer_->Prepare(&txn, env_.wall_ms);
    storage::ApplyOutput out = sm_.Apply(txn);
    env_.applied_zxid = sm_.last_applied_zxid();
    RouteEvents(out.events);
    conn_->OnWriteResult(out.result);
    Take();
  }

  void RouteEvents(const std::vector<storage::FiredEvent>& events) {
    for (const auto& fired : events) {
      if (fired.gateway_id == kGatewayId && fired.event.session_id() == conn_->session_id()) {
        conn_->OnWatchEvent(fired.event);
        Take();
      }
    }
  }

  void Upstream(int what) {
    switch (what) {
      case 0:
        env_.storage_up = false;
        reads_.clear();
        conn_->OnUpstreamLost(/*lost_storage=*/true);
        break;
      case 1:
        env_.replication_up = false;
        writes_.clear();
        syncs_.clear();
        conn_->OnUpstreamLost(/*lost_storage=*/false);
        break;
      case 2:
        conn_->OnSessionMoved();
        break;
      default:
        env_.storage_up = env_.replication_up = true;
        break;
    }
    Take();
  }

  // The leader's session tracker expires the session: a closeSession with no
  // origin; the session's gateway learns it from the result.
  void Expire() {
    const int64_t session = conn_->session_id() != 0 ? conn_->session_id() : kGatewayPresetSession;
    ensemble::v1::Txn txn;
    txn.mutable_header()->set_session_id(session);
    txn.mutable_header()->set_type(kOpCloseSession);
    txn.mutable_op()->mutable_close_session();
    ApplyWrite(std::move(txn));
  }

  ConnectionOptions options_;
  ConnectionEnv env_;
  storage::StateMachine sm_;
  std::unique_ptr<zab::Sequencer> sequencer_;
  std::unique_ptr<Connection> conn_;
  std::string socket_;  // client bytes the connection has not read yet
  std::deque<ensemble::storage::v1::ReadRequest> reads_;
  std::deque<ensemble::v1::Txn> writes_;
  std::deque<uint64_t> syncs_;
  bool closed_ = false;
};

}  // namespace
}  // namespace ensemble::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ensemble::fuzz::Input in(data, size);
  ensemble::fuzz::Harness harness(in.Byte());
  harness.Run(in);
  return 0;
}

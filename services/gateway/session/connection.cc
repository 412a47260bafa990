#include "services/gateway/session/connection.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/jute/zk_error.h"
#include "common/jute/zoo_defs.h"

namespace ensemble::gateway {

using jute::OpCode;
using jute::ZkError;

namespace {

constexpr int32_t kErr(ZkError e) { return jute::ToInt(e); }

std::string Hex(int64_t v) { return absl::StrFormat("0x%x", static_cast<uint64_t>(v)); }

}  // namespace

Connection::Connection(uint64_t id, std::string remote, std::string client_ip,
                       const ConnectionOptions* options, const ConnectionEnv* env)
    : id_(id),
      remote_(std::move(remote)),
      client_ip_(std::move(client_ip)),
      options_(options),
      env_(env),
      decoder_(options->max_frame_bytes),
      identities_(client_ip_) {
  created_ms_ = env_->now_ms;
  last_receive_ms_ = env_->now_ms;
}

// ---- socket input ----

void Connection::OnBytes(std::string_view bytes) {
  if (state_ == State::kClosed) return;
  last_receive_ms_ = env_->now_ms;
  if (state_ == State::kFirstBytes) {
    first_bytes_.append(bytes.data(), bytes.size());
    HandleFirstBytes();
    return;
  }
  decoder_.Feed(bytes);
  Pump();
}

void Connection::HandleFirstBytes() {
  if (first_bytes_.size() < 4) return;
  std::optional<FourLetterWord> word =
      ParseFourLetterWord(std::string_view(first_bytes_).substr(0, 4));
  if (word) {
    FourLetterWordRequest request{*word, 0};
    if (*word == FourLetterWord::kStmk) {
      // stmk carries the new trace mask as an 8-byte long after the command.
      if (first_bytes_.size() < 12) return;
      jute::Reader r(std::string_view(first_bytes_).substr(4, 8));
      int64_t mask = 0;
      if (r.ReadLong("stmk mask", &mask).ok()) request.argument = mask;
    }
    ++packets_received_;
    ++effects_.frames_in;
    if (*word == FourLetterWord::kTelnetClose) {
      Close("telnet close");
      return;
    }
    effects_.four_letter_word = request;
    Close("four letter word " + std::string(FourLetterWordName(*word)));
    return;
  }
  state_ = State::kConnect;
  decoder_.Feed(first_bytes_);
  first_bytes_.clear();
  first_bytes_.shrink_to_fit();
  Pump();
}

void Connection::OnEndOfStream() {
  if (state_ == State::kClosed) return;
  Close(session_id_ != 0 ? absl::StrCat("client closed the socket, session ", Hex(session_id_))
                         : "client closed the socket (no session)");
}

// The main loop of the state machine: parse what may be parsed, send what may go
// upstream, write the replies that are ready, until nothing moves.
void Connection::Pump() {
  while (state_ != State::kClosed) {
    bool progress = false;
    while (state_ == State::kConnect || (state_ == State::kEstablished && ParsingAllowed())) {
      auto next = decoder_.Next();
      if (!next.ok()) {
        Close(absl::StrCat("bad frame from client: ", next.status().message()), true);
        return;
      }
      if (!next->has_value()) break;
      std::string_view payload = **next;
      ++packets_received_;
      ++effects_.frames_in;
      progress = true;
      if (state_ == State::kConnect) {
        HandleConnect(payload);
      } else {
        HandleRequest(payload);
      }
      if (state_ == State::kClosed) return;
    }
    if (state_ != State::kEstablished) return;
    Dispatch();
    if (state_ == State::kClosed) return;
    const size_t before = queue_.size();
    EmitDone();
    if (queue_.size() != before) progress = true;
    if (!progress) return;
  }
}

// ---- handshake ----

void Connection::HandleConnect(std::string_view payload) {
  jute::DecodeOptions decode;
  decode.max_length = options_->max_field_bytes;
  decode.allow_trailing_bytes = true;  // ZooKeeper ignores what follows the record
  auto request = jute::DecodeConnectRequest(payload, decode);
  if (!request.ok()) {
    Close(absl::StrCat("bad ConnectRequest: ", request.status().message()), true);
    return;
  }
  has_read_only_ = request->has_read_only;
  if (!env_->storage_up) {
    Close("not serving: the home storage is unavailable");
    return;
  }
  if (request->last_zxid_seen > env_->applied_zxid) {
    Close(absl::StrCat("refusing session: client has seen zxid ", Hex(request->last_zxid_seen),
                       ", our last zxid is ", Hex(env_->applied_zxid),
                       "; client must try another server"));
    return;
  }
  requested_timeout_ms_ =
      std::clamp(request->timeout_ms, options_->min_session_timeout_ms,
                 std::max(options_->min_session_timeout_ms, options_->max_session_timeout_ms));
  state_ = State::kHandshaking;
  if (request->session_id == 0) {
    if (!env_->replication_up) {
      Close("not serving: replication is unavailable");
      return;
    }
    ensemble::v1::Txn txn;
    auto* header = txn.mutable_header();
    header->set_session_id(0);
    header->set_cxid(CreateSessionCxid());
    header->set_type(static_cast<int32_t>(OpCode::kCreateSession));
    txn.mutable_op()->mutable_create_session()->set_timeout_ms(requested_timeout_ms_);
    effects_.txns.push_back(std::move(txn));
    return;
  }
  if (!CheckSessionPassword(options_->session_secret, request->session_id, request->passwd)) {
    RefuseSession(absl::StrCat("incorrect password for session ", Hex(request->session_id)));
    return;
  }
  ensemble::storage::v1::ReadRequest read;
  revalidate_id_ = NextUpstreamId();
  read.set_id(revalidate_id_);
  read.set_session_id(request->session_id);
  read.set_type(kRevalidateSessionType);
  effects_.reads.push_back(std::move(read));
  session_id_ = request->session_id;  // not attached until storage confirms
}

void Connection::FinishHandshake(int64_t session_id, int32_t timeout_ms) {
  session_id_ = session_id;
  timeout_ms_ = timeout_ms;
  state_ = State::kEstablished;
  established_wall_ms_ = env_->wall_ms;
  last_receive_ms_ = env_->now_ms;
  jute::ConnectResponse response;
  response.protocol_version = jute::kProtocolVersion;
  response.timeout_ms = timeout_ms;
  response.session_id = session_id;
  response.passwd = SessionPassword(options_->session_secret, session_id);
  response.read_only = false;
  response.has_read_only = has_read_only_;
  WriteFrame(jute::EncodeConnectResponse(response));
  last_op_ = "SESS";
  last_zxid_ = env_->applied_zxid;
  last_response_ms_ = env_->now_ms;
  effects_.attached_session = session_id;
  effects_.touched = true;
  Pump();
}

// ZooKeeper's answer to a re-attach it refuses (finishSessionInit(valid=false)):
// timeout 0, session 0 and a zero password, then close. Clients report it as
// session expired.
void Connection::RefuseSession(std::string_view why) {
  jute::ConnectResponse response;
  response.protocol_version = jute::kProtocolVersion;
  response.timeout_ms = 0;
  response.session_id = 0;
  response.passwd = std::string(jute::kSessionPasswordLength, '\0');
  response.has_read_only = has_read_only_;
  WriteFrame(jute::EncodeConnectResponse(response));
  session_id_ = 0;
  Close(std::string(why));
}

// ---- requests ----

void Connection::HandleRequest(std::string_view payload) {
  const int64_t now = env_->now_ms;
  effects_.touched = true;
  auto header = jute::DecodeRequestHeader(payload);
  if (!header.ok()) {
    Close(absl::StrCat("malformed request: ", header.status().message()), true);
    return;
  }
  const auto op = static_cast<OpCode>(header->type);
  if (op == OpCode::kPing) {
    // Answered at once, out of order: every client matches ping replies by xid.
    WriteFrame(jute::EncodeResponse(jute::ReplyHeader{jute::kPingXid, ReplyZxid(), 0},
                                    jute::EmptyRecord{}));
    last_op_ = "PING";
    last_zxid_ = ReplyZxid();
    last_response_ms_ = now;
    return;
  }
  jute::DecodeOptions decode;
  decode.max_length = options_->max_field_bytes;
  decode.allow_trailing_bytes = true;
  auto request = jute::DecodeRequest(payload, decode);
  if (!request.ok()) {
    if (request.status().code() == absl::StatusCode::kUnimplemented) {
      if (op == OpCode::kDeleteContainer) {
        // Only the server issues deleteContainer; ZooKeeper answers a client's
        // with BADARGUMENTS.
        QueueLocal(header->xid, op, kErr(ZkError::kBadArguments), jute::EmptyRecord{}, ReplyZxid());
        return;
      }
      // ZooKeeper's UnimplementedRequestProcessor: UNIMPLEMENTED, zxid -1, close.
      Pending& p =
          QueueLocal(header->xid, op, kErr(ZkError::kUnimplemented), jute::EmptyRecord{}, -1);
      p.close_after = true;
      p.close_reason = absl::StrCat("unknown op code ", header->type, " from client");
      stop_parsing_ = true;
      effects_.protocol_error = true;
      return;
    }
    if (op == OpCode::kAuth || op == OpCode::kSasl) {
      Close(absl::StrCat("malformed ", std::string(jute::OpCodeName(op)),
                         " packet: ", request.status().message()),
            true);
      return;
    }
    // ZooKeeper answers a request whose record does not decode with
    // MARSHALLINGERROR and keeps the connection.
    QueueLocal(header->xid, op, kErr(ZkError::kMarshallingError), jute::EmptyRecord{}, ReplyZxid());
    return;
  }

  switch (op) {
    case OpCode::kAuth:
      HandleAuth(header->xid, std::get<jute::AuthPacket>(request->body), now);
      return;
    case OpCode::kSasl: {
      // SASL is not offered: refuse as ZooKeeper does when SASL fails.
      Pending& p = QueueLocal(header->xid, op, kErr(ZkError::kAuthFailed),
                              jute::SetSaslResponse{std::nullopt}, 0);
      p.close_after = true;
      p.close_reason = "SASL authentication is not supported";
      stop_parsing_ = true;
      effects_.auth_failed = true;
      return;
    }
    case OpCode::kWhoAmI: {
      jute::WhoAmIResponse who;
      for (const auto& id : identities_.ids()) {
        who.client_info.push_back(jute::ClientInfo{id.scheme(), WhoAmIUser(id)});
      }
      QueueLocal(header->xid, op, 0, who, ReplyZxid());
      return;
    }
    case OpCode::kReconfig:
      // Dynamic reconfiguration is not implemented; with reconfigEnabled=false
      // ZooKeeper answers RECONFIGDISABLED.
      QueueLocal(header->xid, op,
                 options_->reconfig_enabled ? kErr(ZkError::kUnimplemented)
                                            : kErr(ZkError::kReconfigDisabled),
                 jute::EmptyRecord{}, ReplyZxid());
      return;
    default:
      break;
  }

  Pending p;
  p.xid = header->xid;
  p.op = op;
  p.received_ms = now;
  switch (RouteOf(op)) {
    case OpRoute::kRead: {
      p.kind = Kind::kRead;
      p.sub_ops = SubOpsOf(*request);
      p.read = ReadOf(*request);
      p.read->set_session_id(session_id_);
      identities_.CopyTo(p.read->mutable_auth());
      const int kind = WatchKindOf(*p.read);
      if (kind >= 0 && watches_[kind].count(p.read->path()) == 0) {
        if (options_->max_watches > 0 &&
            watch_count() >= static_cast<size_t>(options_->max_watches)) {
          // ensemble.maxWatchesPerSession: refuse the whole read, so the client
          // never believes it holds a watch it does not.
          QueueLocal(header->xid, op, kErr(ZkError::kOperationTimeout), jute::EmptyRecord{},
                     ReplyZxid());
          ++effects_.watches_refused;
          return;
        }
        watches_[kind].insert(p.read->path());
        p.added_watch = kind;
        p.watch_path = p.read->path();
      }
      if (op == OpCode::kRemoveWatches) {
        p.watch_path = p.read->path();
        p.remove_type = p.read->mode();
      }
      if (p.read->has_set_watches()) {
        // A reconnecting client re-registers what it held: always accepted
        // (the limit applies to new watches).
        const auto& sw = p.read->set_watches();
        for (const auto& path : sw.data()) watches_[kDataWatch].insert(path);
        for (const auto& path : sw.exist()) watches_[kDataWatch].insert(path);
        for (const auto& path : sw.child()) watches_[kChildWatch].insert(path);
        for (const auto& path : sw.persistent()) watches_[kPersistentWatch].insert(path);
        for (const auto& path : sw.persistent_recursive()) {
          watches_[kRecursiveWatch].insert(path);
        }
      }
      break;
    }
    case OpRoute::kWrite: {
      p.kind = Kind::kWrite;
      p.sub_ops = SubOpsOf(*request);
      ensemble::v1::Txn txn;
      auto* h = txn.mutable_header();
      h->set_session_id(session_id_);
      h->set_cxid(header->xid);
      h->set_type(header->type);
      identities_.CopyTo(h->mutable_auth());
      *txn.mutable_op() = WriteOpOf(*request);
      p.txn = std::move(txn);
      if (op == OpCode::kCloseSession) {
        p.close_after = true;
        p.close_reason = absl::StrCat("closed session ", Hex(session_id_));
        stop_parsing_ = true;
      }
      break;
    }
    case OpRoute::kSync:
      // First a barrier through replication, then a read that storage answers once
      // it has applied the barrier's zxid.
      p.kind = Kind::kWrite;
      p.sync_path = std::get<jute::SyncRequest>(request->body).path;
      break;
    case OpRoute::kLocal: {
      Pending& local =
          QueueLocal(header->xid, op, kErr(ZkError::kUnimplemented), jute::EmptyRecord{}, -1);
      local.close_after = true;
      local.close_reason = absl::StrCat("unexpected op ", header->type, " from client");
      stop_parsing_ = true;
      return;
    }
  }
  queue_.push_back(std::move(p));
}

void Connection::HandleAuth(int32_t xid, const jute::AuthPacket& auth, int64_t now) {
  (void)now;
  AuthOutcome outcome =
      ApplyAuth(auth.scheme, auth.auth, options_->super_digest, client_ip_, &identities_);
  if (outcome == AuthOutcome::kOk) {
    QueueLocal(xid, OpCode::kAuth, 0, jute::EmptyRecord{}, 0);
    return;
  }
  // ZooKeeper answers AUTHFAILED (the client raises an AuthFailed event) and
  // closes the connection.
  Pending& p = QueueLocal(xid, OpCode::kAuth, kErr(ZkError::kAuthFailed), jute::EmptyRecord{}, 0);
  p.close_after = true;
  p.close_reason = absl::StrCat("authentication failed for scheme '", auth.scheme, "'");
  stop_parsing_ = true;
  effects_.auth_failed = true;
}

Connection::Pending& Connection::QueueLocal(int32_t xid, OpCode op, int32_t err,
                                            const jute::ResponseBody& body, int64_t zxid) {
  Pending p;
  p.xid = xid;
  p.op = op;
  p.kind = Kind::kLocal;
  p.received_ms = env_->now_ms;
  queue_.push_back(std::move(p));
  Pending& added = queue_.back();
  Complete(added, err, body, zxid);
  return added;
}

void Connection::Complete(Pending& p, int32_t err, const jute::ResponseBody& body, int64_t zxid) {
  if (p.done) return;
  p.frame = jute::EncodeResponse(jute::ReplyHeader{p.xid, zxid, err}, body);
  p.err = err;
  p.zxid = zxid;
  p.done = true;
  if (p.dispatched) --inflight_;
}

// Sends queued requests upstream in order. A read waits while writes before it are
// in flight, and a write while reads before it are: so a session's requests take
// effect in the order it sent them, though reads go to storage and writes through
// replication. Since an item that waits makes every later one wait, the
// dispatched items are always a prefix of the queue.
void Connection::Dispatch() {
  if (output_blocked_) return;
  while (next_dispatch_ < queue_.size()) {
    Pending& p = queue_[next_dispatch_];
    if (p.kind == Kind::kLocal || p.done) {
      ++next_dispatch_;
      continue;
    }
    if (inflight_ > 0 && inflight_kind_ != p.kind) return;
    if (p.kind == Kind::kRead && !env_->storage_up) {
      Close("the home storage is unavailable");
      return;
    }
    if (p.kind == Kind::kWrite && !env_->replication_up) {
      Close("replication is unavailable");
      return;
    }
    if (p.read) {
      p.read_id = NextUpstreamId();
      p.read->set_id(p.read_id);
      effects_.reads.push_back(std::move(*p.read));
      p.read.reset();
    } else if (p.txn) {
      effects_.txns.push_back(std::move(*p.txn));
      p.txn.reset();
    } else {
      p.sync_id = NextUpstreamId();
      effects_.syncs.push_back(p.sync_id);
    }
    p.dispatched = true;
    ++inflight_;
    inflight_kind_ = p.kind;
    ++next_dispatch_;
  }
}

// Writes the replies at the head of the queue that are ready.
void Connection::EmitDone() {
  const int64_t now = env_->now_ms;
  while (!queue_.empty() && queue_.front().done) {
    Pending& p = queue_.front();
    WriteFrame(std::move(p.frame));
    const int64_t latency = std::max<int64_t>(0, now - p.received_ms);
    if (p.xid >= 0) last_cxid_ = p.xid;
    last_zxid_ = p.zxid;
    last_op_ = LastOpName(p.op);
    last_response_ms_ = now;
    last_latency_ms_ = latency;
    if (min_latency_ms_ < 0 || latency < min_latency_ms_) min_latency_ms_ = latency;
    max_latency_ms_ = std::max(max_latency_ms_, latency);
    ++latency_count_;
    latency_total_ms_ += latency;
    effects_.completed.push_back(Completed{p.op, p.err, latency});
    const bool close = p.close_after;
    std::string reason = std::move(p.close_reason);
    queue_.pop_front();
    if (next_dispatch_ > 0) --next_dispatch_;
    if (close) {
      Close(std::move(reason));
      return;
    }
  }
}

// ---- upstream input ----

Connection::Pending* Connection::FindRead(uint64_t read_id) {
  for (size_t i = 0; i < next_dispatch_ && i < queue_.size(); ++i) {
    Pending& p = queue_[i];
    if (!p.done && p.read_id == read_id) return &p;
  }
  return nullptr;
}

Connection::Pending* Connection::FindWrite(int32_t cxid) {
  for (size_t i = 0; i < next_dispatch_ && i < queue_.size(); ++i) {
    Pending& p = queue_[i];
    if (!p.done && p.dispatched && p.kind == Kind::kWrite && p.sync_id == 0 && p.xid == cxid) {
      return &p;
    }
  }
  return nullptr;
}

void Connection::OnReadResult(const ensemble::storage::v1::ReadResult& result) {
  if (state_ == State::kClosed) return;
  if (state_ == State::kHandshaking) {
    if (result.id() != revalidate_id_) return;
    if (result.err() != 0) {
      RefuseSession(absl::StrCat("session ", Hex(session_id_), " expired or unknown (err ",
                                 result.err(), ")"));
      return;
    }
    // The session keeps the timeout it was created with: that is what the leader's
    // session tracker enforces, whatever this client asks for now.
    FinishHandshake(session_id_, result.number() > 0 ? result.number() : requested_timeout_ms_);
    return;
  }
  Pending* p = FindRead(result.id());
  if (p == nullptr) return;
  if (p->sync_id != 0) {
    Complete(*p, result.err(),
             result.err() == 0 ? jute::ResponseBody(jute::SyncResponse{p->sync_path})
                               : jute::ResponseBody(jute::EmptyRecord{}),
             result.zxid());
  } else {
    OnReadWatches(*p, result);
    Reply reply = ReadReplyOf(p->op, p->sub_ops, result);
    Complete(*p, reply.err, reply.body, result.zxid());
  }
  Pump();
}

void Connection::OnWriteResult(const ensemble::v1::TxnResult& result) {
  if (state_ == State::kClosed) return;
  if (state_ == State::kHandshaking) {
    if (session_id_ != 0 || result.type() != static_cast<int32_t>(OpCode::kCreateSession) ||
        result.cxid() != CreateSessionCxid()) {
      return;
    }
    if (result.err() != 0 || result.session_id() == 0) {
      Close(absl::StrCat("createSession failed: err ", result.err()));
      return;
    }
    FinishHandshake(result.session_id(), result.session_timeout_ms() > 0
                                             ? result.session_timeout_ms()
                                             : requested_timeout_ms_);
    return;
  }
  if (state_ != State::kEstablished) return;
  Pending* p = FindWrite(result.cxid());
  if (p == nullptr || static_cast<int32_t>(p->op) != result.type()) {
    if (result.type() == static_cast<int32_t>(OpCode::kCloseSession)) {
      // The session ended without this connection asking (expired, or closed
      // through another gateway): close so the client learns it on reconnect.
      Close(absl::StrCat("session ", Hex(session_id_), " was closed"));
    }
    return;
  }
  Reply reply = WriteReplyOf(p->op, p->sub_ops, result);
  if (reply.err == kErr(ZkError::kSessionExpired) || reply.err == kErr(ZkError::kSessionMoved)) {
    p->close_after = true;
    p->close_reason = absl::StrCat("session ", Hex(session_id_), " is gone (err ", reply.err, ")");
    stop_parsing_ = true;
  }
  Complete(*p, reply.err, reply.body, result.zxid());
  Pump();
}

void Connection::OnRejected(int32_t cxid, int32_t err) {
  if (state_ == State::kClosed) return;
  if (state_ == State::kHandshaking) {
    if (session_id_ == 0 && cxid == CreateSessionCxid()) {
      Close(absl::StrCat("createSession rejected by replication: err ", err));
    }
    return;
  }
  Pending* p = FindWrite(cxid);
  if (p == nullptr) {
    if (err == kErr(ZkError::kSessionExpired)) {
      // Replication no longer knows the session (e.g. it refused a touch): close
      // so the client reconnects and learns that its session expired.
      Close(absl::StrCat("session ", Hex(session_id_), " expired"));
    }
    return;
  }
  if (err == kErr(ZkError::kConnectionLoss)) {
    // Whether the write happened is unknown: like a lost server, drop the
    // connection; the client reconnects and its session carries on.
    Close(absl::StrCat("write xid ", cxid, " lost upstream"));
    return;
  }
  if (err == kErr(ZkError::kSessionExpired) || err == kErr(ZkError::kSessionMoved)) {
    p->close_after = true;
    p->close_reason = absl::StrCat("session ", Hex(session_id_), " rejected (err ", err, ")");
    stop_parsing_ = true;
  }
  Complete(*p, err, jute::EmptyRecord{}, ReplyZxid());
  Pump();
}

void Connection::OnSyncDone(uint64_t sync_id, int64_t zxid) {
  if (state_ != State::kEstablished) return;
  for (size_t i = 0; i < next_dispatch_ && i < queue_.size(); ++i) {
    Pending& p = queue_[i];
    if (p.done || p.sync_id != sync_id || p.read_id != 0) continue;
    ensemble::storage::v1::ReadRequest read;
    p.read_id = NextUpstreamId();
    read.set_id(p.read_id);
    read.set_session_id(session_id_);
    read.set_type(static_cast<int32_t>(OpCode::kSync));
    read.set_path(p.sync_path);
    read.set_min_zxid(zxid);
    identities_.CopyTo(read.mutable_auth());
    effects_.reads.push_back(std::move(read));
    return;
  }
}

void Connection::OnWatchEvent(const ensemble::v1::WatchEvent& event) {
  if (state_ != State::kEstablished) return;
  jute::WatcherEvent watcher;
  watcher.type = event.type();
  watcher.state = static_cast<int32_t>(jute::KeeperState::kSyncConnected);
  watcher.path = event.path();
  WriteFrame(jute::EncodeNotification(watcher));
  // One-shot watches are consumed by the event (persistent ones stay).
  switch (static_cast<jute::EventType>(event.type())) {
    case jute::EventType::kNodeCreated:
    case jute::EventType::kNodeDataChanged:
    case jute::EventType::kDataWatchRemoved:
      ForgetWatches(kDataWatch, event.path());
      break;
    case jute::EventType::kNodeDeleted:
      ForgetWatches(kDataWatch, event.path());
      ForgetWatches(kChildWatch, event.path());
      break;
    case jute::EventType::kNodeChildrenChanged:
    case jute::EventType::kChildWatchRemoved:
      ForgetWatches(kChildWatch, event.path());
      break;
    default:
      break;
  }
}

void Connection::OnUpstreamLost(bool lost_storage) {
  if (state_ == State::kClosed) return;
  if (lost_storage) {
    Close("lost the stream to the home storage");
    return;
  }
  if (state_ == State::kHandshaking && session_id_ == 0) {
    Close("lost the stream to replication during createSession");
    return;
  }
  if (inflight_ > 0 && inflight_kind_ == Kind::kWrite) {
    Close("lost the stream to replication with writes in flight");
  }
}

void Connection::OnSessionMoved() {
  if (state_ == State::kClosed) return;
  Close(absl::StrCat("session ", Hex(session_id_), " re-attached on another connection"));
}

void Connection::OnTick() {
  if (state_ == State::kClosed) return;
  const int64_t now = env_->now_ms;
  if (state_ == State::kEstablished) {
    // A client we stopped reading from (its replies pile up) cannot show life;
    // the owner bounds how long that may last.
    if (output_blocked_) return;
    if (now - last_receive_ms_ > timeout_ms_) {
      Close(absl::StrCat("no packet from session ", Hex(session_id_), " for ",
                         now - last_receive_ms_, " ms (timeout ", timeout_ms_, " ms)"));
    }
  } else if (now - created_ms_ > options_->sessionless_timeout_ms) {
    Close(absl::StrCat("no session established within ", options_->sessionless_timeout_ms, " ms"));
  }
}

void Connection::ResetStats() {
  packets_received_ = 0;
  packets_sent_ = 0;
  min_latency_ms_ = -1;
  max_latency_ms_ = 0;
  last_op_ = "NA";
  last_cxid_ = -1;
  last_zxid_ = -1;
  last_response_ms_ = 0;
  last_latency_ms_ = 0;
  latency_count_ = 0;
  latency_total_ms_ = 0;
}

// ---- output ----

void Connection::Close(std::string reason, bool protocol_error) {
  if (state_ == State::kClosed) return;
  state_ = State::kClosed;
  effects_.close = true;
  effects_.close_reason = std::move(reason);
  effects_.protocol_error = effects_.protocol_error || protocol_error;
  queue_.clear();
  next_dispatch_ = 0;
  inflight_ = 0;
}

void Connection::WriteFrame(std::string frame) {
  effects_.to_client += frame;
  ++effects_.frames_out;
  ++packets_sent_;
}

Effects Connection::TakeEffects() { return std::exchange(effects_, Effects{}); }

bool Connection::HasEffects() const {
  return !effects_.to_client.empty() || !effects_.reads.empty() || !effects_.txns.empty() ||
         !effects_.syncs.empty() || effects_.touched || effects_.attached_session != 0 ||
         effects_.four_letter_word.has_value() || effects_.close || !effects_.completed.empty();
}

bool Connection::WantsRead() const {
  switch (state_) {
    case State::kFirstBytes:
    case State::kConnect:
      return true;
    case State::kEstablished:
      return ParsingAllowed();
    case State::kHandshaking:
    case State::kClosed:
      return false;
  }
  return false;
}

bool Connection::ParsingAllowed() const {
  return !stop_parsing_ && !output_blocked_ &&
         queue_.size() < static_cast<size_t>(std::max(1, options_->max_outstanding));
}

void Connection::SetOutputBlocked(bool blocked) {
  if (blocked == output_blocked_) return;
  output_blocked_ = blocked;
  if (!blocked && state_ == State::kEstablished) {
    last_receive_ms_ = env_->now_ms;  // the idle clock restarts
    Pump();
  }
}

// ---- watch accounting ----

int Connection::WatchKindOf(const ensemble::storage::v1::ReadRequest& read) {
  switch (static_cast<OpCode>(read.type())) {
    case OpCode::kGetData:
    case OpCode::kExists:
      return read.watch() ? kDataWatch : -1;
    case OpCode::kGetChildren:
    case OpCode::kGetChildren2:
      return read.watch() ? kChildWatch : -1;
    case OpCode::kAddWatch:
      // AddWatchMode: 0 persistent, 1 persistent-recursive.
      return read.mode() == 1 ? kRecursiveWatch : kPersistentWatch;
    default:
      return -1;
  }
}

size_t Connection::watch_count() const {
  size_t n = 0;
  for (const auto& table : watches_) n += table.size();
  return n;
}

void Connection::ForgetWatches(int kind, const std::string& path) { watches_[kind].erase(path); }

void Connection::OnReadWatches(const Pending& p, const ensemble::storage::v1::ReadResult& result) {
  const bool ok = result.err() == 0;
  if (p.added_watch >= 0) {
    // ZooKeeper sets a watch with a read that succeeds, and with an exists
    // that finds no node.
    const bool set = ok || (p.op == OpCode::kExists && result.err() == kErr(ZkError::kNoNode));
    if (!set) ForgetWatches(p.added_watch, p.watch_path);
    return;
  }
  if (!ok || p.op != OpCode::kRemoveWatches) return;
  switch (static_cast<jute::WatcherType>(p.remove_type)) {
    case jute::WatcherType::kChildren:
      ForgetWatches(kChildWatch, p.watch_path);
      break;
    case jute::WatcherType::kData:
      ForgetWatches(kDataWatch, p.watch_path);
      break;
    case jute::WatcherType::kPersistent:
      ForgetWatches(kPersistentWatch, p.watch_path);
      break;
    case jute::WatcherType::kPersistentRecursive:
      ForgetWatches(kRecursiveWatch, p.watch_path);
      break;
    case jute::WatcherType::kAny:
      for (int kind = 0; kind < kWatchKinds; ++kind) ForgetWatches(kind, p.watch_path);
      break;
  }
}

ConnectionInfo Connection::Info() const {
  ConnectionInfo info;
  info.remote = remote_;
  info.interest_ops = WantsRead() ? 1 : 0;
  info.queued = static_cast<int64_t>(queue_.size());
  info.received = packets_received_;
  info.sent = packets_sent_;
  info.session_id = state_ == State::kEstablished ? session_id_ : 0;
  info.last_op = last_op_;
  info.established_ms = established_wall_ms_;
  info.timeout_ms = timeout_ms_;
  info.last_cxid = last_cxid_;
  info.last_zxid = last_zxid_;
  info.last_response_ms = last_response_ms_;
  info.last_latency_ms = last_latency_ms_;
  info.min_latency_ms = min_latency_ms_ < 0 ? 0 : min_latency_ms_;
  info.avg_latency_ms = latency_count_ == 0 ? 0 : latency_total_ms_ / latency_count_;
  info.max_latency_ms = max_latency_ms_;
  const int64_t idle_limit =
      state_ == State::kEstablished ? timeout_ms_ : options_->sessionless_timeout_ms;
  info.expires_at_ms =
      env_->wall_ms + std::max<int64_t>(0, idle_limit - (env_->now_ms - last_receive_ms_));
  return info;
}

}  // namespace ensemble::gateway

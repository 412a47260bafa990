#pragma once

// One client connection of the gateway as a pure state machine: bytes from the
// socket and results from upstream go in; bytes for the socket, requests for
// storage and replication, and a close decision come out (Effects). No sockets,
// threads or clocks: time and the home storage's progress are read from a
// ConnectionEnv the owner keeps current.
//
// Life of a connection (ZooKeeper's NIOServerCnxn + ZooKeeperServer):
//   1. The first 4 bytes may be a four-letter word ("ruok"): reported in
//      Effects::four_letter_word; the owner answers and closes.
//   2. Otherwise they start the ConnectRequest frame (with or without the readOnly
//      byte of 3.4+ clients; the ConnectResponse uses the same dialect). A client
//      that has seen a newer zxid than the home storage applied is refused (closed).
//      The timeout is clamped to [min, max]. A new session is a createSession Txn
//      (header.cxid = the connection's correlation id, see CreateSessionCxid); a
//      re-attach checks the password, then asks storage whether the session still
//      exists. A bad password or an unknown session gets ZooKeeper's "expired"
//      ConnectResponse (timeout 0, session 0, zero password) and a close.
//   3. Established: each request frame is decoded and queued in arrival order.
//      Reads go to storage, writes to replication; a read waits for the writes
//      before it and a write for the reads before it (so each session's requests
//      take effect in order); replies leave in request order. Pings are answered at
//      once. Watch events are written as they arrive.
//   4. Bad input (garbage, a frame over jute.maxbuffer, an unknown op) closes the
//      connection, with ZooKeeper's reply where ZooKeeper sends one.
//   5. Limits (docs/reliability.md): with max_outstanding requests unanswered,
//      or while the owner says its socket's send queue is over its bound
//      (SetOutputBlocked), nothing more is parsed; while output is blocked,
//      nothing more goes upstream either. A session holding max_watches
//      watches gets ZOPERATIONTIMEOUT for a read or addWatch that would set
//      one more (nothing is read, no watch is set).
//
// Not thread-safe: one owner thread calls everything.

#include <cstdint>
#include <deque>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/jute/frame.h"
#include "common/jute/op_code.h"
#include "common/jute/request.h"
#include "ensemble/replication.pb.h"
#include "ensemble/storage.pb.h"
#include "ensemble/types.pb.h"
#include "services/gateway/session/auth.h"
#include "services/gateway/session/four_letter_words.h"
#include "services/gateway/session/ops.h"

namespace ensemble::gateway {

// Settings shared by every connection of a gateway (from zoo.cfg).
struct ConnectionOptions {
  int32_t min_session_timeout_ms = 4000;     // minSessionTimeout
  int32_t max_session_timeout_ms = 40000;    // maxSessionTimeout
  int32_t max_frame_bytes = 0xfffff;         // jute.maxbuffer: larger frames close the connection
  int32_t max_field_bytes = 0xfffff + 1024;  // jute.maxbuffer + extrasize, per field
  int32_t max_outstanding = 1000;  // ensemble.maxOutstandingPerConnection: stop parsing beyond
  int32_t max_watches = 0;         // ensemble.maxWatchesPerSession; 0: no limit
  int32_t sessionless_timeout_ms = 10000;  // a connection must finish its handshake in this
  std::string session_secret{kDefaultSessionSecret};  // keys session passwords
  std::string super_digest;                           // "super:<base64 sha1>", or empty
  bool reconfig_enabled = false;                      // reconfigEnabled
};

// What the owner keeps current for all its connections.
struct ConnectionEnv {
  int64_t now_ms = 0;        // monotonic clock
  int64_t wall_ms = 0;       // wall clock (for `cons`)
  int64_t applied_zxid = 0;  // the home storage's last applied zxid
  bool storage_up = false;
  bool replication_up = false;
};

// A four-letter word the owner must answer before closing the connection.
struct FourLetterWordRequest {
  FourLetterWord word = FourLetterWord::kRuok;
  int64_t argument = 0;  // stmk: the new trace mask
};

// One request answered, for metrics.
struct Completed {
  jute::OpCode op = jute::OpCode::kError;
  int32_t err = 0;
  int64_t latency_ms = 0;
};

// What a call produced. The owner takes it after every call (TakeEffects).
struct Effects {
  std::string to_client;   // whole frames (or 4lw text), in order
  int64_t frames_out = 0;  // number of frames in to_client
  int64_t frames_in = 0;   // packets received from the client (frames and 4lw)
  std::vector<ensemble::storage::v1::ReadRequest> reads;  // to the home storage
  std::vector<ensemble::v1::Txn> txns;  // to replication (origin left for the owner)
  std::vector<uint64_t> syncs;          // sync barrier ids, to replication
  bool touched = false;                 // the session showed life (touch it)
  int64_t attached_session = 0;         // non-zero: the session is now served here
  std::optional<FourLetterWordRequest> four_letter_word;
  bool auth_failed = false;     // an addauth was refused
  int64_t watches_refused = 0;  // reads refused for ConnectionOptions::max_watches
  std::vector<Completed> completed;
  // Close the socket once to_client is written. close_reason is for the log.
  bool close = false;
  std::string close_reason;
  bool protocol_error = false;  // the close is due to bad input from the client
};

class Connection {
 public:
  // `id` identifies the connection in its gateway: 1 <= id < 2^31. Ids of upstream
  // requests (ReadRequest.id, sync barrier ids) carry it in their high 32 bits,
  // so the owner can route results with UpstreamIdOwner.
  // `remote` is the client's address as Java prints it ("/127.0.0.1:43440"),
  // `client_ip` its host ("127.0.0.1"). `options` and `env` must outlive this.
  Connection(uint64_t id, std::string remote, std::string client_ip,
             const ConnectionOptions* options, const ConnectionEnv* env);

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // ---- input from the socket ----
  void OnBytes(std::string_view bytes);
  // The client closed its side (or the socket failed): ZooKeeper closes at once.
  void OnEndOfStream();

  // ---- input from upstream (routed by the owner) ----
  // A read result whose id this connection issued.
  void OnReadResult(const ensemble::storage::v1::ReadResult& result);
  // A write result for this connection's session, or the createSession result whose
  // cxid is CreateSessionCxid().
  void OnWriteResult(const ensemble::v1::TxnResult& result);
  // Replication refused a write of this session (cxid), or the createSession.
  // SESSIONEXPIRED for no write in flight (a refused touch) closes the connection.
  void OnRejected(int32_t cxid, int32_t err);
  // A sync barrier this connection issued completed at `zxid`.
  void OnSyncDone(uint64_t sync_id, int64_t zxid);
  // A watch of this session fired.
  void OnWatchEvent(const ensemble::v1::WatchEvent& event);
  // The stream to storage (lost_storage) or to replication dropped. Requests in
  // flight there are lost: the connection closes so the client reconnects (its
  // session lives on). Losing storage also loses the session's watches, so every
  // connection closes then.
  void OnUpstreamLost(bool lost_storage);
  // Another connection re-attached this session (ZooKeeper closes the old one).
  void OnSessionMoved();
  // Checks the idle timeouts (session timeout once established, the sessionless
  // timeout before). Call a few times per tick.
  void OnTick();
  // Zeroes the per-connection statistics (`crst`).
  void ResetStats();
  // The owner's send queue for this client is over its bound (the client does
  // not read): parse nothing more and send nothing more upstream until it is
  // not; the idle timeout is suspended meanwhile (the owner closes a client
  // that stays blocked). Unblocking resumes at once.
  void SetOutputBlocked(bool blocked);
  bool output_blocked() const { return output_blocked_; }

  // ---- output ----
  Effects TakeEffects();
  bool HasEffects() const;
  // False while the owner should not read more from the socket: during the
  // handshake, with max_outstanding requests queued, or once closing.
  bool WantsRead() const;
  bool closing() const { return state_ == State::kClosed; }

  // ---- inspection ----
  uint64_t id() const { return id_; }
  int64_t session_id() const { return session_id_; }
  bool established() const { return state_ == State::kEstablished; }
  int32_t timeout_ms() const { return timeout_ms_; }
  const std::string& remote() const { return remote_; }
  const std::string& client_ip() const { return client_ip_; }
  size_t queued() const { return queue_.size(); }
  // Requests sent upstream and not answered yet.
  int64_t in_flight() const { return inflight_; }
  // Watches this session holds through this connection, as the connection
  // counts them: one per (path, kind) for kinds data, child, persistent and
  // persistent-recursive, including registrations still in flight.
  size_t watch_count() const;
  const Identities& identities() const { return identities_; }
  // The createSession Txn's cxid: the owner routes its result here by it.
  int32_t CreateSessionCxid() const { return static_cast<int32_t>(id_); }
  ConnectionInfo Info() const;

  // The connection id inside an upstream request id.
  static uint64_t UpstreamIdOwner(uint64_t upstream_id) { return upstream_id >> 32; }

 private:
  enum class State {
    kFirstBytes,   // fewer than 4 bytes seen: may still be a four-letter word
    kConnect,      // waiting for the ConnectRequest frame
    kHandshaking,  // waiting for createSession or revalidation
    kEstablished,
    kClosed,
  };
  enum class Kind { kLocal, kRead, kWrite };
  // The watch tables the connection counts (watches_).
  enum WatchKind : int { kDataWatch, kChildWatch, kPersistentWatch, kRecursiveWatch, kWatchKinds };

  // One client request, from arrival to reply.
  struct Pending {
    int32_t xid = 0;
    jute::OpCode op = jute::OpCode::kError;
    Kind kind = Kind::kLocal;
    int64_t received_ms = 0;
    bool dispatched = false;
    bool done = false;
    bool close_after = false;  // close the connection once this reply is written
    std::string close_reason;
    // Upstream correlation.
    uint64_t read_id = 0;   // ReadRequest.id (reads, and a sync's second step)
    uint64_t sync_id = 0;   // SyncBarrier.id
    std::string sync_path;  // SyncResponse.path
    std::vector<jute::OpCode> sub_ops;
    int added_watch = -1;     // a WatchKind this request added to watches_ (undone on failure)
    std::string watch_path;   // the watch's path; removeWatches' path
    int32_t remove_type = 0;  // removeWatches' WatcherType
    // Built at decode time (with the identities of that moment), sent at dispatch.
    std::optional<ensemble::storage::v1::ReadRequest> read;
    std::optional<ensemble::v1::Txn> txn;
    // The reply once known.
    std::string frame;
    int32_t err = 0;
    int64_t zxid = 0;
  };

  void HandleFirstBytes();
  void ParseFrames();
  void HandleConnect(std::string_view payload);
  void FinishHandshake(int64_t session_id, int32_t timeout_ms);
  void RefuseSession(std::string_view why);
  void HandleRequest(std::string_view payload);
  void HandleAuth(int32_t xid, const jute::AuthPacket& auth, int64_t now);
  // Queues a reply the gateway computes itself.
  Pending& QueueLocal(int32_t xid, jute::OpCode op, int32_t err, const jute::ResponseBody& body,
                      int64_t zxid);
  void Complete(Pending& p, int32_t err, const jute::ResponseBody& body, int64_t zxid);
  // Sends what may go upstream, writes finished replies in order, resumes parsing.
  void Pump();
  void Dispatch();
  void EmitDone();
  Pending* FindRead(uint64_t read_id);
  Pending* FindWrite(int32_t cxid);
  uint64_t NextUpstreamId() { return (id_ << 32) | (++upstream_seq_ & 0xffffffffULL); }
  int64_t ReplyZxid() const { return env_->applied_zxid; }
  void Close(std::string reason, bool protocol_error = false);
  // Watch accounting (max_watches). The kind a read would set, or -1.
  static int WatchKindOf(const ensemble::storage::v1::ReadRequest& read);
  void ForgetWatches(int kind, const std::string& path);
  void OnReadWatches(const Pending& p, const ensemble::storage::v1::ReadResult& result);
  bool ParsingAllowed() const;
  void WriteFrame(std::string frame);

  const uint64_t id_;
  const std::string remote_;
  const std::string client_ip_;
  const ConnectionOptions* const options_;
  const ConnectionEnv* const env_;

  State state_ = State::kFirstBytes;
  std::string first_bytes_;  // the first up-to-4 bytes
  jute::FrameDecoder decoder_;
  Effects effects_;

  // Session.
  int64_t session_id_ = 0;
  int32_t timeout_ms_ = 0;
  int32_t requested_timeout_ms_ = 0;
  bool has_read_only_ = true;  // the client's dialect
  uint64_t revalidate_id_ = 0;
  Identities identities_;

  // Requests in arrival order; queue_[0..next_dispatch_) are dispatched or local.
  std::deque<Pending> queue_;
  size_t next_dispatch_ = 0;
  int inflight_ = 0;  // dispatched, not done
  Kind inflight_kind_ = Kind::kLocal;
  bool stop_parsing_ = false;  // after closeSession or a request that closes
  bool output_blocked_ = false;
  std::set<std::string> watches_[kWatchKinds];
  uint64_t upstream_seq_ = 0;

  // Statistics (ServerCnxn).
  int64_t created_ms_ = 0;
  int64_t established_wall_ms_ = 0;
  int64_t last_receive_ms_ = 0;
  int64_t packets_received_ = 0;
  int64_t packets_sent_ = 0;
  std::string last_op_ = "NA";
  int64_t last_cxid_ = -1;
  int64_t last_zxid_ = -1;
  int64_t last_response_ms_ = 0;
  int64_t last_latency_ms_ = 0;
  int64_t min_latency_ms_ = -1;  // -1: none yet
  int64_t max_latency_ms_ = 0;
  int64_t latency_count_ = 0;
  int64_t latency_total_ms_ = 0;
};

}  // namespace ensemble::gateway

#pragma once

// The gateway process's engine: the client port (Asio), the two upstream streams
// (Storage.Serve to the home storage, Replication.Submit to replication), and the
// per-connection state machines between them.
//
// Threading: everything runs on one io thread (sockets, connections, routing,
// timers); gRPC's callbacks only post to it. Start/Stop/GetStatus may be called
// from any thread.
//
// Upstream protocol (proto/ensemble/storage.proto, replication.proto):
//   - One Serve stream to storage; its first message names gateway_id. Reads go
//     out batched; read results, this gateway's write results (TxnHeader.origin ==
//     gateway_id) and watch events come back in order. Storage is "up" from its
//     first message (which carries applied_zxid).
//   - One Submit stream to replication (first message names gateway_id): writes,
//     sync barriers, and every ~tickTime/3 the sessions that showed life.
//     Replication is "up" once its Admin.Status answers and the stream is open.
//   - Either stream that drops is reopened with backoff. Losing storage closes
//     every client connection (their watches lived on that stream); losing
//     replication closes the connections with writes in flight. Sessions live on:
//     clients reconnect and re-attach.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "asio.hpp"
#include "common/runtime/admin_service.h"
#include "common/runtime/streams.h"
#include "ensemble/admin.grpc.pb.h"
#include "ensemble/replication.grpc.pb.h"
#include "ensemble/storage.grpc.pb.h"
#include "prometheus/registry.h"
#include "services/gateway/server/client_link.h"
#include "services/gateway/server/gateway_metrics.h"
#include "services/gateway/session/connection.h"

namespace ensemble::gateway {

struct GatewayOptions {
  std::string client_address = "0.0.0.0";              // clientPortAddress
  int client_port = 2181;                              // clientPort; 0 picks a free port
  std::string storage_address = "127.0.0.1:2890";      // the home storage's gRPC address
  std::string replication_address = "127.0.0.1:2888";  // replication's gRPC address
  int32_t tick_ms = 2000;
  int32_t max_client_cnxns = 60;  // per client IP; 0: no limit
  int32_t max_cnxns = 0;          // in total; 0: no limit
  // globalOutstandingLimit: with this many requests in flight upstream over
  // all connections, the gateway reads from no client socket until answers
  // bring the count back under it.
  int32_t global_outstanding_limit = 1000;
  // ensemble.maxSendQueueBytes (resolved): bytes queued for one client beyond
  // which its socket is not read; a client that stays over it for its session
  // timeout is disconnected. 0: no limit.
  int64_t max_send_queue_bytes = 4 * 0xfffff;
  ConnectionOptions connection;
  // 4lw.commands.whitelist (srvr is always allowed by the caller's predicate).
  std::function<bool(std::string_view)> four_letter_word_enabled;
  // The `conf` command's lines, in order.
  std::vector<std::pair<std::string, std::string>> conf;
  // 0: a random non-zero id (the normal case); tests may fix it.
  uint64_t gateway_id = 0;
};

class GatewayServer final : public LinkOwner {
 public:
  // Binds the client port and starts the io thread and the upstream streams.
  // Errors: Unavailable when the client port cannot be bound.
  static absl::StatusOr<std::unique_ptr<GatewayServer>> Start(GatewayOptions options,
                                                              prometheus::Registry& registry);
  ~GatewayServer() override;

  // Closes every connection and stream and joins the io thread. Idempotent.
  void Stop();

  int port() const { return port_; }
  uint64_t gateway_id() const { return gateway_id_; }

  struct Status {
    bool storage_up = false;
    bool replication_up = false;
    size_t connections = 0;
    size_t sessions = 0;
    int64_t applied_zxid = 0;
    std::string mode;
  };
  // A copy refreshed by the io thread (for admin status). Thread-safe.
  Status GetStatus() const;

  // Called on the io thread whenever "serving" (both streams up) changes.
  void SetServingCallback(std::function<void(bool)> callback);

  // Operator calls (admin.proto), from any thread. Each fills *response and
  // then calls `done` exactly once: on the io thread, or at once when the
  // server is stopped (UNAVAILABLE). `request` and `response` must live until
  // `done`.
  using AdminDone = std::function<void(grpc::Status)>;
  // Every client connection, by remote address.
  void ListConnections(ensemble::admin::v1::ListConnectionsResponse* response, AdminDone done);
  // Closes the connection holding request.session_id, or those whose remote
  // address ("/ip:port" or "ip:port") or client IP is request.remote, at once
  // (their sessions live on). NOT_FOUND when none matches.
  void DropConnection(const ensemble::admin::v1::DropConnectionRequest& request,
                      ensemble::admin::v1::DropConnectionResponse* response, AdminDone done);
  // Ends a session as its expiry would: a closeSession (origin 0, so every
  // gateway hears of it and the one holding the session closes its
  // connection) goes through replication; `done` runs once the home storage
  // applied it (response->zxid), or with DEADLINE_EXCEEDED after
  // kKillSessionTimeoutMs. NOT_FOUND if the home storage does not know the
  // session; UNAVAILABLE while an upstream is down.
  void KillSession(int64_t session_id, ensemble::admin::v1::KillSessionResponse* response,
                   AdminDone done);
  static constexpr int64_t kKillSessionTimeoutMs = 10000;
  // wchs, wchc, wchp and dirs ask the home storage; a connection waits at most
  // this long for the answer (then: ZooKeeper's "not currently serving").
  static constexpr int64_t kFourLetterWordUpstreamTimeoutMs = 2000;
  // The most entries wchc / wchp list (per list).
  static constexpr int32_t kFourLetterWordListLimit = 100000;

  // LinkOwner (io thread).
  void OnLinkRead(ClientLink& link, std::string_view bytes) override;
  void OnLinkEnd(ClientLink& link, const std::error_code& error) override;
  void OnLinkClosed(ClientLink& link) override;
  void OnLinkBlocked(ClientLink& link, bool blocked) override;
  bool ReadsPaused() const override { return throttled_; }

 private:
  using ServeStream = runtime::ClientStream<ensemble::storage::v1::GatewayMessage,
                                            ensemble::storage::v1::StorageMessage>;
  using SubmitStream = runtime::ClientStream<ensemble::replication::v1::SubmitRequest,
                                             ensemble::replication::v1::SubmitResponse>;

  GatewayServer(GatewayOptions options, prometheus::Registry& registry);

  // ---- io thread ----
  void UpdateClock();
  void Accept();
  void OnAccepted(asio::ip::tcp::socket socket);
  // Acts on what a connection produced: bytes, upstream requests, close.
  void Pump(const std::shared_ptr<ClientLink>& link);
  std::shared_ptr<ClientLink> FindLink(uint64_t id);
  std::shared_ptr<ClientLink> FindSession(int64_t session_id);
  void ScheduleFlush();
  void Flush();
  void OnTimer();
  // Appends the answer to *out; false when it comes later from the home
  // storage (AskStorage), the link then stays open until it is written.
  bool AnswerFourLetterWord(const std::shared_ptr<ClientLink>& link,
                            const FourLetterWordRequest& request, std::string* out);
  ServerInfo CollectInfo(const ClientLink& link) const;
  void AskStorage(const std::shared_ptr<ClientLink>& link, FourLetterWord word);
  void FinishFourLetterWord(const std::weak_ptr<ClientLink>& weak, FourLetterWord word,
                            const ServerInfo& info);
  // Limits: the global count of unanswered requests and throttling.
  void CountOutstanding(ClientLink& link);
  void UpdateThrottle();
  void CloseStuckClients();

  void ConnectStorage();
  void OnStorageMessage(uint64_t generation, ensemble::storage::v1::StorageMessage& message);
  void OnStorageDone(uint64_t generation, const grpc::Status& status);
  void ConnectReplication();
  void OnReplicationProbe(uint64_t generation, bool ok, const std::string& role,
                          const std::string& error);
  void OnSubmitResponse(uint64_t generation, ensemble::replication::v1::SubmitResponse& response);
  void OnReplicationDone(uint64_t generation, const grpc::Status& status);
  void Poll();
  void ServingChanged();
  void PublishStatus();
  // Sizes of the replies in `frames` (whole frames written to `link`) for
  // ZooKeeper's client_response_size figures; the handshake's reply is not one.
  void CountResponses(ClientLink& link, std::string_view frames, int64_t count);
  // ZooKeeper's gauges from the figures below (every second, from OnTimer).
  void PublishFigures();
  static int64_t Backoff(int attempt);
  // Admin, io thread.
  void FillConnection(const ClientLink& link, ensemble::admin::v1::Connection* out) const;
  void SubmitKill(int64_t session_id, ensemble::admin::v1::KillSessionResponse* response,
                  AdminDone done);
  void FinishKills(int64_t session_id, int64_t zxid);
  void ExpireKills();

  const GatewayOptions options_;
  const uint64_t gateway_id_;
  GatewayMetrics metrics_;

  std::shared_ptr<asio::io_context> io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  asio::ip::tcp::acceptor acceptor_;
  asio::steady_timer timer_;
  asio::steady_timer storage_retry_;
  asio::steady_timer replication_retry_;
  std::thread thread_;
  int port_ = 0;
  std::atomic<bool> stopped_{false};

  // Everything below is io-thread state.
  ConnectionEnv env_;
  uint64_t next_link_id_ = 1;
  std::map<uint64_t, std::shared_ptr<ClientLink>> links_;
  std::map<int64_t, uint64_t> sessions_;  // session id -> link id serving it
  std::map<std::string, int> per_ip_;     // open connections per client IP
  std::set<int64_t> touched_;             // sessions that showed life since the last touch
  bool flush_scheduled_ = false;
  ensemble::storage::v1::GatewayMessage storage_batch_;
  ensemble::replication::v1::SubmitRequest replication_batch_;
  size_t storage_batch_bytes_ = 0;      // approximate size of storage_batch_
  size_t replication_batch_bytes_ = 0;  // approximate size of replication_batch_
  std::function<void(bool)> serving_callback_;
  bool serving_ = false;
  int64_t last_poll_ms_ = 0;
  int64_t last_touch_ms_ = 0;
  int64_t started_ms_ = 0;
  int64_t last_figures_ms_ = 0;

  // Upstream.
  std::shared_ptr<grpc::Channel> storage_channel_;
  std::shared_ptr<grpc::Channel> replication_channel_;
  std::unique_ptr<ensemble::storage::v1::Storage::Stub> storage_stub_;
  std::unique_ptr<ensemble::replication::v1::Replication::Stub> replication_stub_;
  std::unique_ptr<ensemble::admin::v1::Admin::Stub> replication_admin_;
  std::unique_ptr<ensemble::admin::v1::Admin::Stub> storage_admin_;
  std::shared_ptr<ServeStream> storage_stream_;
  std::shared_ptr<SubmitStream> replication_stream_;
  uint64_t storage_generation_ = 0;
  uint64_t replication_generation_ = 0;
  int storage_attempts_ = 0;
  int replication_attempts_ = 0;
  std::atomic<int> calls_in_flight_{0};  // unary polls not yet called back

  // Figures for the four-letter words.
  std::string mode_ = "standalone";
  int64_t node_count_ = 0;
  int64_t tree_digest_ = 0;
  int64_t watch_count_ = 0;  // on the home storage
  int64_t ephemerals_count_ = 0;
  int64_t data_size_ = 0;
  int64_t global_sessions_ = 0;
  int64_t trace_mask_ = 306;  // ZooTrace's default text trace mask
  int64_t packets_received_ = 0;
  int64_t packets_sent_ = 0;
  int64_t latency_min_ms_ = -1;
  int64_t latency_max_ms_ = 0;
  int64_t latency_total_ms_ = 0;
  int64_t latency_count_ = 0;
  int64_t auth_failed_ = 0;

  // Limits.
  int64_t outstanding_total_ = 0;  // sum of the links' counted_outstanding
  bool throttled_ = false;         // reads paused (globalOutstandingLimit)
  int64_t throttle_count_ = 0;     // pauses since the last log line
  int64_t throttle_logged_ms_ = 0;

  // KillSession calls waiting for their closeSession to be applied.
  struct PendingKill {
    ensemble::admin::v1::KillSessionResponse* response;
    AdminDone done;
    int64_t deadline_ms;
  };
  std::multimap<int64_t, PendingKill> pending_kills_;  // by session id

  mutable std::mutex status_mu_;
  Status status_;  // GUARDED_BY(status_mu_)
};

// The admin actions a gateway serves (ListConnections, DropConnection,
// KillSession) on the server `server()` returns; UNAVAILABLE while it returns
// nullptr (before the gateway started).
runtime::AdminService::Actions GatewayAdminActions(std::function<GatewayServer*()> server);

// A random non-zero 64-bit id.
uint64_t RandomGatewayId();

}  // namespace ensemble::gateway

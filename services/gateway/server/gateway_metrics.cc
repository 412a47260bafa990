#include "services/gateway/server/gateway_metrics.h"

#include <string>

#include "services/gateway/session/ops.h"

namespace ensemble::gateway {
namespace {

constexpr jute::OpCode kClientOps[] = {
    jute::OpCode::kCreate,
    jute::OpCode::kDelete,
    jute::OpCode::kExists,
    jute::OpCode::kGetData,
    jute::OpCode::kSetData,
    jute::OpCode::kGetAcl,
    jute::OpCode::kSetAcl,
    jute::OpCode::kGetChildren,
    jute::OpCode::kSync,
    jute::OpCode::kGetChildren2,
    jute::OpCode::kCheck,
    jute::OpCode::kMulti,
    jute::OpCode::kCreate2,
    jute::OpCode::kReconfig,
    jute::OpCode::kCheckWatches,
    jute::OpCode::kRemoveWatches,
    jute::OpCode::kCreateContainer,
    jute::OpCode::kDeleteContainer,
    jute::OpCode::kCreateTtl,
    jute::OpCode::kMultiRead,
    jute::OpCode::kAuth,
    jute::OpCode::kSetWatches,
    jute::OpCode::kSasl,
    jute::OpCode::kGetEphemerals,
    jute::OpCode::kGetAllChildrenNumber,
    jute::OpCode::kSetWatches2,
    jute::OpCode::kAddWatch,
    jute::OpCode::kWhoAmI,
    jute::OpCode::kCloseSession,
};

prometheus::Histogram::BucketBoundaries LatencyBuckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

prometheus::Histogram::BucketBoundaries SizeBuckets() {
  return {16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304};
}

// ZooKeeper's ADVANCED summaries (readlatency, updatelatency): median, 90th and
// 99th percentiles over a sliding window (prometheus-cpp: 60 s in 5 buckets;
// ZooKeeper rotates every 60 s).
prometheus::Summary::Quantiles AdvancedQuantiles() {
  return {{0.5, 0.05}, {0.9, 0.01}, {0.99, 0.001}};
}

}  // namespace

GatewayMetrics::GatewayMetrics(prometheus::Registry& registry) : registry_(registry) {
  auto gauge = [&](const char* name, const char* help) {
    return &prometheus::BuildGauge().Name(name).Help(help).Register(registry).Add({});
  };
  auto counter = [&](const char* name, const char* help) {
    return &prometheus::BuildCounter().Name(name).Help(help).Register(registry).Add({});
  };
  connections = gauge("ensemble_gateway_connections", "Open client connections.");
  sessions = gauge("ensemble_gateway_sessions", "Sessions served by this gateway.");
  bytes_received = counter("ensemble_gateway_received_bytes_total", "Bytes received from clients.");
  bytes_sent = counter("ensemble_gateway_sent_bytes_total", "Bytes sent to clients.");
  connections_accepted =
      counter("ensemble_gateway_connections_accepted_total", "Client connections accepted.");
  connections_refused = counter("ensemble_gateway_connections_refused_total",
                                "Client connections refused (maxClientCnxns, maxCnxns).");
  protocol_errors = counter("ensemble_gateway_protocol_errors_total",
                            "Client connections closed because of bad input.");
  auth_failures = counter("ensemble_gateway_auth_failures_total", "Refused addauth and SASL.");
  four_letter_words =
      counter("ensemble_gateway_four_letter_words_total", "Four-letter-word commands answered.");
  auto& drops = prometheus::BuildCounter()
                    .Name("ensemble_gateway_upstream_drops_total")
                    .Help("Upstream streams that dropped, by stream.")
                    .Register(registry);
  upstream_drops_storage = &drops.Add({{"stream", "storage"}});
  upstream_drops_replication = &drops.Add({{"stream", "replication"}});
  auto& pauses = prometheus::BuildCounter()
                     .Name("ensemble_gateway_read_pauses_total")
                     .Help(
                         "Times the gateway stopped reading client sockets, by limit: "
                         "global_outstanding (globalOutstandingLimit, every socket), "
                         "connection_outstanding (ensemble.maxOutstandingPerConnection), "
                         "send_queue (ensemble.maxSendQueueBytes).")
                     .Register(registry);
  read_pauses_global = &pauses.Add({{"reason", "global_outstanding"}});
  read_pauses_connection = &pauses.Add({{"reason", "connection_outstanding"}});
  read_pauses_send_queue = &pauses.Add({{"reason", "send_queue"}});
  watches_refused = counter("ensemble_gateway_watches_refused_total",
                            "Reads and addWatch refused by ensemble.maxWatchesPerSession.");
  stuck_clients_closed =
      counter("ensemble_gateway_stuck_connections_closed_total",
              "Connections closed because the client read nothing for its session timeout "
              "while its send queue was over ensemble.maxSendQueueBytes.");
  throttled = gauge("ensemble_gateway_throttled",
                    "1 while globalOutstandingLimit stops the gateway reading client sockets.");
  auto& up = prometheus::BuildGauge()
                 .Name("ensemble_gateway_upstream_up")
                 .Help("1 while the upstream stream is up, by stream.")
                 .Register(registry);
  storage_up = &up.Add({{"stream", "storage"}});
  replication_up = &up.Add({{"stream", "replication"}});
  applied_zxid = gauge("ensemble_gateway_applied_zxid",
                       "The home storage's last applied zxid, as last reported.");
  packets_received_ = counter("ensemble_gateway_packets_received_total",
                              "Packets (frames and four-letter words) received from clients.");
  packets_sent_ = counter("ensemble_gateway_packets_sent_total", "Frames sent to clients.");
  session_attaches_ = counter("ensemble_gateway_session_attaches_total",
                              "Handshakes that attached a session (created or re-attached).");
  outstanding_ = gauge("ensemble_gateway_outstanding_requests",
                       "Client requests received and not yet answered.");
  auto& state = prometheus::BuildGauge()
                    .Name("ensemble_gateway_server_state")
                    .Help("1 for the home peer's phase as mntr's zk_server_state names it.")
                    .Register(registry);
  for (const char* s : kServerStates) server_state_[s] = &state.Add({{"state", s}});
  server_state_["standalone"]->Set(1);

  requests_family_ = &prometheus::BuildCounter()
                          .Name("ensemble_gateway_requests_total")
                          .Help("Client requests answered, by op.")
                          .Register(registry);
  errors_family_ = &prometheus::BuildCounter()
                        .Name("ensemble_gateway_error_replies_total")
                        .Help("Replies with a ZooKeeper error code, by op.")
                        .Register(registry);
  for (jute::OpCode op : kClientOps) {
    std::string name(jute::OpCodeName(op));
    requests_[static_cast<int32_t>(op)] = &requests_family_->Add({{"op", name}});
    errors_[static_cast<int32_t>(op)] = &errors_family_->Add({{"op", name}});
  }
  requests_other_ = &requests_family_->Add({{"op", "other"}});
  errors_other_ = &errors_family_->Add({{"op", "other"}});

  auto& latency = prometheus::BuildHistogram()
                      .Name("ensemble_gateway_request_duration_seconds")
                      .Help("Time from a request's arrival to its reply, by kind.")
                      .Register(registry);
  latency_read_ = &latency.Add({{"kind", "read"}}, LatencyBuckets());
  latency_write_ = &latency.Add({{"kind", "write"}}, LatencyBuckets());
  latency_local_ = &latency.Add({{"kind", "local"}}, LatencyBuckets());
  response_size_ = &prometheus::BuildHistogram()
                        .Name("ensemble_gateway_response_size_bytes")
                        .Help("Replies to client requests, without the length prefix.")
                        .Register(registry)
                        .Add({}, SizeBuckets());

  // ---- ZooKeeper 3.8's names (ServerMetrics, ZooKeeperServer.registerMetrics) ----
  auto summary = [&](const char* name, const char* help) {
    return &prometheus::BuildSummary().Name(name).Help(help).Register(registry).Add(
        {}, AdvancedQuantiles());
  };
  zk_read_latency_ = summary("readlatency",
                             "ZooKeeper: ms from a request's arrival to its reply, for requests "
                             "without a transaction (reads, sync, pings, auth, ...).");
  zk_update_latency_ =
      summary("updatelatency",
              "ZooKeeper: ms from a write request's arrival to its reply (quorum writes).");
  zk_connection_requests_ = counter("connection_request_count",
                                    "ZooKeeper: connection handshakes that attached a session.");
  zk_connection_rejected = counter(
      "connection_rejected", "ZooKeeper: client connections refused (maxClientCnxns, maxCnxns).");
  zk_bytes_received = counter("bytes_received_count", "ZooKeeper: bytes received from clients.");
  zk_avg_latency_ = gauge("avg_latency", "ZooKeeper: average request latency in ms (since srst).");
  zk_min_latency_ = gauge("min_latency", "ZooKeeper: minimum request latency in ms (since srst).");
  zk_max_latency_ = gauge("max_latency", "ZooKeeper: maximum request latency in ms (since srst).");
  zk_packets_received_ =
      gauge("packets_received", "ZooKeeper: packets received from clients (since srst).");
  zk_packets_sent_ = gauge("packets_sent", "ZooKeeper: packets sent to clients (since srst).");
  zk_alive_connections_ = gauge("num_alive_connections", "ZooKeeper: open client connections.");
  zk_outstanding_requests_ =
      gauge("outstanding_requests", "ZooKeeper: requests received and not yet answered.");
  zk_uptime_ = gauge("uptime", "ZooKeeper: ms since this server (gateway) started.");
  zk_znode_count_ = gauge("znode_count", "ZooKeeper: znodes in the home peer's data tree.");
  zk_watch_count_ = gauge("watch_count", "ZooKeeper: watches registered on the home peer.");
  zk_ephemerals_count_ =
      gauge("ephemerals_count", "ZooKeeper: ephemeral znodes in the home peer's data tree.");
  zk_approximate_data_size_ =
      gauge("approximate_data_size", "ZooKeeper: bytes of paths and data in the home peer's tree.");
  zk_global_sessions_ = gauge("global_sessions", "ZooKeeper: sessions in the ensemble.");
  zk_local_sessions_ =
      gauge("local_sessions", "ZooKeeper: local sessions (Ensemble has none: always 0).");
  zk_open_fds_ =
      gauge("open_file_descriptor_count", "ZooKeeper: file descriptors this process has open.");
  zk_max_fds_ = gauge("max_file_descriptor_count",
                      "ZooKeeper: this process's file descriptor limit (RLIMIT_NOFILE).");
  zk_connection_drop_probability_ =
      gauge("connection_drop_probability",
            "ZooKeeper: connection throttle drop probability (no throttle: always 0).");
  zk_last_response_size_ =
      gauge("last_client_response_size", "ZooKeeper: bytes of the last reply (-1: none yet).");
  zk_min_response_size_ =
      gauge("min_client_response_size", "ZooKeeper: bytes of the smallest reply (-1: none yet).");
  zk_max_response_size_ =
      gauge("max_client_response_size", "ZooKeeper: bytes of the largest reply (-1: none yet).");
  zk_outstanding_tls_handshake_ =
      gauge("outstanding_tls_handshake", "ZooKeeper: TLS handshakes in progress (no TLS port: 0).");
  zk_auth_failed_ = gauge("auth_failed_count", "ZooKeeper: failed authentications (since srst).");
  zk_non_mtls_remote_ = gauge("non_mtls_remote_conn_count",
                              "ZooKeeper: connections from other hosts without mutual TLS.");
  zk_non_mtls_local_ = gauge("non_mtls_local_conn_count",
                             "ZooKeeper: connections from loopback without mutual TLS.");
  zk_last_response_size_->Set(-1);
  zk_min_response_size_->Set(-1);
  zk_max_response_size_->Set(-1);
}

void GatewayMetrics::Request(jute::OpCode op, int32_t err, int64_t latency_ms) {
  const auto code = static_cast<int32_t>(op);
  auto r = requests_.find(code);
  (r == requests_.end() ? requests_other_ : r->second)->Increment();
  if (err != 0) {
    auto e = errors_.find(code);
    (e == errors_.end() ? errors_other_ : e->second)->Increment();
  }
  const double seconds = static_cast<double>(latency_ms) / 1000.0;
  const auto ms = static_cast<double>(latency_ms);
  switch (RouteOf(op)) {
    case OpRoute::kRead:
      latency_read_->Observe(seconds);
      zk_read_latency_->Observe(ms);
      break;
    case OpRoute::kWrite:
      latency_write_->Observe(seconds);
      zk_update_latency_->Observe(ms);
      break;
    case OpRoute::kSync:
      // ZooKeeper: a sync carries no transaction, so it counts as a read.
      latency_write_->Observe(seconds);
      zk_read_latency_->Observe(ms);
      break;
    case OpRoute::kLocal:
      latency_local_->Observe(seconds);
      zk_read_latency_->Observe(ms);
      break;
  }
}

void GatewayMetrics::ClientResponse(int64_t bytes) {
  response_size_->Observe(static_cast<double>(bytes));
  if (min_response_size_ < 0 || bytes < min_response_size_) min_response_size_ = bytes;
  if (bytes > max_response_size_) max_response_size_ = bytes;
  zk_last_response_size_->Set(static_cast<double>(bytes));
  zk_min_response_size_->Set(static_cast<double>(min_response_size_));
  zk_max_response_size_->Set(static_cast<double>(max_response_size_));
}

void GatewayMetrics::ResetResponseSizes() {
  min_response_size_ = -1;
  max_response_size_ = -1;
  zk_last_response_size_->Set(-1);
  zk_min_response_size_->Set(-1);
  zk_max_response_size_->Set(-1);
}

void GatewayMetrics::Packets(int64_t received, int64_t sent) {
  if (received > 0) packets_received_->Increment(static_cast<double>(received));
  if (sent > 0) packets_sent_->Increment(static_cast<double>(sent));
}

void GatewayMetrics::SessionAttached() {
  session_attaches_->Increment();
  zk_connection_requests_->Increment();
}

void GatewayMetrics::SetServerState(const std::string& state) {
  const bool known = server_state_.count(state) != 0;
  for (auto& [name, g] : server_state_) {
    g->Set(name == state || (!known && name == "looking") ? 1 : 0);
  }
}

void GatewayMetrics::SetQuorumSize(int64_t voters) {
  if (voters <= 0) return;
  if (zk_quorum_size_ == nullptr) {
    zk_quorum_size_ = &prometheus::BuildGauge()
                           .Name("quorum_size")
                           .Help("ZooKeeper: voting members in the configuration.")
                           .Register(registry_)
                           .Add({});
  }
  zk_quorum_size_->Set(static_cast<double>(voters));
}

void GatewayMetrics::Publish(const ZooKeeperFigures& f) {
  auto set = [](prometheus::Gauge* g, double v) { g->Set(v); };
  outstanding_->Set(static_cast<double>(f.outstanding_requests));
  set(zk_avg_latency_, f.avg_latency_ms);
  set(zk_min_latency_, static_cast<double>(f.min_latency_ms));
  set(zk_max_latency_, static_cast<double>(f.max_latency_ms));
  set(zk_packets_received_, static_cast<double>(f.packets_received));
  set(zk_packets_sent_, static_cast<double>(f.packets_sent));
  set(zk_alive_connections_, static_cast<double>(f.alive_connections));
  set(zk_outstanding_requests_, static_cast<double>(f.outstanding_requests));
  set(zk_uptime_, static_cast<double>(f.uptime_ms));
  set(zk_znode_count_, static_cast<double>(f.znode_count));
  set(zk_watch_count_, static_cast<double>(f.watch_count));
  set(zk_ephemerals_count_, static_cast<double>(f.ephemerals_count));
  set(zk_approximate_data_size_, static_cast<double>(f.approximate_data_size));
  set(zk_global_sessions_, static_cast<double>(f.global_sessions));
  set(zk_local_sessions_, 0);
  set(zk_open_fds_, static_cast<double>(f.open_file_descriptors));
  set(zk_max_fds_, static_cast<double>(f.max_file_descriptors));
  set(zk_connection_drop_probability_, 0);
  set(zk_outstanding_tls_handshake_, 0);
  set(zk_auth_failed_, static_cast<double>(f.auth_failed));
  set(zk_non_mtls_remote_, static_cast<double>(f.remote_connections));
  set(zk_non_mtls_local_, static_cast<double>(f.local_connections));
}

}  // namespace ensemble::gateway

#pragma once

// The gateway's Prometheus metrics, registered once; the hot path keeps the child
// references (prometheus-cpp's advice). Labels are low-cardinality: op names and
// a few fixed kinds, never paths or sessions.
//
// Two sets live here (docs/metrics.md lists both):
//   - Ensemble's own, `ensemble_gateway_*`: units in names, `_total` counters,
//     histograms in seconds.
//   - ZooKeeper 3.8's own names, types and units (PrometheusMetricsProvider: no
//     prefix, milliseconds, gauges sampled from the server's figures, summaries
//     with quantile labels), for what a gateway knows, so that ZooKeeper's Grafana
//     dashboard and documented alert rules keep working after the move.

#include <cstdint>
#include <map>
#include <string>

#include "common/jute/op_code.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "prometheus/summary.h"

namespace ensemble::gateway {

// The figures behind ZooKeeper's gauges (ZooKeeperServer.registerMetrics), as the
// gateway's io thread knows them; Publish copies them into the gauges.
struct ZooKeeperFigures {
  double avg_latency_ms = 0;   // since start or `srst`
  int64_t min_latency_ms = 0;  // 0 before the first request, as ZooKeeper
  int64_t max_latency_ms = 0;
  int64_t packets_received = 0;  // since start or `srst`
  int64_t packets_sent = 0;
  int64_t alive_connections = 0;
  int64_t outstanding_requests = 0;  // queued in every connection
  int64_t uptime_ms = 0;
  // The home storage's, polled every 2 s (Storage.GetState).
  int64_t znode_count = 0;
  int64_t watch_count = 0;
  int64_t ephemerals_count = 0;
  int64_t approximate_data_size = 0;
  int64_t global_sessions = 0;  // replication's session table (Admin.Status)
  int64_t open_file_descriptors = 0;
  int64_t max_file_descriptors = 0;
  int64_t auth_failed = 0;  // since start or `srst`
  // Connections by client address: from loopback, from elsewhere (none use mTLS).
  int64_t local_connections = 0;
  int64_t remote_connections = 0;
};

// The phase of the home peer, as mntr's zk_server_state names it.
inline constexpr const char* kServerStates[] = {"leader", "follower", "observer", "standalone",
                                                "looking"};

class GatewayMetrics {
 public:
  explicit GatewayMetrics(prometheus::Registry& registry);

  // One answered request of `op` that took `latency_ms`, with ZooKeeper error `err`.
  void Request(jute::OpCode op, int32_t err, int64_t latency_ms);
  // One reply to a client request, `bytes` long without its length prefix (what
  // ZooKeeper's client_response_size figures count).
  void ClientResponse(int64_t bytes);
  // `srst`: ZooKeeper resets the response-size figures with the other statistics.
  void ResetResponseSizes();
  // Packets (frames and four-letter words) received and sent.
  void Packets(int64_t received, int64_t sent);
  // A session was attached to a connection (created or re-attached).
  void SessionAttached();
  // The home peer's phase: one of kServerStates (others count as "looking").
  void SetServerState(const std::string& state);
  // ZooKeeper's quorum_size: the voting members of the configuration. Exported
  // only when the configuration lists servers (ZooKeeper's standalone server has
  // no quorum_size either).
  void SetQuorumSize(int64_t voters);
  // Copies the figures into ZooKeeper's gauges and the matching ensemble_ ones.
  void Publish(const ZooKeeperFigures& figures);

  prometheus::Gauge* connections;
  prometheus::Gauge* sessions;
  prometheus::Counter* bytes_received;
  prometheus::Counter* bytes_sent;
  prometheus::Counter* connections_accepted;
  prometheus::Counter* connections_refused;  // maxClientCnxns / maxCnxns / not serving
  prometheus::Counter* protocol_errors;      // connections closed for bad input
  prometheus::Counter* auth_failures;
  prometheus::Counter* upstream_drops_storage;
  prometheus::Counter* upstream_drops_replication;
  prometheus::Counter* four_letter_words;
  prometheus::Gauge* storage_up;
  prometheus::Gauge* replication_up;
  prometheus::Gauge* applied_zxid;
  // Limits (docs/reliability.md).
  prometheus::Counter* read_pauses_global;
  prometheus::Counter* read_pauses_connection;
  prometheus::Counter* read_pauses_send_queue;
  prometheus::Counter* watches_refused;
  prometheus::Counter* stuck_clients_closed;
  prometheus::Gauge* throttled;

  // ZooKeeper's counters the server increments directly.
  prometheus::Counter* zk_connection_rejected;  // connection_rejected
  prometheus::Counter* zk_bytes_received;       // bytes_received_count

 private:
  prometheus::Registry& registry_;
  prometheus::Family<prometheus::Counter>* requests_family_;
  prometheus::Family<prometheus::Counter>* errors_family_;
  std::map<int32_t, prometheus::Counter*> requests_;  // by op code
  std::map<int32_t, prometheus::Counter*> errors_;    // error replies, by op code
  prometheus::Counter* requests_other_;
  prometheus::Counter* errors_other_;
  prometheus::Histogram* latency_read_;
  prometheus::Histogram* latency_write_;
  prometheus::Histogram* latency_local_;
  prometheus::Histogram* response_size_;
  prometheus::Counter* packets_received_;
  prometheus::Counter* packets_sent_;
  prometheus::Counter* session_attaches_;
  prometheus::Gauge* outstanding_;
  std::map<std::string, prometheus::Gauge*> server_state_;

  // ZooKeeper's names.
  prometheus::Summary* zk_read_latency_;         // readlatency
  prometheus::Summary* zk_update_latency_;       // updatelatency
  prometheus::Counter* zk_connection_requests_;  // connection_request_count
  prometheus::Gauge* zk_avg_latency_;
  prometheus::Gauge* zk_min_latency_;
  prometheus::Gauge* zk_max_latency_;
  prometheus::Gauge* zk_packets_received_;
  prometheus::Gauge* zk_packets_sent_;
  prometheus::Gauge* zk_alive_connections_;
  prometheus::Gauge* zk_outstanding_requests_;
  prometheus::Gauge* zk_uptime_;
  prometheus::Gauge* zk_znode_count_;
  prometheus::Gauge* zk_watch_count_;
  prometheus::Gauge* zk_ephemerals_count_;
  prometheus::Gauge* zk_approximate_data_size_;
  prometheus::Gauge* zk_global_sessions_;
  prometheus::Gauge* zk_local_sessions_;
  prometheus::Gauge* zk_open_fds_;
  prometheus::Gauge* zk_max_fds_;
  prometheus::Gauge* zk_connection_drop_probability_;
  prometheus::Gauge* zk_last_response_size_;
  prometheus::Gauge* zk_min_response_size_;
  prometheus::Gauge* zk_max_response_size_;
  prometheus::Gauge* zk_outstanding_tls_handshake_;
  prometheus::Gauge* zk_auth_failed_;
  prometheus::Gauge* zk_non_mtls_remote_;
  prometheus::Gauge* zk_non_mtls_local_;
  prometheus::Gauge* zk_quorum_size_ = nullptr;
  int64_t min_response_size_ = -1;  // ZooKeeper's BufferStats: -1 until the first
  int64_t max_response_size_ = -1;
};

}  // namespace ensemble::gateway

#pragma once

// The gateway's Prometheus metrics, registered once; the hot path keeps the child
// references (prometheus-cpp's advice). Labels are low-cardinality: op names and
// a few fixed kinds, never paths or sessions.

#include <cstdint>
#include <map>

#include "common/jute/op_code.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace ensemble::gateway {

class GatewayMetrics {
 public:
  explicit GatewayMetrics(prometheus::Registry& registry);

  // One answered request of `op` that took `latency_ms`, with ZooKeeper error `err`.
  void Request(jute::OpCode op, int32_t err, int64_t latency_ms);

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

 private:
  prometheus::Family<prometheus::Counter>* requests_family_;
  prometheus::Family<prometheus::Counter>* errors_family_;
  std::map<int32_t, prometheus::Counter*> requests_;  // by op code
  std::map<int32_t, prometheus::Counter*> errors_;    // error replies, by op code
  prometheus::Counter* requests_other_;
  prometheus::Counter* errors_other_;
  prometheus::Histogram* latency_read_;
  prometheus::Histogram* latency_write_;
  prometheus::Histogram* latency_local_;
};

}  // namespace ensemble::gateway

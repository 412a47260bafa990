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

}  // namespace

GatewayMetrics::GatewayMetrics(prometheus::Registry& registry) {
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
  auto& up = prometheus::BuildGauge()
                 .Name("ensemble_gateway_upstream_up")
                 .Help("1 while the upstream stream is up, by stream.")
                 .Register(registry);
  storage_up = &up.Add({{"stream", "storage"}});
  replication_up = &up.Add({{"stream", "replication"}});
  applied_zxid = gauge("ensemble_gateway_applied_zxid",
                       "The home storage's last applied zxid, as last reported.");

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
  switch (RouteOf(op)) {
    case OpRoute::kRead:
      latency_read_->Observe(seconds);
      break;
    case OpRoute::kWrite:
    case OpRoute::kSync:
      latency_write_->Observe(seconds);
      break;
    case OpRoute::kLocal:
      latency_local_->Observe(seconds);
      break;
  }
}

}  // namespace ensemble::gateway

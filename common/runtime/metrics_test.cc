#include "common/runtime/metrics.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/summary.h"
#include "prometheus/text_serializer.h"

namespace ensemble::runtime {
namespace {

std::string Serialize(const std::vector<prometheus::MetricFamily>& families) {
  return prometheus::TextSerializer().Serialize(families);
}

// ZooKeeper's names that promtool rejects go out untyped with their values;
// summaries, conforming names and Ensemble's own names keep their types.
TEST(ExportLintSafe, RewritesOnlyZooKeeperNamesThatFailTheLint) {
  prometheus::Registry registry;
  prometheus::BuildGauge().Name("znode_count").Help("h").Register(registry).Add({}).Set(42);
  prometheus::BuildCounter()
      .Name("connection_rejected")
      .Help("h")
      .Register(registry)
      .Add({})
      .Increment(3);
  prometheus::BuildGauge().Name("uptime").Help("h").Register(registry).Add({}).Set(7);
  prometheus::BuildCounter().Name("requests_total").Help("h").Register(registry).Add({});
  prometheus::BuildSummary()
      .Name("node_created_watch_count")
      .Help("h")
      .Register(registry)
      .Add({}, prometheus::Summary::Quantiles{{0.5, 0.05}})
      .Observe(2);
  prometheus::BuildGauge().Name("ensemble_bad_count").Help("h").Register(registry).Add({});
  prometheus::BuildCounter().Name("ensemble_bad").Help("h").Register(registry).Add({});

  auto families = registry.Collect();
  ExportLintSafe(&families);
  const std::string text = Serialize(families);
  EXPECT_NE(text.find("# TYPE znode_count untyped\nznode_count 42\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE connection_rejected untyped\nconnection_rejected 3\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("# TYPE uptime gauge\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE requests_total counter\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE node_created_watch_count summary\n"), std::string::npos) << text;
  EXPECT_NE(text.find("node_created_watch_count_count 1\n"), std::string::npos) << text;
  // Ensemble's own names stay as registered, so the lint still catches them.
  EXPECT_NE(text.find("# TYPE ensemble_bad_count gauge\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE ensemble_bad counter\n"), std::string::npos) << text;
}

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

// GET /metrics over a plain socket; the whole response, headers included.
std::string Scrape(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  std::string out;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    const std::string request = "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if (write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
      char buf[4096];
      ssize_t n;
      while ((n = read(fd, buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
    }
  }
  close(fd);
  return out;
}

// The endpoint serves the process's registry (lint-safe) and the process
// metrics, for as long as it lives.
TEST(MetricsEndpoint, ServesTheRegistryLintSafeAndTheProcessMetrics) {
  const int port = FreePort();
  auto endpoint = MetricsEndpoint::Start("127.0.0.1:" + std::to_string(port), "test");
  ASSERT_TRUE(endpoint.ok()) << endpoint.status();
  prometheus::BuildGauge()
      .Name("znode_count")
      .Help("h")
      .Register((*endpoint)->registry())
      .Add({})
      .Set(5);
  prometheus::BuildCounter()
      .Name("ensemble_test_events_total")
      .Help("h")
      .Register((*endpoint)->registry())
      .Add({})
      .Increment(2);
  const std::string text = Scrape(port);
  EXPECT_NE(text.find("# TYPE znode_count untyped\nznode_count 5\n"), std::string::npos) << text;
  EXPECT_NE(text.find("ensemble_test_events_total 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE process_cpu_seconds_total counter\n"), std::string::npos) << text;
}

TEST(NeedsUntyped, FollowsPromtoolsRules) {
  prometheus::MetricFamily family;
  family.type = prometheus::MetricType::Gauge;
  family.name = "watch_count";
  EXPECT_TRUE(NeedsUntyped(family));
  family.name = "fsynctime_sum";
  EXPECT_TRUE(NeedsUntyped(family));
  family.name = "approximate_data_size";
  EXPECT_FALSE(NeedsUntyped(family));
  family.type = prometheus::MetricType::Counter;
  family.name = "looking_count";
  EXPECT_TRUE(NeedsUntyped(family));
  family.name = "process_cpu_seconds_total";
  EXPECT_FALSE(NeedsUntyped(family));
  family.type = prometheus::MetricType::Summary;
  family.name = "election_time";
  EXPECT_FALSE(NeedsUntyped(family));
  family.type = prometheus::MetricType::Histogram;
  family.name = "x_count";
  EXPECT_FALSE(NeedsUntyped(family));
}

}  // namespace
}  // namespace ensemble::runtime

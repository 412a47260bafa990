#include "services/gateway/server/gateway_metrics.h"

#include <map>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "prometheus/text_serializer.h"

namespace ensemble::gateway {
namespace {

// The exposition text of `registry`, as /metrics serves it.
std::string Exposition(prometheus::Registry& registry) {
  return prometheus::TextSerializer().Serialize(registry.Collect());
}

// family name -> type, from the "# TYPE" lines.
std::map<std::string, std::string> Types(const std::string& text) {
  std::map<std::string, std::string> types;
  size_t at = 0;
  while ((at = text.find("# TYPE ", at)) != std::string::npos) {
    const size_t end = text.find('\n', at);
    const std::string line = text.substr(at + 7, end - at - 7);
    const size_t space = line.find(' ');
    types[line.substr(0, space)] = line.substr(space + 1);
    at = end;
  }
  return types;
}

bool HasLine(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.rfind(line + "\n", 0) == 0;
}

TEST(GatewayMetricsTest, ZooKeeperNamesHaveZooKeepersTypes) {
  prometheus::Registry registry;
  GatewayMetrics metrics(registry);
  metrics.SetQuorumSize(3);
  const auto types = Types(Exposition(registry));
  // ZooKeeperServer.registerMetrics and QuorumZooKeeperServer: gauges.
  for (const char* gauge : {"avg_latency",
                            "min_latency",
                            "max_latency",
                            "packets_received",
                            "packets_sent",
                            "num_alive_connections",
                            "outstanding_requests",
                            "uptime",
                            "znode_count",
                            "watch_count",
                            "ephemerals_count",
                            "approximate_data_size",
                            "global_sessions",
                            "local_sessions",
                            "open_file_descriptor_count",
                            "max_file_descriptor_count",
                            "connection_drop_probability",
                            "last_client_response_size",
                            "max_client_response_size",
                            "min_client_response_size",
                            "outstanding_tls_handshake",
                            "auth_failed_count",
                            "non_mtls_remote_conn_count",
                            "non_mtls_local_conn_count",
                            "quorum_size"}) {
    ASSERT_EQ(types.count(gauge), 1u) << gauge;
    EXPECT_EQ(types.at(gauge), "gauge") << gauge;
  }
  // ServerMetrics: counters and summaries.
  for (const char* counter :
       {"connection_request_count", "connection_rejected", "bytes_received_count"}) {
    ASSERT_EQ(types.count(counter), 1u) << counter;
    EXPECT_EQ(types.at(counter), "counter") << counter;
  }
  EXPECT_EQ(types.at("readlatency"), "summary");
  EXPECT_EQ(types.at("updatelatency"), "summary");
}

TEST(GatewayMetricsTest, NoQuorumSizeWithoutServers) {
  prometheus::Registry registry;
  GatewayMetrics metrics(registry);
  metrics.SetQuorumSize(0);
  EXPECT_EQ(Types(Exposition(registry)).count("quorum_size"), 0u);
}

TEST(GatewayMetricsTest, LatencySummariesSplitAsZooKeeperDoes) {
  prometheus::Registry registry;
  GatewayMetrics metrics(registry);
  metrics.Request(jute::OpCode::kGetData, 0, 4);    // read
  metrics.Request(jute::OpCode::kSync, 0, 6);       // no transaction: a read for ZooKeeper
  metrics.Request(jute::OpCode::kPing, 0, 0);       // local: a read too
  metrics.Request(jute::OpCode::kCreate, -110, 9);  // a write, answered with an error
  const std::string text = Exposition(registry);
  EXPECT_TRUE(HasLine(text, "readlatency_count 3")) << text;
  EXPECT_TRUE(HasLine(text, "readlatency_sum 10")) << text;
  EXPECT_TRUE(HasLine(text, "updatelatency_count 1")) << text;
  EXPECT_TRUE(HasLine(text, "updatelatency_sum 9")) << text;
  // ADVANCED summaries: median, 90th and 99th percentiles.
  EXPECT_NE(text.find("updatelatency{quantile=\"0.5\"} 9"), std::string::npos) << text;
  EXPECT_NE(text.find("updatelatency{quantile=\"0.9\"} 9"), std::string::npos) << text;
  EXPECT_NE(text.find("updatelatency{quantile=\"0.99\"} 9"), std::string::npos) << text;
  EXPECT_TRUE(HasLine(text, "ensemble_gateway_error_replies_total{op=\"create\"} 1")) << text;
}

TEST(GatewayMetricsTest, ResponseSizesStartAtMinusOneAndReset) {
  prometheus::Registry registry;
  GatewayMetrics metrics(registry);
  std::string text = Exposition(registry);
  EXPECT_TRUE(HasLine(text, "last_client_response_size -1")) << text;
  EXPECT_TRUE(HasLine(text, "min_client_response_size -1")) << text;
  metrics.ClientResponse(40);
  metrics.ClientResponse(16);
  metrics.ClientResponse(100);
  metrics.ClientResponse(30);
  text = Exposition(registry);
  EXPECT_TRUE(HasLine(text, "last_client_response_size 30")) << text;
  EXPECT_TRUE(HasLine(text, "min_client_response_size 16")) << text;
  EXPECT_TRUE(HasLine(text, "max_client_response_size 100")) << text;
  EXPECT_TRUE(HasLine(text, "ensemble_gateway_response_size_bytes_count 4")) << text;
  metrics.ResetResponseSizes();
  text = Exposition(registry);
  EXPECT_TRUE(HasLine(text, "max_client_response_size -1")) << text;
}

TEST(GatewayMetricsTest, PublishCopiesTheFigures) {
  prometheus::Registry registry;
  GatewayMetrics metrics(registry);
  ZooKeeperFigures f;
  f.avg_latency_ms = 2.5;
  f.max_latency_ms = 7;
  f.alive_connections = 3;
  f.local_connections = 2;
  f.remote_connections = 1;
  f.outstanding_requests = 4;
  f.znode_count = 1234;
  f.watch_count = 5;
  f.global_sessions = 6;
  f.uptime_ms = 42000;
  metrics.Publish(f);
  metrics.SetServerState("follower");
  const std::string text = Exposition(registry);
  for (const char* line :
       {"avg_latency 2.5", "max_latency 7", "num_alive_connections 3",
        "non_mtls_local_conn_count 2", "non_mtls_remote_conn_count 1", "outstanding_requests 4",
        "ensemble_gateway_outstanding_requests 4", "znode_count 1234", "watch_count 5",
        "global_sessions 6", "local_sessions 0", "uptime 42000",
        "ensemble_gateway_server_state{state=\"follower\"} 1",
        "ensemble_gateway_server_state{state=\"leader\"} 0"}) {
    EXPECT_TRUE(HasLine(text, line)) << line << "\n" << text;
  }
  metrics.SetServerState("something-else");
  EXPECT_TRUE(HasLine(Exposition(registry), "ensemble_gateway_server_state{state=\"looking\"} 1"));
}

}  // namespace
}  // namespace ensemble::gateway

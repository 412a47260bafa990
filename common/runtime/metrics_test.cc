#include "common/runtime/metrics.h"

#include <gtest/gtest.h>

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

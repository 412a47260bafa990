#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "prometheus/exposer.h"
#include "prometheus/metric_family.h"
#include "prometheus/registry.h"

namespace ensemble::runtime {

// One Prometheus endpoint (`/metrics`) per process. Families are registered
// once at start-up on `registry()` and their children kept by the caller
// (prometheus-cpp's advice: Add() on the hot path is slow).
//
// ZooKeeper's own names keep ZooKeeper's conventions (gauges named *_count,
// counters without _total), which promtool's lint rejects. The endpoint
// exports those families as `untyped` (ExportLintSafe): PromQL treats an
// untyped sample exactly as a gauge or counter sample, and promtool does not
// lint untyped names. Ensemble's own names (`ensemble_*`) are never rewritten,
// so the lint still holds them to the conventions.
// Thread-safe: the registry is; the exposer serves from its own threads.
class MetricsEndpoint {
 public:
  // Listens on `address` (host:port; port 0 is not supported by civetweb).
  static absl::StatusOr<std::unique_ptr<MetricsEndpoint>> Start(const std::string& address,
                                                                const std::string& process);

  prometheus::Registry& registry() { return *registry_; }

 private:
  MetricsEndpoint() = default;
  std::unique_ptr<prometheus::Exposer> exposer_;
  std::shared_ptr<prometheus::Registry> registry_;
  // What the exposer collects (it holds only a weak_ptr): the registry with
  // ExportLintSafe applied.
  std::shared_ptr<prometheus::Collectable> served_;
};

// True for a family that promtool's lint would reject only because it follows
// ZooKeeper's naming: a counter without the _total suffix, or a gauge whose name
// ends in _count, _sum or _bucket. Never true for `ensemble_*` names.
bool NeedsUntyped(const prometheus::MetricFamily& family);

// Rewrites every family NeedsUntyped() selects to MetricType::Untyped (the
// value moves to ClientMetric::untyped); summaries and histograms stay as
// they are.
void ExportLintSafe(std::vector<prometheus::MetricFamily>* families);

}  // namespace ensemble::runtime

#include "common/runtime/metrics.h"

#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace ensemble::runtime {
namespace {

// Exposes the standard process metrics (process_cpu_seconds_total,
// process_resident_memory_bytes, process_start_time_seconds) read from /proc
// at scrape time; prometheus-cpp has no process collector of its own.
class ProcessCollector : public prometheus::Collectable {
 public:
  ProcessCollector()
      : start_seconds_(
            std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
                .count()) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    std::vector<prometheus::MetricFamily> out;
    double cpu = 0, rss = 0;
    std::ifstream stat("/proc/self/stat");
    std::string line;
    if (std::getline(stat, line)) {
      // Fields after the ")" of the command name: state is field 3; utime 14, stime 15.
      auto close = line.rfind(')');
      std::istringstream rest(line.substr(close + 2));
      std::string field;
      double utime = 0, stime = 0;
      for (int i = 3; i <= 15 && rest >> field; ++i) {
        if (i == 14) utime = std::stod(field);
        if (i == 15) stime = std::stod(field);
      }
      cpu = (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
    }
    std::ifstream statm("/proc/self/statm");
    long pages_total = 0, pages_resident = 0;
    if (statm >> pages_total >> pages_resident) {
      rss = static_cast<double>(pages_resident) * static_cast<double>(sysconf(_SC_PAGESIZE));
    }
    out.push_back(Gauge("process_cpu_seconds_total", "Total user and system CPU time in seconds.",
                        prometheus::MetricType::Counter, cpu));
    out.push_back(Gauge("process_resident_memory_bytes", "Resident memory size in bytes.",
                        prometheus::MetricType::Gauge, rss));
    out.push_back(Gauge("process_start_time_seconds",
                        "Start time of the process since the Unix epoch in seconds.",
                        prometheus::MetricType::Gauge, start_seconds_));
    return out;
  }

 private:
  static prometheus::MetricFamily Gauge(std::string name, std::string help,
                                        prometheus::MetricType type, double value) {
    prometheus::MetricFamily family;
    family.name = std::move(name);
    family.help = std::move(help);
    family.type = type;
    prometheus::ClientMetric metric;
    if (type == prometheus::MetricType::Counter) {
      metric.counter.value = value;
    } else {
      metric.gauge.value = value;
    }
    family.metric.push_back(metric);
    return family;
  }

  double start_seconds_;
};

// The process's registry as the endpoint serves it: ExportLintSafe applied.
class LintSafeRegistry : public prometheus::Collectable {
 public:
  explicit LintSafeRegistry(std::shared_ptr<prometheus::Registry> registry)
      : registry_(std::move(registry)) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    std::vector<prometheus::MetricFamily> families = registry_->Collect();
    ExportLintSafe(&families);
    return families;
  }

 private:
  std::shared_ptr<prometheus::Registry> registry_;
};

}  // namespace

bool NeedsUntyped(const prometheus::MetricFamily& family) {
  if (absl::StartsWith(family.name, "ensemble_")) return false;
  switch (family.type) {
    case prometheus::MetricType::Counter:
      return !absl::EndsWith(family.name, "_total");
    case prometheus::MetricType::Gauge:
      return absl::EndsWith(family.name, "_count") || absl::EndsWith(family.name, "_sum") ||
             absl::EndsWith(family.name, "_bucket");
    default:
      return false;
  }
}

void ExportLintSafe(std::vector<prometheus::MetricFamily>* families) {
  for (prometheus::MetricFamily& family : *families) {
    if (!NeedsUntyped(family)) continue;
    const bool counter = family.type == prometheus::MetricType::Counter;
    for (prometheus::ClientMetric& metric : family.metric) {
      metric.untyped.value = counter ? metric.counter.value : metric.gauge.value;
    }
    family.type = prometheus::MetricType::Untyped;
  }
}

absl::StatusOr<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::Start(
    const std::string& address, const std::string& process) {
  std::unique_ptr<MetricsEndpoint> endpoint(new MetricsEndpoint());
  endpoint->registry_ = std::make_shared<prometheus::Registry>();
  try {
    // civetweb reports a port it cannot bind by throwing; keep that inside.
    endpoint->exposer_ = std::make_unique<prometheus::Exposer>(address);
  } catch (const std::exception& e) {
    return absl::UnavailableError(
        absl::StrCat("metrics endpoint ", address, " for ", process, ": ", e.what()));
  }
  // The exposer keeps a weak_ptr: the endpoint owns the collectable.
  endpoint->served_ = std::make_shared<LintSafeRegistry>(endpoint->registry_);
  endpoint->exposer_->RegisterCollectable(endpoint->served_);
  static auto process_collector = std::make_shared<ProcessCollector>();
  endpoint->exposer_->RegisterCollectable(process_collector);
  return endpoint;
}

}  // namespace ensemble::runtime

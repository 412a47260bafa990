#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "prometheus/exposer.h"
#include "prometheus/registry.h"

namespace ensemble::runtime {

// One Prometheus endpoint (`/metrics`) per process. Families are registered
// once at start-up on `registry()` and their children kept by the caller
// (prometheus-cpp's advice: Add() on the hot path is slow).
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
};

}  // namespace ensemble::runtime

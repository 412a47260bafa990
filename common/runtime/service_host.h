#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "grpcpp/grpcpp.h"

namespace ensemble::runtime {

// The gRPC server recipe every Ensemble process follows: the process's own
// services plus grpc.health.v1 and server reflection (so grpcurl works).
// Health starts NOT_SERVING; the process flips it with SetServing once it can
// do its job. Thread-safe after Start.
class ServiceHost {
 public:
  // `services` must outlive the host. Each address is host:port or
  // unix:/path; port 0 picks a free port (see port(), for the first address).
  static absl::StatusOr<std::unique_ptr<ServiceHost>> Start(
      const std::vector<std::string>& addresses, const std::vector<grpc::Service*>& services);

  ~ServiceHost();

  // Sets the overall status ("") and each named service's status.
  void SetServing(bool serving);

  int port() const { return port_; }
  grpc::Server* server() { return server_.get(); }

  // Stops accepting calls and cancels those in flight after `deadline_ms`.
  void Shutdown(int deadline_ms = 300);

 private:
  ServiceHost() = default;
  std::unique_ptr<grpc::Server> server_;
  std::vector<std::string> service_names_;
  int port_ = 0;
  bool stopped_ = false;
};

}  // namespace ensemble::runtime

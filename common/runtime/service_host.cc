#include "common/runtime/service_host.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"

namespace ensemble::runtime {

absl::StatusOr<std::unique_ptr<ServiceHost>> ServiceHost::Start(
    const std::vector<std::string>& addresses, const std::vector<grpc::Service*>& services) {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  std::unique_ptr<ServiceHost> host(new ServiceHost());
  grpc::ServerBuilder builder;
  std::vector<int> ports(addresses.size(), 0);
  for (size_t i = 0; i < addresses.size(); ++i) {
    builder.AddListeningPort(addresses[i], grpc::InsecureServerCredentials(), &ports[i]);
  }
  // Batches of transactions and snapshot chunks exceed gRPC's 4 MiB default.
  builder.SetMaxReceiveMessageSize(64 * 1024 * 1024);
  builder.SetMaxSendMessageSize(64 * 1024 * 1024);
  for (grpc::Service* service : services) builder.RegisterService(service);
  host->server_ = builder.BuildAndStart();
  for (size_t i = 0; i < addresses.size(); ++i) {
    // A unix socket reports port 1 on success; 0 means the bind failed.
    if (!host->server_ || ports[i] == 0) {
      return absl::UnavailableError(absl::StrCat("cannot listen for gRPC on ", addresses[i]));
    }
  }
  host->port_ = ports.empty() ? 0 : ports[0];
  host->SetServing(false);
  return host;
}

ServiceHost::~ServiceHost() { Shutdown(0); }

void ServiceHost::SetServing(bool serving) {
  if (auto* health = server_->GetHealthCheckService()) health->SetServingStatus(serving);
}

void ServiceHost::Shutdown(int deadline_ms) {
  if (stopped_ || !server_) return;
  stopped_ = true;
  SetServing(false);
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(deadline_ms));
  server_->Wait();
}

}  // namespace ensemble::runtime

#include "services/storage/server/storage_service.h"

namespace ensemble::storage {

using ensemble::storage::v1::GatewayMessage;
using ensemble::storage::v1::LogRequest;
using ensemble::storage::v1::LogResponse;
using ensemble::storage::v1::StorageMessage;

grpc::ServerBidiReactor<LogRequest, LogResponse>* StorageService::Log(
    grpc::CallbackServerContext* context) {
  return LogStream::Start(
      context,
      [this](const std::shared_ptr<LogStream>& stream, LogRequest&& request) {
        driver_.OnLog(stream, std::move(request));
      },
      nullptr);
}

grpc::ServerBidiReactor<GatewayMessage, StorageMessage>* StorageService::Serve(
    grpc::CallbackServerContext* context) {
  return ServeStream::Start(
      context,
      [this](const std::shared_ptr<ServeStream>& stream, GatewayMessage&& message) {
        driver_.OnServe(stream, std::move(message));
      },
      [this](const std::shared_ptr<ServeStream>& stream) { driver_.OnServeDone(stream); });
}

grpc::ServerUnaryReactor* StorageService::GetState(grpc::CallbackServerContext* context,
                                                   const ensemble::storage::v1::GetStateRequest*,
                                                   ensemble::storage::v1::StorageState* response) {
  auto* reactor = context->DefaultReactor();
  driver_.Post([reactor, response](StorageDriver& d) {
    *response = d.State();
    reactor->Finish(grpc::Status::OK);
  });
  return reactor;
}

grpc::ServerUnaryReactor* StorageService::ListSessions(
    grpc::CallbackServerContext* context, const ensemble::storage::v1::ListSessionsRequest*,
    ensemble::storage::v1::ListSessionsResponse* response) {
  auto* reactor = context->DefaultReactor();
  driver_.Post([reactor, response](StorageDriver& d) {
    for (const auto& session : d.state_machine().Sessions()) *response->add_sessions() = session;
    reactor->Finish(grpc::Status::OK);
  });
  return reactor;
}

}  // namespace ensemble::storage

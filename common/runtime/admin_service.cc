#include "common/runtime/admin_service.h"

#include <exception>

namespace ensemble::runtime {

const char* EnsembleVersion() { return "0.1.0"; }

AdminService::AdminService(std::string process, std::map<std::string, std::string> settings,
                           StatusFiller filler, Actions actions)
    : process_(std::move(process)),
      settings_(std::move(settings)),
      filler_(std::move(filler)),
      actions_(std::move(actions)) {}

namespace {

grpc::ServerUnaryReactor* RunAction(grpc::CallbackServerContext* context,
                                    const AdminService::Action& action, const char* name) {
  auto* reactor = context->DefaultReactor();
  if (!action) {
    reactor->Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                                 std::string(name) + " is not an action of this process"));
    return reactor;
  }
  action([reactor](grpc::Status status) { reactor->Finish(status); });
  return reactor;
}

template <typename Request, typename Response>
grpc::ServerUnaryReactor* RunHandler(grpc::CallbackServerContext* context,
                                     const AdminService::Handler<Request, Response>& handler,
                                     const Request* request, Response* response, const char* name) {
  auto* reactor = context->DefaultReactor();
  if (!handler) {
    reactor->Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                                 std::string(name) + " is not an action of this process"));
    return reactor;
  }
  handler(*request, response, [reactor](grpc::Status status) { reactor->Finish(status); });
  return reactor;
}

}  // namespace

grpc::ServerUnaryReactor* AdminService::ListSessions(
    grpc::CallbackServerContext* context, const ensemble::admin::v1::ListSessionsRequest* request,
    ensemble::admin::v1::ListSessionsResponse* response) {
  return RunHandler(context, actions_.list_sessions, request, response, "ListSessions");
}

grpc::ServerUnaryReactor* AdminService::KillSession(
    grpc::CallbackServerContext* context, const ensemble::admin::v1::KillSessionRequest* request,
    ensemble::admin::v1::KillSessionResponse* response) {
  return RunHandler(context, actions_.kill_session, request, response, "KillSession");
}

grpc::ServerUnaryReactor* AdminService::ListConnections(
    grpc::CallbackServerContext* context,
    const ensemble::admin::v1::ListConnectionsRequest* request,
    ensemble::admin::v1::ListConnectionsResponse* response) {
  return RunHandler(context, actions_.list_connections, request, response, "ListConnections");
}

grpc::ServerUnaryReactor* AdminService::DropConnection(
    grpc::CallbackServerContext* context, const ensemble::admin::v1::DropConnectionRequest* request,
    ensemble::admin::v1::DropConnectionResponse* response) {
  return RunHandler(context, actions_.drop_connection, request, response, "DropConnection");
}

grpc::ServerUnaryReactor* AdminService::Watches(grpc::CallbackServerContext* context,
                                                const ensemble::admin::v1::WatchesRequest* request,
                                                ensemble::admin::v1::WatchesResponse* response) {
  return RunHandler(context, actions_.watches, request, response, "Watches");
}

grpc::ServerUnaryReactor* AdminService::SnapshotNow(grpc::CallbackServerContext* context,
                                                    const ensemble::admin::v1::SnapshotNowRequest*,
                                                    ensemble::admin::v1::SnapshotNowResponse*) {
  return RunAction(context, actions_.snapshot_now, "SnapshotNow");
}

grpc::ServerUnaryReactor* AdminService::PurgeNow(grpc::CallbackServerContext* context,
                                                 const ensemble::admin::v1::PurgeNowRequest*,
                                                 ensemble::admin::v1::PurgeNowResponse*) {
  return RunAction(context, actions_.purge_now, "PurgeNow");
}

grpc::ServerUnaryReactor* AdminService::Status(grpc::CallbackServerContext* context,
                                               const ensemble::admin::v1::StatusRequest*,
                                               ensemble::admin::v1::StatusResponse* response) {
  auto* reactor = context->DefaultReactor();
  grpc::Status status = grpc::Status::OK;
  try {
    response->set_process(process_);
    response->set_version(EnsembleVersion());
    response->set_uptime_ms(std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::steady_clock::now() - started_)
                                .count());
    if (filler_) filler_(response);
  } catch (const std::exception& e) {
    // No exception crosses a gRPC handler.
    status = grpc::Status(grpc::StatusCode::INTERNAL, e.what());
  }
  reactor->Finish(status);
  return reactor;
}

grpc::ServerUnaryReactor* AdminService::GetConfig(
    grpc::CallbackServerContext* context, const ensemble::admin::v1::GetConfigRequest*,
    ensemble::admin::v1::GetConfigResponse* response) {
  auto* reactor = context->DefaultReactor();
  for (const auto& [key, value] : settings_) (*response->mutable_settings())[key] = value;
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

}  // namespace ensemble::runtime

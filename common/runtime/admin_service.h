#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <string>

#include "ensemble/admin.grpc.pb.h"

namespace ensemble::runtime {

// The admin service every process serves. The process supplies a function
// that fills its status; the rest (process kind, version, uptime) is common.
class AdminService final : public ensemble::admin::v1::Admin::CallbackService {
 public:
  using StatusFiller = std::function<void(ensemble::admin::v1::StatusResponse*)>;
  // An operator action that completes later (on the process's driver thread):
  // it must call `done` exactly once.
  using Action = std::function<void(std::function<void(grpc::Status)> done)>;
  // A call answered later: fills `*response` (the request and the response
  // live until `done`), then calls `done` exactly once, on any thread.
  template <typename Request, typename Response>
  using Handler = std::function<void(const Request& request, Response* response,
                                     std::function<void(grpc::Status)> done)>;
  // Unset members answer UNIMPLEMENTED (the call is not this process's).
  struct Actions {
    Action snapshot_now;  // storage
    Action purge_now;     // storage
    Handler<ensemble::admin::v1::ListSessionsRequest, ensemble::admin::v1::ListSessionsResponse>
        list_sessions;  // storage
    Handler<ensemble::admin::v1::KillSessionRequest, ensemble::admin::v1::KillSessionResponse>
        kill_session;  // gateway
    Handler<ensemble::admin::v1::ListConnectionsRequest,
            ensemble::admin::v1::ListConnectionsResponse>
        list_connections;  // gateway
    Handler<ensemble::admin::v1::DropConnectionRequest,
            ensemble::admin::v1::DropConnectionResponse>
        drop_connection;  // gateway
    Handler<ensemble::admin::v1::WatchesRequest, ensemble::admin::v1::WatchesResponse>
        watches;  // storage
  };

  AdminService(std::string process, std::map<std::string, std::string> settings,
               StatusFiller filler, Actions actions = {});

  grpc::ServerUnaryReactor* Status(grpc::CallbackServerContext* context,
                                   const ensemble::admin::v1::StatusRequest* request,
                                   ensemble::admin::v1::StatusResponse* response) override;
  grpc::ServerUnaryReactor* GetConfig(grpc::CallbackServerContext* context,
                                      const ensemble::admin::v1::GetConfigRequest* request,
                                      ensemble::admin::v1::GetConfigResponse* response) override;
  grpc::ServerUnaryReactor* SnapshotNow(
      grpc::CallbackServerContext* context, const ensemble::admin::v1::SnapshotNowRequest* request,
      ensemble::admin::v1::SnapshotNowResponse* response) override;
  grpc::ServerUnaryReactor* PurgeNow(grpc::CallbackServerContext* context,
                                     const ensemble::admin::v1::PurgeNowRequest* request,
                                     ensemble::admin::v1::PurgeNowResponse* response) override;
  grpc::ServerUnaryReactor* ListSessions(
      grpc::CallbackServerContext* context, const ensemble::admin::v1::ListSessionsRequest* request,
      ensemble::admin::v1::ListSessionsResponse* response) override;
  grpc::ServerUnaryReactor* KillSession(
      grpc::CallbackServerContext* context, const ensemble::admin::v1::KillSessionRequest* request,
      ensemble::admin::v1::KillSessionResponse* response) override;
  grpc::ServerUnaryReactor* ListConnections(
      grpc::CallbackServerContext* context,
      const ensemble::admin::v1::ListConnectionsRequest* request,
      ensemble::admin::v1::ListConnectionsResponse* response) override;
  grpc::ServerUnaryReactor* DropConnection(
      grpc::CallbackServerContext* context,
      const ensemble::admin::v1::DropConnectionRequest* request,
      ensemble::admin::v1::DropConnectionResponse* response) override;
  grpc::ServerUnaryReactor* Watches(grpc::CallbackServerContext* context,
                                    const ensemble::admin::v1::WatchesRequest* request,
                                    ensemble::admin::v1::WatchesResponse* response) override;

 private:
  const std::string process_;
  const std::map<std::string, std::string> settings_;
  const StatusFiller filler_;
  const Actions actions_;
  const std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

// The version string every process reports.
const char* EnsembleVersion();

}  // namespace ensemble::runtime

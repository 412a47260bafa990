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
  struct Actions {
    Action snapshot_now;  // unset: UNIMPLEMENTED
    Action purge_now;
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

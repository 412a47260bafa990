#pragma once

#include "ensemble/storage.grpc.pb.h"
#include "services/storage/server/storage_driver.h"

namespace ensemble::storage {

// The gRPC face of storage: every call is handed to the driver thread.
class StorageService final : public ensemble::storage::v1::Storage::CallbackService {
 public:
  explicit StorageService(StorageDriver& driver) : driver_(driver) {}

  grpc::ServerBidiReactor<ensemble::storage::v1::LogRequest, ensemble::storage::v1::LogResponse>*
  Log(grpc::CallbackServerContext* context) override;

  grpc::ServerBidiReactor<ensemble::storage::v1::GatewayMessage,
                          ensemble::storage::v1::StorageMessage>*
  Serve(grpc::CallbackServerContext* context) override;

  grpc::ServerUnaryReactor* GetState(grpc::CallbackServerContext* context,
                                     const ensemble::storage::v1::GetStateRequest* request,
                                     ensemble::storage::v1::StorageState* response) override;

  grpc::ServerUnaryReactor* ListSessions(
      grpc::CallbackServerContext* context,
      const ensemble::storage::v1::ListSessionsRequest* request,
      ensemble::storage::v1::ListSessionsResponse* response) override;

 private:
  StorageDriver& driver_;
};

}  // namespace ensemble::storage

#pragma once

#include "ensemble/storage.grpc.pb.h"
#include "services/storage/server/storage_driver.h"

namespace ensemble::storage {

// The gRPC face of storage: every call is handed to the driver thread.
class StorageService final : public ensemble::storage::v1::Storage::CallbackService {
 public:
  // `log` is read directly (it is thread-safe) by log-range streams.
  StorageService(StorageDriver& driver, const TxnLog& log, std::string snapshot_dir)
      : driver_(driver), log_(log), snapshot_dir_(std::move(snapshot_dir)) {}

  grpc::ServerBidiReactor<ensemble::storage::v1::LogRequest, ensemble::storage::v1::LogResponse>*
  Log(grpc::CallbackServerContext* context) override;

  grpc::ServerBidiReactor<ensemble::storage::v1::GatewayMessage,
                          ensemble::storage::v1::StorageMessage>*
  Serve(grpc::CallbackServerContext* context) override;

  grpc::ServerUnaryReactor* GetState(grpc::CallbackServerContext* context,
                                     const ensemble::storage::v1::GetStateRequest* request,
                                     ensemble::storage::v1::StorageState* response) override;

  grpc::ServerWriteReactor<ensemble::storage::v1::LogChunk>* ReadLog(
      grpc::CallbackServerContext* context,
      const ensemble::storage::v1::ReadLogRequest* request) override;

  grpc::ServerWriteReactor<ensemble::storage::v1::SnapshotChunk>* ReadSnapshot(
      grpc::CallbackServerContext* context,
      const ensemble::storage::v1::ReadSnapshotRequest* request) override;

  grpc::ServerReadReactor<ensemble::storage::v1::SnapshotChunk>* InstallSnapshot(
      grpc::CallbackServerContext* context,
      ensemble::storage::v1::InstallSnapshotResponse* response) override;

  grpc::ServerUnaryReactor* ListSessions(
      grpc::CallbackServerContext* context,
      const ensemble::storage::v1::ListSessionsRequest* request,
      ensemble::storage::v1::ListSessionsResponse* response) override;

 private:
  StorageDriver& driver_;
  const TxnLog& log_;
  const std::string snapshot_dir_;
};

}  // namespace ensemble::storage

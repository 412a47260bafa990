#include "services/storage/server/storage_service.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <future>

#include "absl/strings/str_cat.h"
#include "common/runtime/log.h"
#include "common/runtime/producer_stream.h"
#include "services/storage/snapshot/snapshot_manager.h"

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

grpc::ServerUnaryReactor* StorageService::GetState(
    grpc::CallbackServerContext* context, const ensemble::storage::v1::GetStateRequest* request,
    ensemble::storage::v1::StorageState* response) {
  auto* reactor = context->DefaultReactor();
  const bool with_log_epochs = request->with_log_epochs();
  driver_.Post([reactor, response, with_log_epochs](StorageDriver& d) {
    *response = d.State(with_log_epochs);
    reactor->Finish(grpc::Status::OK);
  });
  return reactor;
}

namespace {
constexpr size_t kTxnsPerChunk = 1000;
constexpr size_t kSnapshotChunkBytes = 1 << 20;
}  // namespace

grpc::ServerWriteReactor<ensemble::storage::v1::LogChunk>* StorageService::ReadLog(
    grpc::CallbackServerContext*, const ensemble::storage::v1::ReadLogRequest* request) {
  int64_t from = request->from_zxid();
  int64_t to = request->to_zxid() == 0 ? TxnLog::kToEnd : request->to_zxid();
  return runtime::ProducerStream<ensemble::storage::v1::LogChunk>::Start(
      [this, from, to](const auto& emit) -> absl::Status {
        ensemble::storage::v1::LogChunk chunk;
        bool cancelled = false;
        absl::Status status = log_.Read(from, to, [&](ensemble::v1::Txn txn) -> absl::Status {
          *chunk.add_txns() = std::move(txn);
          if (static_cast<size_t>(chunk.txns_size()) >= kTxnsPerChunk) {
            if (!emit(std::exchange(chunk, {}))) {
              cancelled = true;
              return absl::CancelledError("the reader went away");
            }
          }
          return absl::OkStatus();
        });
        if (cancelled) return absl::CancelledError("the reader went away");
        if (!status.ok()) return status;
        if (chunk.txns_size() > 0) emit(std::move(chunk));
        return absl::OkStatus();
      });
}

grpc::ServerWriteReactor<ensemble::storage::v1::SnapshotChunk>* StorageService::ReadSnapshot(
    grpc::CallbackServerContext*, const ensemble::storage::v1::ReadSnapshotRequest* request) {
  // The newest snapshot file on disk (with `fresh`, one taken now); with the
  // log after it (ReadLog) it rebuilds the whole state (the log is purged
  // only up to a kept snapshot).
  const bool fresh = request->fresh();
  return runtime::ProducerStream<ensemble::storage::v1::SnapshotChunk>::Start(
      [this, fresh](const auto& emit) -> absl::Status {
        if (fresh) {
          auto taken = std::make_shared<std::promise<absl::StatusOr<int64_t>>>();
          auto future = taken->get_future();
          driver_.Post([taken](StorageDriver& d) {
            d.SnapshotNow([taken](absl::StatusOr<int64_t> zxid) { taken->set_value(zxid); });
          });
          absl::StatusOr<int64_t> zxid = future.get();
          if (!zxid.ok()) return zxid.status();
        }
        auto files = ListSnapshots(snapshot_dir_);
        if (!files.ok()) return files.status();
        if (files->empty()) return absl::FailedPreconditionError("no snapshot has been written");
        const SnapshotFile& newest = files->front();
        std::ifstream in(newest.path, std::ios::binary);
        if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", newest.path));
        std::string buffer(kSnapshotChunkBytes, '\0');
        bool first = true;
        while (true) {
          in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
          std::streamsize got = in.gcount();
          ensemble::storage::v1::SnapshotChunk chunk;
          if (first) chunk.set_zxid(newest.zxid);
          first = false;
          chunk.set_data(buffer.data(), static_cast<size_t>(got));
          chunk.set_last(!in);
          if (!emit(std::move(chunk))) return absl::CancelledError("the reader went away");
          if (!in) break;
        }
        return absl::OkStatus();
      });
}

namespace {

// Receives a snapshot into a temporary file beside the others, then asks the
// driver to install it. File writes happen on gRPC's thread: they are
// sequential appends of at most a few MiB per message, and a peer installs a
// snapshot rarely.
class SnapshotInstaller : public grpc::ServerReadReactor<ensemble::storage::v1::SnapshotChunk> {
 public:
  SnapshotInstaller(StorageDriver& driver, std::string dir,
                    ensemble::storage::v1::InstallSnapshotResponse* response)
      : driver_(driver), dir_(std::move(dir)), response_(response) {
    tmp_path_ = dir_ + "/incoming.tmp";
    file_ = std::fopen(tmp_path_.c_str(), "wb");
    if (!file_) {
      Finish(grpc::Status(grpc::StatusCode::INTERNAL, "cannot create " + tmp_path_));
      return;
    }
    StartRead(&chunk_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      Fail(grpc::StatusCode::DATA_LOSS, "the stream ended before the last chunk");
      return;
    }
    if (first_) {
      zxid_ = chunk_.zxid();
      first_ = false;
    }
    if (std::fwrite(chunk_.data().data(), 1, chunk_.data().size(), file_) != chunk_.data().size()) {
      Fail(grpc::StatusCode::INTERNAL, "cannot write " + tmp_path_);
      return;
    }
    if (!chunk_.last()) {
      StartRead(&chunk_);
      return;
    }
    bool synced = std::fflush(file_) == 0 && fsync(fileno(file_)) == 0;
    std::fclose(file_);
    file_ = nullptr;
    if (!synced) {
      Fail(grpc::StatusCode::INTERNAL, "cannot sync " + tmp_path_);
      return;
    }
    driver_.Post([this](StorageDriver& d) {
      absl::Status status = d.InstallSnapshot(tmp_path_, zxid_);
      if (status.ok()) response_->set_zxid(zxid_);
      Finish(status.ok() ? grpc::Status::OK
                         : grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                                        std::string(status.message())));
    });
  }

  void OnDone() override {
    if (file_) std::fclose(file_);
    delete this;
  }

 private:
  void Fail(grpc::StatusCode code, const std::string& message) {
    if (file_) std::fclose(file_);
    file_ = nullptr;
    std::remove(tmp_path_.c_str());
    spdlog::warn("storage.install_snapshot_failed error={}", message);
    Finish(grpc::Status(code, message));
  }

  StorageDriver& driver_;
  const std::string dir_;
  ensemble::storage::v1::InstallSnapshotResponse* response_;
  ensemble::storage::v1::SnapshotChunk chunk_;
  std::string tmp_path_;
  std::FILE* file_ = nullptr;
  bool first_ = true;
  int64_t zxid_ = 0;
};

}  // namespace

grpc::ServerReadReactor<ensemble::storage::v1::SnapshotChunk>* StorageService::InstallSnapshot(
    grpc::CallbackServerContext*, ensemble::storage::v1::InstallSnapshotResponse* response) {
  return new SnapshotInstaller(driver_, snapshot_dir_, response);
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

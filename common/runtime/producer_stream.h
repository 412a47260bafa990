#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "absl/status/status.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/support/server_callback.h"

namespace ensemble::runtime {

// A server-streaming call whose messages come from a producer that may block
// (reading a log range or a snapshot file from disk). The producer runs on a
// thread of its own, never on gRPC's; `emit` hands over one message and waits
// while the previous one is still being written (one in flight: memory stays
// bounded however slow the client). `emit` returns false once the call is
// cancelled; the producer should then return. Its status ends the call.
template <class Out>
class ProducerStream : public grpc::ServerWriteReactor<Out> {
 public:
  using Emit = std::function<bool(Out)>;
  using Producer = std::function<absl::Status(const Emit&)>;

  // Returns the reactor to hand back from the service method.
  static ProducerStream* Start(Producer producer) {
    auto* stream = new ProducerStream();
    stream->thread_ = std::thread([stream, producer = std::move(producer)] {
      absl::Status status =
          producer([stream](Out message) { return stream->Write(std::move(message)); });
      stream->End(status);
    });
    return stream;
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard<std::mutex> lock(mu_);
    writing_ = false;
    if (!ok) cancelled_ = true;
    cv_.notify_all();
  }

  void OnCancel() override {
    std::lock_guard<std::mutex> lock(mu_);
    cancelled_ = true;
    cv_.notify_all();
  }

  void OnDone() override {
    if (thread_.joinable()) thread_.join();
    delete this;
  }

 private:
  ProducerStream() = default;

  bool Write(Out message) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return !writing_ || cancelled_; });
    if (cancelled_) return false;
    current_ = std::move(message);
    writing_ = true;
    this->StartWrite(&current_);
    return true;
  }

  void End(const absl::Status& status) {
    std::unique_lock<std::mutex> lock(mu_);
    // A started write always completes (with ok=false once cancelled).
    cv_.wait(lock, [&] { return !writing_; });
    this->Finish(status.ok() ? grpc::Status::OK
                             : grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                                            std::string(status.message())));
  }

  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  Out current_;
  bool writing_ = false;
  bool cancelled_ = false;
};

}  // namespace ensemble::runtime

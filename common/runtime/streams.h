#pragma once

// Bidirectional gRPC streams as small reactor objects with a thread-safe send
// queue, for both ends. Every hot path in Ensemble is one of these streams
// carrying batches.
//
// Threading: read handlers run on gRPC's threads and must not block (hand the
// message to the owning driver's queue). Send() may be called from any thread.
// Lifetime: each stream is owned by shared_ptr; gRPC's reference is dropped in
// OnDone, after the done handler ran, so a holder may keep calling Send()
// (which then returns false) without touching freed memory.

#include <deque>
#include <functional>
#include <memory>
#include <mutex>

#include "grpcpp/grpcpp.h"
#include "grpcpp/support/client_callback.h"
#include "grpcpp/support/server_callback.h"

namespace ensemble::runtime {

template <class In, class Out>
class ServerStream : public grpc::ServerBidiReactor<In, Out>,
                     public std::enable_shared_from_this<ServerStream<In, Out>> {
 public:
  using ReadHandler = std::function<void(const std::shared_ptr<ServerStream>&, In&&)>;
  using DoneHandler = std::function<void(const std::shared_ptr<ServerStream>&)>;

  // Creates the reactor and starts reading. Return the result of this from the
  // service method.
  static ServerStream* Start(grpc::CallbackServerContext* context, ReadHandler on_read,
                             DoneHandler on_done) {
    auto stream = std::shared_ptr<ServerStream>(new ServerStream(context));
    stream->on_read_ = std::move(on_read);
    stream->on_done_ = std::move(on_done);
    stream->self_ = stream;
    stream->StartRead(&stream->in_);
    return stream.get();
  }

  // Queues `message`; false once the stream is closing or closed.
  bool Send(Out message) {
    std::lock_guard<std::mutex> lock(mu_);
    if (closing_) return false;
    out_.push_back(std::move(message));
    if (!writing_) {
      writing_ = true;
      this->StartWrite(&out_.front());
    }
    return true;
  }

  // Ends the stream with `status` once queued messages are written.
  void Close(grpc::Status status) {
    std::lock_guard<std::mutex> lock(mu_);
    if (closing_) return;
    closing_ = true;
    final_status_ = std::move(status);
    if (!writing_) FinishLocked();
  }

  size_t queued() const {
    std::lock_guard<std::mutex> lock(mu_);
    return out_.size();
  }

  grpc::CallbackServerContext* context() { return context_; }
  std::string peer() const { return context_->peer(); }

  void OnReadDone(bool ok) override {
    if (!ok) {
      Close(grpc::Status::OK);
      return;
    }
    auto self = this->shared_from_this();
    on_read_(self, std::move(in_));
    in_.Clear();
    this->StartRead(&in_);
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard<std::mutex> lock(mu_);
    out_.pop_front();
    if (!ok) {
      // The peer is gone; drop what is queued.
      out_.clear();
      closing_ = true;
    }
    if (!out_.empty()) {
      this->StartWrite(&out_.front());
      return;
    }
    writing_ = false;
    if (closing_) FinishLocked();
  }

  void OnDone() override {
    auto self = std::move(self_);
    {
      std::lock_guard<std::mutex> lock(mu_);
      closing_ = true;
    }
    if (on_done_) on_done_(self);
    on_read_ = nullptr;
    on_done_ = nullptr;
  }

  void OnCancel() override { Close(grpc::Status::CANCELLED); }

 private:
  explicit ServerStream(grpc::CallbackServerContext* context) : context_(context) {}

  void FinishLocked() {
    if (finished_) return;
    finished_ = true;
    this->Finish(final_status_);
  }

  grpc::CallbackServerContext* context_;
  ReadHandler on_read_;
  DoneHandler on_done_;
  std::shared_ptr<ServerStream> self_;  // gRPC's reference, dropped in OnDone
  In in_;
  mutable std::mutex mu_;
  std::deque<Out> out_;  // front() is being written while writing_
  bool writing_ = false;
  bool closing_ = false;
  bool finished_ = false;
  grpc::Status final_status_;
};

// The client end. Create with Open(); the call starts at once.
template <class Out, class In>
class ClientStream : public grpc::ClientBidiReactor<Out, In>,
                     public std::enable_shared_from_this<ClientStream<Out, In>> {
 public:
  using ReadHandler = std::function<void(In&&)>;
  using DoneHandler = std::function<void(const grpc::Status&)>;
  // The stub's async bidi method, e.g.
  //   [&](grpc::ClientContext* c, grpc::ClientBidiReactor<Out, In>* r) {
  //     stub->async()->Log(c, r); }
  using Starter = std::function<void(grpc::ClientContext*, grpc::ClientBidiReactor<Out, In>*)>;

  static std::shared_ptr<ClientStream> Open(const Starter& start, ReadHandler on_read,
                                            DoneHandler on_done) {
    auto stream = std::shared_ptr<ClientStream>(new ClientStream());
    stream->on_read_ = std::move(on_read);
    stream->on_done_ = std::move(on_done);
    stream->self_ = stream;
    start(&stream->context_, stream.get());
    // The pending read keeps the call alive until the server ends it.
    stream->StartRead(&stream->in_);
    stream->StartCall();
    return stream;
  }

  bool Send(Out message) {
    std::lock_guard<std::mutex> lock(mu_);
    if (closing_) return false;
    out_.push_back(std::move(message));
    if (!writing_) {
      writing_ = true;
      this->StartWrite(&out_.front());
    }
    return true;
  }

  // Cancels the call; OnDone follows with CANCELLED.
  void Cancel() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      closing_ = true;
    }
    context_.TryCancel();
  }

  size_t queued() const {
    std::lock_guard<std::mutex> lock(mu_);
    return out_.size();
  }

  bool done() const {
    std::lock_guard<std::mutex> lock(mu_);
    return done_;
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;  // the status arrives in OnDone
    on_read_(std::move(in_));
    in_.Clear();
    this->StartRead(&in_);
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard<std::mutex> lock(mu_);
    out_.pop_front();
    if (!ok) {
      out_.clear();
      closing_ = true;
    }
    if (!out_.empty()) {
      this->StartWrite(&out_.front());
      return;
    }
    writing_ = false;
  }

  void OnDone(const grpc::Status& status) override {
    auto self = std::move(self_);
    {
      std::lock_guard<std::mutex> lock(mu_);
      closing_ = true;
      done_ = true;
    }
    if (on_done_) on_done_(status);
    on_read_ = nullptr;
    on_done_ = nullptr;
  }

  grpc::ClientContext* context() { return &context_; }

 private:
  ClientStream() = default;

  grpc::ClientContext context_;
  ReadHandler on_read_;
  DoneHandler on_done_;
  std::shared_ptr<ClientStream> self_;
  In in_;
  mutable std::mutex mu_;
  std::deque<Out> out_;
  bool writing_ = false;
  bool closing_ = false;
  bool done_ = false;
};

}  // namespace ensemble::runtime

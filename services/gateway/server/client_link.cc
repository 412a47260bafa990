#include "services/gateway/server/client_link.h"

namespace ensemble::gateway {

ClientLink::ClientLink(LinkOwner* owner, asio::ip::tcp::socket socket,
                       std::unique_ptr<Connection> conn, size_t send_limit)
    : owner_(owner),
      socket_(std::move(socket)),
      conn_(std::move(conn)),
      linger_(socket_.get_executor()),
      send_limit_(send_limit) {}

void ClientLink::MaybeRead() {
  if (reading_ || closing_ || blocked_ || owner_->ReadsPaused() || !conn_->WantsRead()) return;
  reading_ = true;
  socket_.async_read_some(
      asio::buffer(buffer_), [self = shared_from_this()](const std::error_code& error, size_t n) {
        self->reading_ = false;
        if (self->closing_) return;
        if (error) {
          self->owner_->OnLinkEnd(*self, error);
          return;
        }
        self->owner_->OnLinkRead(*self, std::string_view(self->buffer_.data(), n));
        self->MaybeRead();
      });
}

void ClientLink::Write(std::string bytes) {
  if (closed_ || bytes.empty()) return;
  pending_ += bytes;
  if (!writing_) StartWrite();
  if (!blocked_ && !closing_ && send_limit_ > 0 && unsent_bytes() > send_limit_) {
    blocked_ = true;
    owner_->OnLinkBlocked(*this, true);
  }
}

void ClientLink::StartWrite() {
  if (pending_.empty()) {
    if (closing_) FinishClose();
    return;
  }
  writing_ = true;
  writing_bytes_.swap(pending_);
  pending_.clear();
  asio::async_write(
      socket_, asio::buffer(writing_bytes_),
      [self = shared_from_this()](const std::error_code& error, size_t) {
        self->writing_ = false;
        self->writing_bytes_.clear();
        // A large reply's buffer is not kept for the connection's lifetime.
        if (self->writing_bytes_.capacity() > (size_t{1} << 20))
          std::string().swap(self->writing_bytes_);
        if (self->closed_) return;
        if (error) {
          // The client is gone: nothing more can reach it.
          self->pending_.clear();
          if (!self->closing_) {
            self->owner_->OnLinkEnd(*self, error);
          } else {
            self->FinishClose();
          }
          return;
        }
        self->StartWrite();
        if (self->blocked_ && !self->closing_ && self->unsent_bytes() <= self->send_limit_) {
          self->blocked_ = false;
          self->owner_->OnLinkBlocked(*self, false);
        }
      });
}

void ClientLink::CloseAfterWrites(int linger_ms) {
  if (closing_) return;
  closing_ = true;
  std::error_code ignored;
  // Stop reading at once; the pending read (if any) completes with an error.
  socket_.shutdown(asio::ip::tcp::socket::shutdown_receive, ignored);
  if (!writing_ && pending_.empty()) {
    FinishClose();
    return;
  }
  linger_.expires_after(std::chrono::milliseconds(linger_ms));
  linger_.async_wait([self = shared_from_this()](const std::error_code& error) {
    if (!error) self->FinishClose();
  });
}

void ClientLink::CloseNow() {
  closing_ = true;
  pending_.clear();
  FinishClose();
}

void ClientLink::FinishClose() {
  if (closed_) return;
  closed_ = true;
  closing_ = true;
  linger_.cancel();
  std::error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  owner_->OnLinkClosed(*this);
}

}  // namespace ensemble::gateway

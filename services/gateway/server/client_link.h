#pragma once

// The socket side of one client connection: moves bytes between a TCP socket and
// the connection's state machine, and nothing else. Runs on the gateway's io
// thread only.

#include <array>
#include <memory>
#include <string>
#include <string_view>

#include "asio.hpp"
#include "services/gateway/session/connection.h"

namespace ensemble::gateway {

class ClientLink;

// Receives what happens on a link (the gateway server).
class LinkOwner {
 public:
  virtual ~LinkOwner() = default;
  // Bytes arrived; the owner feeds them to the connection and acts on its effects.
  virtual void OnLinkRead(ClientLink& link, std::string_view bytes) = 0;
  // The client closed its side, or the socket failed.
  virtual void OnLinkEnd(ClientLink& link, const std::error_code& error) = 0;
  // The socket is closed; the owner forgets the link.
  virtual void OnLinkClosed(ClientLink& link) = 0;
  // The bytes queued for the client went over the link's send limit (blocked)
  // or back under it. Called from inside Write (blocked) or a completed write
  // (unblocked).
  virtual void OnLinkBlocked(ClientLink& link, bool blocked) = 0;
  // True while the owner reads from no client socket (global throttling).
  virtual bool ReadsPaused() const = 0;
};

class ClientLink : public std::enable_shared_from_this<ClientLink> {
 public:
  // `send_limit`: bytes queued for the client beyond which the link counts as
  // blocked (LinkOwner::OnLinkBlocked) and reads nothing; 0: no limit.
  ClientLink(LinkOwner* owner, asio::ip::tcp::socket socket, std::unique_ptr<Connection> conn,
             size_t send_limit = 0);

  ClientLink(const ClientLink&) = delete;
  ClientLink& operator=(const ClientLink&) = delete;

  Connection& connection() { return *conn_; }
  const Connection& connection() const { return *conn_; }
  uint64_t id() const { return conn_->id(); }

  // Starts a read unless one is pending, the link is closing or blocked, the
  // owner pauses reads, or the connection does not want more input now.
  void MaybeRead();
  // Queues bytes for the client.
  void Write(std::string bytes);
  // Closes once the queued bytes are written (at most `linger_ms` later).
  void CloseAfterWrites(int linger_ms = 2000);
  // Closes at once, dropping what is queued.
  void CloseNow();
  bool closing() const { return closing_; }
  // Bytes queued for the client: not yet written, or being written.
  size_t unsent_bytes() const { return pending_.size() + writing_bytes_.size(); }
  bool blocked() const { return blocked_; }

  // Owner's bookkeeping (io thread).
  int64_t blocked_since_ms = 0;     // when it last became blocked
  int64_t counted_outstanding = 0;  // its requests in the owner's global count
  bool at_outstanding_cap = false;  // it had max_outstanding requests last time

  // Frames the connection has produced so far (the owner counts them; the first
  // one is the handshake's ConnectResponse).
  int64_t frames_sent() const { return frames_sent_; }
  void AddFramesSent(int64_t n) { frames_sent_ += n; }

 private:
  void StartWrite();
  void FinishClose();

  LinkOwner* const owner_;
  asio::ip::tcp::socket socket_;
  std::unique_ptr<Connection> conn_;
  asio::steady_timer linger_;
  const size_t send_limit_;
  std::array<char, 64 * 1024> buffer_;
  bool reading_ = false;
  bool writing_ = false;
  bool closing_ = false;
  bool closed_ = false;
  bool blocked_ = false;
  int64_t frames_sent_ = 0;
  std::string pending_;        // queued, not being written
  std::string writing_bytes_;  // being written
};

}  // namespace ensemble::gateway

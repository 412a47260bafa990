#pragma once

// One ZooKeeper client session over TCP, driven by an EventLoop: the handshake,
// pipelined requests (any number outstanding, replies matched in order as
// ZooKeeper sends them), watch notifications, pings when idle, closeSession.
// No reconnection: a lost connection ends the session and reports what was
// outstanding, so the caller counts it.

#include <netinet/in.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "bench/loadgen/event_loop.h"
#include "common/jute/frame.h"
#include "common/jute/request.h"

namespace ensemble::bench {

// A server address: IPv4 literal or "localhost", and a port.
struct Endpoint {
  sockaddr_in address{};
  std::string label;  // "127.0.0.1:2181"
};

// Parses "host:port".
absl::StatusOr<Endpoint> ParseEndpoint(std::string_view text);
// Parses "host:port,host:port,...".
absl::StatusOr<std::vector<Endpoint>> ParseEndpoints(std::string_view text);

class ZkConnection : public EventLoop::Handler {
 public:
  enum class State { kIdle, kConnecting, kConnected, kClosing, kClosed };

  // A request on the wire, waiting for its reply.
  struct Sent {
    int32_t xid = 0;
    jute::OpCode op = jute::OpCode::kPing;
    uint64_t tag = 0;     // the caller's
    int64_t sent_ns = 0;  // NowNs() when queued
  };

  class Listener {
   public:
    virtual ~Listener() = default;
    // The handshake finished: session_id() is valid and requests may be sent.
    virtual void OnConnected(ZkConnection& c, int64_t now_ns) = 0;
    // A reply to a request sent with Send() or SendClose(). `payload` is the frame
    // (ReplyHeader first), valid during the call only.
    virtual void OnReply(ZkConnection& c, const Sent& sent, const jute::ReplyHeader& header,
                         std::string_view payload, int64_t now_ns) = 0;
    virtual void OnNotification(ZkConnection& c, const jute::WatcherEvent& event, int64_t now_ns) {}
    // The connection ended and its fd is closed. OK after the reply to
    // closeSession; otherwise why (refused, reset, expired, bad frame). `lost`
    // holds requests that will get no reply. The listener may Start() again.
    virtual void OnClosed(ZkConnection& c, const absl::Status& status, std::vector<Sent> lost,
                          int64_t now_ns) = 0;
  };

  struct Config {
    int32_t session_timeout_ms = 30000;
  };

  ZkConnection(EventLoop* loop, Listener* listener, Endpoint server, Config config);
  ~ZkConnection() override;
  ZkConnection(const ZkConnection&) = delete;
  ZkConnection& operator=(const ZkConnection&) = delete;

  // Opens the socket and starts the handshake (kIdle or kClosed -> kConnecting).
  // Errors here are synchronous (no OnClosed); later ones come through OnClosed.
  absl::Status Start();

  // Queues a request; REQUIRES state kConnected. Returns its xid.
  int32_t Send(jute::OpCode op, const jute::RequestBody& body, uint64_t tag);
  // Queues closeSession (state -> kClosing); its reply comes through OnReply,
  // then OnClosed(OK).
  void SendClose(uint64_t tag);
  // Closes the socket at once, without callbacks (-> kClosed).
  void Abort();
  // Sends a ping if nothing was sent for a third of the session timeout.
  void Tick(int64_t now_ns);

  State state() const { return state_; }
  size_t outstanding() const { return sent_.size(); }
  int64_t session_id() const { return session_id_; }
  int64_t connect_started_ns() const { return connect_started_ns_; }
  const Endpoint& server() const { return server_; }

  void OnEvents(uint32_t events) override;
  void OnFlush() override;

 private:
  void QueueFlush();
  void Fail(absl::Status status, int64_t now_ns);
  void CloseSocket();
  void HandleFrame(std::string_view payload, int64_t now_ns);
  bool WriteOut();  // false if the connection failed
  void UpdateInterest();

  EventLoop* loop_;
  Listener* listener_;
  Endpoint server_;
  Config config_;
  State state_ = State::kIdle;
  int fd_ = -1;
  EventLoop::Token token_ = 0;
  bool want_write_ = false;  // EPOLLOUT registered
  bool flush_queued_ = false;
  bool tcp_connected_ = false;
  int64_t session_id_ = 0;
  int32_t next_xid_ = 1;
  int64_t last_send_ns_ = 0;
  int64_t connect_started_ns_ = 0;
  std::string out_;
  size_t out_offset_ = 0;
  std::unique_ptr<jute::FrameDecoder> decoder_;
  uint64_t epoch_ = 0;  // bumped whenever the socket closes
  std::deque<Sent> sent_;
};

}  // namespace ensemble::bench

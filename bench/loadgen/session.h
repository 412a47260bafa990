#pragma once

// Helpers the modes share: a Session (a ZkConnection with callbacks), a Runner
// that drives the loop until a condition or a deadline, connecting many sessions
// with a bound on handshakes in flight, and pipelined batches of requests.

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "bench/loadgen/event_loop.h"
#include "bench/loadgen/report.h"
#include "bench/loadgen/zk_connection.h"
#include "common/jute/request.h"

namespace ensemble::bench {

// A reply, or a request lost with its connection (header.err ConnectionLoss,
// empty payload).
struct Reply {
  const ZkConnection::Sent& sent;
  const jute::ReplyHeader& header;
  std::string_view payload;
  int64_t now_ns;
  jute::ZkError error() const { return header.error(); }
};

class Session : public ZkConnection::Listener {
 public:
  using ReplyFn = std::function<void(const Reply&)>;

  Session(EventLoop* loop, Endpoint server, ZkConnection::Config config);

  // Sends a request; `fn` (or on_reply when fn is empty) gets its reply.
  // REQUIRES: connected().
  void Call(jute::OpCode op, const jute::RequestBody& body, uint64_t tag = 0, ReplyFn fn = {});
  // closeSession; closed() turns true after its reply or a failure.
  void Close(ReplyFn fn = {});
  // Drops the connection at once; pending callbacks are discarded uncalled.
  void Abort();

  ZkConnection& connection() { return connection_; }
  bool connected() const { return connection_.state() == ZkConnection::State::kConnected; }
  bool closed() const { return connection_.state() == ZkConnection::State::kClosed; }
  // Why the connection ended (OK after closeSession).
  const absl::Status& close_status() const { return close_status_; }
  int64_t connected_ns() const { return connected_ns_; }

  // Optional hooks.
  ReplyFn on_reply;
  std::function<void(const jute::WatcherEvent&, int64_t now_ns)> on_notification;
  std::function<void(int64_t now_ns)> on_connected;
  std::function<void(const absl::Status&, int64_t now_ns)> on_closed;

  void OnConnected(ZkConnection& c, int64_t now_ns) override;
  void OnReply(ZkConnection& c, const ZkConnection::Sent& sent, const jute::ReplyHeader& header,
               std::string_view payload, int64_t now_ns) override;
  void OnNotification(ZkConnection& c, const jute::WatcherEvent& event, int64_t now_ns) override;
  void OnClosed(ZkConnection& c, const absl::Status& status, std::vector<ZkConnection::Sent> lost,
                int64_t now_ns) override;

 private:
  void Dispatch(const Reply& reply);

  ZkConnection connection_;
  std::deque<ReplyFn> callbacks_;  // one per outstanding request, in order
  absl::Status close_status_;
  int64_t connected_ns_ = 0;
};

class Runner {
 public:
  explicit Runner(std::unique_ptr<EventLoop> loop) : loop_(std::move(loop)) {}
  EventLoop* loop() { return loop_.get(); }

  // Sessions whose Tick (pings) the runner calls while running.
  void Track(Session* s) { tracked_.push_back(s); }
  void Untrack(Session* s);

  // Runs the loop until done() holds (checked after every round) or the
  // deadline (NowNs() clock) passes. True if done() held.
  // max_wait_ms bounds each wait for events (how often done() is polled).
  bool RunUntil(const std::function<bool()>& done, int64_t deadline_ns, int max_wait_ms = 50);

  // Starts the sessions with at most `concurrency` handshakes in flight and runs
  // until each is connected or failed, or the deadline. A session that failed or
  // did not connect in time is counted in `errors` (op "connect") and left closed.
  // Returns how many connected.
  size_t ConnectAll(const std::vector<Session*>& sessions, int concurrency, int64_t deadline_ns,
                    ErrorCounts* errors);

 private:
  std::unique_ptr<EventLoop> loop_;
  std::vector<Session*> tracked_;
  int64_t last_tick_ns_ = 0;
};

// A request made for position i of a batch.
using RequestMaker = std::function<std::pair<jute::OpCode, jute::RequestBody>(size_t i)>;

// Sends n requests, request i on sessions[i % size], with at most `window`
// outstanding per session, and runs until all replied or the deadline. A reply
// whose code is not OK and not in `accepted` is counted in `errors` under the
// op's name; unanswered requests at the deadline are counted as a note. Sessions
// must be connected. Returns how many replies were OK or accepted.
size_t RunBatch(Runner& runner, const std::vector<Session*>& sessions, size_t n,
                const RequestMaker& make, int window, const std::vector<jute::ZkError>& accepted,
                int64_t deadline_ns, ErrorCounts* errors);

// Sends closeSession on every connected session and runs until all closed or the
// deadline; failures are counted in `errors` under "closeSession".
void CloseAll(Runner& runner, const std::vector<Session*>& sessions, int64_t deadline_ns,
              ErrorCounts* errors);

// world:anyone with every permission (ZooDefs.Ids.OPEN_ACL_UNSAFE).
std::vector<jute::Acl> OpenAcl();

// Counts a reply's error: the header's code, or for a multi with header OK the
// first failed op's code inside the MultiResponse. Returns the code (kOk if none).
jute::ZkError ReplyError(const Reply& reply);

// Creates `root` (and its parents; existing ones are fine) and a fresh folder
// for this run below it, "<root>/r<hex>", on `session`. Returns the folder, or
// "" after counting the errors.
std::string CreateRunDir(Runner& runner, Session& session, const std::string& root, uint64_t salt,
                         int64_t deadline_ns, ErrorCounts* errors);

inline int64_t SecondsToNs(double s) { return static_cast<int64_t>(s * 1e9); }

}  // namespace ensemble::bench

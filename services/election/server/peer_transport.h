#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "common/base/rng.h"
#include "common/runtime/streams.h"
#include "ensemble/election.grpc.pb.h"
#include "services/election/core/vote.h"

namespace ensemble::election {

using NotifyClientStream = runtime::ClientStream<ensemble::election::v1::Notifications,
                                                 ensemble::election::v1::Notifications>;

struct TransportOptions {
  int64_t sid = 0;                       // this peer, the sender of every batch
  std::map<int64_t, std::string> peers;  // sid -> election address, every other server
  size_t queue_limit = 64;               // notifications waiting per peer; the oldest go first
  size_t max_batches_in_flight = 4;      // per stream, before notifications wait in the queue
  int64_t heartbeat_ms = 500;            // a batch (maybe empty) at least this often
  int64_t reconnect_min_ms = 100;        // back-off between stream attempts
  int64_t reconnect_max_ms = 1000;
  // A stream whose writes have not drained for this long is cancelled and
  // reopened (a silently dead connection: no keepalive pings on these
  // streams, because the receiving server never writes and would count them
  // as abuse).
  int64_t stall_ms = 4000;
  uint64_t seed = 1;  // reconnect jitter
};

// The outgoing half of the election's network: one Election.Notify stream to
// every other server, opened at start and reopened with back-off when it ends.
// Each batch carries the notifications queued for that peer plus this peer's
// status (its current vote and state), and doubles as a heartbeat.
// Notifications wait in a bounded per-peer queue while the stream is down or
// busy; on a new stream the last notification sent to that peer is sent
// again when nothing newer is queued (as ZooKeeper's SendWorker does), since a
// notification lost with the old stream would otherwise never be repeated by
// a decided peer.
// Thread-compatible: owned by the driver thread. Stream callbacks only touch
// the streams' own thread-safe state.
class PeerTransport {
 public:
  explicit PeerTransport(TransportOptions options);
  ~PeerTransport();

  // Queues `n` for `to`. Unknown peers are ignored (counted as dropped).
  void Send(int64_t to, const Notification& n);

  // Sends what is queued, heartbeats that are due (carrying `status`), and
  // reopens streams whose back-off has passed. Call often (every tick).
  void Flush(int64_t now_ms, const Notification& status);

  // `sid` was just heard from (its stream to us delivered a batch): if our
  // stream to it is down, reopen it at the next Flush instead of waiting out
  // the back-off, so a restarted peer gets answers at once.
  void PeerAlive(int64_t sid);

  // Cancels every stream.
  void Stop();

  struct Stats {
    int64_t sent = 0;     // notifications handed to a stream
    int64_t dropped = 0;  // notifications dropped (queue full, unknown peer)
    int64_t stalls = 0;   // streams cancelled because their writes stalled
    int64_t batches = 0;  // batches written, heartbeats included
    int connected = 0;    // streams currently open
  };
  Stats stats() const { return stats_; }
  bool connected(int64_t sid) const;

 private:
  struct Link {
    std::string address;
    // A fresh channel for every stream attempt, with its own subchannel, so
    // that gRPC's reconnect back-off never adds to ours.
    std::unique_ptr<ensemble::election::v1::Election::Stub> stub;
    std::shared_ptr<NotifyClientStream> stream;
    int64_t opened_ms = 0;
    int64_t next_open_ms = 0;
    int64_t backoff_ms = 0;
    int64_t last_batch_ms = 0;
    int64_t busy_since_ms = -1;  // writes pending since; -1: drained
    std::deque<Notification> queue;
    std::optional<Notification> last_sent;
    bool resend_last = false;  // a new stream: repeat last_sent unless newer is queued
    bool reopen_now = false;   // PeerAlive: skip the back-off once
  };

  void Open(int64_t sid, Link& link, int64_t now_ms);
  void Flush(int64_t sid, Link& link, int64_t now_ms, const Notification& status);

  const TransportOptions options_;
  Rng rng_;
  std::map<int64_t, Link> links_;
  Stats stats_;
};

}  // namespace ensemble::election

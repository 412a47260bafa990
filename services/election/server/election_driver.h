#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "common/config/zoo_cfg.h"
#include "ensemble/election.grpc.pb.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "prometheus/summary.h"
#include "services/election/core/fast_leader_election.h"
#include "services/election/server/peer_transport.h"

namespace ensemble::election {

// Reads this peer's last zxid and current epoch (from its storage service).
// Calls `done` exactly once, on any thread.
using LocalStateFetcher = std::function<void(std::function<void(absl::StatusOr<LocalState>)> done)>;

// A fetcher that asks the Storage service at `address` (unix:<dataDir>/storage.sock)
// with Storage.GetState, within `deadline_ms`.
LocalStateFetcher StorageStateFetcher(int64_t sid, const std::string& address,
                                      int64_t deadline_ms = 2000);

struct DriverOptions {
  int64_t sid = 0;
  std::shared_ptr<const QuorumVerifier> quorum;
  std::map<int64_t, std::string> peers;  // sid -> election address, every other server
  int64_t tick_ms = 50;                  // the core's tick
  int64_t finalize_wait_ms = 200;        // fastleader.minNotificationInterval
  int64_t min_notification_interval_ms = 200;
  int64_t max_notification_interval_ms = 60000;
  int64_t leader_timeout_ms = 10000;  // syncLimit * tickTime; 0 turns the failure detector off
  int64_t heartbeat_ms = 1000;
  int64_t local_state_retry_ms = 200;  // after a failed fetch
  size_t inbox_limit = 10000;          // events waiting for the driver; more are dropped
  uint64_t seed = 1;
};

// The options a process derives from its zoo.cfg (see election.proto and
// docs/architecture.md for the timing). REQUIRES: config.IsDistributed() and
// config.Self() != nullptr.
DriverOptions DriverOptionsFromConfig(const config::Config& config);

// What the driver publishes after every step, for GetLeader, admin status and
// health.
struct ElectionView {
  bool started = false;  // took part at least once (local state was read)
  PeerState state = PeerState::kLooking;
  std::optional<Decision> decision;  // set when decided
  int64_t logical_clock = 0;
  LocalState local;  // as read for the current round
  int64_t rounds = 0;
  int64_t last_election_ms = 0;  // duration of the last election, Start to decision
  int peers_connected = 0;
};

// Owns the election core on one thread: feeds it notifications from the
// Notify streams, ticks it, sends its notifications through the
// PeerTransport, reads the local state from storage before every round, and
// answers GetLeader/Reelect.
// Thread-safety: the On*/Request* methods and view() may be called from any
// thread (gRPC's); they only enqueue or copy. Everything else runs on the
// driver thread.
class ElectionDriver {
 public:
  ElectionDriver(DriverOptions options, LocalStateFetcher fetch_local_state,
                 prometheus::Registry& registry);
  ~ElectionDriver();

  void Start();
  void Stop();

  // A batch received on a Notify stream, already validated by the service.
  void OnBatch(int64_t from, std::vector<Notification> notifications,
               std::optional<Notification> status);

  // Every Notify stream from `sid` has ended.
  void OnPeerDisconnected(int64_t sid);

  // Answers `request` through `done` (on the driver thread or at once): at
  // once if request.wait_ms == 0 or the answer already differs from what the
  // caller knows, else when it changes or wait_ms passes.
  void RequestLeader(const ensemble::election::v1::LeaderRequest& request,
                     std::function<void(const ensemble::election::v1::LeaderResponse&)> done);

  // Reelect: start looking again (see election.proto for the guard).
  void RequestReelect(const ensemble::election::v1::ReelectRequest& request,
                      std::function<void(const ensemble::election::v1::ReelectResponse&)> done);

  ElectionView view() const;
  int64_t sid() const { return options_.sid; }

  // The answer GetLeader gives for `view`.
  static ensemble::election::v1::LeaderResponse ToLeaderResponse(int64_t sid,
                                                                 const ElectionView& view);

 private:
  struct BatchEvent {
    int64_t from;
    std::vector<Notification> notifications;
    std::optional<Notification> status;
  };
  struct LocalStateEvent {
    absl::StatusOr<LocalState> state;
  };
  struct ReelectEvent {
    ensemble::election::v1::ReelectRequest request;
    std::function<void(const ensemble::election::v1::ReelectResponse&)> done;
  };
  struct DisconnectEvent {
    int64_t sid;
  };
  using Event = std::variant<BatchEvent, LocalStateEvent, ReelectEvent, DisconnectEvent>;

  struct Waiter {
    ensemble::election::v1::LeaderRequest request;
    int64_t deadline_ms;
    std::function<void(const ensemble::election::v1::LeaderResponse&)> done;
  };

  void Enqueue(Event event);
  void Run();
  void Handle(BatchEvent& e);
  void Handle(LocalStateEvent& e);
  void Handle(ReelectEvent& e);
  void Handle(DisconnectEvent& e);
  void ProcessOutput();
  void NeedLocalState();
  void Publish();
  void AnswerWaiters(bool all);
  static bool Differs(const ensemble::election::v1::LeaderRequest& known,
                      const ensemble::election::v1::LeaderResponse& now);
  int64_t NowMs() const;

  // The driver's inbox. Shared with callbacks (storage answers) that may run
  // after the driver is gone; they then enqueue into a stopped mailbox.
  struct Mailbox {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<Event> events;  // GUARDED_BY(mu)
    bool stopping = false;     // GUARDED_BY(mu)
    int64_t dropped = 0;       // GUARDED_BY(mu): batches over inbox_limit
    size_t limit = 0;
    // False once stopping; Batch events beyond `limit` are dropped.
    bool Put(Event event);
  };

  const DriverOptions options_;
  const LocalStateFetcher fetch_local_state_;
  const std::shared_ptr<Mailbox> mailbox_;
  std::thread thread_;

  mutable std::mutex view_mu_;
  ElectionView view_;            // GUARDED_BY(view_mu_)
  std::vector<Waiter> waiters_;  // GUARDED_BY(view_mu_)
  bool answering_ = true;        // GUARDED_BY(view_mu_): false once stopped

  // Driver-thread state.
  FastLeaderElection core_;
  PeerTransport transport_;
  bool need_local_state_ = true;
  bool fetch_in_flight_ = false;
  int64_t next_fetch_ms_ = 0;
  int64_t round_started_ms_ = 0;
  int64_t last_fetch_error_log_ms_ = -1000000;
  int64_t rounds_ = 0;
  int64_t last_election_ms_ = 0;
  LocalState local_;
  bool ever_started_ = false;
  PeerTransport::Stats reported_stats_;

  prometheus::Counter* rounds_total_;
  prometheus::Counter* looking_count_;  // ZooKeeper's looking_count
  prometheus::Histogram* duration_seconds_;
  prometheus::Summary* election_time_;  // ZooKeeper's election_time (ms)
  prometheus::Gauge* state_gauge_;
  prometheus::Gauge* leader_gauge_;
  prometheus::Gauge* logical_clock_gauge_;
  prometheus::Gauge* peers_connected_gauge_;
  prometheus::Counter* sent_total_;
  prometheus::Counter* received_total_;
  prometheus::Counter* dropped_total_;
  prometheus::Counter* gave_up_total_;
};

}  // namespace ensemble::election

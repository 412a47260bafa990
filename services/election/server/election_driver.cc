#include "services/election/server/election_driver.h"

#include <algorithm>
#include <chrono>

#include "common/base/check.h"
#include "common/base/zxid.h"
#include "common/runtime/log.h"
#include "ensemble/storage.grpc.pb.h"
#include "services/election/server/config_quorum.h"

namespace ensemble::election {

using ensemble::election::v1::LeaderRequest;
using ensemble::election::v1::LeaderResponse;
using ensemble::election::v1::ReelectRequest;
using ensemble::election::v1::ReelectResponse;

namespace {

int64_t CeilDiv(int64_t a, int64_t b) { return std::max<int64_t>(1, (a + b - 1) / b); }

ElectionOptions CoreOptions(const DriverOptions& o) {
  ElectionOptions c;
  c.sid = o.sid;
  c.quorum = o.quorum;
  c.finalize_wait_ticks = CeilDiv(o.finalize_wait_ms, o.tick_ms);
  c.min_notification_interval_ticks = CeilDiv(o.min_notification_interval_ms, o.tick_ms);
  c.max_notification_interval_ticks = std::max(c.min_notification_interval_ticks,
                                               CeilDiv(o.max_notification_interval_ms, o.tick_ms));
  c.leader_timeout_ticks = o.leader_timeout_ms == 0 ? 0 : CeilDiv(o.leader_timeout_ms, o.tick_ms);
  c.seed = o.seed;
  return c;
}

TransportOptions TransportFor(const DriverOptions& o) {
  TransportOptions t;
  t.sid = o.sid;
  t.peers = o.peers;
  t.heartbeat_ms = o.heartbeat_ms;
  t.stall_ms = std::max<int64_t>(4000, 4 * o.heartbeat_ms);
  t.seed = o.seed ^ 0x5eed;
  return t;
}

}  // namespace

LocalStateFetcher StorageStateFetcher(int64_t sid, const std::string& address,
                                      int64_t deadline_ms) {
  auto stub =
      std::shared_ptr<ensemble::storage::v1::Storage::Stub>(ensemble::storage::v1::Storage::NewStub(
          grpc::CreateChannel(address, grpc::InsecureChannelCredentials())));
  return [stub, sid, address, deadline_ms](std::function<void(absl::StatusOr<LocalState>)> done) {
    struct Call {
      grpc::ClientContext context;
      ensemble::storage::v1::GetStateRequest request;
      ensemble::storage::v1::StorageState response;
    };
    auto call = std::make_shared<Call>();
    call->context.set_deadline(std::chrono::system_clock::now() +
                               std::chrono::milliseconds(deadline_ms));
    stub->async()->GetState(
        &call->context, &call->request, &call->response,
        [call, stub, sid, address, done = std::move(done)](grpc::Status status) {
          if (!status.ok()) {
            done(absl::UnavailableError(
                absl::StrCat("storage ", address, ": ", status.error_message())));
            return;
          }
          done(LocalState{sid, call->response.last_logged_zxid(), call->response.current_epoch()});
        });
  };
}

DriverOptions DriverOptionsFromConfig(const config::Config& config) {
  ENSEMBLE_CHECK(config.Self() != nullptr);
  DriverOptions o;
  o.sid = config.my_id;
  o.quorum = std::make_shared<ConfigQuorum>(config);
  for (const config::ServerSpec& s : config.servers) {
    if (s.sid == config.my_id) continue;
    // IPv6 literals are written without brackets in server lines.
    const bool v6 = s.host.find(':') != std::string::npos;
    o.peers[s.sid] = (v6 ? "[" + s.host + "]" : s.host) + ":" + std::to_string(s.election_port);
  }
  const int64_t min_ms = config.fle_min_notification_interval_ms;
  o.tick_ms = std::clamp<int64_t>(min_ms / 4, 10, 50);
  o.finalize_wait_ms = min_ms;
  o.min_notification_interval_ms = min_ms;
  o.max_notification_interval_ms =
      std::max<int64_t>(min_ms, config.fle_max_notification_interval_ms);
  o.leader_timeout_ms = static_cast<int64_t>(config.sync_limit) * config.TickMs();
  o.heartbeat_ms = std::clamp<int64_t>(config.TickMs() / 2, 50, 1000);
  o.seed = static_cast<uint64_t>(config.my_id) * 0x9e3779b97f4a7c15ULL ^
           static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  return o;
}

ElectionDriver::ElectionDriver(DriverOptions options, LocalStateFetcher fetch_local_state,
                               prometheus::Registry& registry)
    : options_(std::move(options)),
      fetch_local_state_(std::move(fetch_local_state)),
      mailbox_(std::make_shared<Mailbox>()),
      core_(CoreOptions(options_)),
      transport_(TransportFor(options_)) {
  rounds_total_ = &prometheus::BuildCounter()
                       .Name("ensemble_election_rounds_total")
                       .Help("Elections this peer started (lookForLeader calls).")
                       .Register(registry)
                       .Add({});
  // ZooKeeper's QuorumPeer counts each time it enters LOOKING: here, each
  // election this peer starts (the same figure as rounds_total).
  looking_count_ = &prometheus::BuildCounter()
                        .Name("looking_count")
                        .Help("ZooKeeper's looking_count: times this peer went LOOKING.")
                        .Register(registry)
                        .Add({});
  duration_seconds_ = &prometheus::BuildHistogram()
                           .Name("ensemble_election_duration_seconds")
                           .Help("Time from the start of an election to this peer's decision.")
                           .Register(registry)
                           .Add({}, prometheus::Histogram::BucketBoundaries{
                                        0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 2, 5, 10, 30, 60});
  election_time_ = &prometheus::BuildSummary()
                        .Name("election_time")
                        .Help("ZooKeeper's election_time: ms from looking to a decision.")
                        .Register(registry)
                        .Add({}, prometheus::Summary::Quantiles{{0.5, 0.05}});
  state_gauge_ = &prometheus::BuildGauge()
                      .Name("ensemble_election_state")
                      .Help("This peer's state: 1 looking, 2 following, 3 leading, 4 observing.")
                      .Register(registry)
                      .Add({});
  leader_gauge_ = &prometheus::BuildGauge()
                       .Name("ensemble_election_leader")
                       .Help("The sid of the leader this peer decided on; 0 while looking.")
                       .Register(registry)
                       .Add({});
  logical_clock_gauge_ = &prometheus::BuildGauge()
                              .Name("ensemble_election_logical_clock")
                              .Help("This peer's election epoch (logical clock).")
                              .Register(registry)
                              .Add({});
  peers_connected_gauge_ = &prometheus::BuildGauge()
                                .Name("ensemble_election_peers_connected")
                                .Help("Notify streams open to other servers.")
                                .Register(registry)
                                .Add({});
  auto& notifications = prometheus::BuildCounter()
                            .Name("ensemble_election_notifications_total")
                            .Help("Election notifications by direction.")
                            .Register(registry);
  sent_total_ = &notifications.Add({{"direction", "sent"}});
  received_total_ = &notifications.Add({{"direction", "received"}});
  dropped_total_ = &notifications.Add({{"direction", "dropped"}});
  gave_up_total_ = &prometheus::BuildCounter()
                        .Name("ensemble_election_decisions_given_up_total")
                        .Help("Decisions given up (failure detector or Reelect).")
                        .Register(registry)
                        .Add({});
  state_gauge_->Set(static_cast<double>(PeerState::kLooking));
  mailbox_->limit = options_.inbox_limit;
}

ElectionDriver::~ElectionDriver() { Stop(); }

void ElectionDriver::Start() {
  thread_ = std::thread([this] { Run(); });
}

void ElectionDriver::Stop() {
  {
    std::lock_guard<std::mutex> lock(mailbox_->mu);
    mailbox_->stopping = true;
  }
  mailbox_->cv.notify_all();
  if (thread_.joinable()) thread_.join();
  transport_.Stop();
  {
    std::lock_guard<std::mutex> lock(view_mu_);
    answering_ = false;
  }
  AnswerWaiters(/*all=*/true);
}

int64_t ElectionDriver::NowMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool ElectionDriver::Mailbox::Put(Event event) {
  {
    std::lock_guard<std::mutex> lock(mu);
    if (stopping) return false;
    if (events.size() >= limit && std::holds_alternative<BatchEvent>(event)) {
      ++dropped;
      return true;
    }
    events.push_back(std::move(event));
  }
  cv.notify_one();
  return true;
}

void ElectionDriver::Enqueue(Event event) { mailbox_->Put(std::move(event)); }

void ElectionDriver::OnBatch(int64_t from, std::vector<Notification> notifications,
                             std::optional<Notification> status) {
  Enqueue(BatchEvent{from, std::move(notifications), std::move(status)});
}

void ElectionDriver::OnPeerDisconnected(int64_t sid) { Enqueue(DisconnectEvent{sid}); }

void ElectionDriver::RequestReelect(const ReelectRequest& request,
                                    std::function<void(const ReelectResponse&)> done) {
  // Keep a copy: if the driver has stopped, the event is refused and we
  // answer here.
  auto answer = std::make_shared<std::function<void(const ReelectResponse&)>>(std::move(done));
  if (mailbox_->Put(ReelectEvent{request, [answer](const ReelectResponse& r) { (*answer)(r); }})) {
    return;
  }
  ReelectResponse r;
  *r.mutable_current() = ToLeaderResponse(options_.sid, view());
  (*answer)(r);
}

bool ElectionDriver::Differs(const LeaderRequest& known, const LeaderResponse& now) {
  return known.known_state() != now.state() || known.known_leader() != now.leader() ||
         known.known_election_epoch() != now.election_epoch() ||
         (known.known_round() != 0 && known.known_round() != now.round());
}

void ElectionDriver::RequestLeader(const LeaderRequest& request,
                                   std::function<void(const LeaderResponse&)> done) {
  LeaderResponse now;
  {
    std::lock_guard<std::mutex> lock(view_mu_);
    now = ToLeaderResponse(options_.sid, view_);
    if (request.wait_ms() > 0 && answering_ && !Differs(request, now)) {
      const int64_t wait = std::min<int64_t>(request.wait_ms(), 60000);
      waiters_.push_back({request, NowMs() + wait, std::move(done)});
      return;
    }
  }
  done(now);
}

ElectionView ElectionDriver::view() const {
  std::lock_guard<std::mutex> lock(view_mu_);
  return view_;
}

LeaderResponse ElectionDriver::ToLeaderResponse(int64_t sid, const ElectionView& view) {
  LeaderResponse r;
  r.set_state(ToProto(view.state));
  if (view.decision) {
    r.set_leader(view.decision->leader);
    r.set_epoch(view.decision->peer_epoch);
    r.set_election_epoch(view.decision->election_epoch);
    r.set_leader_zxid(view.decision->zxid);
  }
  r.set_round(view.rounds);
  r.mutable_header()->set_server_id(sid);
  r.mutable_header()->set_epoch(view.local.current_epoch);
  r.mutable_header()->set_last_zxid(view.local.last_zxid);
  return r;
}

void ElectionDriver::Run() {
  const int64_t tick = options_.tick_ms;
  int64_t next_tick_ms = NowMs() + tick;
  while (true) {
    std::deque<Event> events;
    {
      Mailbox& m = *mailbox_;
      std::unique_lock<std::mutex> lock(m.mu);
      const int64_t wait = std::max<int64_t>(0, next_tick_ms - NowMs());
      m.cv.wait_for(lock, std::chrono::milliseconds(wait),
                    [&] { return m.stopping || !m.events.empty(); });
      if (m.stopping) return;
      events.swap(m.events);
    }
    for (Event& event : events) {
      std::visit([this](auto& e) { Handle(e); }, event);
    }
    const int64_t now = NowMs();
    if (now >= next_tick_ms) {
      // Catch up on missed ticks, but never by more than a second's worth:
      // after a long stall (a suspended process) time simply jumps.
      const int64_t behind = std::min<int64_t>((now - next_tick_ms) / tick + 1, 1000 / tick + 1);
      for (int64_t i = 0; i < behind; ++i) {
        core_.Tick();
        ProcessOutput();
      }
      next_tick_ms = std::max(next_tick_ms + behind * tick, now - tick + 1);
    }
    if (need_local_state_ && !fetch_in_flight_ && now >= next_fetch_ms_) {
      fetch_in_flight_ = true;
      fetch_local_state_([mailbox = mailbox_](absl::StatusOr<LocalState> state) {
        mailbox->Put(LocalStateEvent{std::move(state)});
      });
    }
    transport_.Flush(now, core_.Status());
    Publish();
  }
}

void ElectionDriver::Handle(BatchEvent& e) {
  received_total_->Increment(static_cast<double>(e.notifications.size()));
  transport_.PeerAlive(e.from);
  if (e.status) core_.PeerStatus(*e.status);
  for (const Notification& n : e.notifications) {
    core_.Step(n);
    ProcessOutput();
  }
  ProcessOutput();
}

void ElectionDriver::Handle(DisconnectEvent& e) {
  spdlog::debug("election.peer_disconnected sid={}", e.sid);
  core_.PeerDisconnected(e.sid);
  ProcessOutput();
}

void ElectionDriver::Handle(LocalStateEvent& e) {
  fetch_in_flight_ = false;
  const int64_t now = NowMs();
  if (!e.state.ok()) {
    next_fetch_ms_ = now + options_.local_state_retry_ms;
    if (now - last_fetch_error_log_ms_ >= 5000) {
      last_fetch_error_log_ms_ = now;
      spdlog::warn("election.local_state_unavailable error={} (retrying)", e.state.status());
    }
    return;
  }
  if (!need_local_state_) return;  // a stale answer
  need_local_state_ = false;
  local_ = *e.state;
  ever_started_ = true;
  ++rounds_;
  rounds_total_->Increment();
  looking_count_->Increment();
  round_started_ms_ = now;
  core_.Start(local_);
  spdlog::info("election.looking round={} last_zxid={} current_epoch={}", core_.logical_clock(),
               Zxid::Hex(local_.last_zxid), local_.current_epoch);
  ProcessOutput();
}

void ElectionDriver::Handle(ReelectEvent& e) {
  ReelectResponse response;
  const ReelectRequest& r = e.request;
  bool matches = core_.decided();
  if (matches && r.leader() != 0) {
    matches = core_.decision().leader == r.leader() &&
              (r.election_epoch() == 0 || core_.decision().election_epoch == r.election_epoch());
  }
  if (matches) {
    spdlog::info("election.reelect leader={} election_epoch={} reason={}", core_.decision().leader,
                 core_.decision().election_epoch, r.reason().empty() ? "unspecified" : r.reason());
    core_.Abandon("reelect");
    gave_up_total_->Increment();
    ProcessOutput();
    NeedLocalState();
  }
  response.set_restarted(matches);
  Publish();
  *response.mutable_current() = ToLeaderResponse(options_.sid, view());
  e.done(response);
}

void ElectionDriver::NeedLocalState() {
  need_local_state_ = true;
  next_fetch_ms_ = 0;  // at once
}

void ElectionDriver::ProcessOutput() {
  ElectionOutput out = core_.TakeOutput();
  for (const std::string& line : out.trace) spdlog::debug("election.trace {}", line);
  for (const OutgoingNotification& m : out.notifications) transport_.Send(m.to, m.notification);
  if (out.decision) {
    const Decision& d = *out.decision;
    last_election_ms_ = NowMs() - round_started_ms_;
    duration_seconds_->Observe(static_cast<double>(last_election_ms_) / 1000.0);
    election_time_->Observe(static_cast<double>(last_election_ms_));
    spdlog::info(
        "election.decided state={} leader={} election_epoch={} leader_zxid={} peer_epoch={} "
        "ms={}{}",
        PeerStateName(d.state), d.leader, d.election_epoch, Zxid::Hex(d.zxid), d.peer_epoch,
        last_election_ms_, d.joined ? " joined=true" : "");
  }
  if (out.restart_reason) {
    spdlog::info("election.decision_given_up reason={}", *out.restart_reason);
    gave_up_total_->Increment();
    NeedLocalState();
  }
}

void ElectionDriver::Publish() {
  const PeerTransport::Stats stats = transport_.stats();
  sent_total_->Increment(static_cast<double>(stats.sent - reported_stats_.sent));
  dropped_total_->Increment(static_cast<double>(stats.dropped - reported_stats_.dropped));
  reported_stats_ = stats;
  state_gauge_->Set(static_cast<double>(core_.state()));
  leader_gauge_->Set(core_.decided() ? static_cast<double>(core_.decision().leader) : 0.0);
  logical_clock_gauge_->Set(static_cast<double>(core_.logical_clock()));
  peers_connected_gauge_->Set(stats.connected);
  {
    std::lock_guard<std::mutex> lock(view_mu_);
    view_.started = ever_started_;
    view_.state = core_.state();
    view_.decision.reset();
    if (core_.decided()) view_.decision = core_.decision();
    view_.logical_clock = core_.logical_clock();
    view_.local = local_;
    view_.rounds = rounds_;
    view_.last_election_ms = last_election_ms_;
    view_.peers_connected = stats.connected;
  }
  AnswerWaiters(/*all=*/false);
}

void ElectionDriver::AnswerWaiters(bool all) {
  std::vector<std::pair<std::function<void(const LeaderResponse&)>, LeaderResponse>> ready;
  {
    std::lock_guard<std::mutex> lock(view_mu_);
    if (waiters_.empty()) return;
    const LeaderResponse now = ToLeaderResponse(options_.sid, view_);
    const int64_t now_ms = NowMs();
    auto it = waiters_.begin();
    while (it != waiters_.end()) {
      if (all || now_ms >= it->deadline_ms || Differs(it->request, now)) {
        ready.emplace_back(std::move(it->done), now);
        it = waiters_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& [done, response] : ready) done(response);
}

}  // namespace ensemble::election

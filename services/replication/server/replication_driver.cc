#include "services/replication/server/replication_driver.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <random>

#include "absl/strings/str_cat.h"
#include "common/base/zxid.h"
#include "common/runtime/log.h"

namespace ensemble::zab {

namespace rv1 = ensemble::replication::v1;
namespace sv1 = ensemble::storage::v1;

namespace {
constexpr int32_t kOpCreateSession = -10;
constexpr int32_t kOpCloseSession = -11;
constexpr int32_t kErrConnectionLoss = -4;
constexpr size_t kFillTxnsPerMessage = 1000;
constexpr int64_t kPurgeCheckMs = 5000;
constexpr int64_t kRebootDelayMs = 1000;

// Every incarnation of the process gets its own range of connection ids, so
// that a message of an earlier incarnation is never taken for a current one.
uint64_t NewConnBase() {
  std::random_device rd;
  uint64_t r = (static_cast<uint64_t>(rd()) << 32) ^ rd() ^
               static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
               (static_cast<uint64_t>(getpid()) << 40);
  return (r & ~((uint64_t{1} << 24) - 1)) | 1;
}
}  // namespace

ReplicationDriver::ReplicationDriver(ReplicationOptions options, prometheus::Registry& registry)
    : options_(std::move(options)),
      standalone_(options_.peer_addresses.empty() || options_.election_address.empty()) {
  auto counter = [&](const std::string& name, const std::string& help) {
    return &prometheus::BuildCounter().Name(name).Help(help).Register(registry).Add({});
  };
  auto gauge = [&](const std::string& name, const std::string& help) {
    return &prometheus::BuildGauge().Name(name).Help(help).Register(registry).Add({});
  };
  proposals_total_ = counter("ensemble_replication_proposals_total",
                             "Transactions this peer appended to its log (ordered as leader or "
                             "received from the leader).");
  elections_total_ =
      counter("ensemble_replication_elections_total", "Election results this peer acted on.");
  peer_messages_sent_ =
      counter("ensemble_replication_peer_messages_sent_total", "ZAB messages sent to peers.");
  peer_messages_received_ = counter("ensemble_replication_peer_messages_received_total",
                                    "ZAB messages received from peers.");
  snapshots_sent_ =
      counter("ensemble_replication_snapshots_sent_total", "SNAP synchronisations sent as leader.");
  snapshots_installed_ = counter("ensemble_replication_snapshots_installed_total",
                                 "Snapshots received from a leader and installed.");
  persist_batch_txns_ = &prometheus::BuildHistogram()
                             .Name("ensemble_replication_persist_batch_txns")
                             .Help("Transactions per append sent to storage.")
                             .Register(registry)
                             .Add({}, prometheus::Histogram::BucketBoundaries{
                                          1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024});
  sessions_gauge_ = gauge("ensemble_replication_sessions", "Sessions tracked by the leader.");
  last_zxid_gauge_ =
      gauge("ensemble_replication_last_zxid", "The last zxid this peer ordered or accepted.");
  committed_zxid_gauge_ =
      gauge("ensemble_replication_committed_zxid", "The highest zxid known committed.");
  role_gauge_ = gauge("ensemble_replication_role",
                      "ZAB role: 0 looking, 1 following, 2 leading, 3 observing.");
  learners_gauge_ =
      gauge("ensemble_replication_learners", "Learners connected to this peer as leader.");
  epoch_gauge_ = gauge("ensemble_replication_epoch", "The epoch being established or served.");
  zk_learners_ = gauge("learners", "ZooKeeper's learners: learners connected to this leader.");
  zk_synced_followers_ =
      gauge("synced_followers", "ZooKeeper's synced_followers: followers synced with this leader.");
  zk_synced_observers_ =
      gauge("synced_observers", "ZooKeeper's synced_observers: observers synced with this leader.");
  zk_synced_non_voting_followers_ =
      gauge("synced_non_voting_followers",
            "ZooKeeper's synced_non_voting_followers (always 0: no non-voting followers).");
  zk_pending_syncs_ =
      gauge("pending_syncs", "ZooKeeper's pending_syncs: sync barriers awaiting the quorum.");
  zk_leader_uptime_ =
      gauge("leader_uptime", "ZooKeeper's leader_uptime: ms since this peer was established.");
  zk_proposal_latency_ =
      &prometheus::BuildSummary()
           .Name("proposal_latency")
           .Help(
               "ZooKeeper's proposal_latency: ms from ordering a "
               "transaction to its commit, on the leader.")
           .Register(registry)
           .Add({}, prometheus::Summary::Quantiles{{0.5, 0.05}, {0.9, 0.01}, {0.99, 0.001}});
  // ZooKeeper's counters keep its names (served untyped, docs/metrics.md).
  zk_proposal_count_ = counter("proposal_count",
                               "ZooKeeper's proposal_count: proposals "
                               "ordered by this peer as leader.");
  zk_commit_count_ = counter("commit_count",
                             "ZooKeeper's commit_count: transactions this peer "
                             "committed as leader.");
  zk_snap_count_ =
      counter("snap_count", "ZooKeeper's snap_count: learners synced by SNAP by this leader.");
  zk_diff_count_ =
      counter("diff_count", "ZooKeeper's diff_count: learners synced by DIFF by this leader.");
  commit_latency_ =
      &prometheus::BuildHistogram()
           .Name("ensemble_replication_commit_latency_seconds")
           .Help("Leader: from ordering a transaction to its commit by a quorum.")
           .Register(registry)
           .Add({}, prometheus::Histogram::BucketBoundaries{0.0005, 0.001, 0.002, 0.005, 0.01, 0.02,
                                                            0.05, 0.1, 0.2, 0.5, 1, 2, 5});
  syncs_family_ = &prometheus::BuildCounter()
                       .Name("ensemble_replication_learner_syncs_total")
                       .Help("Learners synchronised by this peer as leader, by mode.")
                       .Register(registry);
  for (const char* mode : {"DIFF", "TRUNC", "SNAP"}) syncs_family_->Add({{"mode", mode}});
  lag_family_ = &prometheus::BuildGauge()
                     .Name("ensemble_replication_learner_lag_txns")
                     .Help("Leader: transactions ordered but not yet durable on each learner.")
                     .Register(registry);
}

ReplicationDriver::~ReplicationDriver() { Stop(); }

void ReplicationDriver::Start() {
  if (!standalone_) {
    election_ = std::make_unique<ElectionClient>(
        options_.election_address,
        [this](const ElectionDecision& d) { Enqueue(DecisionEvent{d}); });
    election_->Start();
    PeerLinksOptions link_options;
    link_options.sid = options_.sid;
    link_options.peers = options_.peer_addresses;
    link_options.seed = NewConnBase();
    links_ = std::make_unique<PeerLinks>(std::move(link_options), [this](int64_t sid) {
      Enqueue(PeerGoneEvent{nullptr, sid});
    });
  }
  thread_ = std::thread([this] { Run(); });
}

void ReplicationDriver::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [id, context] : fill_contexts_) context->TryCancel();
  }
  for (auto& [id, thread] : fill_threads_) thread.join();
  fill_threads_.clear();
  if (election_) election_->Stop();
  if (links_) links_->Stop();
  if (storage_) storage_->Cancel();
}

void ReplicationDriver::OnSubmit(const std::shared_ptr<SubmitStream>& stream,
                                 rv1::SubmitRequest&& request) {
  Enqueue(SubmitEvent{stream, std::move(request)});
}

void ReplicationDriver::OnSubmitDone(const std::shared_ptr<SubmitStream>& stream) {
  Enqueue(SubmitDoneEvent{stream});
}

void ReplicationDriver::OnPeerBatch(const void* stream, rv1::PeerMessages&& batch) {
  Enqueue(PeerBatchEvent{stream, std::move(batch)});
}

void ReplicationDriver::OnPeerStreamDone(const void* stream, int64_t sid) {
  Enqueue(PeerGoneEvent{stream, sid});
}

ReplicationDriver::Status ReplicationDriver::GetStatus() const {
  std::lock_guard<std::mutex> lock(mu_);
  return status_;
}

void ReplicationDriver::Enqueue(Event event) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    inbox_.push_back(std::move(event));
  }
  cv_.notify_one();
}

int64_t ReplicationDriver::NowMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int64_t ReplicationDriver::WallMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A fresh channel to storage: after storage restarts (its unix socket is
// re-created) a channel in gRPC's reconnect back-off could wait up to two
// minutes; a new one, with a short back-off, connects at once.
void ReplicationDriver::ConnectStorage() {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  args.SetMaxReceiveMessageSize(kMaxPeerMessageBytes);
  storage_stub_ =
      std::shared_ptr<sv1::Storage::Stub>(sv1::Storage::NewStub(grpc::CreateCustomChannel(
          options_.storage_address, grpc::InsecureChannelCredentials(), args)));
}

void ReplicationDriver::Run() {
  ConnectStorage();
  while (true) {
    if (!zab_ && !Boot()) {
      std::deque<Event> early;
      {
        std::unique_lock<std::mutex> lock(mu_);
        if (cv_.wait_for(lock, std::chrono::milliseconds(200), [&] { return stopping_; })) return;
        // Keep writes and syncs for when the core runs; drop peer traffic
        // (the core would ignore it as stale anyway), keep decisions.
        for (auto& event : inbox_) {
          if (!std::holds_alternative<PeerBatchEvent>(event)) early.push_back(std::move(event));
        }
        inbox_.swap(early);
      }
      continue;
    }
    std::deque<Event> events;
    {
      std::unique_lock<std::mutex> lock(mu_);
      const int64_t wait_ms = std::max<int64_t>(1, next_tick_ms_ - NowMs());
      cv_.wait_for(lock, std::chrono::milliseconds(wait_ms),
                   [&] { return stopping_ || !inbox_.empty(); });
      if (stopping_) return;
      events.swap(inbox_);
    }
    while (!events.empty()) {
      Event event = std::move(events.front());
      events.pop_front();
      std::visit([this](auto& e) { Handle(e); }, event);
      if (!zab_) {
        // Storage went away: start over, keeping what is left for the next
        // incarnation of the core (Boot's wait drops stale peer traffic).
        std::lock_guard<std::mutex> lock(mu_);
        inbox_.insert(inbox_.begin(), std::make_move_iterator(events.begin()),
                      std::make_move_iterator(events.end()));
        break;
      }
    }
    if (!zab_) continue;
    const int64_t now = NowMs();
    if (now >= next_tick_ms_) {
      zab_->Tick(WallMs());
      next_tick_ms_ = std::max(next_tick_ms_ + options_.tick_ms, now + 1);
    }
    if (now >= next_purge_check_ms_) {
      next_purge_check_ms_ = now + kPurgeCheckMs;
      CheckPurged();
    }
    ProcessReadies();
    if (zab_ && links_) links_->Flush(NowMs());
    Publish();
  }
}

bool ReplicationDriver::Boot() {
  // After a restart of the core, wait a moment: a storage that failed a
  // write (fail-stop) still answers GetState, and booting at once would
  // spin through elections until it is restarted.
  if (NowMs() < next_boot_ms_) return false;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  sv1::GetStateRequest state_request;
  state_request.set_with_log_epochs(true);
  sv1::StorageState state;
  grpc::Status status = storage_stub_->GetState(&ctx, state_request, &state);
  if (!status.ok()) {
    // A fresh channel for the next attempt (ConnectStorage says why).
    ConnectStorage();
    // Storage usually comes up a moment later: say so once, then every 10 s.
    int64_t now = NowMs();
    if (now - last_unreachable_log_ms_ >= 10000) {
      last_unreachable_log_ms_ = now;
      spdlog::warn("replication.storage_unreachable address={} error=\"{}\"",
                   options_.storage_address, status.error_message());
    }
    return false;
  }
  grpc::ClientContext lctx;
  lctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  sv1::ListSessionsResponse listed;
  status = storage_stub_->ListSessions(&lctx, {}, &listed);
  if (!status.ok()) {
    spdlog::warn("replication.list_sessions_failed error=\"{}\"", status.error_message());
    return false;
  }
  // The sessions after every logged transaction: the applied state's, plus
  // the createSession / closeSession of the logged but unapplied tail.
  std::map<int64_t, int32_t> sessions;
  for (const auto& s : listed.sessions()) sessions[s.session_id()] = s.timeout_ms();
  if (state.last_logged_zxid() > state.last_applied_zxid()) {
    grpc::ClientContext rctx;
    rctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    sv1::ReadLogRequest range;
    range.set_from_zxid(state.last_applied_zxid());
    range.set_to_zxid(state.last_logged_zxid());
    auto reader = storage_stub_->ReadLog(&rctx, range);
    sv1::LogChunk chunk;
    while (reader->Read(&chunk)) {
      for (const auto& txn : chunk.txns()) {
        if (txn.header().type() == kOpCreateSession) {
          sessions[txn.header().session_id()] = txn.op().create_session().timeout_ms();
        } else if (txn.header().type() == kOpCloseSession) {
          sessions.erase(txn.header().session_id());
        }
      }
    }
    status = reader->Finish();
    if (!status.ok()) {
      spdlog::warn("replication.read_log_tail_failed error=\"{}\"", status.error_message());
      return false;
    }
  }

  PeerState peer;
  peer.accepted_epoch = state.accepted_epoch();
  peer.current_epoch = state.current_epoch();
  peer.log_floor_zxid = state.oldest_logged_zxid();
  peer.last_logged_zxid = state.last_logged_zxid();
  peer.epoch_last_zxids.assign(state.epoch_last_zxids().begin(), state.epoch_last_zxids().end());
  peer.last_applied_zxid = state.last_applied_zxid();
  for (const auto& [id, timeout] : sessions) {
    rv1::SessionTimeout s;
    s.set_session_id(id);
    s.set_timeout_ms(timeout);
    peer.sessions.push_back(s);
  }
  ZabConfig config;
  config.sid = options_.sid;
  config.voters = options_.voters;
  config.observers = options_.observers;
  if (config.voters.empty() && config.observers.empty()) config.voters = {options_.sid};
  config.contains_quorum = options_.contains_quorum;
  config.init_limit_ticks = options_.init_limit_ticks;
  config.sync_limit_ticks = options_.sync_limit_ticks;
  config.tick_ms = options_.tick_ms;
  config.conn_base = NewConnBase();
  config.initial_counter_for_testing = options_.initial_counter_for_testing;

  storage_ = StorageLogStream::Open(
      [this](grpc::ClientContext* c,
             grpc::ClientBidiReactor<sv1::LogRequest, sv1::LogResponse>* r) {
        storage_stub_->async()->Log(c, r);
      },
      [this, generation = storage_generation_ + 1](sv1::LogResponse&& response) {
        Enqueue(StorageResponseEvent{generation, std::move(response)});
      },
      [this, generation = storage_generation_ + 1](const grpc::Status& s) {
        Enqueue(StorageDownEvent{generation, s.error_message()});
      });
  ++storage_generation_;

  zab_ = std::make_unique<ZabPeer>(std::move(config), std::move(peer));
  reported_applied_ = state.last_applied_zxid();
  reported_purged_ = state.oldest_logged_zxid();
  next_tick_ms_ = NowMs() + options_.tick_ms;
  next_purge_check_ms_ = NowMs() + kPurgeCheckMs;
  spdlog::info(
      "replication.started sid={} mode={} accepted_epoch={} current_epoch={} last_logged={} "
      "applied={} log_floor={} sessions={}",
      options_.sid, standalone_ ? "standalone" : "ensemble", state.accepted_epoch(),
      state.current_epoch(), Zxid::Hex(state.last_logged_zxid()),
      Zxid::Hex(state.last_applied_zxid()), Zxid::Hex(state.oldest_logged_zxid()), sessions.size());
  ProcessReadies();
  return true;
}

// Storage went away (it restarted, or failed a write and stopped): drop the
// core and everything in flight, as if this process restarted, and boot
// again once storage is back. Peers see this peer fall silent and recover.
void ReplicationDriver::Shutdown(const std::string& reason) {
  spdlog::warn("replication.restarting reason=\"{}\"", reason);
  next_boot_ms_ = NowMs() + kRebootDelayMs;
  if (storage_) storage_->Cancel();
  storage_.reset();
  ConnectStorage();
  zab_.reset();
  storage_ops_.clear();
  inflight_ops_.clear();
  pending_persists_.clear();
  for (auto& [id, sync] : pending_syncs_) {
    if (auto stream = sync.stream.lock()) {
      rv1::SubmitResponse reply;
      auto* done = reply.add_syncs();
      done->set_id(sync.gateway_sync_id);
      done->set_failed(true);
      stream->Send(std::move(reply));
    }
  }
  pending_syncs_.clear();
  assemblers_.clear();
  // Fills still running finish into the void (their generation is old).
  ++fill_generation_;
  outbound_.clear();
  commit_holds_ = 0;
  deferred_commit_ = 0;
  election_wanted_ = false;
  if (used_decision_ && election_) election_->Reelect(*used_decision_, reason);
  used_decision_.reset();
  Publish();
}

void ReplicationDriver::Handle(SubmitEvent& e) {
  auto& request = e.request;
  if (request.gateway_id() != 0) gateways_[request.gateway_id()] = e.stream;
  for (int64_t session_id : request.touch_sessions()) zab_->Touch(session_id);
  for (auto& txn : *request.mutable_txns()) zab_->Submit(std::move(txn));
  for (const auto& sync : request.syncs()) {
    const uint64_t id = next_sync_id_++;
    pending_syncs_[id] = PendingSync{e.stream, sync.id()};
    zab_->SyncRequest(id);
  }
}

void ReplicationDriver::Handle(SubmitDoneEvent& e) {
  for (auto it = gateways_.begin(); it != gateways_.end();) {
    auto stream = it->second.lock();
    if (!stream || stream == e.stream) {
      it = gateways_.erase(it);
    } else {
      ++it;
    }
  }
}

void ReplicationDriver::Handle(StorageResponseEvent& e) {
  if (e.stream_generation != storage_generation_) return;
  const auto& response = e.response;
  if (!response.error().empty()) {
    // Storage is fail-stop on a disk error.
    spdlog::error("replication.storage_failed error=\"{}\"", response.error());
    Shutdown("storage failed: " + response.error());
    return;
  }
  auto it = inflight_ops_.find(response.id());
  if (it != inflight_ops_.end()) {
    const uint64_t seq = it->second;
    inflight_ops_.erase(it);
    if (seq != 0) PersistPartDone(seq);
  }
  if (response.last_applied_zxid() > reported_applied_) {
    reported_applied_ = response.last_applied_zxid();
    zab_->ApplyDone(reported_applied_);
  }
  PumpStorage();
}

void ReplicationDriver::Handle(StorageDownEvent& e) {
  if (!zab_ || e.stream_generation != storage_generation_) return;
  Shutdown("storage stream ended: " + e.error);
}

void ReplicationDriver::Handle(PeerBatchEvent& e) {
  const int64_t sid = e.batch.sid();
  auto current = incoming_.find(sid);
  if (current == incoming_.end() || current->second != e.stream) {
    // A new stream from `sid` (the peer restarted or reconnected).
    if (current != incoming_.end()) incoming_sid_.erase(current->second);
    incoming_[sid] = e.stream;
    incoming_sid_[e.stream] = sid;
    assemblers_[sid].Reset();
    if (links_) links_->PeerAlive(sid);
  }
  SnapshotAssembler& assembler = assemblers_[sid];
  for (auto& message : *e.batch.mutable_messages()) {
    std::optional<rv1::PeerMessage> whole = assembler.Add(std::move(message));
    if (!whole) continue;
    peer_messages_received_->Increment();
    zab_->Step(sid, *whole);
  }
}

void ReplicationDriver::Handle(PeerGoneEvent& e) {
  if (e.stream != nullptr) {
    auto it = incoming_sid_.find(e.stream);
    if (it == incoming_sid_.end()) return;  // never delivered, or replaced
    incoming_.erase(it->second);
    incoming_sid_.erase(it);
    assemblers_.erase(e.sid);
  }
  zab_->PeerDisconnected(e.sid);
}

void ReplicationDriver::Handle(DecisionEvent& e) {
  spdlog::info("replication.election_decision leader={} peer_epoch={} election_epoch={}",
               e.decision.leader, e.decision.peer_epoch, e.decision.election_epoch);
  latest_decision_ = e.decision;
  if (zab_->role() != Role::kLooking && used_decision_ && !used_decision_->SameAs(e.decision) &&
      zab_->role() != Role::kLeading && e.decision.leader != zab_->leader()) {
    // The election gave up on our leader (its failure detector) and found
    // another: stop following the old one.
    zab_->PeerDisconnected(zab_->leader());
  }
}

// Feeds the newest election decision to a LOOKING core, unless it is the one
// the core just abandoned.
void ReplicationDriver::MaybeFinishElection() {
  if (!zab_ || zab_->role() != Role::kLooking || !election_wanted_) return;
  if (standalone_) {
    election_wanted_ = false;
    ++elections_;
    elections_total_->Increment();
    zab_->ElectionFinished(ElectionResult{options_.sid, zab_->current_epoch()});
    return;
  }
  if (!latest_decision_) return;
  if (used_decision_ && used_decision_->SameAs(*latest_decision_)) return;
  election_wanted_ = false;
  used_decision_ = latest_decision_;
  ++elections_;
  elections_total_->Increment();
  spdlog::info("replication.following_decision leader={} election_epoch={}",
               latest_decision_->leader, latest_decision_->election_epoch);
  zab_->ElectionFinished(ElectionResult{latest_decision_->leader, latest_decision_->peer_epoch});
}

void ReplicationDriver::ProcessReadies() {
  for (int round = 0; zab_ && round < 1000; ++round) {
    MaybeFinishElection();
    if (!zab_->HasReady()) break;
    Ready rd = zab_->GetReady();
    Execute(rd);
    if (!zab_) return;
    zab_->Advance();
  }
  PumpStorage();
}

void ReplicationDriver::Execute(Ready& rd) {
  for (const auto& line : rd.events) {
    spdlog::info("zab.{} sid={}", line, options_.sid);
    // The leader's "sync sid=N mode=M ..." (a learner's reads "sync mode=").
    if (line.rfind("sync sid=", 0) == 0) {
      for (const char* mode : {"DIFF", "TRUNC", "SNAP"}) {
        if (line.find(std::string(" mode=") + mode + " ") != std::string::npos) {
          syncs_family_->Add({{"mode", mode}}).Increment();
          if (std::string(mode) == "SNAP") zk_snap_count_->Increment();
          if (std::string(mode) == "DIFF") zk_diff_count_->Increment();
        }
      }
    }
  }
  if (rd.role_change) {
    const RoleChange& rc = *rd.role_change;
    spdlog::info("replication.role role={} phase={} leader={} epoch={} serving={}",
                 RoleName(rc.role), PhaseName(rc.phase), rc.leader, rc.epoch, rc.serving);
  }
  // 1. Persist: each PersistRequest becomes storage operations in its order
  // (truncate, install, append, epochs); the epochs go in a request of their
  // own so that they are durable only after the history they vouch for.
  for (auto& pr : rd.to_persist) {
    PendingPersist pending;
    pending.seq = pr.seq;
    auto add = [&](StorageOp op) {
      op.seq = pr.seq;
      ++pending.remaining;
      storage_ops_.push_back(std::move(op));
    };
    if (pr.truncate_after_zxid) {
      StorageOp op;
      op.log.emplace().set_truncate_after_zxid(*pr.truncate_after_zxid);
      add(std::move(op));
    }
    if (pr.snapshot) {
      StorageOp op;
      op.install = std::move(*pr.snapshot);
      add(std::move(op));
    }
    if (!pr.append.empty()) {
      if (zab_->role() == Role::kLeading && zab_->serving()) {
        const auto now = std::chrono::steady_clock::now();
        for (const auto& txn : pr.append) ordered_at_.emplace_back(txn.header().zxid(), now);
        zk_proposal_count_->Increment(static_cast<double>(pr.append.size()));
      }
      StorageOp op;
      auto& log = op.log.emplace();
      persist_batch_txns_->Observe(static_cast<double>(pr.append.size()));
      proposals_total_->Increment(static_cast<double>(pr.append.size()));
      for (auto& txn : pr.append) *log.add_append() = std::move(txn);
      add(std::move(op));
    }
    if (pr.accepted_epoch || pr.current_epoch) {
      StorageOp op;
      auto& log = op.log.emplace();
      if (pr.accepted_epoch) log.set_accepted_epoch(*pr.accepted_epoch);
      if (pr.current_epoch) log.set_current_epoch(*pr.current_epoch);
      add(std::move(op));
    }
    if (pending.remaining == 0) {
      StorageOp op;
      op.log.emplace();
      add(std::move(op));
    }
    pending_persists_.push_back(std::move(pending));
  }
  // 2. Send now (fills read the log or take a snapshot: before step 4, so a
  // snapshot never holds this Ready's commits).
  for (auto& out : rd.messages) {
    SendOut(std::move(out));
    if (!zab_) return;
  }
  // 3. After persist.
  if (!rd.messages_after_persist.empty()) {
    if (pending_persists_.empty()) {
      for (auto& out : rd.messages_after_persist) SendOut(std::move(out));
    } else {
      auto& after = pending_persists_.back().after;
      for (auto& out : rd.messages_after_persist) after.push_back(std::move(out));
    }
  }
  // 4. Apply: storage applies what is both committed and durable.
  if (rd.commit_up_to > 0) {
    const auto now = std::chrono::steady_clock::now();
    while (!ordered_at_.empty() && ordered_at_.front().first <= rd.commit_up_to) {
      const double seconds =
          std::chrono::duration<double>(now - ordered_at_.front().second).count();
      commit_latency_->Observe(seconds);
      zk_proposal_latency_->Observe(seconds * 1000);
      zk_commit_count_->Increment();
      ordered_at_.pop_front();
    }
    StorageOp op;
    if (commit_holds_ > 0) {
      deferred_commit_ = std::max(deferred_commit_, rd.commit_up_to);
    } else {
      op.log.emplace().set_commit_zxid(rd.commit_up_to);
      storage_ops_.push_back(std::move(op));
    }
  }
  // 5. Syncs, rejections, elections.
  for (const SyncDone& done : rd.sync_done) {
    auto it = pending_syncs_.find(done.id);
    if (it == pending_syncs_.end()) continue;
    if (auto stream = it->second.stream.lock()) {
      rv1::SubmitResponse reply;
      auto* d = reply.add_syncs();
      d->set_id(it->second.gateway_sync_id);
      d->set_zxid(done.zxid);
      d->set_failed(!done.ok);
      stream->Send(std::move(reply));
    }
    pending_syncs_.erase(it);
  }
  std::map<uint64_t, rv1::SubmitResponse> rejections;
  for (const auto& txn : rd.rejected) {
    auto* r = rejections[txn.header().origin()].add_rejected();
    r->set_session_id(txn.header().session_id());
    r->set_cxid(txn.header().cxid());
    r->set_err(kErrConnectionLoss);
  }
  for (auto& [gateway, reply] : rejections) {
    auto it = gateways_.find(gateway);
    if (it == gateways_.end()) continue;
    if (auto stream = it->second.lock()) stream->Send(std::move(reply));
  }
  if (rd.look_again) {
    // Writes in flight through this peer may be lost with the old leader
    // (a forwarded REQUEST, an uncommitted proposal): tell the gateways.
    for (auto& [gateway, weak] : gateways_) {
      if (auto stream = weak.lock()) {
        rv1::SubmitResponse lost;
        lost.set_leader_lost(true);
        stream->Send(std::move(lost));
      }
    }
    election_wanted_ = true;
    if (used_decision_ && election_) {
      election_->Reelect(*used_decision_, "replication is looking again");
    }
  }
}

// Messages leave in order per destination. A message that needs a fill (a
// log range, a snapshot) is filled on a worker thread, and the messages to
// the same peer queued after it wait; the driver thread never blocks on it.
void ReplicationDriver::SendOut(OutMessage out) {
  if (!links_) return;
  Outbound& outbound = outbound_[out.to];
  if (out.fill == OutMessage::Fill::kSnapshotToSend) {
    // Storage must not apply further commits until the snapshot is taken:
    // it has to lie between the core's floor and what this learner is sent
    // next (ready.h, kSnapshotToSend).
    ++commit_holds_;
  }
  if (outbound.filling) {
    outbound.waiting.push_back(std::move(out));
    return;
  }
  Dispatch(std::move(out));
}

void ReplicationDriver::Dispatch(OutMessage out) {
  if (out.fill == OutMessage::Fill::kNone) {
    peer_messages_sent_->Increment();
    links_->Send(out.to, std::move(out.message));
    return;
  }
  Outbound& outbound = outbound_[out.to];
  outbound.filling = true;
  const uint64_t id = next_fill_id_++;
  auto context = std::make_shared<grpc::ClientContext>();
  {
    std::lock_guard<std::mutex> lock(mu_);
    fill_contexts_[id] = context;
  }
  fill_threads_[id] = std::thread([this, id, context, generation = fill_generation_,
                                   stub = storage_stub_, out = std::move(out)]() mutable {
    const bool snapshot = out.fill == OutMessage::Fill::kSnapshotToSend;
    const int64_t to = out.to;
    std::optional<std::vector<rv1::PeerMessage>> parts =
        snapshot ? FillSnapshot(*stub, context.get(), std::move(out))
                 : FillLog(*stub, context.get(), std::move(out));
    {
      std::lock_guard<std::mutex> lock(mu_);
      fill_contexts_.erase(id);
    }
    Enqueue(FillDoneEvent{id, generation, to, snapshot, std::move(parts)});
  });
}

void ReplicationDriver::Handle(FillDoneEvent& e) {
  auto thread = fill_threads_.find(e.id);
  if (thread != fill_threads_.end()) {
    thread->second.join();
    fill_threads_.erase(thread);
  }
  if (e.generation != fill_generation_) return;  // from before a restart of the core
  if (e.snapshot) {
    snapshots_sent_->Increment();
    ReleaseCommitHold();
  }
  Outbound& outbound = outbound_[e.to];
  outbound.filling = false;
  if (!e.parts) {
    // The log no longer reaches back (a purge raced the sync) or storage
    // failed the read: drop the learner (and what was queued for that
    // connection); it reconnects and is synced anew.
    for (const auto& waiting : outbound.waiting) {
      if (waiting.fill == OutMessage::Fill::kSnapshotToSend) ReleaseCommitHold();
    }
    outbound.waiting.clear();
    CheckPurged();
    zab_->PeerDisconnected(e.to);
    return;
  }
  for (auto& part : *e.parts) {
    peer_messages_sent_->Increment();
    links_->Send(e.to, std::move(part));
  }
  while (!outbound.filling && !outbound.waiting.empty()) {
    OutMessage next = std::move(outbound.waiting.front());
    outbound.waiting.pop_front();
    Dispatch(std::move(next));
  }
}

void ReplicationDriver::ReleaseCommitHold() {
  if (commit_holds_ > 0) --commit_holds_;
  if (commit_holds_ == 0 && deferred_commit_ > 0) {
    StorageOp op;
    op.log.emplace().set_commit_zxid(std::exchange(deferred_commit_, 0));
    storage_ops_.push_back(std::move(op));
  }
}

std::optional<std::vector<rv1::PeerMessage>> ReplicationDriver::FillLog(sv1::Storage::Stub& stub,
                                                                        grpc::ClientContext* ctx,
                                                                        OutMessage out) {
  const int64_t from = out.message.prev_zxid();
  const int64_t to = out.message.zxid();
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
  sv1::ReadLogRequest request;
  request.set_from_zxid(from);
  request.set_to_zxid(to);
  auto reader = stub.ReadLog(ctx, request);
  std::vector<rv1::PeerMessage> parts;
  rv1::PeerMessage current = std::move(out.message);
  current.clear_txns();
  int64_t prev = from;
  sv1::LogChunk chunk;
  while (reader->Read(&chunk)) {
    for (auto& txn : *chunk.mutable_txns()) {
      const int64_t zxid = txn.header().zxid();
      *current.add_txns() = std::move(txn);
      if (static_cast<size_t>(current.txns_size()) >= kFillTxnsPerMessage) {
        current.set_zxid(zxid);
        parts.push_back(current);
        current.clear_txns();
        current.set_prev_zxid(zxid);
      }
      prev = zxid;
    }
  }
  grpc::Status status = reader->Finish();
  if (!status.ok() || prev != to) {
    spdlog::warn("replication.log_fill_failed to_sid={} from={} to={} got_to={} error=\"{}\"",
                 out.to, Zxid::Hex(from), Zxid::Hex(to), Zxid::Hex(prev), status.error_message());
    return std::nullopt;
  }
  if (current.txns_size() > 0) {
    current.set_zxid(to);
    parts.push_back(std::move(current));
  }
  return parts;
}

std::optional<std::vector<rv1::PeerMessage>> ReplicationDriver::FillSnapshot(
    sv1::Storage::Stub& stub, grpc::ClientContext* ctx, OutMessage out) {
  const auto start = std::chrono::steady_clock::now();
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(600));
  sv1::ReadSnapshotRequest request;
  request.set_fresh(true);
  auto reader = stub.ReadSnapshot(ctx, request);
  sv1::SnapshotChunk chunk;
  std::string data;
  int64_t zxid = -1;
  while (reader->Read(&chunk)) {
    if (zxid < 0) zxid = chunk.zxid();
    data.append(chunk.data());
  }
  grpc::Status status = reader->Finish();
  if (!status.ok() || zxid < out.message.zxid()) {
    spdlog::error("replication.snapshot_fill_failed to_sid={} zxid={} floor={} error=\"{}\"",
                  out.to, Zxid::Hex(zxid), Zxid::Hex(out.message.zxid()), status.error_message());
    return std::nullopt;
  }
  spdlog::info("replication.snapshot_sending to_sid={} zxid={} bytes={} ms={}", out.to,
               Zxid::Hex(zxid), data.size(),
               std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - start)
                   .count());
  out.message.set_zxid(zxid);
  out.message.set_snapshot(std::move(data));
  std::vector<rv1::PeerMessage> parts;
  parts.push_back(std::move(out.message));
  return parts;
}

// Sends storage operations in order. Log requests are pipelined (storage
// keeps their order on its one stream); a snapshot install waits until every
// earlier request is done and holds back every later one.
void ReplicationDriver::PumpStorage() {
  while (zab_ && storage_ && !storage_ops_.empty()) {
    StorageOp& op = storage_ops_.front();
    if (op.install) {
      if (!inflight_ops_.empty()) return;
      const uint64_t seq = op.seq;
      SnapshotInstall install = std::move(*op.install);
      storage_ops_.pop_front();
      if (!RunInstall(install)) {
        Shutdown("installing the leader's snapshot failed");
        return;
      }
      PersistPartDone(seq);
      continue;
    }
    sv1::LogRequest request = std::move(*op.log);
    const uint64_t id = next_request_id_++;
    request.set_id(id);
    inflight_ops_[id] = op.seq;
    storage_ops_.pop_front();
    if (!storage_->Send(std::move(request))) {
      Shutdown("the storage stream is closed");
      return;
    }
  }
}

bool ReplicationDriver::RunInstall(const SnapshotInstall& install) {
  const auto start = std::chrono::steady_clock::now();
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(300));
  sv1::InstallSnapshotResponse response;
  auto writer = storage_stub_->InstallSnapshot(&ctx, &response);
  bool first = true;
  for (size_t offset = 0; first || offset < install.data.size(); offset += kSnapshotChunkBytes) {
    sv1::SnapshotChunk chunk;
    if (first) chunk.set_zxid(install.zxid);
    first = false;
    chunk.set_data(install.data.substr(offset, kSnapshotChunkBytes));
    chunk.set_last(offset + kSnapshotChunkBytes >= install.data.size());
    if (!writer->Write(chunk)) break;
  }
  writer->WritesDone();
  grpc::Status status = writer->Finish();
  if (!status.ok()) {
    spdlog::error("replication.snapshot_install_failed zxid={} error=\"{}\"",
                  Zxid::Hex(install.zxid), status.error_message());
    return false;
  }
  snapshots_installed_->Increment();
  spdlog::info("replication.snapshot_installed zxid={} bytes={} ms={}", Zxid::Hex(install.zxid),
               install.data.size(),
               std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - start)
                   .count());
  reported_applied_ = std::max(reported_applied_, install.zxid);
  reported_purged_ = std::max(reported_purged_, install.zxid);
  return true;
}

// One storage operation of PersistRequest `seq` is done; PersistRequests
// complete in order, and each one's after-persist messages leave then.
void ReplicationDriver::PersistPartDone(uint64_t seq) {
  for (auto& p : pending_persists_) {
    if (p.seq == seq) {
      --p.remaining;
      break;
    }
  }
  while (!pending_persists_.empty() && pending_persists_.front().remaining <= 0) {
    PendingPersist done = std::move(pending_persists_.front());
    pending_persists_.pop_front();
    zab_->PersistDone(done.seq);
    for (auto& out : done.after) SendOut(std::move(out));
    if (!zab_) return;
  }
}

// The log's purge point moves when storage purges after a snapshot; the core
// must know, to send a SNAP instead of a DIFF it can no longer read.
void ReplicationDriver::CheckPurged() {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  sv1::StorageState state;
  grpc::Status status = storage_stub_->GetState(&ctx, {}, &state);
  if (!status.ok() || !zab_) return;
  if (state.oldest_logged_zxid() > reported_purged_) {
    reported_purged_ = state.oldest_logged_zxid();
    zab_->LogPurged(reported_purged_);
  }
}

void ReplicationDriver::Publish() {
  Status s;
  if (zab_) {
    s.serving = zab_->serving();
    s.role = zab_->role();
    s.phase = zab_->phase();
    s.leader = zab_->leader();
    s.epoch = zab_->epoch();
    s.last_zxid = zab_->last_zxid();
    s.committed_zxid = zab_->committed_zxid();
    s.applied_zxid = zab_->applied_zxid();
    s.sessions = zab_->tracked_sessions();
    if (zab_->role() == Role::kLeading) s.learners = zab_->learner_sids();
  }
  s.elections = elections_;
  // ZooKeeper's leader gauges and the per-learner lag.
  int64_t synced_followers = 0, synced_observers = 0, learners = 0;
  std::set<int64_t> seen;
  const bool leading = zab_ && zab_->role() == Role::kLeading;
  if (leading) {
    for (const auto& l : zab_->learners()) {
      ++learners;
      if (l.synced) ++(l.observer ? synced_observers : synced_followers);
      auto it = lag_.find(l.sid);
      if (it == lag_.end()) {
        it = lag_.emplace(l.sid, &lag_family_->Add({{"sid", std::to_string(l.sid)}})).first;
      }
      it->second->Set(static_cast<double>(
          std::max<int64_t>(0, Zxid::Epoch(s.last_zxid) == Zxid::Epoch(l.acked_zxid)
                                   ? Zxid::Counter(s.last_zxid) - Zxid::Counter(l.acked_zxid)
                                   : Zxid::Counter(s.last_zxid))));
      seen.insert(l.sid);
    }
  }
  for (auto it = lag_.begin(); it != lag_.end();) {
    if (seen.count(it->first) == 0) {
      lag_family_->Remove(it->second);
      it = lag_.erase(it);
    } else {
      ++it;
    }
  }
  const bool serving_leader = leading && s.serving;
  if (serving_leader && !was_serving_leader_) established_at_ = std::chrono::steady_clock::now();
  was_serving_leader_ = serving_leader;
  if (!leading) ordered_at_.clear();
  zk_learners_->Set(static_cast<double>(learners));
  zk_synced_followers_->Set(static_cast<double>(synced_followers));
  zk_synced_observers_->Set(static_cast<double>(synced_observers));
  zk_synced_non_voting_followers_->Set(0);
  zk_pending_syncs_->Set(leading ? static_cast<double>(zab_->pending_syncs()) : 0.0);
  zk_leader_uptime_->Set(serving_leader ? std::chrono::duration<double, std::milli>(
                                              std::chrono::steady_clock::now() - established_at_)
                                              .count()
                                        : 0.0);
  sessions_gauge_->Set(static_cast<double>(s.sessions));
  last_zxid_gauge_->Set(static_cast<double>(s.last_zxid));
  committed_zxid_gauge_->Set(static_cast<double>(s.committed_zxid));
  role_gauge_->Set(static_cast<double>(static_cast<int>(s.role)));
  learners_gauge_->Set(static_cast<double>(s.learners.size()));
  epoch_gauge_->Set(static_cast<double>(s.epoch));
  std::lock_guard<std::mutex> lock(mu_);
  status_ = std::move(s);
}

}  // namespace ensemble::zab

#include "services/storage/server/storage_driver.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <string_view>

#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <filesystem>
#include "absl/strings/str_cat.h"
#include "common/base/check.h"
#include "common/base/zxid.h"
#include "common/runtime/log.h"

#include "services/storage/snapshot/snapshot_manager.h"

namespace ensemble::storage {

namespace {

constexpr int32_t kOpSync = 9;
constexpr int32_t kOpCreateSession = -10;  // in a ReadRequest: revalidate a session
constexpr int32_t kErrSessionExpired = -112;

prometheus::Gauge* MakeGauge(prometheus::Registry& registry, const std::string& name,
                             const std::string& help) {
  return &prometheus::BuildGauge().Name(name).Help(help).Register(registry).Add({});
}

// ZooKeeper's DetailLevel.BASIC summaries: the median over a sliding window.
prometheus::Summary* MakeZooKeeperSummary(prometheus::Registry& registry, const std::string& name,
                                          const std::string& help) {
  return &prometheus::BuildSummary().Name(name).Help(help).Register(registry).Add(
      {}, prometheus::Summary::Quantiles{{0.5, 0.05}});
}

double Ms(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

// WatchEvent.type of the four events that fire watches (NodeCreated=1 ..
// NodeChildrenChanged=4), as an index 0..3; -1 for the others.
int WatchEventIndex(int32_t type) { return type >= 1 && type <= 4 ? type - 1 : -1; }

}  // namespace

StorageDriver::StorageDriver(StorageOptions options, TxnLog* log, prometheus::Registry& registry)
    : options_(std::move(options)), log_(log) {
  fsync_seconds_ =
      &prometheus::BuildHistogram()
           .Name("ensemble_storage_fsync_seconds")
           .Help("Time of one group write to the log, fsync included.")
           .Register(registry)
           .Add({}, prometheus::Histogram::BucketBoundaries{0.0001, 0.0005, 0.001, 0.002, 0.005,
                                                            0.01, 0.02, 0.05, 0.1, 0.5, 1});
  group_txns_ = &prometheus::BuildHistogram()
                     .Name("ensemble_storage_group_commit_txns")
                     .Help("Transactions written by one group commit (one fsync).")
                     .Register(registry)
                     .Add({}, prometheus::Histogram::BucketBoundaries{1, 2, 4, 8, 16, 32, 64, 128,
                                                                      256, 512, 1024, 4096});
  applied_total_ = &prometheus::BuildCounter()
                        .Name("ensemble_storage_applied_txns_total")
                        .Help("Transactions applied to the data tree.")
                        .Register(registry)
                        .Add({});
  reads_total_ = &prometheus::BuildCounter()
                      .Name("ensemble_storage_reads_total")
                      .Help("Reads answered for gateways.")
                      .Register(registry)
                      .Add({});
  snapshot_seconds_ =
      &prometheus::BuildHistogram()
           .Name("ensemble_storage_snapshot_seconds")
           .Help("Time to write one snapshot.")
           .Register(registry)
           .Add({}, prometheus::Histogram::BucketBoundaries{0.01, 0.1, 0.5, 1, 2, 5, 10, 30, 60});
  snapshot_bytes_ = MakeGauge(registry, "ensemble_storage_snapshot_size_bytes",
                              "Size of the last snapshot written.");
  znodes_ = MakeGauge(registry, "ensemble_storage_znodes", "Number of znodes in the data tree.");
  data_bytes_ = MakeGauge(registry, "ensemble_storage_approximate_data_size_bytes",
                          "Approximate size of paths and data in the tree.");
  ephemerals_ = MakeGauge(registry, "ensemble_storage_ephemerals", "Ephemeral znodes.");
  watches_ = MakeGauge(registry, "ensemble_storage_watches", "Registered watches.");
  sessions_ = MakeGauge(registry, "ensemble_storage_sessions", "Sessions in the session table.");
  last_applied_ = MakeGauge(registry, "ensemble_storage_last_applied_zxid",
                            "zxid of the last applied transaction.");
  last_logged_ = MakeGauge(registry, "ensemble_storage_last_logged_zxid",
                           "zxid of the last durable transaction.");
  auto& watch_events = prometheus::BuildCounter()
                           .Name("ensemble_storage_watch_events_total")
                           .Help("Watch events fired by applied transactions, by event type.")
                           .Register(registry);
  const char* kEventTypes[] = {"created", "deleted", "changed", "children"};
  for (int i = 0; i < 4; ++i) watch_events_[i] = &watch_events.Add({{"type", kEventTypes[i]}});

  zk_fsync_time_ = MakeZooKeeperSummary(
      registry, "fsynctime", "ZooKeeper: ms of one group write to the log, fsync included.");
  zk_batch_size_ = MakeZooKeeperSummary(registry, "sync_processor_batch_size",
                                        "ZooKeeper: transactions made durable by one fsync.");
  zk_snapshot_time_ =
      MakeZooKeeperSummary(registry, "snapshottime", "ZooKeeper: ms to write one snapshot.");
  zk_db_init_time_ = MakeZooKeeperSummary(
      registry, "dbinittime", "ZooKeeper: ms to restore the state (snapshot load and log replay).");
  zk_snap_load_time_ = MakeZooKeeperSummary(registry, "startup_snap_load_time",
                                            "ZooKeeper: ms to load the snapshot at restore.");
  zk_txns_loaded_ = MakeZooKeeperSummary(registry, "startup_txns_loaded",
                                         "ZooKeeper: log transactions replayed at restore.");
  zk_txns_load_time_ = MakeZooKeeperSummary(registry, "startup_txns_load_time",
                                            "ZooKeeper: ms to replay the log at restore.");
  const char* kWatchCounts[] = {"node_created_watch_count", "node_deleted_watch_count",
                                "node_changed_watch_count", "node_children_watch_count"};
  for (int i = 0; i < 4; ++i) {
    zk_watch_count_[i] = MakeZooKeeperSummary(
        registry, kWatchCounts[i], "ZooKeeper: watchers notified by one trigger of this type.");
  }
  // Ensemble compares no digests with the leader (peers apply the same log;
  // tests compare digests): always 0, exported so ZooKeeper's dashboards find it.
  prometheus::BuildCounter()
      .Name("digest_mismatches_count")
      .Help("ZooKeeper: tree digest mismatches found against the leader's (always 0).")
      .Register(registry)
      .Add({});

  GroupCommitterOptions committer_options;
  committer_options.on_group_commit = [this](const GroupCommitStats& stats) {
    fsync_seconds_->Observe(std::chrono::duration<double>(stats.sync_duration).count());
    group_txns_->Observe(static_cast<double>(stats.txns));
    zk_fsync_time_->Observe(std::chrono::duration<double, std::milli>(stats.sync_duration).count());
    zk_batch_size_->Observe(static_cast<double>(stats.txns));
  };
  committer_ = std::make_unique<GroupCommitter>(log_, committer_options);
}

absl::StatusOr<std::unique_ptr<StorageDriver>> StorageDriver::Open(StorageOptions options,
                                                                   TxnLog* log,
                                                                   prometheus::Registry& registry) {
  std::unique_ptr<StorageDriver> driver(new StorageDriver(std::move(options), log, registry));
  absl::Status status = driver->Restore(TxnLog::kToEnd);
  if (!status.ok()) return status;
  return driver;
}

absl::StatusOr<std::unique_ptr<StateMachine>> StorageDriver::LoadBase(int64_t max_zxid) {
  if (max_zxid == TxnLog::kToEnd) {
    auto loaded = LoadNewestValid(options_.snapshot_dir, options_.machine);
    if (absl::IsNotFound(loaded.status())) return std::make_unique<StateMachine>(options_.machine);
    if (!loaded.ok()) return loaded.status();
    for (const auto& path : loaded->set_aside) {
      spdlog::warn("snapshot.set_aside path={} (corrupt; an older snapshot is used)", path);
    }
    return std::move(loaded->state);
  }
  // After a truncation: the newest valid snapshot at or below max_zxid.
  auto files = ListSnapshots(options_.snapshot_dir);
  if (!files.ok()) return files.status();
  for (const auto& file : *files) {
    if (file.zxid > max_zxid) continue;
    auto state = ReadSnapshotFile(file.path, options_.machine);
    if (state.ok()) return state;
    spdlog::warn("snapshot.unreadable path={} error={}", file.path, state.status());
  }
  return std::make_unique<StateMachine>(options_.machine);
}

absl::Status StorageDriver::Restore(int64_t max_zxid) {
  auto start = std::chrono::steady_clock::now();
  absl::Status cleaned = RemoveTempSnapshots(options_.snapshot_dir);
  if (!cleaned.ok()) return cleaned;
  auto base = LoadBase(max_zxid);
  if (!base.ok()) return base.status();
  const auto loaded = std::chrono::steady_clock::now();
  state_ = std::move(*base);
  snapshot_zxid_ = state_->last_applied_zxid();
  // Apply only what is known committed (the log's commit mark, or the
  // snapshot, which holds applied state); the logged tail after it waits in
  // `unapplied_` for the leader's commit, or for a TRUNC that removes it.
  const int64_t apply_limit = std::min(max_zxid, std::max(log_->CommittedMark(), snapshot_zxid_));
  int64_t replayed = 0;
  unapplied_.clear();
  absl::Status status =
      log_->Read(snapshot_zxid_, max_zxid, [&](ensemble::v1::Txn txn) -> absl::Status {
        if (txn.header().zxid() <= apply_limit) {
          state_->Apply(txn);
          ++replayed;
        } else {
          unapplied_.push_back(std::move(txn));
        }
        return absl::OkStatus();
      });
  if (absl::IsOutOfRange(status) && snapshot_zxid_ == 0 && log_->FirstZxid() == 0) {
    status = absl::OkStatus();  // an empty, purged log: nothing to replay
  }
  if (!status.ok()) return status;
  committed_zxid_ = state_->last_applied_zxid();
  durable_zxid_ = last_submitted_zxid_ =
      unapplied_.empty() ? state_->last_applied_zxid() : unapplied_.back().header().zxid();
  const auto end = std::chrono::steady_clock::now();
  zk_snap_load_time_->Observe(Ms(loaded - start));
  zk_txns_load_time_->Observe(Ms(end - loaded));
  zk_txns_loaded_->Observe(static_cast<double>(replayed));
  zk_db_init_time_->Observe(Ms(end - start));
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(end - start).count();
  spdlog::info(
      "storage.restored snapshot_zxid={} replayed={} last_zxid={} logged_not_applied={} "
      "znodes={} ms={}",
      Zxid::Hex(snapshot_zxid_), replayed, Zxid::Hex(state_->last_applied_zxid()),
      unapplied_.size(), state_->ZnodeCount(), ms);
  UpdateGauges();
  return absl::OkStatus();
}

StorageDriver::~StorageDriver() { Stop(); }

void StorageDriver::Start() {
  thread_ = std::thread([this] { Run(); });
}

void StorageDriver::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (committer_) committer_->Stop();
  if (snapshot_thread_.joinable()) snapshot_thread_.join();
}

bool StorageDriver::healthy() const {
  std::lock_guard<std::mutex> lock(mu_);
  return failure_.ok();
}

void StorageDriver::Enqueue(Event event) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    inbox_.push_back(std::move(event));
  }
  cv_.notify_one();
}

void StorageDriver::OnLog(const std::shared_ptr<LogStream>& stream,
                          ensemble::storage::v1::LogRequest&& request) {
  Enqueue(LogEvent{stream, std::move(request)});
}

void StorageDriver::OnServe(const std::shared_ptr<ServeStream>& stream,
                            ensemble::storage::v1::GatewayMessage&& message) {
  Enqueue(ServeEvent{stream, std::move(message)});
}

void StorageDriver::OnServeDone(const std::shared_ptr<ServeStream>& stream) {
  Enqueue(ServeDoneEvent{stream});
}

void StorageDriver::Post(std::function<void(StorageDriver&)> fn) {
  Enqueue(CallEvent{std::move(fn)});
}

void StorageDriver::Run() {
  while (true) {
    std::deque<Event> events;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, std::chrono::seconds(1), [&] { return stopping_ || !inbox_.empty(); });
      if (stopping_) break;
      events.swap(inbox_);
    }
    if (options_.purge_interval_hours > 0 && std::chrono::steady_clock::now() >= next_purge_) {
      next_purge_ =
          std::chrono::steady_clock::now() + std::chrono::hours(options_.purge_interval_hours);
      absl::Status purged = PurgeNow();
      if (!purged.ok()) spdlog::warn("storage.purge_failed error={}", purged);
    }
    for (auto& event : events) std::visit([this](auto& e) { Handle(e); }, event);
    PumpLog();
    ApplyCommitted();
    ReleaseSyncs();
    Flush();
    MaybeSnapshot();
    UpdateGauges();
  }
}

void StorageDriver::Handle(LogEvent& e) { log_queue_.push_back(std::move(e)); }

// Starts the queued log requests in order. Appends are pipelined through the
// group committer; a truncation or an epoch change waits until every earlier
// append is durable, then runs here (they are rare).
void StorageDriver::PumpLog() {
  while (!log_queue_.empty()) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!failure_.ok()) {
        ensemble::storage::v1::LogResponse response;
        response.set_id(log_queue_.front().request.id());
        response.set_error(failure_.ToString());
        log_queue_.front().stream->Send(std::move(response));
        log_queue_.pop_front();
        continue;
      }
    }
    LogEvent& head = log_queue_.front();
    auto& request = head.request;
    bool needs_barrier = request.has_truncate_after_zxid() || request.accepted_epoch() > 0 ||
                         request.current_epoch() > 0;
    if (needs_barrier) {
      if (appends_in_flight_ > 0) return;  // resumes when they are durable
      absl::Status status;
      if (request.has_truncate_after_zxid()) {
        int64_t zxid = request.truncate_after_zxid();
        status = log_->TruncateAfter(zxid);
        if (status.ok() && state_->last_applied_zxid() > zxid) {
          // Applied state above the truncation point must go: rebuild from the
          // newest snapshot at or below it plus the log (ZooKeeper reloads its
          // database after truncating too).
          unapplied_.clear();
          status = Restore(zxid);
        }
        while (!unapplied_.empty() && unapplied_.back().header().zxid() > zxid) {
          unapplied_.pop_back();
        }
        durable_zxid_ = std::min(durable_zxid_, zxid);
        last_submitted_zxid_ = std::min(last_submitted_zxid_, zxid);
        committed_zxid_ = std::min(committed_zxid_, zxid);
        spdlog::info("storage.truncated after={}", Zxid::Hex(zxid));
      }
      if (status.ok() && request.accepted_epoch() > 0) {
        status = log_->SetAcceptedEpoch(request.accepted_epoch());
      }
      if (status.ok() && request.current_epoch() > 0) {
        status = log_->SetCurrentEpoch(request.current_epoch());
      }
      if (!status.ok()) {
        FailStop(status);
        continue;
      }
    }
    committed_zxid_ = std::max(committed_zxid_, request.commit_zxid());
    if (request.append_size() == 0) {
      // A commit: apply first, so the answer carries the new applied zxid.
      ApplyCommitted();
      Respond(head.stream, request.id());
      log_queue_.pop_front();
      continue;
    }
    std::vector<ensemble::v1::Txn> batch;
    batch.reserve(request.append_size());
    for (auto& txn : *request.mutable_append()) {
      unapplied_.push_back(txn);
      batch.push_back(std::move(txn));
    }
    int64_t last = batch.back().header().zxid();
    last_submitted_zxid_ = last;
    ++appends_in_flight_;
    auto stream = head.stream;
    uint64_t id = request.id();
    absl::Status submitted =
        committer_->Submit(std::move(batch), [this, stream, id, last](absl::Status status) {
          Enqueue(DurableEvent{stream, id, last, std::move(status)});
        });
    log_queue_.pop_front();
    if (!submitted.ok()) {
      --appends_in_flight_;
      FailStop(submitted);
    }
  }
}

void StorageDriver::Handle(DurableEvent& e) {
  --appends_in_flight_;
  if (!e.status.ok()) {
    FailStop(e.status);
    ensemble::storage::v1::LogResponse response;
    response.set_id(e.request_id);
    response.set_error(e.status.ToString());
    e.stream->Send(std::move(response));
    return;
  }
  durable_zxid_ = std::max(durable_zxid_, e.last_zxid);
  ApplyCommitted();
  Respond(e.stream, e.request_id);
}

void StorageDriver::Respond(const std::shared_ptr<LogStream>& stream, uint64_t id) {
  ensemble::storage::v1::LogResponse response;
  response.set_id(id);
  response.set_last_logged_zxid(durable_zxid_);
  response.set_last_applied_zxid(state_->last_applied_zxid());
  stream->Send(std::move(response));
}

void StorageDriver::FailStop(const absl::Status& status) {
  std::lock_guard<std::mutex> lock(mu_);
  if (failure_.ok()) {
    failure_ = status;
    spdlog::error(
        "storage.fail_stop error={} (no further writes are acknowledged; restart to "
        "recover)",
        status);
  }
}

// Applies what is both durable and committed, in zxid order, routing each
// result to the gateway that waits for it and each event to its watcher's
// gateway.
void StorageDriver::ApplyCommitted() {
  int64_t limit = std::min(durable_zxid_, committed_zxid_);
  while (!unapplied_.empty() && unapplied_.front().header().zxid() <= limit) {
    const ensemble::v1::Txn& txn = unapplied_.front();
    if (txn.header().zxid() > state_->last_applied_zxid()) {
      ApplyOutput out = state_->Apply(txn);
      applied_total_->Increment();
      CountWatchEvents(out.events);
      for (auto& fired : out.events) {
        if (gateways_.count(fired.gateway_id)) {
          *Outbox(fired.gateway_id).add_items()->mutable_event() = std::move(fired.event);
        }
      }
      uint64_t origin = txn.header().origin();
      if (origin != 0 && gateways_.count(origin)) {
        *Outbox(origin).add_items()->mutable_write() = std::move(out.result);
      } else if (origin == 0 && txn.op().has_close_session()) {
        // An expiry: every gateway hears of it, so the one holding the
        // session's connection closes it (storage does not track where a
        // session is attached).
        for (const auto& [gateway_id, stream] : gateways_) {
          *Outbox(gateway_id).add_items()->mutable_write() = out.result;
        }
      }
    }
    unapplied_.pop_front();
  }
  log_->NoteCommitted(state_->last_applied_zxid());
}

// ZooKeeper's WatchManager.triggerWatch records, per trigger that notified
// anyone, how many watchers it notified. One transaction's events of the same
// type on the same path come from one trigger.
void StorageDriver::CountWatchEvents(const std::vector<FiredEvent>& events) {
  std::map<std::pair<int32_t, std::string_view>, int64_t> triggers;
  for (const FiredEvent& fired : events) {
    const int index = WatchEventIndex(fired.event.type());
    if (index < 0) continue;
    watch_events_[index]->Increment();
    ++triggers[{fired.event.type(), fired.event.path()}];
  }
  for (const auto& [key, watchers] : triggers) {
    zk_watch_count_[WatchEventIndex(key.first)]->Observe(static_cast<double>(watchers));
  }
}

ensemble::storage::v1::StorageMessage& StorageDriver::Outbox(uint64_t gateway_id) {
  return outbox_[gateway_id];
}

void StorageDriver::Handle(ServeEvent& e) {
  auto& message = e.message;
  uint64_t gateway_id;
  auto known = gateway_ids_.find(e.stream.get());
  if (known == gateway_ids_.end()) {
    gateway_id = message.gateway_id();
    if (gateway_id == 0) {
      e.stream->Close(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                   "the first message must name the gateway (gateway_id)"));
      return;
    }
    if (auto old = gateways_.find(gateway_id); old != gateways_.end()) {
      // The same gateway reconnected: the old stream is dead to it.
      gateway_ids_.erase(old->second.get());
      old->second->Close(grpc::Status(grpc::StatusCode::ABORTED, "replaced by a new stream"));
    }
    gateways_[gateway_id] = e.stream;
    gateway_ids_[e.stream.get()] = gateway_id;
    spdlog::info("storage.gateway_attached gateway={:x} peer={}", gateway_id, e.stream->peer());
    // Tell the gateway where this peer stands right away.
    Outbox(gateway_id);
  } else {
    gateway_id = known->second;
  }
  for (int64_t session_id : message.detach_sessions()) state_->DropWatches(gateway_id, session_id);
  for (const auto& read : message.reads()) AnswerRead(gateway_id, read);
}

void StorageDriver::AnswerRead(uint64_t gateway_id,
                               const ensemble::storage::v1::ReadRequest& read) {
  if (read.min_zxid() > state_->last_applied_zxid()) {
    // Answered (and counted) once storage has applied that far.
    parked_syncs_.emplace(read.min_zxid(), ParkedSync{gateway_id, read});
    return;
  }
  reads_total_->Increment();
  ensemble::storage::v1::ReadResult result;
  if (read.type() == kOpSync) {
    result.set_id(read.id());
    result.set_zxid(state_->last_applied_zxid());
  } else if (read.type() == kOpCreateSession) {
    // Session revalidation for a client re-attaching through a gateway.
    result.set_id(read.id());
    result.set_zxid(state_->last_applied_zxid());
    std::optional<int32_t> timeout = state_->sessions().Timeout(read.session_id());
    if (timeout) {
      result.set_number(*timeout);
    } else {
      result.set_err(kErrSessionExpired);
    }
  } else {
    std::vector<FiredEvent> events;
    result = state_->Read(read, gateway_id, &events);
    result.set_id(read.id());
    result.set_zxid(state_->last_applied_zxid());
    for (auto& fired : events) {
      if (gateways_.count(fired.gateway_id)) {
        *Outbox(fired.gateway_id).add_items()->mutable_event() = std::move(fired.event);
      }
    }
  }
  *Outbox(gateway_id).add_items()->mutable_read() = std::move(result);
}

void StorageDriver::ReleaseSyncs() {
  while (!parked_syncs_.empty() && parked_syncs_.begin()->first <= state_->last_applied_zxid()) {
    ParkedSync parked = std::move(parked_syncs_.begin()->second);
    parked_syncs_.erase(parked_syncs_.begin());
    if (gateways_.count(parked.gateway_id)) AnswerRead(parked.gateway_id, parked.read);
  }
}

void StorageDriver::Handle(ServeDoneEvent& e) {
  auto it = gateway_ids_.find(e.stream.get());
  if (it == gateway_ids_.end()) return;
  uint64_t gateway_id = it->second;
  gateway_ids_.erase(it);
  gateways_.erase(gateway_id);
  outbox_.erase(gateway_id);
  state_->DropGateway(gateway_id);
  spdlog::info("storage.gateway_detached gateway={:x}", gateway_id);
}

void StorageDriver::Flush() {
  int64_t applied = state_->last_applied_zxid();
  for (auto& [gateway_id, message] : outbox_) {
    auto it = gateways_.find(gateway_id);
    if (it == gateways_.end()) continue;
    message.set_applied_zxid(applied);
    it->second->Send(std::move(message));
  }
  outbox_.clear();
}

void StorageDriver::MaybeSnapshot() {
  if (snapshot_running_ || options_.snap_count <= 0) return;
  if (state_->last_applied_zxid() - snapshot_zxid_ < options_.snap_count &&
      Zxid::Epoch(state_->last_applied_zxid()) == Zxid::Epoch(snapshot_zxid_)) {
    return;
  }
  if (state_->last_applied_zxid() == snapshot_zxid_) return;
  SnapshotNow();
}

void StorageDriver::SnapshotNow(SnapshotWaiter on_written) {
  if (snapshot_running_) {
    // The running snapshot may be older than the caller needs: take another
    // once it is done.
    if (on_written) deferred_snapshot_waiters_.push_back(std::move(on_written));
    return;
  }
  if (on_written && last_written_snapshot_zxid_ == state_->last_applied_zxid()) {
    on_written(last_written_snapshot_zxid_);
    return;
  }
  if (on_written) running_snapshot_waiters_.push_back(std::move(on_written));
  if (snapshot_thread_.joinable()) snapshot_thread_.join();
  snapshot_running_ = true;
  const int64_t zxid = state_->last_applied_zxid();
  snapshot_zxid_ = zxid;
  // The snapshot is written by a forked child from its copy-on-write image of
  // this process (as Redis does): the fork costs page tables, not a copy of
  // the tree, so the driver stalls for milliseconds instead of the seconds a
  // deep copy of a large tree takes. The child touches nothing but the state
  // machine and the file, and leaves with _exit.
  auto start = std::chrono::steady_clock::now();
  pid_t pid = fork();
  if (pid == 0) {
    // The child must not outlive the server (a restarted server would find
    // its ports held and race it on the snapshot folder): it dies with its
    // parent and lets go of every inherited descriptor but stderr.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() == 1) _exit(1);
    close_range(3, ~0U, 0);
    auto written = WriteSnapshotFile(options_.snapshot_dir, *state_);
    _exit(written.ok() ? 0 : 1);
  }
  if (pid < 0) {
    spdlog::error("snapshot.fork_failed zxid={} errno={}", Zxid::Hex(zxid), errno);
    snapshot_running_ = false;
    SnapshotFinished(absl::InternalError(absl::StrCat("fork for a snapshot: errno ", errno)));
    return;
  }
  snapshot_thread_ = std::thread([this, pid, zxid, start] {
    int wstatus = 0;
    while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
    }
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::string path = options_.snapshot_dir + "/" + SnapshotFileName(zxid);
    const bool ok = WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0;
    if (!ok) {
      spdlog::error("snapshot.failed zxid={} child_status={}", Zxid::Hex(zxid), wstatus);
    } else {
      snapshot_seconds_->Observe(seconds);
      zk_snapshot_time_->Observe(seconds * 1000);
      std::error_code ec;
      auto bytes = std::filesystem::file_size(path, ec);
      snapshot_bytes_->Set(static_cast<double>(bytes));
      spdlog::info("snapshot.written path={} bytes={} ms={}", path, bytes,
                   static_cast<int64_t>(seconds * 1000));
    }
    Post([ok, zxid, wstatus](StorageDriver& d) {
      d.snapshot_running_ = false;
      if (ok) d.last_written_snapshot_zxid_ = zxid;
      d.SnapshotFinished(
          ok ? absl::StatusOr<int64_t>(zxid)
             : absl::InternalError(absl::StrCat("the snapshot writer failed, status ", wstatus)));
    });
  });
}

void StorageDriver::SnapshotFinished(const absl::StatusOr<int64_t>& result) {
  for (auto& waiter : std::exchange(running_snapshot_waiters_, {})) waiter(result);
  if (deferred_snapshot_waiters_.empty()) return;
  auto deferred = std::exchange(deferred_snapshot_waiters_, {});
  if (last_written_snapshot_zxid_ == state_->last_applied_zxid()) {
    for (auto& waiter : deferred) waiter(last_written_snapshot_zxid_);
    return;
  }
  running_snapshot_waiters_ = std::move(deferred);
  SnapshotNow();
}

absl::Status StorageDriver::InstallSnapshot(const std::string& path, int64_t zxid) {
  if (appends_in_flight_ > 0 || !log_queue_.empty()) {
    return absl::UnavailableError("log writes are in flight; install the snapshot afterwards");
  }
  auto loaded = ReadSnapshotFile(path, options_.machine);
  if (!loaded.ok()) {
    std::remove(path.c_str());
    return loaded.status();
  }
  if ((*loaded)->last_applied_zxid() != zxid) {
    std::remove(path.c_str());
    return absl::DataLossError(absl::StrCat("snapshot holds zxid ",
                                            Zxid::Hex((*loaded)->last_applied_zxid()),
                                            ", announced ", Zxid::Hex(zxid)));
  }
  // Order matters for a crash in between: the file goes in place first, so
  // a restart finds it; the log is then emptied up to it.
  std::string final_path = options_.snapshot_dir + "/" + SnapshotFileName(zxid);
  if (std::rename(path.c_str(), final_path.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("rename ", path, ": errno ", errno));
  }
  absl::Status status = log_->TruncateAfter(0);
  if (status.ok()) status = log_->PurgeBefore(zxid);
  if (!status.ok()) {
    FailStop(status);
    return status;
  }
  state_ = std::move(*loaded);
  unapplied_.clear();
  parked_syncs_.clear();
  durable_zxid_ = committed_zxid_ = last_submitted_zxid_ = snapshot_zxid_ = zxid;
  for (auto& [gateway_id, stream] : gateways_) {
    stream->Close(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                               "this peer installed a snapshot from the leader; reconnect"));
  }
  gateways_.clear();
  gateway_ids_.clear();
  outbox_.clear();
  spdlog::info("storage.snapshot_installed zxid={} znodes={}", Zxid::Hex(zxid),
               state_->ZnodeCount());
  UpdateGauges();
  return absl::OkStatus();
}

absl::Status StorageDriver::PurgeNow() {
  // Keep the newest snap_retain_count snapshots and the log the oldest of
  // them needs (ZooKeeper's PurgeTxnLog).
  auto purged = PurgeSnapshots(options_.snapshot_dir,
                               static_cast<size_t>(std::max(3, options_.snap_retain_count)));
  if (!purged.ok()) return purged.status();
  auto kept = ListSnapshots(options_.snapshot_dir);
  if (!kept.ok()) return kept.status();
  if (kept->empty()) return absl::OkStatus();
  int64_t oldest = kept->back().zxid;
  absl::Status status = log_->PurgeBefore(oldest);
  if (!status.ok()) return status;
  spdlog::info("storage.purged snapshots_deleted={} log_before={}", purged->size(),
               Zxid::Hex(oldest));
  return absl::OkStatus();
}

StorageDriver::Published StorageDriver::published() const {
  std::lock_guard<std::mutex> lock(mu_);
  return published_;
}

void StorageDriver::UpdateGauges() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    published_.last_logged_zxid = durable_zxid_;
    published_.last_applied_zxid = state_->last_applied_zxid();
    published_.epoch = log_->CurrentEpoch();
    published_.znodes = static_cast<int64_t>(state_->ZnodeCount());
    published_.sessions = static_cast<int64_t>(state_->SessionCount());
    published_.watches = static_cast<int64_t>(state_->WatchCount());
    published_.gateways = static_cast<int64_t>(gateways_.size());
  }
  znodes_->Set(static_cast<double>(state_->ZnodeCount()));
  data_bytes_->Set(static_cast<double>(state_->ApproximateDataSize()));
  ephemerals_->Set(static_cast<double>(state_->EphemeralCount()));
  watches_->Set(static_cast<double>(state_->WatchCount()));
  sessions_->Set(static_cast<double>(state_->SessionCount()));
  last_applied_->Set(static_cast<double>(state_->last_applied_zxid()));
  last_logged_->Set(static_cast<double>(durable_zxid_));
}

ensemble::storage::v1::StorageState StorageDriver::State(bool with_log_epochs) const {
  ensemble::storage::v1::StorageState state;
  state.mutable_header()->set_server_id(options_.sid);
  state.mutable_header()->set_epoch(log_->CurrentEpoch());
  state.mutable_header()->set_last_zxid(durable_zxid_);
  state.set_last_logged_zxid(durable_zxid_);
  state.set_last_committed_zxid(committed_zxid_);
  state.set_last_applied_zxid(state_->last_applied_zxid());
  state.set_accepted_epoch(log_->AcceptedEpoch());
  state.set_current_epoch(log_->CurrentEpoch());
  state.set_oldest_logged_zxid(log_->PurgedZxid());
  state.set_znode_count(static_cast<int64_t>(state_->ZnodeCount()));
  state.set_tree_digest(static_cast<int64_t>(state_->Digest()));
  state.set_watch_count(static_cast<int64_t>(state_->WatchCount()));
  state.set_ephemerals_count(static_cast<int64_t>(state_->EphemeralCount()));
  state.set_approximate_data_size(state_->ApproximateDataSize());
  state.set_session_count(static_cast<int64_t>(state_->SessionCount()));
  if (with_log_epochs) {
    auto lasts = log_->EpochLastZxids();
    if (lasts.ok()) {
      for (int64_t zxid : *lasts) state.add_epoch_last_zxids(zxid);
    } else {
      spdlog::error("storage.log_epochs_failed error={}", lasts.status());
    }
  }
  return state;
}

}  // namespace ensemble::storage

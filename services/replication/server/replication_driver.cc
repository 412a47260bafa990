#include "services/replication/server/replication_driver.h"

#include <algorithm>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "common/base/zxid.h"
#include "common/runtime/log.h"

namespace ensemble::zab {

namespace {
constexpr int32_t kOpCreateSession = -10;
constexpr int32_t kOpCloseSession = -11;
}  // namespace

ReplicationDriver::ReplicationDriver(ReplicationOptions options, prometheus::Registry& registry)
    : options_(std::move(options)), sessions_(options_.tick_ms) {
  proposals_total_ = &prometheus::BuildCounter()
                          .Name("ensemble_replication_proposals_total")
                          .Help("Transactions ordered by this peer as leader.")
                          .Register(registry)
                          .Add({});
  expired_sessions_total_ = &prometheus::BuildCounter()
                                 .Name("ensemble_replication_sessions_expired_total")
                                 .Help("Sessions expired by the leader's session tracker.")
                                 .Register(registry)
                                 .Add({});
  batch_size_ = &prometheus::BuildHistogram()
                     .Name("ensemble_replication_proposal_batch_txns")
                     .Help("Transactions per batch sent to storage.")
                     .Register(registry)
                     .Add({}, prometheus::Histogram::BucketBoundaries{1, 2, 4, 8, 16, 32, 64, 128,
                                                                      256, 512, 1024});
  sessions_gauge_ = &prometheus::BuildGauge()
                         .Name("ensemble_replication_sessions")
                         .Help("Sessions tracked by the leader.")
                         .Register(registry)
                         .Add({});
  last_zxid_gauge_ = &prometheus::BuildGauge()
                          .Name("ensemble_replication_last_zxid")
                          .Help("The last zxid this peer ordered or accepted.")
                          .Register(registry)
                          .Add({});
}

ReplicationDriver::~ReplicationDriver() { Stop(); }

void ReplicationDriver::Start() {
  thread_ = std::thread([this] { Run(); });
}

void ReplicationDriver::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (storage_) storage_->Cancel();
}

void ReplicationDriver::OnSubmit(const std::shared_ptr<SubmitStream>& stream,
                                 ensemble::replication::v1::SubmitRequest&& request) {
  Enqueue(SubmitEvent{stream, std::move(request)});
}

void ReplicationDriver::OnSubmitDone(const std::shared_ptr<SubmitStream>&) {}

ReplicationDriver::Snapshot ReplicationDriver::GetSnapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return snapshot_;
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

void ReplicationDriver::Run() {
  storage_stub_ = ensemble::storage::v1::Storage::NewStub(
      grpc::CreateChannel(options_.storage_address, grpc::InsecureChannelCredentials()));
  // Session expiry is checked a few times per tick.
  const auto wait = std::chrono::milliseconds(std::max<int64_t>(10, options_.tick_ms / 4));
  while (true) {
    if (!sequencer_ && !Establish()) {
      std::unique_lock<std::mutex> lock(mu_);
      if (cv_.wait_for(lock, std::chrono::milliseconds(200), [&] { return stopping_; })) return;
      // Drop nothing: submits wait in the inbox until an epoch is established.
      continue;
    }
    std::deque<Event> events;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, wait, [&] { return stopping_ || !inbox_.empty(); });
      if (stopping_) return;
      events.swap(inbox_);
    }
    while (!events.empty()) {
      Event event = std::move(events.front());
      events.pop_front();
      std::visit([this](auto& e) { Handle(e); }, event);
      if (!sequencer_) {
        // Storage went away: keep what is left for after re-establishing.
        std::lock_guard<std::mutex> lock(mu_);
        inbox_.insert(inbox_.begin(), std::make_move_iterator(events.begin()),
                      std::make_move_iterator(events.end()));
        break;
      }
    }
    if (sequencer_) {
      // Everything submitted in this round goes to storage as one batch.
      if (!waiting_.empty()) Propose(std::exchange(waiting_, {}));
      Tick(NowMs());
    }
    std::lock_guard<std::mutex> lock(mu_);
    snapshot_.serving = sequencer_.has_value();
    snapshot_.epoch = sequencer_ ? sequencer_->epoch() : 0;
    snapshot_.last_zxid = sequencer_ ? sequencer_->last_zxid() : 0;
    snapshot_.committed_zxid = committed_zxid_;
    snapshot_.sessions = sessions_.size();
  }
}

bool ReplicationDriver::Establish() {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  ensemble::storage::v1::StorageState state;
  grpc::Status status = storage_stub_->GetState(&ctx, {}, &state);
  if (!status.ok()) {
    // Storage usually comes up a moment later: say so once, then every 10 s.
    int64_t now = NowMs();
    if (now - last_unreachable_log_ms_ >= 10000) {
      last_unreachable_log_ms_ = now;
      spdlog::warn("replication.storage_unreachable address={} error={}", options_.storage_address,
                   status.error_message());
    }
    return false;
  }
  grpc::ClientContext lctx;
  lctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  ensemble::storage::v1::ListSessionsResponse listed;
  status = storage_stub_->ListSessions(&lctx, {}, &listed);
  if (!status.ok()) {
    spdlog::warn("replication.list_sessions_failed error={}", status.error_message());
    return false;
  }

  // A quorum of one: this peer leads. The new epoch is above every epoch it
  // has accepted or seen in its log (ZAB discovery, trivially).
  int64_t epoch = std::max({state.accepted_epoch(), state.current_epoch(),
                            Zxid::Epoch(state.last_logged_zxid())}) +
                  1;
  storage_ = StorageLogStream::Open(
      [this](grpc::ClientContext* c,
             grpc::ClientBidiReactor<ensemble::storage::v1::LogRequest,
                                     ensemble::storage::v1::LogResponse>* r) {
        storage_stub_->async()->Log(c, r);
      },
      [this](ensemble::storage::v1::LogResponse&& response) {
        Enqueue(StorageResponse{std::move(response)});
      },
      [this](const grpc::Status& s) { Enqueue(StorageDown{s.error_message()}); });

  ensemble::storage::v1::LogRequest request;
  request.set_accepted_epoch(epoch);
  request.set_current_epoch(epoch);
  // Everything logged is held by the quorum (of one): commit it.
  request.set_commit_zxid(state.last_logged_zxid());
  SendToStorage(std::move(request));

  sequencer_.emplace(options_.sid, epoch, state.last_logged_zxid(), WallMs());
  committed_zxid_ = state.last_logged_zxid();
  applied_zxid_ = state.last_applied_zxid();
  // Session timeouts restart after a leader change (ZooKeeper does the same).
  int64_t now = NowMs();
  for (const auto& s : listed.sessions()) sessions_.Add(s.session_id(), s.timeout_ms(), now);
  spdlog::info("replication.leading epoch={} last_zxid={} sessions={}", epoch,
               Zxid::Hex(state.last_logged_zxid()), listed.sessions_size());
  return true;
}

void ReplicationDriver::Handle(SubmitEvent& event) {
  int64_t now = NowMs();
  auto& request = event.request;
  for (int64_t session_id : request.touch_sessions()) sessions_.Touch(session_id, now);
  for (auto& txn : *request.mutable_txns()) {
    if (txn.header().type() != kOpCreateSession) sessions_.Touch(txn.header().session_id(), now);
    waiting_.push_back(std::move(txn));
  }
  for (const auto& sync : request.syncs()) {
    // Quorum of one: this peer is the leader, so the barrier is its last
    // ordered zxid; it completes once storage has applied that far.
    if (!waiting_.empty()) Propose(std::exchange(waiting_, {}));
    pending_syncs_.push_back(PendingSync{event.stream, sync.id(), sequencer_->last_zxid()});
  }
  // With nothing in flight the barrier is already reached.
  CompleteSyncs();
}

void ReplicationDriver::CompleteSyncs() {
  while (!pending_syncs_.empty() && pending_syncs_.front().zxid <= applied_zxid_) {
    auto sync = pending_syncs_.front();
    pending_syncs_.pop_front();
    if (auto stream = sync.stream.lock()) {
      ensemble::replication::v1::SubmitResponse reply;
      auto* done = reply.add_syncs();
      done->set_id(sync.id);
      done->set_zxid(sync.zxid);
      stream->Send(std::move(reply));
    }
  }
}

void ReplicationDriver::Propose(std::vector<ensemble::v1::Txn> txns) {
  ensemble::storage::v1::LogRequest request;
  int64_t now_wall = WallMs(), now = NowMs();
  for (auto& txn : txns) {
    if (sequencer_->NeedsNewEpoch()) {
      // The 32-bit counter is used up: move to the next epoch without an
      // election (ZooKeeper re-elects here; clients never notice either way).
      int64_t epoch = sequencer_->epoch() + 1;
      request.set_accepted_epoch(epoch);
      request.set_current_epoch(epoch);
      sequencer_->StartEpoch(epoch);
      spdlog::info("replication.epoch_rollover epoch={}", epoch);
    }
    sequencer_->Prepare(&txn, now_wall);
    const auto& header = txn.header();
    if (header.type() == kOpCreateSession) {
      sessions_.Add(header.session_id(), txn.op().create_session().timeout_ms(), now);
    } else if (header.type() == kOpCloseSession) {
      sessions_.Remove(header.session_id());
    }
    *request.add_append() = std::move(txn);
  }
  if (request.append_size() == 0) return;
  proposals_total_->Increment(request.append_size());
  batch_size_->Observe(request.append_size());
  last_zxid_gauge_->Set(static_cast<double>(sequencer_->last_zxid()));
  request.set_commit_zxid(sequencer_->last_zxid());
  SendToStorage(std::move(request));
}

void ReplicationDriver::SendToStorage(ensemble::storage::v1::LogRequest request) {
  request.set_id(next_request_id_++);
  if (!storage_->Send(std::move(request))) {
    spdlog::error("replication.storage_send_failed");
  }
}

void ReplicationDriver::Handle(StorageResponse& event) {
  const auto& response = event.response;
  if (!response.error().empty()) {
    // Storage is fail-stop on a disk error; start over once it is back.
    spdlog::error("replication.storage_failed error={}", response.error());
    StorageDown down{response.error()};
    Handle(down);
    return;
  }
  committed_zxid_ = std::max(committed_zxid_, response.last_logged_zxid());
  applied_zxid_ = std::max(applied_zxid_, response.last_applied_zxid());
  CompleteSyncs();
}

void ReplicationDriver::Handle(StorageDown& event) {
  if (!sequencer_) return;
  spdlog::warn("replication.storage_down error={}", event.error);
  if (storage_) storage_->Cancel();
  storage_.reset();
  sequencer_.reset();
  // Unanswered syncs fail on the gateway's side by its own timeout; the
  // gateway sees the Submit stream stay up but no results.
  pending_syncs_.clear();
}

void ReplicationDriver::Tick(int64_t now_ms) {
  std::vector<ensemble::v1::Txn> closes;
  for (int64_t session_id : sessions_.TakeExpired(now_ms)) {
    ensemble::v1::Txn txn;
    txn.mutable_header()->set_session_id(session_id);
    txn.mutable_header()->set_type(kOpCloseSession);
    txn.mutable_op()->mutable_close_session();
    closes.push_back(std::move(txn));
    expired_sessions_total_->Increment();
    spdlog::info("replication.session_expired session=0x{:x}", session_id);
  }
  if (!closes.empty()) Propose(std::move(closes));
  sessions_gauge_->Set(static_cast<double>(sessions_.size()));
}

}  // namespace ensemble::zab

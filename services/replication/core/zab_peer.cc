// ZabPeer: construction, input dispatch, Ready assembly and the helpers both
// roles share. The leader's half is in zab_leader.cc, the learner's (follower
// and observer) in zab_learner.cc.

#include "services/replication/core/zab_peer.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/base/check.h"
#include "common/base/zxid.h"

namespace ensemble::zab {

namespace rv1 = ensemble::replication::v1;

namespace {
constexpr int32_t kOpCreateSession = -10;
constexpr int32_t kOpCloseSession = -11;

// Persist operation ranks, in the order a PersistRequest performs them.
constexpr int kRankTruncate = 0;
constexpr int kRankSnapshot = 1;
constexpr int kRankAppend = 2;
constexpr int kRankAcceptedEpoch = 3;
constexpr int kRankCurrentEpoch = 4;
}  // namespace

const char* RoleName(Role role) {
  switch (role) {
    case Role::kLooking:
      return "LOOKING";
    case Role::kFollowing:
      return "FOLLOWING";
    case Role::kLeading:
      return "LEADING";
    case Role::kObserving:
      return "OBSERVING";
  }
  return "?";
}

const char* PhaseName(Phase phase) {
  switch (phase) {
    case Phase::kElection:
      return "ELECTION";
    case Phase::kDiscovery:
      return "DISCOVERY";
    case Phase::kSynchronization:
      return "SYNCHRONIZATION";
    case Phase::kBroadcast:
      return "BROADCAST";
  }
  return "?";
}

ZabPeer::ZabPeer(ZabConfig config, PeerState state)
    : config_(std::move(config)),
      voters_(config_.voters.begin(), config_.voters.end()),
      observers_(config_.observers.begin(), config_.observers.end()),
      is_voter_(voters_.count(config_.sid) > 0),
      accepted_epoch_(state.accepted_epoch),
      current_epoch_(state.current_epoch),
      history_(state.log_floor_zxid, state.last_logged_zxid, state.epoch_last_zxids),
      committed_zxid_(state.last_applied_zxid),
      commit_emitted_(state.last_applied_zxid),
      applied_zxid_(state.last_applied_zxid),
      tracker_(config_.tick_ms),
      next_conn_(config_.conn_base + 1) {
  ENSEMBLE_CHECK(config_.sid > 0);
  ENSEMBLE_CHECK(is_voter_ != (observers_.count(config_.sid) > 0));
  ENSEMBLE_CHECK(!voters_.empty());
  ENSEMBLE_CHECK(config_.init_limit_ticks > 0 && config_.sync_limit_ticks > 0);
  ENSEMBLE_CHECK(config_.tick_ms > 0);
  ENSEMBLE_CHECK(state.current_epoch <= state.accepted_epoch);
  ENSEMBLE_CHECK(state.last_applied_zxid <= history_.last());
  durable_ = DurableState{history_.last(), accepted_epoch_, current_epoch_};
  written_ = durable_;
  for (const auto& s : state.sessions) known_sessions_[s.session_id()] = s.timeout_ms();
  Event(absl::StrCat(
      "start sid=", config_.sid, " voter=", is_voter_, " accepted_epoch=", accepted_epoch_,
      " current_epoch=", current_epoch_, " last_zxid=", Zxid::Hex(history_.last()),
      " floor=", Zxid::Hex(history_.floor()), " applied=", Zxid::Hex(applied_zxid_)));
  ready_.look_again = true;
  role_dirty_ = true;
}

// ---------------------------------------------------------------------------
// Inputs

void ZabPeer::ElectionFinished(const ElectionResult& result) {
  ENSEMBLE_CHECK(role_ == Role::kLooking);
  leader_sid_ = result.leader;
  if (result.leader == config_.sid) {
    if (!is_voter_) {
      GoLooking("observer_cannot_lead");
      return;
    }
    BecomeLeader();
  } else {
    if (voters_.count(result.leader) == 0) {
      GoLooking(absl::StrCat("leader_not_a_voter leader=", result.leader));
      return;
    }
    BecomeLearner();
  }
}

void ZabPeer::Step(int64_t from, const rv1::PeerMessage& message) {
  switch (role_) {
    case Role::kLooking:
      return;
    case Role::kLeading:
      LeaderStep(from, message);
      return;
    case Role::kFollowing:
    case Role::kObserving:
      if (from == leader_sid_) LearnerStep(message);
      return;
  }
}

void ZabPeer::Tick(int64_t wall_ms) {
  ++tick_;
  wall_ms_ = wall_ms;
  switch (role_) {
    case Role::kLooking:
      return;
    case Role::kLeading:
      LeaderTick();
      return;
    case Role::kFollowing:
    case Role::kObserving:
      LearnerTick();
      return;
  }
}

void ZabPeer::Submit(ensemble::v1::Txn txn) {
  switch (role_) {
    case Role::kLooking:
      ready_.rejected.push_back(std::move(txn));
      return;
    case Role::kLeading:
      LeaderSubmit(std::move(txn));
      return;
    case Role::kFollowing:
    case Role::kObserving:
      LearnerSubmit(std::move(txn));
      return;
  }
}

void ZabPeer::Touch(int64_t session_id) {
  switch (role_) {
    case Role::kLooking:
      return;
    case Role::kLeading:
      if (leader_phase_ == LeaderPhase::kBroadcast) tracker_.Touch(session_id, NowMs());
      return;
    case Role::kFollowing:
    case Role::kObserving:
      touches_.insert(session_id);
      return;
  }
}

void ZabPeer::SyncRequest(uint64_t id) {
  switch (role_) {
    case Role::kLooking:
      ready_.sync_done.push_back(SyncDone{id, 0, false});
      return;
    case Role::kLeading:
      LeaderSyncRequest(0, id);
      return;
    case Role::kFollowing:
    case Role::kObserving:
      if (learner_stage_ == LearnerStage::kBroadcast) {
        forwarded_syncs_.insert(id);
        rv1::PeerMessage m = ToLeader(rv1::PEER_MESSAGE_TYPE_SYNC);
        m.set_sync_id(id);
        Send(leader_sid_, std::move(m));
      } else {
        waiting_syncs_.push_back(id);
      }
      return;
  }
}

void ZabPeer::PersistDone(uint64_t seq) {
  bool changed = false;
  while (!inflight_persists_.empty() && inflight_persists_.front().first <= seq) {
    durable_ = inflight_persists_.front().second;
    inflight_persists_.pop_front();
    changed = true;
  }
  if (!changed || role_ != Role::kLeading) return;
  // The leader counts itself only once its own state is durable.
  MaybeAgreeEpoch();
  MaybeEstablish();
  MaybeAdvanceRollover();
  TryCommit();
  CompleteSyncs();
}

void ZabPeer::ApplyDone(int64_t zxid) {
  applied_zxid_ = std::max(applied_zxid_, zxid);
  TrimCache();
}

void ZabPeer::LogPurged(int64_t zxid) {
  if (zxid <= history_.floor()) return;
  history_.Purged(std::min(zxid, history_.last()));
  Event(absl::StrCat("log_purged floor=", Zxid::Hex(history_.floor())));
}

void ZabPeer::PeerDisconnected(int64_t sid) {
  switch (role_) {
    case Role::kLooking:
      return;
    case Role::kLeading:
      if (learners_.count(sid) > 0) DropLearner(sid, "disconnected");
      return;
    case Role::kFollowing:
    case Role::kObserving:
      if (sid == leader_sid_) GoLooking(absl::StrCat("leader_disconnected leader=", sid));
      return;
  }
}

// ---------------------------------------------------------------------------
// Output

bool ZabPeer::HasReady() const { return role_dirty_ || !ready_.empty(); }

Ready ZabPeer::GetReady() {
  ENSEMBLE_CHECK(!ready_outstanding_);
  if (role_dirty_) EmitRoleChange();
  Ready out = std::move(ready_);
  ready_ = Ready();
  last_message_index_.clear();
  current_persist_rank_ = -1;
  ready_outstanding_ = true;
  return out;
}

void ZabPeer::Advance() {
  ENSEMBLE_CHECK(ready_outstanding_);
  ready_outstanding_ = false;
}

std::vector<int64_t> ZabPeer::learner_sids() const {
  std::vector<int64_t> out;
  for (const auto& [sid, h] : learners_) out.push_back(sid);
  return out;
}

std::vector<ZabPeer::LearnerInfo> ZabPeer::learners() const {
  std::vector<LearnerInfo> out;
  for (const auto& [sid, h] : learners_) {
    LearnerInfo info;
    info.sid = sid;
    info.observer = h.observer;
    info.synced =
        h.stage == LearnerHandler::Stage::kSynced || h.stage == LearnerHandler::Stage::kBroadcast;
    info.acked_zxid = h.observer ? h.sent_zxid : h.acked_zxid;
    info.sent_zxid = h.sent_zxid;
    out.push_back(info);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Shared helpers

void ZabPeer::GoLooking(const std::string& reason) {
  Event(absl::StrCat("looking reason=", reason, " was=", RoleName(role_), " epoch=", epoch_,
                     " last_zxid=", Zxid::Hex(history_.last()),
                     " committed=", Zxid::Hex(committed_zxid_)));
  SetRole(Role::kLooking, Phase::kElection);
  leader_sid_ = 0;
  epoch_ = 0;
  RejectWaiting();
  FailPendingSyncs();
  // Leader state.
  learners_.clear();
  epoch_ackers_.clear();
  newleader_ackers_.clear();
  sequencer_.reset();
  rollover_ = Rollover();
  new_epoch_ = 0;
  // Learner state.
  conn_ = 0;
  ackepoch_.reset();
  touches_.clear();
  leader_commit_ = 0;
  ready_.look_again = true;
}

void ZabPeer::SetRole(Role role, Phase phase) {
  role_ = role;
  phase_ = phase;
  role_dirty_ = true;
}

void ZabPeer::EmitRoleChange() {
  ready_.role_change = RoleChange{role_, phase_, leader_sid_, epoch_, serving()};
  role_dirty_ = false;
}

void ZabPeer::Event(std::string line) { ready_.events.push_back(std::move(line)); }

void ZabPeer::Send(int64_t to, rv1::PeerMessage message, OutMessage::Fill fill) {
  message.set_sid(config_.sid);
  last_message_index_[to] = ready_.messages.size();
  ready_.messages.push_back(OutMessage{to, std::move(message), fill});
}

void ZabPeer::SendAfterPersist(int64_t to, rv1::PeerMessage message) {
  message.set_sid(config_.sid);
  ready_.messages_after_persist.push_back(
      OutMessage{to, std::move(message), OutMessage::Fill::kNone});
}

void ZabPeer::SendBatched(int64_t to, rv1::PeerMessage message) {
  auto it = last_message_index_.find(to);
  if (it != last_message_index_.end()) {
    OutMessage& last = ready_.messages[it->second];
    rv1::PeerMessage& m = last.message;
    bool chained = last.fill == OutMessage::Fill::kNone && m.type() == message.type() &&
                   m.conn() == message.conn() && m.txns_size() > 0 &&
                   m.txns(m.txns_size() - 1).header().zxid() == message.prev_zxid();
    if (chained) {
      for (auto& txn : *message.mutable_txns()) *m.add_txns() = std::move(txn);
      m.set_zxid(message.zxid());
      return;
    }
  }
  Send(to, std::move(message));
}

PersistRequest& ZabPeer::PersistSlot(int rank) {
  bool reuse =
      !ready_.to_persist.empty() &&
      (rank > current_persist_rank_ || (rank == current_persist_rank_ && rank >= kRankAppend));
  if (!reuse) {
    PersistRequest request;
    request.seq = next_persist_seq_++;
    ready_.to_persist.push_back(std::move(request));
  }
  current_persist_rank_ = rank;
  PersistRequest& request = ready_.to_persist.back();
  if (inflight_persists_.empty() || inflight_persists_.back().first != request.seq) {
    inflight_persists_.emplace_back(request.seq, written_);
  }
  return request;
}

void ZabPeer::PersistAppend(const ensemble::v1::Txn& txn) {
  PersistRequest& r = PersistSlot(kRankAppend);
  r.append.push_back(txn);
  written_.last_zxid = txn.header().zxid();
  inflight_persists_.back().second = written_;
}

void ZabPeer::PersistTruncate(int64_t zxid) {
  PersistRequest& r = PersistSlot(kRankTruncate);
  r.truncate_after_zxid = zxid;
  written_.last_zxid = zxid;
  inflight_persists_.back().second = written_;
}

void ZabPeer::PersistSnapshot(int64_t zxid, std::string data) {
  PersistRequest& r = PersistSlot(kRankSnapshot);
  r.snapshot = SnapshotInstall{zxid, std::move(data)};
  written_.last_zxid = zxid;
  inflight_persists_.back().second = written_;
}

void ZabPeer::PersistAcceptedEpoch(int64_t epoch) {
  PersistRequest& r = PersistSlot(kRankAcceptedEpoch);
  r.accepted_epoch = epoch;
  written_.accepted_epoch = epoch;
  inflight_persists_.back().second = written_;
}

void ZabPeer::PersistCurrentEpoch(int64_t epoch) {
  PersistRequest& r = PersistSlot(kRankCurrentEpoch);
  r.current_epoch = epoch;
  written_.current_epoch = epoch;
  inflight_persists_.back().second = written_;
}

void ZabPeer::EmitCommit(int64_t zxid) {
  if (zxid <= commit_emitted_) return;
  commit_emitted_ = zxid;
  ready_.commit_up_to = zxid;
}

void ZabPeer::NoteSessions(const ensemble::v1::Txn& txn) {
  const auto& header = txn.header();
  if (header.type() == kOpCreateSession) {
    known_sessions_[header.session_id()] = txn.op().create_session().timeout_ms();
  } else if (header.type() == kOpCloseSession) {
    known_sessions_.erase(header.session_id());
  }
}

void ZabPeer::RejectWaiting() {
  for (auto& txn : waiting_) ready_.rejected.push_back(std::move(txn));
  waiting_.clear();
}

void ZabPeer::FailPendingSyncs() {
  for (const PendingSync& p : pending_syncs_) {
    if (p.from == 0) ready_.sync_done.push_back(SyncDone{p.id, 0, false});
  }
  pending_syncs_.clear();
  for (uint64_t id : forwarded_syncs_) ready_.sync_done.push_back(SyncDone{id, 0, false});
  forwarded_syncs_.clear();
  for (uint64_t id : waiting_syncs_) ready_.sync_done.push_back(SyncDone{id, 0, false});
  waiting_syncs_.clear();
}

void ZabPeer::TrimCache() {
  // Committed transactions leave the cache once applied locally (and beyond
  // the bound); uncommitted ones always stay.
  history_.TrimCache(std::min(committed_zxid_, applied_zxid_), config_.log_cache_txns);
}

}  // namespace ensemble::zab

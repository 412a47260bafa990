// The leader's half of ZabPeer: ZooKeeper's Leader.lead() and LearnerHandler,
// one LearnerHandler record per connected learner instead of one thread.
//
// Discovery: FOLLOWERINFO from a quorum (this peer included) -> the new epoch is
// one above every acceptedEpoch reported (Leader.getEpochToPropose) ->
// LEADERINFO -> ACKEPOCH from a quorum, counting ourselves once our own
// acceptedEpoch is durable, skipping replies of -1 and dropping a learner whose
// (currentEpoch, lastZxid) is ahead of ours (Leader.waitForEpochAck).
// Synchronisation: per learner DIFF / TRUNC / SNAP then NEWLEADER
// (LearnerHandler.syncFollower); established once a quorum acked NEWLEADER,
// ourselves included once our currentEpoch is durable (waitForNewLeaderAck).
// Broadcast: PROPOSAL to followers, cumulative ACKs, in-order commits,
// INFORM to observers, PINGs, quorum checks every tick.

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/base/check.h"
#include "common/base/zxid.h"
#include "services/replication/core/zab_peer.h"

namespace ensemble::zab {

namespace rv1 = ensemble::replication::v1;

namespace {
constexpr int32_t kOpCreateSession = -10;
constexpr int32_t kOpCloseSession = -11;
// Transactions per PROPOSAL message while syncing from memory.
constexpr size_t kSyncBatchTxns = 500;
}  // namespace

void ZabPeer::BecomeLeader() {
  SetRole(Role::kLeading, Phase::kDiscovery);
  leader_sid_ = config_.sid;
  leader_phase_ = LeaderPhase::kDiscovery;
  leader_phase_tick_ = tick_;
  learners_.clear();
  epoch_ackers_.clear();
  newleader_ackers_.clear();
  new_epoch_ = 0;
  epoch_ = 0;
  summary_epoch_ = current_epoch_;
  summary_zxid_ = history_.last();
  rollover_ = Rollover();
  sequencer_.reset();
  Event(absl::StrCat("leading accepted_epoch=", accepted_epoch_, " current_epoch=", current_epoch_,
                     " last_zxid=", Zxid::Hex(history_.last())));
  MaybeChooseEpoch();
}

void ZabPeer::LeaderStep(int64_t from, const rv1::PeerMessage& m) {
  if (m.type() == rv1::PEER_MESSAGE_TYPE_FOLLOWERINFO ||
      m.type() == rv1::PEER_MESSAGE_TYPE_OBSERVERINFO) {
    OnFollowerInfo(from, m);
    return;
  }
  auto it = learners_.find(from);
  // Messages of another connection (an older one, or a learner we dropped)
  // are stale.
  if (it == learners_.end() || it->second.conn != m.conn()) return;
  LearnerHandler& h = it->second;
  h.last_heard_tick = tick_;
  switch (m.type()) {
    case rv1::PEER_MESSAGE_TYPE_ACKEPOCH:
      OnAckEpoch(from, h, m);
      return;
    case rv1::PEER_MESSAGE_TYPE_ACK:
      OnLearnerAck(from, h, m);
      return;
    case rv1::PEER_MESSAGE_TYPE_PING:
      OnLearnerPing(from, h, m);
      return;
    case rv1::PEER_MESSAGE_TYPE_REQUEST:
      OnLearnerRequest(from, h, m);
      return;
    case rv1::PEER_MESSAGE_TYPE_SYNC:
      if (h.stage == LearnerHandler::Stage::kBroadcast) LeaderSyncRequest(from, m.sync_id());
      return;
    default:
      return;
  }
}

void ZabPeer::OnFollowerInfo(int64_t from, const rv1::PeerMessage& m) {
  bool observer = m.type() == rv1::PEER_MESSAGE_TYPE_OBSERVERINFO;
  // Only configured members, in their configured role.
  if (observer ? observers_.count(from) == 0 : voters_.count(from) == 0) return;
  if (from == config_.sid) return;
  auto it = learners_.find(from);
  if (it != learners_.end() && it->second.conn == m.conn()) {
    // The learner repeats FOLLOWERINFO until it hears LEADERINFO.
    it->second.last_heard_tick = tick_;
    if (it->second.stage == LearnerHandler::Stage::kAwaitAckEpoch && new_epoch_ != 0 &&
        rollover_.stage == Rollover::Stage::kNone) {
      SendLeaderInfo(from, it->second);
    }
    return;
  }
  // A new connection. During a roll-over new learners wait (they repeat
  // FOLLOWERINFO every tick and are served once it is over).
  if (rollover_.stage != Rollover::Stage::kNone) return;
  if (it != learners_.end()) Event(absl::StrCat("learner_reconnected sid=", from));
  LearnerHandler h;
  h.observer = observer;
  h.conn = m.conn();
  h.accepted_epoch = m.epoch();
  h.last_zxid = m.zxid();
  h.last_heard_tick = tick_;
  h.stage_tick = tick_;
  learners_[from] = h;
  Event(absl::StrCat("learner_info sid=", from, " observer=", observer,
                     " accepted_epoch=", m.epoch(), " last_zxid=", Zxid::Hex(m.zxid())));
  if (leader_phase_ == LeaderPhase::kDiscovery) {
    MaybeChooseEpoch();
  } else {
    SendLeaderInfo(from, learners_[from]);
  }
}

void ZabPeer::MaybeChooseEpoch() {
  if (leader_phase_ != LeaderPhase::kDiscovery) return;
  std::set<int64_t> connected{config_.sid};
  for (const auto& [sid, h] : learners_) connected.insert(sid);
  if (!HasQuorum(connected)) return;
  // Leader.getEpochToPropose: one above every acceptedEpoch we heard of.
  int64_t highest = std::max({accepted_epoch_, current_epoch_, Zxid::Epoch(history_.last())});
  for (const auto& [sid, h] : learners_) highest = std::max(highest, h.accepted_epoch);
  new_epoch_ = highest + 1;
  epoch_ = new_epoch_;
  accepted_epoch_ = new_epoch_;
  PersistAcceptedEpoch(new_epoch_);
  leader_phase_ = LeaderPhase::kEpochProposed;
  leader_phase_tick_ = tick_;
  role_dirty_ = true;
  Event(absl::StrCat("epoch_proposed epoch=", new_epoch_));
  for (auto& [sid, h] : learners_) SendLeaderInfo(sid, h);
  MaybeAgreeEpoch();
}

void ZabPeer::SendLeaderInfo(int64_t sid, const LearnerHandler& h) {
  rv1::PeerMessage m = ToLearner(h, rv1::PEER_MESSAGE_TYPE_LEADERINFO);
  m.set_epoch(new_epoch_);
  Send(sid, std::move(m));
}

void ZabPeer::OnAckEpoch(int64_t from, LearnerHandler& h, const rv1::PeerMessage& m) {
  if (rollover_.stage == Rollover::Stage::kAwaitAckEpoch &&
      (h.stage == LearnerHandler::Stage::kSynced || h.stage == LearnerHandler::Stage::kBroadcast)) {
    if (m.epoch() != -1 && !h.observer) h.rollover_acked_epoch = rollover_.epoch;
    MaybeAdvanceRollover();
    return;
  }
  if (h.stage != LearnerHandler::Stage::kAwaitAckEpoch) return;
  h.current_epoch = m.epoch();
  h.last_zxid = m.zxid();
  h.stage = LearnerHandler::Stage::kAwaitEpochQuorum;
  h.stage_tick = tick_;
  if (leader_phase_ == LeaderPhase::kEpochProposed) {
    if (m.epoch() != -1) {
      // Leader.waitForEpochAck: a follower more recent than us cannot be
      // synced by us; drop it (it will time out and look again).
      bool ahead =
          m.epoch() > summary_epoch_ || (m.epoch() == summary_epoch_ && m.zxid() > summary_zxid_);
      if (ahead) {
        DropLearner(from, absl::StrCat("follower_ahead current_epoch=", m.epoch(),
                                       " last_zxid=", Zxid::Hex(m.zxid())));
        return;
      }
      if (!h.observer) epoch_ackers_.insert(from);
    }
    MaybeAgreeEpoch();
    return;
  }
  // The epoch is agreed already: sync at once (learners that join late).
  StartSync(from, h);
}

void ZabPeer::MaybeAgreeEpoch() {
  if (role_ != Role::kLeading || leader_phase_ != LeaderPhase::kEpochProposed) return;
  if (durable_.accepted_epoch != new_epoch_) return;
  std::set<int64_t> ackers = epoch_ackers_;
  ackers.insert(config_.sid);
  if (!HasQuorum(ackers)) return;
  leader_phase_ = LeaderPhase::kSync;
  leader_phase_tick_ = tick_;
  SetRole(Role::kLeading, Phase::kSynchronization);
  current_epoch_ = new_epoch_;
  PersistCurrentEpoch(new_epoch_);
  Event(absl::StrCat("epoch_agreed epoch=", new_epoch_, " ackers=", ackers.size()));
  for (auto& [sid, h] : learners_) {
    if (h.stage == LearnerHandler::Stage::kAwaitEpochQuorum) StartSync(sid, h);
  }
  MaybeEstablish();
}

void ZabPeer::StartSync(int64_t sid, LearnerHandler& h) {
  // What the learner must end up holding: the whole history for a follower;
  // for an observer only what is committed (the rest reaches it by INFORM).
  const int64_t end =
      (h.observer && leader_phase_ == LeaderPhase::kBroadcast) ? committed_zxid_ : history_.last();
  const int64_t peer = h.last_zxid;
  int64_t from = 0;
  std::string mode;
  if (peer == end || (peer < end && history_.Contains(peer))) {
    // LearnerHandler.syncFollower: the learner's last zxid is in our history.
    rv1::PeerMessage m = ToLearner(h, rv1::PEER_MESSAGE_TYPE_DIFF);
    m.set_zxid(peer);
    Send(sid, std::move(m));
    from = peer;
    mode = "DIFF";
  } else {
    // The learner holds something we do not (an old epoch's proposals that
    // never committed) or is past `end`: truncate to the last zxid we share.
    int64_t common = history_.LastBefore(peer);
    if (common >= 0) common = std::min(common, end);
    if (common >= 0) {
      rv1::PeerMessage m = ToLearner(h, rv1::PEER_MESSAGE_TYPE_TRUNC);
      m.set_zxid(common);
      Send(sid, std::move(m));
      from = common;
      mode = "TRUNC";
    } else {
      // Our log does not reach back that far: a snapshot of our applied state,
      // then the log after it. The snapshot's real zxid (set by the driver) is
      // >= `from`; the learner skips what the snapshot already holds.
      from = std::min(std::max(applied_zxid_, history_.floor()), end);
      rv1::PeerMessage m = ToLearner(h, rv1::PEER_MESSAGE_TYPE_SNAP);
      m.set_zxid(from);
      for (const auto& [session, timeout] : known_sessions_) {
        auto* s = m.add_known_sessions();
        s->set_session_id(session);
        s->set_timeout_ms(timeout);
      }
      Send(sid, std::move(m), OutMessage::Fill::kSnapshotToSend);
      mode = "SNAP";
    }
  }
  Event(absl::StrCat("sync sid=", sid, " mode=", mode, " peer_last=", Zxid::Hex(peer),
                     " from=", Zxid::Hex(from), " to=", Zxid::Hex(end)));
  // The transactions (from, end]: from the log if older than the cache, then
  // from memory.
  int64_t cursor = from;
  if (end > cursor && cursor < history_.cache_floor()) {
    int64_t upto = std::min(history_.cache_floor(), end);
    rv1::PeerMessage m = ToLearner(h, rv1::PEER_MESSAGE_TYPE_PROPOSAL);
    m.set_prev_zxid(cursor);
    m.set_zxid(upto);
    Send(sid, std::move(m), OutMessage::Fill::kLogToSend);
    cursor = upto;
  }
  if (end > cursor) {
    std::vector<ensemble::v1::Txn> txns = history_.CachedRange(cursor, end);
    for (size_t i = 0; i < txns.size(); i += kSyncBatchTxns) {
      rv1::PeerMessage m = ToLearner(h, rv1::PEER_MESSAGE_TYPE_PROPOSAL);
      m.set_prev_zxid(cursor);
      size_t n = std::min(kSyncBatchTxns, txns.size() - i);
      for (size_t j = 0; j < n; ++j) *m.add_txns() = std::move(txns[i + j]);
      cursor = m.txns(m.txns_size() - 1).header().zxid();
      m.set_zxid(cursor);
      Send(sid, std::move(m));
    }
  }
  ENSEMBLE_CHECK(cursor == end || end <= from);
  rv1::PeerMessage newleader = ToLearner(h, rv1::PEER_MESSAGE_TYPE_NEWLEADER);
  newleader.set_epoch(new_epoch_);
  // NEWLEADER names the last zxid of the history it closes: a learner that
  // lost part of it notices (a gap) instead of acking a short log.
  newleader.set_zxid(cursor);
  Send(sid, std::move(newleader));
  h.sent_zxid = std::max(end, from);
  h.sync_end_zxid = cursor;
  h.acked_zxid = 0;
  h.stage = LearnerHandler::Stage::kAwaitNewLeaderAck;
  h.stage_tick = tick_;
}

void ZabPeer::OnLearnerAck(int64_t from, LearnerHandler& h, const rv1::PeerMessage& m) {
  if (m.zxid() > history_.last()) return;  // not from our history: ignore
  switch (h.stage) {
    case LearnerHandler::Stage::kAwaitNewLeaderAck:
      // The ack of NEWLEADER: the learner holds our history durably and has
      // persisted currentEpoch = new_epoch_.
      if (m.epoch() < new_epoch_ || m.zxid() < h.sync_end_zxid) return;
      h.acked_zxid = std::max(h.acked_zxid, m.zxid());
      h.stage = LearnerHandler::Stage::kSynced;
      h.stage_tick = tick_;
      if (!h.observer) newleader_ackers_.insert(from);
      if (leader_phase_ == LeaderPhase::kBroadcast) {
        SendUpToDate(from, h);
        TryCommit();
      } else {
        MaybeEstablish();
      }
      return;
    case LearnerHandler::Stage::kSynced:
    case LearnerHandler::Stage::kBroadcast:
      h.acked_zxid = std::max(h.acked_zxid, m.zxid());
      if (rollover_.stage == Rollover::Stage::kAwaitNewLeaderAck && !h.observer &&
          m.epoch() == rollover_.epoch && m.zxid() >= rollover_.newleader_zxid) {
        rollover_.newleader_acks.insert(from);
        MaybeAdvanceRollover();
      }
      TryCommit();
      return;
    default:
      return;
  }
}

void ZabPeer::MaybeEstablish() {
  if (role_ != Role::kLeading || leader_phase_ != LeaderPhase::kSync) return;
  if (durable_.current_epoch != new_epoch_) return;
  std::set<int64_t> ackers = newleader_ackers_;
  ackers.insert(config_.sid);
  if (!HasQuorum(ackers)) return;
  Establish();
}

void ZabPeer::Establish() {
  leader_phase_ = LeaderPhase::kBroadcast;
  leader_phase_tick_ = tick_;
  epoch_ = new_epoch_;
  SetRole(Role::kLeading, Phase::kBroadcast);
  sequencer_.emplace(config_.sid, epoch_, history_.last(), WallMs());
  if (config_.initial_counter_for_testing > 0) {
    sequencer_->SetCounterForTesting(config_.initial_counter_for_testing);
  }
  Event(absl::StrCat("established epoch=", epoch_, " history_end=", Zxid::Hex(history_.last()),
                     " followers=", newleader_ackers_.size()));
  // The new epoch's initial history is our whole log: a quorum holds it.
  CommitTo(history_.last());
  for (auto& [sid, h] : learners_) {
    if (h.stage == LearnerHandler::Stage::kSynced) SendUpToDate(sid, h);
  }
  // Session timeouts restart with the new leader (as in ZooKeeper).
  tracker_.Clear();
  for (const auto& [session, timeout] : known_sessions_) tracker_.Add(session, timeout, NowMs());
  StartSyncRound();
  ProposeWaiting();
}

void ZabPeer::SendUpToDate(int64_t sid, LearnerHandler& h) {
  rv1::PeerMessage m = ToLearner(h, rv1::PEER_MESSAGE_TYPE_UPTODATE);
  m.set_zxid(std::min(committed_zxid_, h.sent_zxid));
  Send(sid, std::move(m));
  h.stage = LearnerHandler::Stage::kBroadcast;
  h.stage_tick = tick_;
}

void ZabPeer::DropLearner(int64_t sid, const std::string& reason) {
  learners_.erase(sid);
  Event(absl::StrCat("learner_dropped sid=", sid, " reason=", reason));
}

void ZabPeer::OnLearnerPing(int64_t from, LearnerHandler& h, const rv1::PeerMessage& m) {
  h.confirmed_round = std::max<uint64_t>(h.confirmed_round, m.sync_id());
  bool synced =
      h.stage == LearnerHandler::Stage::kSynced || h.stage == LearnerHandler::Stage::kBroadcast;
  // The learner reports its durable zxid once its NEWLEADER is durable: a
  // cumulative ack (covers a lost ACK).
  if (synced && m.zxid() > 0 && m.zxid() <= history_.last()) {
    h.acked_zxid = std::max(h.acked_zxid, m.zxid());
  }
  if (leader_phase_ == LeaderPhase::kBroadcast) {
    for (int64_t session : m.sessions()) tracker_.Touch(session, NowMs());
  }
  TryCommit();
  CompleteSyncs();
}

void ZabPeer::OnLearnerRequest(int64_t from, LearnerHandler& h, const rv1::PeerMessage& m) {
  if (h.stage != LearnerHandler::Stage::kBroadcast) return;
  if (m.request_seq() <= h.last_request_seq) return;  // a duplicate
  h.last_request_seq = m.request_seq();
  for (const auto& txn : m.txns()) {
    if (waiting_.size() >= config_.max_waiting_txns) {
      // Dropped: the client's request times out (the txn is not ours to reject).
      Event(absl::StrCat("request_dropped from=", from));
      continue;
    }
    if (leader_phase_ == LeaderPhase::kBroadcast && txn.header().type() != kOpCreateSession) {
      tracker_.Touch(txn.header().session_id(), NowMs());
    }
    waiting_.push_back(txn);
  }
  ProposeWaiting();
}

void ZabPeer::LeaderSubmit(ensemble::v1::Txn txn) {
  if (waiting_.size() >= config_.max_waiting_txns) {
    ready_.rejected.push_back(std::move(txn));
    return;
  }
  if (leader_phase_ == LeaderPhase::kBroadcast && txn.header().type() != kOpCreateSession) {
    tracker_.Touch(txn.header().session_id(), NowMs());
  }
  waiting_.push_back(std::move(txn));
  ProposeWaiting();
}

void ZabPeer::ProposeWaiting() {
  if (leader_phase_ != LeaderPhase::kBroadcast) return;
  while (!waiting_.empty() && rollover_.stage == Rollover::Stage::kNone) {
    if (sequencer_->NeedsNewEpoch()) {
      StartRollover();
      return;
    }
    ensemble::v1::Txn txn = std::move(waiting_.front());
    waiting_.pop_front();
    Propose(std::move(txn));
  }
}

void ZabPeer::Propose(ensemble::v1::Txn txn) {
  ENSEMBLE_CHECK(sequencer_.has_value() && !sequencer_->NeedsNewEpoch());
  const int64_t prev = history_.last();
  sequencer_->Prepare(&txn, WallMs());
  const auto& header = txn.header();
  ENSEMBLE_CHECK(header.zxid() > prev);
  NoteSessions(txn);
  if (header.type() == kOpCreateSession) {
    tracker_.Add(header.session_id(), txn.op().create_session().timeout_ms(), NowMs());
  } else if (header.type() == kOpCloseSession) {
    tracker_.Remove(header.session_id());
  }
  history_.Append(txn);
  PersistAppend(txn);
  for (auto& [sid, h] : learners_) {
    if (h.observer || h.stage < LearnerHandler::Stage::kAwaitNewLeaderAck) continue;
    rv1::PeerMessage m = ToLearner(h, rv1::PEER_MESSAGE_TYPE_PROPOSAL);
    m.set_prev_zxid(prev);
    m.set_zxid(header.zxid());
    *m.add_txns() = txn;
    SendBatched(sid, std::move(m));
    h.sent_zxid = header.zxid();
  }
}

void ZabPeer::TryCommit() {
  if (role_ != Role::kLeading || leader_phase_ != LeaderPhase::kBroadcast) return;
  // Cumulative acks of the voters: ours once durable, the followers' once they
  // acked NEWLEADER. The highest zxid a quorum holds is committed.
  std::map<int64_t, int64_t> acked{{config_.sid, durable_.last_zxid}};
  for (const auto& [sid, h] : learners_) {
    if (h.observer) continue;
    if (h.stage == LearnerHandler::Stage::kSynced || h.stage == LearnerHandler::Stage::kBroadcast) {
      acked[sid] = h.acked_zxid;
    }
  }
  CommitTo(std::min(QuorumValue(acked, committed_zxid_), history_.last()));
}

void ZabPeer::CommitTo(int64_t zxid) {
  if (zxid <= committed_zxid_) return;
  committed_zxid_ = zxid;
  for (auto& [sid, h] : learners_) {
    if (h.stage < LearnerHandler::Stage::kAwaitNewLeaderAck) continue;
    if (!h.observer) {
      auto it = last_message_index_.find(sid);
      if (it != last_message_index_.end()) {
        rv1::PeerMessage& last = ready_.messages[it->second].message;
        if (last.type() == rv1::PEER_MESSAGE_TYPE_COMMIT && last.conn() == h.conn) {
          last.set_zxid(zxid);
          continue;
        }
      }
      rv1::PeerMessage m = ToLearner(h, rv1::PEER_MESSAGE_TYPE_COMMIT);
      m.set_zxid(zxid);
      Send(sid, std::move(m));
    } else if (h.sent_zxid < zxid) {
      // INFORM: proposal and commit in one, observers only see committed txns.
      rv1::PeerMessage m = ToLearner(h, rv1::PEER_MESSAGE_TYPE_INFORM);
      m.set_prev_zxid(h.sent_zxid);
      for (auto& txn : history_.CachedRange(h.sent_zxid, zxid)) *m.add_txns() = std::move(txn);
      m.set_zxid(zxid);
      h.sent_zxid = zxid;
      SendBatched(sid, std::move(m));
    }
  }
  EmitCommit(zxid);
  CompleteSyncs();
  TrimCache();
}

// ---- sync barriers ----

void ZabPeer::LeaderSyncRequest(int64_t from, uint64_t id) {
  PendingSync p;
  p.from = from;
  p.id = id;
  p.zxid = history_.last();
  pending_syncs_.push_back(p);
  if (leader_phase_ == LeaderPhase::kBroadcast) StartSyncRound();
}

void ZabPeer::StartSyncRound() {
  // One confirmation round covers every barrier that has none yet; PINGs
  // queued in this Ready for the same learner merge into one.
  bool needed = false;
  for (const PendingSync& p : pending_syncs_) needed |= p.round == 0;
  if (!needed) return;
  ++sync_round_;
  for (PendingSync& p : pending_syncs_) {
    if (p.round == 0) {
      p.round = sync_round_;
      p.zxid = std::max(p.zxid, history_.last());
    }
  }
  for (auto& [sid, h] : learners_) {
    if (h.observer || !(h.stage == LearnerHandler::Stage::kSynced ||
                        h.stage == LearnerHandler::Stage::kBroadcast)) {
      continue;
    }
    SendPing(sid, h);
  }
  CompleteSyncs();
}

void ZabPeer::CompleteSyncs() {
  if (role_ != Role::kLeading || leader_phase_ != LeaderPhase::kBroadcast) return;
  if (pending_syncs_.empty()) return;
  // The highest round a quorum (us included) has echoed: those learners still
  // followed us, in our epoch, after the barrier was taken.
  std::map<int64_t, int64_t> rounds{{config_.sid, static_cast<int64_t>(sync_round_)}};
  for (const auto& [sid, h] : learners_) {
    if (h.observer) continue;
    if (h.stage == LearnerHandler::Stage::kSynced || h.stage == LearnerHandler::Stage::kBroadcast) {
      rounds[sid] = static_cast<int64_t>(h.confirmed_round);
    }
  }
  const uint64_t confirmed = static_cast<uint64_t>(QuorumValue(rounds, 0));
  for (auto it = pending_syncs_.begin(); it != pending_syncs_.end();) {
    if (it->round == 0 || it->round > confirmed || it->zxid > committed_zxid_) {
      ++it;
      continue;
    }
    if (it->from == 0) {
      ready_.sync_done.push_back(SyncDone{it->id, it->zxid, true});
    } else {
      auto h = learners_.find(it->from);
      if (h != learners_.end()) {
        rv1::PeerMessage m = ToLearner(h->second, rv1::PEER_MESSAGE_TYPE_SYNC);
        m.set_sync_id(it->id);
        m.set_zxid(it->zxid);
        Send(it->from, std::move(m));
      }
    }
    it = pending_syncs_.erase(it);
  }
}

// ---- time ----

void ZabPeer::LeaderTick() {
  const uint64_t init_limit = static_cast<uint64_t>(config_.init_limit_ticks);
  const uint64_t sync_limit = static_cast<uint64_t>(config_.sync_limit_ticks);
  if (leader_phase_ != LeaderPhase::kBroadcast && tick_ - leader_phase_tick_ > init_limit) {
    GoLooking(absl::StrCat("leader_timeout phase=", static_cast<int>(leader_phase_),
                           " learners=", learners_.size()));
    return;
  }
  // Learners that went quiet, or whose sync does not progress.
  std::vector<std::pair<int64_t, std::string>> drop;
  for (const auto& [sid, h] : learners_) {
    bool synced =
        h.stage == LearnerHandler::Stage::kSynced || h.stage == LearnerHandler::Stage::kBroadcast;
    if (synced && tick_ - h.last_heard_tick > sync_limit) {
      drop.emplace_back(sid, "silent");
    } else if (!synced &&
               (tick_ - h.stage_tick > init_limit || tick_ - h.last_heard_tick > init_limit)) {
      drop.emplace_back(sid, "sync_stalled");
    }
  }
  for (const auto& [sid, reason] : drop) DropLearner(sid, reason);
  if (leader_phase_ == LeaderPhase::kBroadcast) {
    // Leader.lead(): step down unless a quorum of synced followers is alive.
    std::set<int64_t> alive{config_.sid};
    for (const auto& [sid, h] : learners_) {
      if (CountsForQuorum(h)) alive.insert(sid);
    }
    if (!HasQuorum(alive)) {
      GoLooking(absl::StrCat("lost_quorum alive=", alive.size(), " epoch=", epoch_));
      return;
    }
    if (rollover_.stage != Rollover::Stage::kNone && tick_ - rollover_.start_tick > init_limit) {
      GoLooking(absl::StrCat("rollover_stalled epoch=", rollover_.epoch));
      return;
    }
    ExpireSessions();
  }
  for (auto& [sid, h] : learners_) {
    if (h.stage == LearnerHandler::Stage::kAwaitAckEpoch && new_epoch_ != 0 &&
        rollover_.stage == Rollover::Stage::kNone) {
      SendLeaderInfo(sid, h);
    }
    SendPing(sid, h);
  }
}

void ZabPeer::SendPing(int64_t sid, const LearnerHandler& h) {
  rv1::PeerMessage m = ToLearner(h, rv1::PEER_MESSAGE_TYPE_PING);
  m.set_zxid(h.sent_zxid);
  bool synced = h.stage >= LearnerHandler::Stage::kAwaitNewLeaderAck;
  m.set_commit_zxid(synced ? std::min(committed_zxid_, h.sent_zxid) : 0);
  m.set_sync_id(sync_round_);
  m.set_uptodate(h.stage == LearnerHandler::Stage::kBroadcast);
  // A PING queued earlier in this Ready for the same connection is replaced
  // by this newer one (its round and commit point are included).
  auto it = last_message_index_.find(sid);
  if (it != last_message_index_.end()) {
    rv1::PeerMessage& last = ready_.messages[it->second].message;
    if (last.type() == rv1::PEER_MESSAGE_TYPE_PING && last.conn() == h.conn) {
      m.set_sid(config_.sid);
      last = std::move(m);
      return;
    }
  }
  Send(sid, std::move(m));
}

void ZabPeer::ExpireSessions() {
  for (int64_t session : tracker_.TakeExpired(NowMs())) {
    // SessionTrackerImpl expiry -> closeSession through the normal pipeline.
    ensemble::v1::Txn txn;
    txn.mutable_header()->set_session_id(session);
    txn.mutable_header()->set_type(kOpCloseSession);
    txn.mutable_op()->mutable_close_session();
    Event(absl::StrCat("session_expired session=0x", absl::Hex(session)));
    LeaderSubmit(std::move(txn));
  }
}

// ---- zxid counter roll-over ----
//
// The 32-bit counter is used up. ZooKeeper shuts the leader down and re-elects
// (clients see a disconnect). We change the epoch in place, with the same two
// quorum steps that establish any epoch, so every ZAB invariant keeps holding:
//   1. LEADERINFO(e+1) to every synced learner; each persists acceptedEpoch
//      e+1 and answers ACKEPOCH. A quorum of acks (us included once our own
//      acceptedEpoch is durable) makes e+1 ours: no other leader can gather a
//      quorum for e+1, since its epoch choice would see e+1 in that quorum.
//   2. NEWLEADER(e+1); each learner persists currentEpoch e+1 and acks. With a
//      quorum (us once our currentEpoch is durable) we continue at (e+1, 1).
// Writes submitted meanwhile wait and are proposed afterwards: no client sees
// an error. Learners still syncing are dropped (they reconnect); a roll-over
// that does not finish within initLimit ends in a normal re-election.

void ZabPeer::StartRollover() {
  rollover_ = Rollover();
  rollover_.stage = Rollover::Stage::kAwaitAckEpoch;
  rollover_.epoch = std::max(accepted_epoch_, epoch_) + 1;
  rollover_.start_tick = tick_;
  accepted_epoch_ = rollover_.epoch;
  PersistAcceptedEpoch(rollover_.epoch);
  Event(absl::StrCat("rollover_start epoch=", epoch_, " next_epoch=", rollover_.epoch,
                     " last_zxid=", Zxid::Hex(history_.last())));
  std::vector<int64_t> unsynced;
  for (const auto& [sid, h] : learners_) {
    if (h.stage != LearnerHandler::Stage::kSynced && h.stage != LearnerHandler::Stage::kBroadcast) {
      unsynced.push_back(sid);
    }
  }
  for (int64_t sid : unsynced) DropLearner(sid, "rollover");
  for (auto& [sid, h] : learners_) {
    h.rollover_acked_epoch = 0;
    rv1::PeerMessage m = ToLearner(h, rv1::PEER_MESSAGE_TYPE_LEADERINFO);
    m.set_epoch(rollover_.epoch);
    Send(sid, std::move(m));
  }
  MaybeAdvanceRollover();
}

void ZabPeer::MaybeAdvanceRollover() {
  if (role_ != Role::kLeading) return;
  if (rollover_.stage == Rollover::Stage::kAwaitAckEpoch) {
    if (durable_.accepted_epoch != rollover_.epoch) return;
    std::set<int64_t> ackers{config_.sid};
    for (const auto& [sid, h] : learners_) {
      if (h.rollover_acked_epoch == rollover_.epoch) ackers.insert(sid);
    }
    if (!HasQuorum(ackers)) return;
    rollover_.stage = Rollover::Stage::kAwaitNewLeaderAck;
    rollover_.newleader_zxid = history_.last();
    current_epoch_ = rollover_.epoch;
    PersistCurrentEpoch(rollover_.epoch);
    Event(absl::StrCat("rollover_epoch_agreed epoch=", rollover_.epoch));
    for (auto& [sid, h] : learners_) {
      rv1::PeerMessage m = ToLearner(h, rv1::PEER_MESSAGE_TYPE_NEWLEADER);
      m.set_epoch(rollover_.epoch);
      m.set_zxid(rollover_.newleader_zxid);
      Send(sid, std::move(m));
    }
  }
  if (rollover_.stage == Rollover::Stage::kAwaitNewLeaderAck) {
    if (durable_.current_epoch != rollover_.epoch) return;
    std::set<int64_t> ackers = rollover_.newleader_acks;
    ackers.insert(config_.sid);
    if (!HasQuorum(ackers)) return;
    const int64_t epoch = rollover_.epoch;
    rollover_ = Rollover();
    sequencer_->StartEpoch(epoch);
    epoch_ = epoch;
    new_epoch_ = epoch;
    role_dirty_ = true;
    Event(absl::StrCat("rollover_done epoch=", epoch));
    ProposeWaiting();
  }
}

// ---- helpers ----

bool ZabPeer::HasQuorum(const std::set<int64_t>& sids) const {
  if (config_.contains_quorum) return config_.contains_quorum(sids);
  size_t votes = 0;
  for (int64_t sid : sids) votes += voters_.count(sid);
  return votes > voters_.size() / 2;
}

int64_t ZabPeer::QuorumValue(const std::map<int64_t, int64_t>& values, int64_t floor) const {
  // Candidates from the highest down; at most one quorum test per voter.
  std::vector<int64_t> candidates;
  for (const auto& [sid, v] : values) candidates.push_back(v);
  std::sort(candidates.begin(), candidates.end(), std::greater<int64_t>());
  candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
  for (int64_t v : candidates) {
    if (v <= floor) break;
    std::set<int64_t> holders;
    for (const auto& [sid, value] : values) {
      if (value >= v) holders.insert(sid);
    }
    if (HasQuorum(holders)) return v;
  }
  return floor;
}

bool ZabPeer::CountsForQuorum(const LearnerHandler& h) const {
  return !h.observer &&
         (h.stage == LearnerHandler::Stage::kSynced ||
          h.stage == LearnerHandler::Stage::kBroadcast) &&
         tick_ - h.last_heard_tick <= static_cast<uint64_t>(config_.sync_limit_ticks);
}

rv1::PeerMessage ZabPeer::ToLearner(const LearnerHandler& h, rv1::PeerMessageType type) const {
  rv1::PeerMessage m;
  m.set_type(type);
  m.set_conn(h.conn);
  m.set_epoch(epoch_);
  return m;
}

}  // namespace ensemble::zab

// The learner's half of ZabPeer (ZooKeeper's Learner, Follower, Observer):
// registerWithLeader (FOLLOWERINFO / LEADERINFO / ACKEPOCH), syncWithLeader
// (DIFF / TRUNC / SNAP, NEWLEADER, UPTODATE) and the broadcast loop
// (processPacket).
//
// Two rules differ from ZooKeeper 3.8 on purpose:
// - NEWLEADER is acked only after every synced transaction and the new
//   currentEpoch are durable (the ack leaves through messages_after_persist).
//   ZooKeeper 3.8 could ack before logging the DIFF, so a follower could
//   enter the next election with the new currentEpoch and a short log, win,
//   and lose acknowledged writes.
// - Nothing received during synchronisation is applied before UPTODATE: the
//   local storage serves reads to gateways, so applying the new leader's
//   history before a quorum holds it could show writes that a later leader
//   truncates.

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/base/check.h"
#include "common/base/zxid.h"
#include "services/replication/core/zab_peer.h"

namespace ensemble::zab {

namespace rv1 = ensemble::replication::v1;

void ZabPeer::BecomeLearner() {
  SetRole(is_voter_ ? Role::kFollowing : Role::kObserving, Phase::kDiscovery);
  learner_stage_ = LearnerStage::kConnecting;
  conn_ = next_conn_++;
  learner_epoch_ = 0;
  epoch_ = 0;
  silent_ticks_ = 0;
  ackepoch_.reset();
  leader_commit_ = 0;
  next_request_seq_ = 1;
  touches_.clear();
  Event(absl::StrCat(is_voter_ ? "following" : "observing", " leader=", leader_sid_,
                     " conn=", conn_, " accepted_epoch=", accepted_epoch_,
                     " last_zxid=", Zxid::Hex(history_.last())));
  SendFollowerInfo();
}

void ZabPeer::SendFollowerInfo() {
  rv1::PeerMessage m = ToLeader(is_voter_ ? rv1::PEER_MESSAGE_TYPE_FOLLOWERINFO
                                          : rv1::PEER_MESSAGE_TYPE_OBSERVERINFO);
  m.set_epoch(accepted_epoch_);
  m.set_zxid(history_.last());
  Send(leader_sid_, std::move(m));
}

void ZabPeer::LearnerTick() {
  ++silent_ticks_;
  const uint64_t limit =
      static_cast<uint64_t>(learner_stage_ == LearnerStage::kBroadcast ? config_.sync_limit_ticks
                                                                       : config_.init_limit_ticks);
  if (silent_ticks_ > limit) {
    GoLooking(absl::StrCat("leader_silent leader=", leader_sid_,
                           " stage=", static_cast<int>(learner_stage_)));
    return;
  }
  if (learner_stage_ == LearnerStage::kConnecting) SendFollowerInfo();
}

void ZabPeer::LearnerStep(const rv1::PeerMessage& m) {
  if (m.conn() != conn_) return;  // an older connection's message
  silent_ticks_ = 0;
  const bool syncing_or_later = learner_stage_ >= LearnerStage::kSyncing;
  switch (m.type()) {
    case rv1::PEER_MESSAGE_TYPE_LEADERINFO:
      OnLeaderInfo(m);
      return;
    case rv1::PEER_MESSAGE_TYPE_DIFF:
      if (learner_stage_ != LearnerStage::kAckedEpoch) return;
      if (m.zxid() != history_.last()) {
        GoLooking(absl::StrCat("diff_mismatch zxid=", Zxid::Hex(m.zxid())));
        return;
      }
      learner_stage_ = LearnerStage::kSyncing;
      SetRole(role_, Phase::kSynchronization);
      Event(absl::StrCat("sync mode=DIFF from=", Zxid::Hex(m.zxid())));
      return;
    case rv1::PEER_MESSAGE_TYPE_TRUNC: {
      if (learner_stage_ != LearnerStage::kAckedEpoch) return;
      const int64_t zxid = m.zxid();
      if (!history_.Contains(zxid)) {
        GoLooking(absl::StrCat("trunc_not_in_log zxid=", Zxid::Hex(zxid)));
        return;
      }
      // ZAB never truncates a committed transaction.
      ENSEMBLE_CHECK(zxid >= committed_zxid_);
      PersistTruncate(zxid);
      history_.TruncateAfter(zxid);
      learner_stage_ = LearnerStage::kSyncing;
      SetRole(role_, Phase::kSynchronization);
      Event(absl::StrCat("sync mode=TRUNC to=", Zxid::Hex(zxid)));
      return;
    }
    case rv1::PEER_MESSAGE_TYPE_SNAP: {
      if (learner_stage_ != LearnerStage::kAckedEpoch) return;
      const int64_t zxid = m.zxid();
      // A snapshot holds only committed state, never less than we applied.
      ENSEMBLE_CHECK(zxid >= committed_zxid_);
      PersistSnapshot(zxid, m.snapshot());
      history_.ResetTo(zxid);
      known_sessions_.clear();
      for (const auto& s : m.known_sessions()) known_sessions_[s.session_id()] = s.timeout_ms();
      committed_zxid_ = zxid;
      applied_zxid_ = std::max(applied_zxid_, zxid);
      commit_emitted_ = std::max(commit_emitted_, zxid);
      learner_stage_ = LearnerStage::kSyncing;
      SetRole(role_, Phase::kSynchronization);
      Event(absl::StrCat("sync mode=SNAP zxid=", Zxid::Hex(zxid)));
      return;
    }
    case rv1::PEER_MESSAGE_TYPE_PROPOSAL:
      if (!syncing_or_later) return;
      if (learner_stage_ >= LearnerStage::kAwaitUpToDate && m.txns_size() > 0 &&
          Zxid::Epoch(m.txns(m.txns_size() - 1).header().zxid()) > current_epoch_) {
        // A proposal of an epoch whose NEWLEADER we never processed (it was
        // lost during a counter roll-over): logging and acking it would let
        // it commit while our currentEpoch still says the old epoch, and a
        // peer with the new epoch but a shorter log could then win an
        // election without it. Start over instead.
        GoLooking(absl::StrCat("proposal_of_unacknowledged_epoch zxid=",
                               Zxid::Hex(m.txns(m.txns_size() - 1).header().zxid()),
                               " current_epoch=", current_epoch_));
        return;
      }
      if (!AppendBatch(m.prev_zxid(), m.txns())) {
        GoLooking(absl::StrCat("gap prev=", Zxid::Hex(m.prev_zxid()),
                               " last=", Zxid::Hex(history_.last())));
        return;
      }
      if (is_voter_ && learner_stage_ >= LearnerStage::kAwaitUpToDate) AckAfterPersist();
      return;
    case rv1::PEER_MESSAGE_TYPE_INFORM:
      if (!syncing_or_later) return;
      if (!AppendBatch(m.prev_zxid(), m.txns())) {
        GoLooking(absl::StrCat("gap prev=", Zxid::Hex(m.prev_zxid()),
                               " last=", Zxid::Hex(history_.last())));
        return;
      }
      leader_commit_ = std::max(leader_commit_, m.zxid());
      if (learner_stage_ == LearnerStage::kBroadcast) LearnerCommit(leader_commit_);
      return;
    case rv1::PEER_MESSAGE_TYPE_COMMIT:
      if (!syncing_or_later) return;
      if (m.zxid() > history_.last()) {
        GoLooking(absl::StrCat("commit_beyond_log zxid=", Zxid::Hex(m.zxid())));
        return;
      }
      leader_commit_ = std::max(leader_commit_, m.zxid());
      if (learner_stage_ == LearnerStage::kBroadcast) LearnerCommit(leader_commit_);
      return;
    case rv1::PEER_MESSAGE_TYPE_NEWLEADER:
      OnNewLeader(m);
      return;
    case rv1::PEER_MESSAGE_TYPE_UPTODATE:
      if (learner_stage_ != LearnerStage::kAwaitUpToDate) return;
      if (m.zxid() > history_.last()) {
        GoLooking(absl::StrCat("uptodate_beyond_log zxid=", Zxid::Hex(m.zxid())));
        return;
      }
      OnUpToDate(m.zxid());
      return;
    case rv1::PEER_MESSAGE_TYPE_PING:
      OnLeaderPing(m);
      return;
    case rv1::PEER_MESSAGE_TYPE_SYNC:
      if (forwarded_syncs_.erase(m.sync_id()) > 0) {
        ready_.sync_done.push_back(SyncDone{m.sync_id(), m.zxid(), true});
      }
      return;
    default:
      return;
  }
}

void ZabPeer::OnLeaderInfo(const rv1::PeerMessage& m) {
  const int64_t epoch = m.epoch();
  if (epoch < accepted_epoch_) {
    // Learner.registerWithLeader: "Leaders epoch ... is less than accepted epoch".
    GoLooking(
        absl::StrCat("leader_epoch_too_low epoch=", epoch, " accepted_epoch=", accepted_epoch_));
    return;
  }
  switch (learner_stage_) {
    case LearnerStage::kConnecting: {
      rv1::PeerMessage ack = ToLeader(rv1::PEER_MESSAGE_TYPE_ACKEPOCH);
      ack.set_zxid(history_.last());
      if (epoch > accepted_epoch_) {
        accepted_epoch_ = epoch;
        PersistAcceptedEpoch(epoch);
        ack.set_epoch(current_epoch_);
      } else {
        // Already accepted this epoch (maybe from another would-be leader):
        // answer, but do not count towards this epoch's quorum.
        ack.set_epoch(-1);
      }
      learner_epoch_ = epoch;
      epoch_ = epoch;
      learner_stage_ = LearnerStage::kAckedEpoch;
      role_dirty_ = true;
      ackepoch_ = ack;
      // After persist: the leader counts it as a durable acceptedEpoch.
      SendAfterPersist(leader_sid_, std::move(ack));
      Event(absl::StrCat("ackepoch epoch=", epoch, " current_epoch=", ackepoch_->epoch(),
                         " last_zxid=", Zxid::Hex(history_.last())));
      return;
    }
    case LearnerStage::kAckedEpoch:
      // The leader repeats LEADERINFO until it hears our ACKEPOCH: repeat the
      // same answer (same connection, same epoch).
      if (epoch == learner_epoch_ && ackepoch_) SendAfterPersist(leader_sid_, *ackepoch_);
      return;
    case LearnerStage::kBroadcast:
      // Counter roll-over: the leader moves to a new epoch in place.
      if (epoch > accepted_epoch_) {
        rv1::PeerMessage ack = ToLeader(rv1::PEER_MESSAGE_TYPE_ACKEPOCH);
        ack.set_zxid(history_.last());
        ack.set_epoch(current_epoch_);
        accepted_epoch_ = epoch;
        PersistAcceptedEpoch(epoch);
        ackepoch_ = ack;
        SendAfterPersist(leader_sid_, std::move(ack));
        Event(absl::StrCat("rollover_ackepoch epoch=", epoch));
      } else if (epoch == accepted_epoch_ && epoch > current_epoch_ && ackepoch_) {
        SendAfterPersist(leader_sid_, *ackepoch_);
      }
      return;
    default:
      return;
  }
}

void ZabPeer::OnNewLeader(const rv1::PeerMessage& m) {
  const int64_t epoch = m.epoch();
  auto ack = [&] {
    rv1::PeerMessage a = ToLeader(rv1::PEER_MESSAGE_TYPE_ACK);
    a.set_zxid(history_.last());
    a.set_epoch(current_epoch_);
    // After persist: the synced history and currentEpoch are durable first.
    SendAfterPersist(leader_sid_, std::move(a));
  };
  switch (learner_stage_) {
    case LearnerStage::kSyncing:
      if (epoch != learner_epoch_ || epoch != accepted_epoch_) {
        GoLooking(absl::StrCat("newleader_epoch_mismatch epoch=", epoch));
        return;
      }
      if (m.zxid() != history_.last()) {
        // Part of the synced history never arrived: never ack a short log.
        GoLooking(absl::StrCat("newleader_gap leader_last=", Zxid::Hex(m.zxid()),
                               " last=", Zxid::Hex(history_.last())));
        return;
      }
      current_epoch_ = epoch;
      PersistCurrentEpoch(epoch);
      learner_stage_ = LearnerStage::kAwaitUpToDate;
      Event(absl::StrCat("newleader epoch=", epoch, " last_zxid=", Zxid::Hex(history_.last())));
      ack();
      return;
    case LearnerStage::kAwaitUpToDate:
      if (epoch == current_epoch_) ack();
      return;
    case LearnerStage::kBroadcast:
      if (epoch == accepted_epoch_ && epoch > current_epoch_) {
        // Roll-over, step 2.
        if (m.zxid() != history_.last()) {
          GoLooking(absl::StrCat("newleader_gap leader_last=", Zxid::Hex(m.zxid()),
                                 " last=", Zxid::Hex(history_.last())));
          return;
        }
        current_epoch_ = epoch;
        epoch_ = epoch;
        role_dirty_ = true;
        PersistCurrentEpoch(epoch);
        Event(absl::StrCat("rollover_newleader epoch=", epoch));
        ack();
      } else if (epoch == current_epoch_) {
        ack();
      }
      return;
    default:
      return;
  }
}

void ZabPeer::OnUpToDate(int64_t commit_zxid) {
  learner_stage_ = LearnerStage::kBroadcast;
  SetRole(role_, Phase::kBroadcast);
  leader_commit_ = std::max(leader_commit_, commit_zxid);
  Event(absl::StrCat("uptodate epoch=", current_epoch_, " commit=", Zxid::Hex(leader_commit_),
                     " last_zxid=", Zxid::Hex(history_.last())));
  LearnerCommit(leader_commit_);
  ForwardWaiting();
}

void ZabPeer::OnLeaderPing(const rv1::PeerMessage& m) {
  if (learner_stage_ >= LearnerStage::kSyncing && m.zxid() > history_.last()) {
    // FIFO link: everything sent before this PING should have arrived.
    GoLooking(absl::StrCat("missed_txns leader_sent=", Zxid::Hex(m.zxid()),
                           " last=", Zxid::Hex(history_.last())));
    return;
  }
  if (learner_stage_ >= LearnerStage::kSyncing && m.commit_zxid() <= history_.last()) {
    leader_commit_ = std::max(leader_commit_, m.commit_zxid());
  }
  if (learner_stage_ == LearnerStage::kAwaitUpToDate && m.uptodate()) {
    // UPTODATE itself was lost; the leader says it was sent.
    OnUpToDate(m.commit_zxid());
  } else if (learner_stage_ == LearnerStage::kBroadcast) {
    LearnerCommit(leader_commit_);
  }
  rv1::PeerMessage reply = ToLeader(rv1::PEER_MESSAGE_TYPE_PING);
  reply.set_sync_id(m.sync_id());
  // Our durable zxid counts as an ack only once our NEWLEADER is durable
  // (before that the durable log may still hold a truncated tail).
  if (learner_stage_ >= LearnerStage::kAwaitUpToDate && learner_epoch_ > 0 &&
      durable_.current_epoch >= learner_epoch_) {
    reply.set_zxid(durable_.last_zxid);
  }
  for (int64_t session : touches_) reply.add_sessions(session);
  touches_.clear();
  Send(leader_sid_, std::move(reply));
}

bool ZabPeer::AppendBatch(int64_t prev_zxid,
                          const google::protobuf::RepeatedPtrField<ensemble::v1::Txn>& txns) {
  const int last = txns.size();
  int i = 0;
  while (i < last && txns[i].header().zxid() <= history_.last()) ++i;
  if (i == last) return true;  // all held already (a duplicate)
  const int64_t pred = i == 0 ? prev_zxid : txns[i - 1].header().zxid();
  if (pred != history_.last()) return false;
  for (; i < last; ++i) {
    const auto& txn = txns[i];
    if (txn.header().zxid() <= history_.last()) return false;  // not increasing
    history_.Append(txn);
    PersistAppend(txn);
    NoteSessions(txn);
  }
  return true;
}

void ZabPeer::LearnerCommit(int64_t zxid) {
  zxid = std::min(zxid, history_.last());
  if (zxid <= committed_zxid_) return;
  committed_zxid_ = zxid;
  EmitCommit(zxid);
  TrimCache();
}

void ZabPeer::AckAfterPersist() {
  // One cumulative ACK per Ready: the last one queued is moved forward.
  auto& after = ready_.messages_after_persist;
  if (!after.empty()) {
    OutMessage& last = after.back();
    if (last.to == leader_sid_ && last.message.type() == rv1::PEER_MESSAGE_TYPE_ACK &&
        last.message.conn() == conn_ && last.message.epoch() == current_epoch_) {
      last.message.set_zxid(history_.last());
      return;
    }
  }
  rv1::PeerMessage a = ToLeader(rv1::PEER_MESSAGE_TYPE_ACK);
  a.set_zxid(history_.last());
  a.set_epoch(current_epoch_);
  SendAfterPersist(leader_sid_, std::move(a));
}

void ZabPeer::LearnerSubmit(ensemble::v1::Txn txn) {
  if (learner_stage_ != LearnerStage::kBroadcast) {
    if (waiting_.size() >= config_.max_waiting_txns) {
      ready_.rejected.push_back(std::move(txn));
    } else {
      waiting_.push_back(std::move(txn));
    }
    return;
  }
  // Follower.request: forward to the leader, batched per Ready.
  auto it = last_message_index_.find(leader_sid_);
  if (it != last_message_index_.end()) {
    rv1::PeerMessage& last = ready_.messages[it->second].message;
    if (last.type() == rv1::PEER_MESSAGE_TYPE_REQUEST && last.conn() == conn_) {
      *last.add_txns() = std::move(txn);
      return;
    }
  }
  rv1::PeerMessage m = ToLeader(rv1::PEER_MESSAGE_TYPE_REQUEST);
  m.set_request_seq(next_request_seq_++);
  *m.add_txns() = std::move(txn);
  Send(leader_sid_, std::move(m));
}

void ZabPeer::ForwardWaiting() {
  std::deque<ensemble::v1::Txn> waiting = std::move(waiting_);
  waiting_.clear();
  for (auto& txn : waiting) LearnerSubmit(std::move(txn));
  std::vector<uint64_t> syncs = std::move(waiting_syncs_);
  waiting_syncs_.clear();
  for (uint64_t id : syncs) SyncRequest(id);
}

rv1::PeerMessage ZabPeer::ToLeader(rv1::PeerMessageType type) const {
  rv1::PeerMessage m;
  m.set_type(type);
  m.set_conn(conn_);
  return m;
}

}  // namespace ensemble::zab

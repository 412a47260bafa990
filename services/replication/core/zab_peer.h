#pragma once

// ZabPeer: one peer's ZAB state machine (ZooKeeper's Leader, LearnerHandler,
// Follower, Observer and Learner, as one deterministic object).
//
// LOOKING --ElectionFinished--> LEADING / FOLLOWING / OBSERVING, each through
// discovery (FOLLOWERINFO, LEADERINFO, ACKEPOCH: a new epoch above every
// acceptedEpoch of a quorum), synchronisation (DIFF / TRUNC / SNAP, NEWLEADER,
// UPTODATE) and broadcast (PROPOSAL, ACK, COMMIT, INFORM, PING, REQUEST,
// SYNC). Any failure (a timeout, a lost quorum, an unexpected message) sends
// the peer back to LOOKING with `Ready::look_again`. docs/zab.md describes the
// protocol as implemented, message by message.
//
// The core does no I/O and reads no clock (etcd raft's RawNode): inputs are
// the methods below, output is `Ready` (ready.h) with the contract the driver
// must follow. Same state plus same inputs gives the same output.
//
// A new peer is LOOKING and its first Ready has look_again set: the driver
// starts an election and reports the result with ElectionFinished.
//
// Not thread-safe: one driver thread owns it.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "ensemble/replication.pb.h"
#include "ensemble/types.pb.h"
#include "services/replication/core/history.h"
#include "services/replication/core/ready.h"
#include "services/replication/core/sequencer.h"
#include "services/replication/core/session_tracker.h"

namespace ensemble::zab {

struct ZabConfig {
  int64_t sid = 0;
  // Voting members (sids), this peer included if it votes. Majority quorums.
  std::vector<int64_t> voters;
  // Non-voting members. A peer is in exactly one of the two lists.
  std::vector<int64_t> observers;
  // Which sets of voters form a quorum, for epochs, acks, liveness and sync
  // confirmations. Pass the election's QuorumVerifier::ContainsQuorum so that
  // weighted / hierarchical quorums (group.N, weight.N) apply here too.
  // Empty: more than half of `voters`.
  std::function<bool(const std::set<int64_t>&)> contains_quorum;
  // zoo.cfg initLimit / syncLimit, in ticks: discovery and synchronisation
  // must progress within init_limit; a follower silent for sync_limit ticks is
  // not counted in the leader's quorum, and a leader silent for sync_limit
  // ticks is abandoned.
  int32_t init_limit_ticks = 10;
  int32_t sync_limit_ticks = 5;
  // zoo.cfg tickTime: converts session timeouts (ms) into ticks.
  int64_t tick_ms = 2000;
  // Committed transactions kept in memory for DIFF and INFORM (ZooKeeper's
  // committedLog, 500 there); older ones are read from the log by the driver.
  size_t log_cache_txns = 1000;
  // Submitted writes held while the peer is between leaders; beyond this they
  // are rejected.
  size_t max_waiting_txns = 10000;
  // A distinct value per process incarnation (the driver's choice: a random
  // number or a restart counter); connection ids start from it, so that
  // messages of an older incarnation are never taken for current ones.
  uint64_t conn_base = 0;
  // Testing only (ZooKeeper's zookeeper.testingonly.initialZxid): a new
  // leader starts its epoch's counter here instead of at 0, to reach the
  // 32-bit counter roll-over quickly. 0: off.
  int64_t initial_counter_for_testing = 0;
};

// What the driver read from storage at start.
struct PeerState {
  int64_t accepted_epoch = 0;
  int64_t current_epoch = 0;
  // The log holds (log_floor_zxid, last_logged_zxid]; log_floor_zxid is the
  // purge point or the snapshot the log starts after (0: from the beginning).
  int64_t log_floor_zxid = 0;
  int64_t last_logged_zxid = 0;
  // For each epoch with entries in the log, its last zxid.
  std::vector<int64_t> epoch_last_zxids;
  // Everything up to here is committed and applied by the local storage.
  int64_t last_applied_zxid = 0;
  // The sessions open after every logged transaction (the applied state's
  // sessions plus the createSession / closeSession of the logged tail).
  std::vector<ensemble::replication::v1::SessionTimeout> sessions;
};

struct ElectionResult {
  int64_t leader = 0;
  // The leader's currentEpoch as voted (informational; the new epoch is
  // decided in discovery).
  int64_t epoch = 0;
};

class ZabPeer {
 public:
  ZabPeer(ZabConfig config, PeerState state);
  ZabPeer(const ZabPeer&) = delete;
  ZabPeer& operator=(const ZabPeer&) = delete;

  // ---- Inputs ----

  // The election decided. REQUIRES: role() == kLooking. An observer always
  // observes; a voter leads if `leader` is itself, else follows.
  void ElectionFinished(const ElectionResult& result);
  // A message from peer `from` (messages of stale connections and epochs are
  // ignored; duplicates are harmless).
  void Step(int64_t from, const ensemble::replication::v1::PeerMessage& message);
  // One tick of time passed. `wall_ms` is the driver's wall clock, used only
  // for TxnHeader.time_ms of new transactions (0: derive from ticks).
  void Tick(int64_t wall_ms = 0);
  // A write from a local gateway (header without zxid and time).
  void Submit(ensemble::v1::Txn txn);
  // A local gateway saw life from a session.
  void Touch(int64_t session_id);
  // A sync barrier from a local gateway; answered in Ready::sync_done.
  void SyncRequest(uint64_t id);
  // Every PersistRequest up to `seq` is durable.
  void PersistDone(uint64_t seq);
  // Local storage applied everything up to `zxid`.
  void ApplyDone(int64_t zxid);
  // The driver purged its log up to `zxid` (autopurge after a snapshot). From
  // now on the core asks for a snapshot for learners behind it.
  void LogPurged(int64_t zxid);
  // The stream to or from `sid` ended (its process stopped, the connection
  // broke). A learner whose leader this is looks again at once, as a ZooKeeper
  // follower does when the leader's socket closes; a leader forgets that
  // learner (it reconnects with a new FOLLOWERINFO). Optional: without it the
  // heartbeat timeouts find the same, later.
  void PeerDisconnected(int64_t sid);

  // ---- Output ----

  bool HasReady() const;
  // Everything accumulated since the last GetReady. REQUIRES: the previous
  // Ready was Advance()d.
  Ready GetReady();
  // The Ready returned by GetReady has been handled (ready.h, step 6).
  void Advance();

  // ---- Introspection (admin status, metrics, tests, the simulator) ----

  Role role() const { return role_; }
  Phase phase() const { return phase_; }
  int64_t sid() const { return config_.sid; }
  int64_t leader() const { return leader_sid_; }
  // The epoch being established or served (0 while LOOKING).
  int64_t epoch() const { return epoch_; }
  // Leader: the NEWLEADER quorum was reached for epoch(). Learner: UPTODATE.
  bool serving() const { return phase_ == Phase::kBroadcast; }
  bool rollover_in_progress() const { return rollover_.stage != Rollover::Stage::kNone; }
  int64_t accepted_epoch() const { return accepted_epoch_; }
  int64_t current_epoch() const { return current_epoch_; }
  int64_t last_zxid() const { return history_.last(); }
  int64_t durable_zxid() const { return durable_.last_zxid; }
  int64_t committed_zxid() const { return committed_zxid_; }
  int64_t applied_zxid() const { return applied_zxid_; }
  bool is_voter() const { return is_voter_; }
  const History& history() const { return history_; }
  size_t tracked_sessions() const { return tracker_.size(); }
  // Leader: learners it is talking to, by sid (tests).
  std::vector<int64_t> learner_sids() const;
  // Leader: each learner's state, for metrics and admin status.
  struct LearnerInfo {
    int64_t sid = 0;
    bool observer = false;
    bool synced = false;     // NEWLEADER acked (in broadcast, or about to be)
    int64_t acked_zxid = 0;  // durable on the learner (followers; observers: sent)
    int64_t sent_zxid = 0;
  };
  std::vector<LearnerInfo> learners() const;
  // Leader: sync barriers waiting for their quorum confirmation.
  size_t pending_syncs() const { return pending_syncs_.size(); }

 private:
  // What is durable after a given PersistRequest.
  struct DurableState {
    int64_t last_zxid = 0;
    int64_t accepted_epoch = 0;
    int64_t current_epoch = 0;
  };

  // ---- leader side (zab_leader.cc) ----
  enum class LeaderPhase : uint8_t {
    kDiscovery,      // collecting FOLLOWERINFO to choose the epoch
    kEpochProposed,  // LEADERINFO sent, collecting ACKEPOCH
    kSync,           // syncing, collecting NEWLEADER acks
    kBroadcast,      // established
  };
  struct LearnerHandler {
    enum class Stage : uint8_t {
      kAwaitAckEpoch,      // FOLLOWERINFO received, LEADERINFO sent (or pending)
      kAwaitEpochQuorum,   // ACKEPOCH received, the epoch is not agreed yet
      kAwaitNewLeaderAck,  // sync and NEWLEADER sent
      kSynced,             // NEWLEADER acked, UPTODATE waits for establishment
      kBroadcast,          // UPTODATE sent
    };
    bool observer = false;
    uint64_t conn = 0;
    Stage stage = Stage::kAwaitAckEpoch;
    int64_t accepted_epoch = 0;  // from FOLLOWERINFO
    int64_t current_epoch = -1;  // from ACKEPOCH (-1: epoch already accepted)
    int64_t last_zxid = 0;       // from ACKEPOCH
    int64_t acked_zxid = 0;      // durable on the learner (cumulative)
    int64_t sent_zxid = 0;       // last txn sent to it
    int64_t sync_end_zxid = 0;   // the last txn of its sync (NEWLEADER's zxid)
    uint64_t last_heard_tick = 0;
    uint64_t stage_tick = 0;  // when the current stage began
    uint64_t confirmed_round = 0;
    uint64_t last_request_seq = 0;
    int64_t rollover_acked_epoch = 0;  // ACKEPOCH for the roll-over epoch
  };
  struct PendingSync {
    int64_t from = 0;  // 0: local
    uint64_t id = 0;
    int64_t zxid = 0;    // the barrier: committed at least this far
    uint64_t round = 0;  // confirmation round (0: not started yet)
  };
  struct Rollover {
    enum class Stage : uint8_t { kNone, kAwaitAckEpoch, kAwaitNewLeaderAck };
    Stage stage = Stage::kNone;
    int64_t epoch = 0;
    uint64_t start_tick = 0;
    int64_t newleader_zxid = 0;  // our last zxid when NEWLEADER went out
    std::set<int64_t> newleader_acks;
  };

  void BecomeLeader();
  void LeaderStep(int64_t from, const ensemble::replication::v1::PeerMessage& m);
  void LeaderTick();
  void OnFollowerInfo(int64_t from, const ensemble::replication::v1::PeerMessage& m);
  void OnAckEpoch(int64_t from, LearnerHandler& h, const ensemble::replication::v1::PeerMessage& m);
  void OnLearnerAck(int64_t from, LearnerHandler& h,
                    const ensemble::replication::v1::PeerMessage& m);
  void OnLearnerPing(int64_t from, LearnerHandler& h,
                     const ensemble::replication::v1::PeerMessage& m);
  void OnLearnerRequest(int64_t from, LearnerHandler& h,
                        const ensemble::replication::v1::PeerMessage& m);
  void MaybeChooseEpoch();
  void MaybeAgreeEpoch();
  void MaybeEstablish();
  void Establish();
  void StartSync(int64_t sid, LearnerHandler& h);
  void SendLeaderInfo(int64_t sid, const LearnerHandler& h);
  void SendUpToDate(int64_t sid, LearnerHandler& h);
  void SendPing(int64_t sid, const LearnerHandler& h);
  void DropLearner(int64_t sid, const std::string& reason);
  void Propose(ensemble::v1::Txn txn);
  void ProposeWaiting();
  void TryCommit();
  void CommitTo(int64_t zxid);
  void LeaderSubmit(ensemble::v1::Txn txn);
  void LeaderSyncRequest(int64_t from, uint64_t id);
  void StartSyncRound();
  void CompleteSyncs();
  void ExpireSessions();
  void StartRollover();
  void MaybeAdvanceRollover();
  bool HasQuorum(const std::set<int64_t>& sids) const;
  // The highest value v such that the voters whose value is >= v form a
  // quorum (values by voter sid); `floor` if there is none.
  int64_t QuorumValue(const std::map<int64_t, int64_t>& values, int64_t floor) const;
  bool CountsForQuorum(const LearnerHandler& h) const;
  int64_t LeaderMessageEpoch() const;
  ensemble::replication::v1::PeerMessage ToLearner(
      const LearnerHandler& h, ensemble::replication::v1::PeerMessageType type) const;

  // ---- learner side (zab_learner.cc) ----
  enum class LearnerStage : uint8_t {
    kConnecting,     // FOLLOWERINFO sent, waiting for LEADERINFO
    kAckedEpoch,     // ACKEPOCH sent, waiting for DIFF / TRUNC / SNAP
    kSyncing,        // receiving the history, waiting for NEWLEADER
    kAwaitUpToDate,  // NEWLEADER processed and acked
    kBroadcast,      // UPTODATE received: serving
  };
  void BecomeLearner();
  void LearnerStep(const ensemble::replication::v1::PeerMessage& m);
  void LearnerTick();
  void OnLeaderInfo(const ensemble::replication::v1::PeerMessage& m);
  void OnNewLeader(const ensemble::replication::v1::PeerMessage& m);
  void OnUpToDate(int64_t commit_zxid);
  void OnLeaderPing(const ensemble::replication::v1::PeerMessage& m);
  // Appends a batch whose first txn follows prev_zxid; false on a gap.
  bool AppendBatch(int64_t prev_zxid,
                   const google::protobuf::RepeatedPtrField<ensemble::v1::Txn>& txns);
  void LearnerCommit(int64_t zxid);
  void SendFollowerInfo();
  void LearnerSubmit(ensemble::v1::Txn txn);
  void ForwardWaiting();
  void AckAfterPersist();
  ensemble::replication::v1::PeerMessage ToLeader(
      ensemble::replication::v1::PeerMessageType type) const;

  // ---- shared (zab_peer.cc) ----
  void GoLooking(const std::string& reason);
  void SetRole(Role role, Phase phase);
  void EmitRoleChange();
  void Event(std::string line);
  void Send(int64_t to, ensemble::replication::v1::PeerMessage message,
            OutMessage::Fill fill = OutMessage::Fill::kNone);
  void SendAfterPersist(int64_t to, ensemble::replication::v1::PeerMessage message);
  // Appends a txn to a PROPOSAL/INFORM/REQUEST batch already queued for `to`
  // if it is the last message queued for it, else queues a new one.
  void SendBatched(int64_t to, ensemble::replication::v1::PeerMessage message);
  PersistRequest& PersistSlot(int rank);
  void PersistAppend(const ensemble::v1::Txn& txn);
  void PersistTruncate(int64_t zxid);
  void PersistSnapshot(int64_t zxid, std::string data);
  void PersistAcceptedEpoch(int64_t epoch);
  void PersistCurrentEpoch(int64_t epoch);
  void EmitCommit(int64_t zxid);
  void NoteSessions(const ensemble::v1::Txn& txn);
  void RejectWaiting();
  void FailPendingSyncs();
  void TrimCache();
  int64_t NowMs() const { return static_cast<int64_t>(tick_) * config_.tick_ms; }
  int64_t WallMs() const { return wall_ms_ != 0 ? wall_ms_ : NowMs(); }

  const ZabConfig config_;
  std::set<int64_t> voters_;
  std::set<int64_t> observers_;
  bool is_voter_;

  // Role.
  Role role_ = Role::kLooking;
  Phase phase_ = Phase::kElection;
  int64_t leader_sid_ = 0;
  int64_t epoch_ = 0;
  bool role_dirty_ = false;

  // Epochs and log as decided in memory (may be ahead of the disk).
  int64_t accepted_epoch_;
  int64_t current_epoch_;
  History history_;
  // What PersistDone confirmed.
  DurableState durable_;
  // State after each PersistRequest not yet confirmed, by seq.
  std::deque<std::pair<uint64_t, DurableState>> inflight_persists_;
  DurableState written_;  // the state after the last PersistRequest emitted
  uint64_t next_persist_seq_ = 1;
  int current_persist_rank_ = -1;  // rank of the last op in the open request

  int64_t committed_zxid_;  // known committed (the local storage may apply to here)
  int64_t commit_emitted_;  // the last commit_up_to handed out
  int64_t applied_zxid_;

  uint64_t tick_ = 0;
  int64_t wall_ms_ = 0;

  // Pending output.
  Ready ready_;
  bool ready_outstanding_ = false;
  std::map<int64_t, size_t> last_message_index_;  // per destination, in ready_.messages

  // Writes and syncs waiting for a leader (FOLLOWING/LEADING, not yet serving).
  std::deque<ensemble::v1::Txn> waiting_;
  std::vector<uint64_t> waiting_syncs_;

  // Sessions known from the state and every txn seen (for the tracker).
  std::map<int64_t, int32_t> known_sessions_;

  // Leader state.
  LeaderPhase leader_phase_ = LeaderPhase::kDiscovery;
  std::map<int64_t, LearnerHandler> learners_;
  uint64_t leader_phase_tick_ = 0;
  int64_t new_epoch_ = 0;
  // The leader's (currentEpoch, last zxid) when it started leading
  // (ZooKeeper's leaderStateSummary), for the "follower ahead" check.
  int64_t summary_epoch_ = 0;
  int64_t summary_zxid_ = 0;
  std::set<int64_t> epoch_ackers_;
  std::set<int64_t> newleader_ackers_;
  std::optional<Sequencer> sequencer_;
  SessionTracker tracker_;
  std::deque<PendingSync> pending_syncs_;
  uint64_t sync_round_ = 0;
  Rollover rollover_;

  // Learner state.
  LearnerStage learner_stage_ = LearnerStage::kConnecting;
  uint64_t conn_ = 0;
  uint64_t next_conn_;
  int64_t learner_epoch_ = 0;  // the epoch from LEADERINFO
  uint64_t silent_ticks_ = 0;
  std::optional<ensemble::replication::v1::PeerMessage> ackepoch_;  // for replay
  int64_t leader_commit_ = 0;
  uint64_t next_request_seq_ = 1;
  std::set<uint64_t> forwarded_syncs_;
  std::set<int64_t> touches_;
};

}  // namespace ensemble::zab

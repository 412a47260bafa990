#pragma once

// The seeded whole-ensemble simulator (TigerBeetle's VOPR, STYLE.md 7.6.4):
// N peers, each = the ZAB core (ZabPeer) + the real storage state machine
// (StateMachine::Apply, snapshots in the real format) + a SimTxnLog disk,
// driven exactly as the Ready contract says; a SimNetwork between them; an
// election stand-in; clients that write, sync and let sessions expire; and
// checkers after every step. One seed fixes everything (the swarm options,
// the network, the disks, the clients), so a failing seed replays exactly.
//
// Election: each peer runs the real FastLeaderElection core
// (services/election/core), its notifications on the same simulated links.
// Some seeds use a stand-in instead (use_fle = false), a deterministic
// oracle: a LOOKING peer joins a reachable peer that is LEADING (as FLE's
// out-of-election votes do); otherwise a set of LOOKING voters that reach each
// other and form a quorum elects the one with the highest (currentEpoch,
// lastZxid, sid), which is what FLE's total order converges to. ZAB's safety
// does not rest on either: discovery drops learners ahead of the leader.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/base/rng.h"
#include "services/election/core/fast_leader_election.h"
#include "services/replication/core/zab_peer.h"
#include "services/storage/core/state_machine.h"
#include "tests/sim/sim_network.h"
#include "tests/sim/sim_txn_log.h"

namespace ensemble::sim {

// Everything a seed decides (the "swarm": every seed runs its own mix).
struct SimOptions {
  uint64_t seed = 1;
  int voters = 3;
  int observers = 0;
  // The real fast leader election (else the oracle stand-in).
  bool use_fle = true;
  int32_t init_limit_ticks = 10;
  int32_t sync_limit_ticks = 5;
  int64_t tick_ms = 100;
  size_t log_cache_txns = 1000;
  int64_t initial_counter_for_testing = 0;
  NetworkOptions net;
  // Faults, per tick.
  uint32_t partition_per_mille = 0;
  uint32_t heal_per_mille = 50;
  uint32_t crash_per_mille = 0;
  // Crashed peers restart by themselves after restart_min..max ticks.
  bool auto_restart = true;
  uint64_t restart_min_ticks = 5;
  uint64_t restart_max_ticks = 60;
  // A crash may keep a random prefix of the unsynced writes (torn tail).
  bool torn_writes = true;
  uint64_t fsync_min_steps = 1;
  uint64_t fsync_max_steps = 8;
  // Local snapshot (and purge of the log before the older of the two newest)
  // every that many applied txns; 0: never.
  uint64_t snapshot_every_txns = 0;
  // Clients.
  int clients = 3;
  uint32_t write_per_mille = 300;
  uint32_t sync_per_mille = 30;
  uint32_t silence_per_mille = 0;  // a client stops touching: its session expires
  int32_t session_timeout_ms = 4000;
  uint64_t client_timeout_ticks = 80;
  // Phases.
  uint64_t chaos_ticks = 1000;
  uint64_t liveness_ticks = 800;
  uint64_t election_delay_max_ticks = 3;

  static SimOptions Swarm(uint64_t seed);
  std::string Describe() const;
};

struct SimStats {
  uint64_t ticks = 0;
  uint64_t writes_acked = 0;
  uint64_t writes_abandoned = 0;
  uint64_t syncs_ok = 0;
  uint64_t syncs_failed = 0;
  uint64_t crashes = 0;
  uint64_t partitions = 0;
  uint64_t establishments = 0;
  uint64_t rollovers = 0;
  uint64_t diffs = 0;
  uint64_t truncs = 0;
  uint64_t snaps = 0;
  uint64_t sessions_expired = 0;
  uint64_t lost_unsynced_writes = 0;
  std::string Describe() const;
};

class Cluster {
 public:
  explicit Cluster(SimOptions options);
  ~Cluster();
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  // The whole seeded run: chaos, then liveness (heal everything and require
  // convergence), then the final checks. False on any failure (failure()).
  bool Run();

  // ---- Fluent API for scenarios ----

  // Advances `n` ticks (faults as the options say).
  void RunTicks(uint64_t n);
  // Ticks until `condition` holds or `max_ticks` pass; false if it never held
  // or a checker failed.
  bool RunUntil(const std::function<bool()>& condition, uint64_t max_ticks);
  // Everyone up, serving, following the same leader.
  bool AllServing() const;
  // AllServing and every peer applied the leader's last zxid.
  bool Converged() const;
  // Stops every fault, heals the network and restarts every crashed peer.
  void Heal();
  void Crash(int64_t sid);
  void Restart(int64_t sid);
  // A write by a scripted client through `home`; returns its id.
  uint64_t Write(int64_t home);
  bool Acked(uint64_t write_id) const;
  // The zxid the write got (0 until acked).
  int64_t AckedZxid(uint64_t write_id) const;
  // The final checks (digests, acknowledged writes everywhere). Call once
  // Converged().
  bool CheckFinal();
  // Stops the random clients (scripted writes keep working).
  void StopClients() { clients_enabled_ = false; }

  SimNetwork& network() { return network_; }
  const zab::ZabPeer* zab(int64_t sid) const;
  const storage::StateMachine* state(int64_t sid) const;
  const SimTxnLog& disk(int64_t sid) const;
  bool up(int64_t sid) const;
  std::vector<int64_t> sids() const;
  // The serving leader with the highest epoch, or 0.
  int64_t Leader() const;
  uint64_t tick() const { return step_ / kStepsPerTick; }

  bool failed() const { return !failure_.empty(); }
  const std::string& failure() const { return failure_; }
  const SimStats& stats() const { return stats_; }
  const SimOptions& options() const { return options_; }
  // The compact per-peer event trace (the newest lines of each peer).
  std::string Trace() const;

  static constexpr uint64_t kStepsPerTick = 10;
  // More messages in flight than this is a storm (a protocol ping-pong): fail.
  static constexpr size_t kMaxInFlight = 100000;

 private:
  struct Pending {
    uint64_t seq;
    uint64_t needs;  // disk writes that must be durable first
    std::vector<zab::OutMessage> after;
  };
  struct Peer {
    int64_t sid = 0;
    bool voter = true;
    SimTxnLog disk;
    std::unique_ptr<zab::ZabPeer> zab;
    std::unique_ptr<election::FastLeaderElection> fle;
    bool election_pending = false;  // ZAB asked to look: start a round
    std::unique_ptr<storage::StateMachine> sm;
    bool up = false;
    uint64_t incarnation = 0;
    uint64_t restart_at_tick = 0;
    bool fsync_running = false;
    uint64_t fsync_done_at = 0;
    uint64_t fsync_covers = 0;
    std::deque<Pending> pending;
    bool looking = false;
    uint64_t looking_since = 0;
    uint64_t election_delay = 0;
    uint64_t applied_since_snapshot = 0;
    std::deque<std::string> trace;
  };
  struct Client {
    int id = 0;
    bool scripted = false;
    int64_t home = 0;
    int64_t session_id = 0;
    bool creating_session = false;
    bool silent = false;
    int32_t next_n = 1;
    // The outstanding write.
    bool waiting = false;
    int32_t cxid = 0;
    uint64_t write_id = 0;
    uint64_t sent_tick = 0;
  };
  struct AckedWrite {
    int64_t zxid = 0;
    uint64_t fingerprint = 0;
  };
  struct PendingSync {
    int64_t home = 0;
    int64_t floor = 0;  // the highest acknowledged zxid when the sync began
  };

  void Start(Peer& p);
  void Step();
  void Tick();
  void ProcessReadies(Peer& p);
  void Execute(Peer& p, zab::Ready rd);
  void SendOut(Peer& p, zab::OutMessage out, std::shared_ptr<const std::string>* snapshot);
  void ApplyUpTo(Peer& p, int64_t zxid);
  void MaybeSnapshot(Peer& p);
  void StartFsync(Peer& p);
  void FinishFsync(Peer& p);
  void Elect();
  void DriveElection(Peer& p);
  void InjectFaults();
  void DriveClients();
  void SubmitFor(Client& c, ensemble::v1::Txn txn);
  void OnResult(Peer& p, const ensemble::v1::Txn& txn, const ensemble::v1::TxnResult& result);
  void OnSyncDone(Peer& p, const zab::SyncDone& done);
  void OnRejected(Peer& p, const ensemble::v1::Txn& txn);
  void CheckLeaders(Peer& p);
  void CheckApplied(Peer& p, const ensemble::v1::Txn& txn, int64_t prev_applied);
  void CheckDurability();
  void Fail(const std::string& what);
  void TraceEvent(int64_t sid, const std::string& line);
  std::shared_ptr<const std::string> Serialize(const storage::StateMachine& sm);
  Client& NewClient(bool scripted, int64_t home);
  int64_t PickHome();
  int64_t MaxAckedZxid() const;
  zab::ZabConfig ConfigFor(int64_t sid, uint64_t incarnation) const;
  std::vector<int64_t> UpSids() const;

  SimOptions options_;
  Rng rng_;       // faults and clients
  Rng disk_rng_;  // crash tails, fsync latencies
  SimNetwork network_;
  std::map<int64_t, Peer> peers_;
  std::vector<int64_t> voter_sids_;
  std::vector<int64_t> observer_sids_;
  std::shared_ptr<const election::QuorumVerifier> quorum_;
  uint64_t step_ = 0;
  bool faults_enabled_ = true;
  bool clients_enabled_ = true;
  std::deque<Client> clients_;
  uint64_t next_write_id_ = 1;
  uint64_t next_sync_id_ = 1;
  std::map<uint64_t, AckedWrite> acked_;           // by write id
  std::map<uint64_t, PendingSync> pending_syncs_;  // by sync id
  // Checker state.
  std::map<int64_t, uint64_t> committed_;  // zxid -> txn fingerprint
  std::map<int64_t, uint64_t> digest_at_;  // zxid -> state digest after it
  std::map<int64_t, int64_t> leader_of_epoch_;
  std::map<int64_t, int32_t> session_last_cxid_;
  std::deque<std::string> global_trace_;
  std::string failure_;
  SimStats stats_;
};

// Fingerprint of a transaction (the fields every peer must agree on).
uint64_t TxnFingerprint(const ensemble::v1::Txn& txn);

}  // namespace ensemble::sim

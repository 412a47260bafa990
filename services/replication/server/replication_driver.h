#pragma once

// The replication process's driver: runs one peer's ZAB core (ZabPeer) on a
// single thread, executing its Ready batches exactly as docs/zab.md ("The
// Ready contract") prescribes, against
//   - the local storage (Storage.Log stream for appends, truncation, epochs
//     and commits; InstallSnapshot; ReadLog and ReadSnapshot for a learner's
//     DIFF and SNAP),
//   - the other peers' replication services (PeerLinks, Replication.Peer
//     streams carrying batches),
//   - the local election service (ElectionClient: GetLeader, Reelect),
//   - the local gateways (Replication.Submit streams: writes, touches, syncs).
// A configuration without other servers is a quorum of one: no election
// service is needed, the peer leads itself.
//
// Thread-safety: the On* methods may be called from any thread (gRPC's); they
// only enqueue. Everything else runs on the driver thread.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "common/runtime/streams.h"
#include "ensemble/replication.grpc.pb.h"
#include "ensemble/storage.grpc.pb.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "prometheus/summary.h"
#include "services/replication/core/zab_peer.h"
#include "services/replication/server/election_client.h"
#include "services/replication/server/peer_links.h"

namespace ensemble::zab {

using SubmitStream = runtime::ServerStream<ensemble::replication::v1::SubmitRequest,
                                           ensemble::replication::v1::SubmitResponse>;
using StorageLogStream =
    runtime::ClientStream<ensemble::storage::v1::LogRequest, ensemble::storage::v1::LogResponse>;

struct ReplicationOptions {
  int64_t sid = 1;
  int64_t tick_ms = 2000;
  int32_t init_limit_ticks = 10;
  int32_t sync_limit_ticks = 5;
  std::string storage_address;  // the local storage service (unix:... or host:port)
  // The local election service; empty for a quorum of one.
  std::string election_address;
  std::vector<int64_t> voters;                    // this peer included if it votes
  std::vector<int64_t> observers;                 // this peer included if it observes
  std::map<int64_t, std::string> peer_addresses;  // sid -> replication address, others
  // Weighted / hierarchical quorums (zoo.cfg group.N, weight.N); empty: majority.
  std::function<bool(const std::set<int64_t>&)> contains_quorum;
  int64_t initial_counter_for_testing = 0;  // ensemble.testing.initialZxidCounter
};

class ReplicationDriver {
 public:
  ReplicationDriver(ReplicationOptions options, prometheus::Registry& registry);
  ~ReplicationDriver();

  void Start();
  void Stop();

  // A gateway's Submit stream delivered a batch / ended.
  void OnSubmit(const std::shared_ptr<SubmitStream>& stream,
                ensemble::replication::v1::SubmitRequest&& request);
  void OnSubmitDone(const std::shared_ptr<SubmitStream>& stream);
  // A peer's stream to us delivered a batch / ended. `stream` identifies the
  // stream (a new one from the same sid replaces the old).
  void OnPeerBatch(const void* stream, ensemble::replication::v1::PeerMessages&& batch);
  void OnPeerStreamDone(const void* stream, int64_t sid);
  bool IsKnownPeer(int64_t sid) const { return options_.peer_addresses.count(sid) > 0; }
  int64_t sid() const { return options_.sid; }

  // For admin status and health.
  struct Status {
    bool serving = false;
    Role role = Role::kLooking;
    Phase phase = Phase::kElection;
    int64_t leader = 0;
    int64_t epoch = 0;
    int64_t last_zxid = 0;
    int64_t committed_zxid = 0;
    int64_t applied_zxid = 0;
    size_t sessions = 0;
    std::vector<int64_t> learners;
    int64_t elections = 0;
  };
  Status GetStatus() const;

 private:
  struct SubmitEvent {
    std::shared_ptr<SubmitStream> stream;
    ensemble::replication::v1::SubmitRequest request;
  };
  struct SubmitDoneEvent {
    std::shared_ptr<SubmitStream> stream;
  };
  // Storage events name the Log stream they came from (a stream ended by a
  // restart of the core still reports, later).
  struct StorageResponseEvent {
    uint64_t stream_generation = 0;
    ensemble::storage::v1::LogResponse response;
  };
  struct StorageDownEvent {
    uint64_t stream_generation = 0;
    std::string error;
  };
  struct PeerBatchEvent {
    const void* stream;
    ensemble::replication::v1::PeerMessages batch;
  };
  struct PeerGoneEvent {
    const void* stream;  // nullptr: our outgoing stream to `sid`
    int64_t sid;
  };
  struct DecisionEvent {
    ElectionDecision decision;
  };
  struct FillDoneEvent {
    uint64_t id = 0;
    uint64_t generation = 0;
    int64_t to = 0;
    bool snapshot = false;
    std::optional<std::vector<ensemble::replication::v1::PeerMessage>> parts;  // none: failed
  };
  using Event = std::variant<SubmitEvent, SubmitDoneEvent, StorageResponseEvent, StorageDownEvent,
                             PeerBatchEvent, PeerGoneEvent, DecisionEvent, FillDoneEvent>;
  // Messages to one peer, in order; while a fill runs, later ones wait.
  struct Outbound {
    bool filling = false;
    std::deque<OutMessage> waiting;
  };

  // A storage operation of a PersistRequest, in order.
  struct StorageOp {
    uint64_t seq = 0;  // the PersistRequest it belongs to (0: a commit)
    std::optional<ensemble::storage::v1::LogRequest> log;
    std::optional<SnapshotInstall> install;
  };
  struct PendingPersist {
    uint64_t seq = 0;
    int remaining = 0;  // storage operations not yet done
    std::vector<OutMessage> after;
  };
  struct PendingSync {
    std::weak_ptr<SubmitStream> stream;
    uint64_t gateway_sync_id = 0;
  };

  void Enqueue(Event event);
  void Run();
  // Reads the peer's state from storage and starts the core; false if storage
  // is not reachable yet.
  bool Boot();
  void ConnectStorage();
  void Shutdown(const std::string& reason);
  void Handle(SubmitEvent& e);
  void Handle(SubmitDoneEvent& e);
  void Handle(StorageResponseEvent& e);
  void Handle(StorageDownEvent& e);
  void Handle(PeerBatchEvent& e);
  void Handle(PeerGoneEvent& e);
  void Handle(DecisionEvent& e);
  void ProcessReadies();
  void Execute(Ready& rd);
  void MaybeFinishElection();
  void Handle(FillDoneEvent& e);
  void SendOut(OutMessage out);
  void Dispatch(OutMessage out);
  void ReleaseCommitHold();
  // Run on fill worker threads (storage reads; no driver state).
  static std::optional<std::vector<ensemble::replication::v1::PeerMessage>> FillLog(
      ensemble::storage::v1::Storage::Stub& stub, grpc::ClientContext* ctx, OutMessage out);
  static std::optional<std::vector<ensemble::replication::v1::PeerMessage>> FillSnapshot(
      ensemble::storage::v1::Storage::Stub& stub, grpc::ClientContext* ctx, OutMessage out);
  void PumpStorage();
  bool RunInstall(const SnapshotInstall& install);
  void PersistPartDone(uint64_t seq);
  void CheckPurged();
  void Publish();
  int64_t NowMs() const;
  int64_t WallMs() const;

  const ReplicationOptions options_;
  const bool standalone_;
  std::thread thread_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Event> inbox_;
  bool stopping_ = false;
  Status status_;  // GUARDED_BY(mu_), copied from the core after each round

  // Driver-thread state.
  std::shared_ptr<ensemble::storage::v1::Storage::Stub> storage_stub_;
  std::shared_ptr<StorageLogStream> storage_;
  std::unique_ptr<PeerLinks> links_;
  std::unique_ptr<ElectionClient> election_;
  std::unique_ptr<ZabPeer> zab_;
  uint64_t next_request_id_ = 1;
  uint64_t storage_generation_ = 0;  // of the current Log stream
  int64_t last_unreachable_log_ms_ = -1000000;
  int64_t next_tick_ms_ = 0;
  int64_t next_purge_check_ms_ = 0;
  int64_t next_boot_ms_ = 0;  // no Boot before (a moment after a Shutdown)
  int64_t reported_applied_ = 0;
  int64_t reported_purged_ = 0;
  std::deque<StorageOp> storage_ops_;                         // not yet sent to storage
  std::map<uint64_t, uint64_t> inflight_ops_;                 // request id -> persist seq
  std::deque<PendingPersist> pending_persists_;               // in seq order
  std::map<uint64_t, std::weak_ptr<SubmitStream>> gateways_;  // by gateway id
  std::map<uint64_t, PendingSync> pending_syncs_;             // by the core's sync id
  uint64_t next_sync_id_ = 1;
  // Incoming peer streams (the current one per sid) and their reassembly.
  std::map<int64_t, const void*> incoming_;
  std::map<const void*, int64_t> incoming_sid_;
  std::map<int64_t, SnapshotAssembler> assemblers_;
  // Fills (log ranges, snapshots) on worker threads.
  std::map<int64_t, Outbound> outbound_;
  std::map<uint64_t, std::thread> fill_threads_;
  std::map<uint64_t, std::shared_ptr<grpc::ClientContext>> fill_contexts_;  // GUARDED_BY(mu_)
  uint64_t next_fill_id_ = 1;
  uint64_t fill_generation_ = 1;
  int commit_holds_ = 0;         // snapshot fills queued or running
  int64_t deferred_commit_ = 0;  // commit_up_to held back meanwhile
  // Election: the newest decision heard, the one the core runs on (or ran on
  // before looking again), and whether the core waits for one.
  std::optional<ElectionDecision> latest_decision_;
  std::optional<ElectionDecision> used_decision_;
  bool election_wanted_ = false;
  int64_t elections_ = 0;

  prometheus::Counter* proposals_total_;
  prometheus::Counter* elections_total_;
  prometheus::Counter* peer_messages_sent_;
  prometheus::Counter* peer_messages_received_;
  prometheus::Counter* snapshots_sent_;
  prometheus::Counter* snapshots_installed_;
  prometheus::Histogram* persist_batch_txns_;
  prometheus::Gauge* sessions_gauge_;
  prometheus::Gauge* last_zxid_gauge_;
  prometheus::Gauge* committed_zxid_gauge_;
  prometheus::Gauge* role_gauge_;
  prometheus::Gauge* learners_gauge_;
  prometheus::Gauge* epoch_gauge_;
  // ZooKeeper 3.8's names (its leader's view), docs/metrics.md.
  prometheus::Gauge* zk_learners_;
  prometheus::Gauge* zk_synced_followers_;
  prometheus::Gauge* zk_synced_observers_;
  prometheus::Gauge* zk_synced_non_voting_followers_;
  prometheus::Gauge* zk_pending_syncs_;
  prometheus::Gauge* zk_leader_uptime_;
  prometheus::Summary* zk_proposal_latency_;
  prometheus::Counter* zk_proposal_count_;
  prometheus::Counter* zk_commit_count_;
  prometheus::Counter* zk_snap_count_;
  prometheus::Counter* zk_diff_count_;
  prometheus::Histogram* commit_latency_;
  prometheus::Family<prometheus::Counter>* syncs_family_;
  prometheus::Family<prometheus::Gauge>* lag_family_;
  std::map<int64_t, prometheus::Gauge*> lag_;  // by learner sid
  // Leader: when each not yet committed zxid was ordered (commit latency).
  std::deque<std::pair<int64_t, std::chrono::steady_clock::time_point>> ordered_at_;
  std::chrono::steady_clock::time_point established_at_;
  bool was_serving_leader_ = false;
};

}  // namespace ensemble::zab

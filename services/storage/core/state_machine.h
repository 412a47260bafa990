#pragma once

// The storage service's replicated state machine: the data tree, the session
// table and the watches, behind one facade the storage driver owns on a
// single thread.
//
// Apply(txn) is deterministic: given the same state and the same Txn every
// peer computes the same TxnResult (errors included, ZooKeeper's checks of
// PrepRequestProcessor done here since the leader does not pre-validate) and
// the same tree. A failed op leaves the tree unchanged; last_applied_zxid
// advances either way. Watch events come out of the step that fires them.
// Watches are per peer (not replicated, not in snapshots): a gateway
// re-registers them with setWatches after a reconnect.
//
// Not thread-safe. Clone() makes an independent copy (tree and sessions, no
// watches) that another thread may serialise while this one keeps applying.

#include <cstdint>
#include <memory>
#include <vector>

#include "ensemble/storage.pb.h"
#include "ensemble/types.pb.h"
#include "services/storage/core/data_tree.h"
#include "services/storage/core/session_table.h"
#include "services/storage/core/watch_manager.h"

namespace ensemble::storage {

// A watch event for one session, to be sent through one gateway.
struct FiredEvent {
  uint64_t gateway_id = 0;
  ensemble::v1::WatchEvent event;
};

struct ApplyOutput {
  ensemble::v1::TxnResult result;
  std::vector<FiredEvent> events;  // in the order ZooKeeper fires them
};

struct StateMachineOptions {
  // zookeeper.extendedTypesEnabled: TTL nodes are allowed (otherwise a TTL
  // create is kUnimplemented). Must be the same on every peer.
  bool extended_types_enabled = true;
};

class StateMachine {
 public:
  explicit StateMachine(StateMachineOptions options = {});
  StateMachine(const StateMachine&) = delete;
  StateMachine& operator=(const StateMachine&) = delete;

  // Applies one committed transaction. REQUIRES: zxid > last_applied_zxid().
  // The result echoes the header (session, cxid, zxid, type); `err` is the
  // op's ZooKeeper code (for multi: the first failure, with per-op results
  // as ZooKeeper gives them: 0 before the failing op, its code, then
  // RUNTIMEINCONSISTENCY).
  ApplyOutput Apply(const ensemble::v1::Txn& txn);

  // Serves one read for a session attached through `gateway_id`, registering
  // watches in the same step. setWatches may fire events at once (into
  // *events). The identities in the request also become the session's
  // identities for the READ check on its watch events.
  ensemble::storage::v1::ReadResult Read(const ensemble::storage::v1::ReadRequest& request,
                                         uint64_t gateway_id, std::vector<FiredEvent>* events);

  // Forget the watches of one session on one gateway (connection closed), or
  // of every session of a gateway (gateway gone).
  void DropWatches(uint64_t gateway_id, int64_t session_id);
  void DropGateway(uint64_t gateway_id);
  // After an addauth: the session's identities for its watch events.
  void UpdateWatcherAuth(uint64_t gateway_id, int64_t session_id,
                         const google::protobuf::RepeatedPtrField<ensemble::v1::Id>& auth);

  int64_t last_applied_zxid() const { return last_applied_zxid_; }
  // Order-independent digest of the tree and the session table. Equal state
  // gives an equal digest on every peer.
  uint64_t Digest() const;

  // Metrics.
  size_t ZnodeCount() const { return tree_->NodeCount(); }
  int64_t ApproximateDataSize() const { return tree_->ApproximateDataSize(); }
  size_t EphemeralCount() const { return tree_->TotalEphemeralCount(); }
  size_t WatchCount() const { return watches_.WatchCount(); }
  size_t SessionCount() const { return sessions_.size(); }

  std::vector<ensemble::storage::v1::SessionInfo> Sessions() const;

  // A copy of the replicated state (tree, sessions, zxid) without watches.
  // Cost: O(znodes) time on the calling thread and a second copy of every
  // path and data byte (ACL sets are shared, immutable).
  std::unique_ptr<StateMachine> Clone() const;

  const DataTree& tree() const { return *tree_; }
  const SessionTable& sessions() const { return sessions_; }
  const WatchManager& watches() const { return watches_; }
  const StateMachineOptions& options() const { return options_; }

  // Assembles a state machine from loaded parts (snapshot reader).
  static std::unique_ptr<StateMachine> FromParts(std::unique_ptr<DataTree> tree,
                                                 SessionTable sessions, int64_t last_applied_zxid,
                                                 StateMachineOptions options);

 private:
  ZkError ApplyMulti(const ensemble::v1::MultiOp& multi, const OpContext& ctx,
                     ensemble::v1::TxnResult* result, std::vector<WatchTrigger>* triggers);
  void FireTriggers(const std::vector<WatchTrigger>& triggers, int64_t zxid,
                    std::vector<FiredEvent>* events);
  ZkError ReadOne(const ensemble::storage::v1::ReadRequest& request, const Watcher& watcher,
                  const std::vector<Id>& auth, bool top_level, std::vector<FiredEvent>* events,
                  ensemble::storage::v1::ReadResult* result);
  void SetWatches(const ensemble::storage::v1::SetWatches& sw, bool with_persistent,
                  const Watcher& watcher, std::vector<FiredEvent>* events);

  StateMachineOptions options_;
  std::unique_ptr<DataTree> tree_;
  SessionTable sessions_;
  WatchManager watches_;
  int64_t last_applied_zxid_ = 0;
};

}  // namespace ensemble::storage

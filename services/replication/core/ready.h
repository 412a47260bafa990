#pragma once

// The output of the ZAB core (ZabPeer), etcd-raft style: everything the core
// wants done since the last GetReady(), in one batch. The driver executes a
// Ready in this order (docs/zab.md, "The Ready contract"):
//
//   1. start persisting `to_persist`, each PersistRequest in order and each
//      one's operations in the order listed in PersistRequest;
//   2. send `messages` now (performing their fills, see OutMessage::Fill),
//      in order per destination;
//   3. once every persist of this Ready (and of every earlier Ready) is
//      durable: call PersistDone(seq) for each, in order, then send
//      `messages_after_persist`;
//   4. let storage apply the logged transactions up to `commit_up_to`, then
//      report ApplyDone(zxid);
//   5. act on `sync_done`, `rejected`, `role_change`, `look_again`; log `events`;
//   6. call Advance().
//
// Steps 2 and 3 may overlap with the disk write of step 1 (the leader sends
// proposals while its own append runs, Raft thesis 10.2.1); a message in
// `messages_after_persist` never leaves before the data it vouches for is
// durable (etcd raft `msgsAfterAppend`).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ensemble/replication.pb.h"
#include "ensemble/types.pb.h"

namespace ensemble::zab {

// ZooKeeper's QuorumPeer.ServerState.
enum class Role : uint8_t {
  kLooking = 0,
  kFollowing = 1,
  kLeading = 2,
  kObserving = 3,
};

const char* RoleName(Role role);

// ZAB's phases within FOLLOWING / LEADING / OBSERVING (QuorumPeer.ZabState).
enum class Phase : uint8_t {
  kElection = 0,         // LOOKING
  kDiscovery = 1,        // FOLLOWERINFO / LEADERINFO / ACKEPOCH
  kSynchronization = 2,  // DIFF / TRUNC / SNAP, NEWLEADER, UPTODATE
  kBroadcast = 3,        // PROPOSAL / ACK / COMMIT / INFORM; the peer serves
};

const char* PhaseName(Phase phase);

// A snapshot received from the leader (SNAP): the driver replaces its state
// machine and its log by it. Afterwards the log holds nothing above `zxid`
// and reaches back exactly to `zxid`.
struct SnapshotInstall {
  int64_t zxid = 0;
  std::string data;  // the storage snapshot format (docs/formats/snapshot.md)
};

// One durable write. Operations are performed in the order of the members:
// truncate, install the snapshot, append, accepted epoch, current epoch. The
// core starts a new PersistRequest whenever it needs another order.
struct PersistRequest {
  // PersistDone(seq) tells the core that this request (and every earlier one)
  // is durable. Sequence numbers increase by one per request.
  uint64_t seq = 0;
  // TRUNC: drop every logged transaction with zxid > this.
  std::optional<int64_t> truncate_after_zxid;
  // SNAP: replace the state and the log.
  std::optional<SnapshotInstall> snapshot;
  // Transactions to append, zxids increasing, each above the log's last.
  std::vector<ensemble::v1::Txn> append;
  std::optional<int64_t> accepted_epoch;
  std::optional<int64_t> current_epoch;
};

// A message to one peer.
struct OutMessage {
  // What the driver must attach before sending (a storage operation).
  enum class Fill : uint8_t {
    kNone = 0,
    // A PROPOSAL batch during synchronisation whose transactions are older
    // than the core keeps in memory: set message.txns to the logged
    // transactions with message.prev_zxid < zxid <= message.zxid.
    kLogToSend = 1,
    // SNAP ("snapshot_to_send"): set message.snapshot to a snapshot of the
    // applied state, taken before applying this Ready's commit_up_to, and
    // message.zxid to that snapshot's zxid (>= the zxid the core wrote, which
    // is a lower bound).
    kSnapshotToSend = 2,
  };
  int64_t to = 0;
  ensemble::replication::v1::PeerMessage message;
  Fill fill = Fill::kNone;
};

// A sync barrier completed (ok: the quorum confirmed; zxid: wait until the
// local storage has applied it, then answer) or failed (the peer lost its
// leader; the client sees connection loss and retries).
struct SyncDone {
  uint64_t id = 0;
  int64_t zxid = 0;
  bool ok = false;
};

struct RoleChange {
  Role role = Role::kLooking;
  Phase phase = Phase::kElection;
  int64_t leader = 0;    // 0 while LOOKING
  int64_t epoch = 0;     // the epoch being established or served
  bool serving = false;  // broadcast phase reached: writes and syncs flow
};

struct Ready {
  std::vector<PersistRequest> to_persist;
  std::vector<OutMessage> messages;
  std::vector<OutMessage> messages_after_persist;
  // Storage may apply every logged transaction up to here; 0: unchanged.
  int64_t commit_up_to = 0;
  std::vector<SyncDone> sync_done;
  // Submitted transactions this peer cannot order or forward (it is LOOKING,
  // or too many are waiting): the gateway answers ZCONNECTIONLOSS.
  std::vector<ensemble::v1::Txn> rejected;
  // The latest role/phase change since the last Ready, if any.
  std::optional<RoleChange> role_change;
  // The peer went LOOKING: the driver starts a new election and later calls
  // ElectionFinished().
  bool look_again = false;
  // One line per state change, "event key=value ..." (role, epoch, sync
  // mode, step-down reasons), for the driver's log or the simulator's trace.
  std::vector<std::string> events;

  bool empty() const {
    return to_persist.empty() && messages.empty() && messages_after_persist.empty() &&
           commit_up_to == 0 && sync_done.empty() && rejected.empty() && !role_change.has_value() &&
           !look_again && events.empty();
  }
};

}  // namespace ensemble::zab

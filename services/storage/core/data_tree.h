#pragma once

// The znode tree (ZooKeeper's DataTree plus the checks of
// PrepRequestProcessor, since Ensemble's leader does not pre-validate).
//
// Each write op validates against the current tree in ZooKeeper's order and
// either fails with a ZkError leaving the tree untouched, or applies fully
// and reports which watches it triggers (WatchTrigger; the WatchManager turns
// them into events). Inside a multi the tree keeps an undo log so a later
// failure can roll back the ops before it.
//
// Memory layout: one hash map path -> Node (stable addresses). A node's child
// set and the ephemeral/container/TTL indexes hold string_views into the keys
// of that map, so a name is stored once; every primitive that adds or removes
// a node keeps them in step.
//
// Not thread-safe: owned by one thread (the storage driver). Clone() gives an
// independent copy for background snapshotting.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>
#include "absl/strings/string_view.h"

#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/node_hash_map.h"
#include "absl/status/status.h"
#include "ensemble/types.pb.h"
#include "services/storage/core/acl.h"
#include "services/storage/core/ephemeral_type.h"
#include "services/storage/core/quota.h"
#include "services/storage/core/zk_codes.h"

namespace ensemble::storage {

// What a node persists (zookeeper.jute StatPersisted). `cversion` counts the
// children created (ZooKeeper's stored value); clients see
// 2 * cversion - numChildren, i.e. creates plus deletes.
struct StatPersisted {
  int64_t czxid = 0;
  int64_t mzxid = 0;
  int64_t ctime = 0;
  int64_t mtime = 0;
  int32_t version = 0;
  int32_t cversion = 0;
  int32_t aversion = 0;
  int64_t ephemeral_owner = 0;
  int64_t pzxid = 0;
  friend bool operator==(const StatPersisted&, const StatPersisted&) = default;
};

struct Node {
  std::string data;
  AclRef acl;
  StatPersisted stat;
  NodeKind kind = NodeKind::kPersistent;
  uint64_t digest = 0;  // this node's contribution to the tree digest
  // Child names, sorted; views into the keys of DataTree::nodes_.
  absl::btree_set<absl::string_view> children;
};

// A watch trigger produced by a write, in ZooKeeper's order
// (DataTree.createNode / deleteNode / setData).
struct WatchTrigger {
  enum class Table : uint8_t { kData, kChild };
  Table table;
  EventType type;
  std::string path;
  // The ACL of the node the event is about (the READ check before delivery).
  AclRef acl;
  // Skip watchers already notified by the previous trigger (deleteNode's
  // child-table NodeDeleted after the data-table one).
  bool suppress_previous = false;
};

// Who submits the op and when it was ordered (from the TxnHeader).
struct OpContext {
  int64_t zxid = 0;
  int64_t time_ms = 0;
  int64_t session_id = 0;
  // The TxnHeader's OpCode (for the createTTL-with-plain-mode check).
  int32_t header_type = 0;
  std::vector<Id> auth;
  // Whether session_id is an open session (ephemeral creates need one).
  bool session_alive = false;
  // zookeeper.extendedTypesEnabled: TTL nodes allowed.
  bool extended_types_enabled = true;
};

class DataTree {
 public:
  // The initial tree: "/", "/zookeeper", "/zookeeper/quota" (world:anyone,
  // all permissions) and "/zookeeper/config" (world:anyone read, aversion -1).
  DataTree();
  DataTree(const DataTree&) = delete;
  DataTree& operator=(const DataTree&) = delete;

  // An independent deep copy (nodes, indexes, quota prefixes). Cost: O(nodes)
  // time and a second copy of every path and data byte; ACL sets are shared.
  std::unique_ptr<DataTree> Clone() const;

  // --- Writes. Each returns kOk after applying, or the error and leaves the
  // tree unchanged. Triggers are appended only on success.
  ZkError Create(const ensemble::v1::CreateOp& op, const OpContext& ctx,
                 ensemble::v1::OpResult* result, std::vector<WatchTrigger>* triggers);
  ZkError Delete(const ensemble::v1::DeleteOp& op, const OpContext& ctx,
                 std::vector<WatchTrigger>* triggers);
  ZkError SetData(const ensemble::v1::SetDataOp& op, const OpContext& ctx,
                  ensemble::v1::OpResult* result, std::vector<WatchTrigger>* triggers);
  ZkError SetAcl(const ensemble::v1::SetAclOp& op, const OpContext& ctx,
                 ensemble::v1::OpResult* result);
  ZkError Check(const ensemble::v1::CheckOp& op, const OpContext& ctx);
  // Deletes an empty container, or an empty TTL node whose TTL has elapsed at
  // ctx.time_ms; anything else is kBadVersion (no longer qualifies), a node
  // with children kNotEmpty.
  ZkError DeleteContainer(const ensemble::v1::DeleteContainerOp& op, const OpContext& ctx,
                          std::vector<WatchTrigger>* triggers);
  // Deletes every ephemeral node of `session_id` (sorted by path).
  void KillSession(int64_t session_id, int64_t zxid, std::vector<WatchTrigger>* triggers);

  // --- Multi support: between BeginUndo and Commit/Rollback every change is
  // logged; Rollback restores the tree exactly (digest included).
  void BeginUndo();
  void CommitUndo();
  void RollbackUndo();

  // --- Reads.
  const Node* Find(absl::string_view path) const;
  // The Stat a client sees (cversion and ephemeralOwner translated).
  void FillStat(const Node& node, ensemble::v1::Stat* stat) const;
  // DataTree.getAllChildrenNumber: every node below `path` (for "/": every
  // node but the root). REQUIRES: the node exists.
  int32_t AllChildrenNumber(absl::string_view path) const;
  // The paths of `session_id`'s ephemeral nodes, sorted.
  std::vector<std::string> Ephemerals(int64_t session_id) const;
  size_t EphemeralCount(int64_t session_id) const;
  std::vector<std::string> Containers() const;
  std::vector<std::string> Ttls() const;

  // Order-independent digest: the sum of every node's hash over path, data,
  // ACL, persisted stat and kind.
  uint64_t Digest() const { return digest_; }
  size_t NodeCount() const { return nodes_.size(); }
  // Sum of path and data lengths (ZooKeeper's approximateDataSize).
  int64_t ApproximateDataSize() const { return data_size_; }
  size_t TotalEphemeralCount() const { return ephemeral_count_; }

  // Visits every node parent-first, children in sorted order.
  void ForEachPreorder(const std::function<void(absl::string_view path, const Node&)>& fn) const;

  // --- Loading (snapshots). Start from Empty(), add nodes parent-first, then
  // FinishLoad. Errors are DATA_LOSS (duplicate, missing parent, bad kind).
  static std::unique_ptr<DataTree> Empty();
  absl::Status LoadNode(std::string path, std::string data, AclList acl, const StatPersisted& stat,
                        NodeKind kind);
  absl::Status FinishLoad();

  static uint64_t NodeHash(absl::string_view path, const Node& node);

 private:
  struct EmptyTag {};
  explicit DataTree(EmptyTag) {}

  struct UndoEntry {
    enum class Kind : uint8_t { kEraseNode, kInsertNode, kRestoreNode, kQuotaAdd, kQuotaRemove };
    Kind kind;
    std::string path;           // node path, or quota prefix
    Node node;                  // kInsertNode: the node to put back; kRestoreNode: old fields
    bool restore_data = false;  // kRestoreNode: node.data holds the old data
  };

  Node* FindMutable(absl::string_view path);
  // Parent lookup with ZooKeeper's alias: "" is the root.
  Node* FindParent(absl::string_view parent_path);

  // Primitives; each keeps indexes and the digest in step and logs its undo.
  Node* InsertNode(std::string path, Node node);
  Node EraseNode(absl::string_view path);
  // Replaces data / acl / stat of an existing node.
  void UpdateNode(absl::string_view path, Node* node, std::optional<std::string> data,
                  std::optional<AclRef> acl, std::optional<StatPersisted> stat);
  void AddQuotaPrefix(std::string prefix);
  void RemoveQuotaPrefix(absl::string_view prefix);

  void IndexNode(absl::string_view key, const Node& node);
  void UnindexNode(absl::string_view key, const Node& node);

  // DataTree.deleteNode after validation: parent pzxid, quota, triggers.
  void DeleteNodeAndTrigger(absl::string_view path, int64_t zxid,
                            std::vector<WatchTrigger>* triggers);
  void UpdateQuotaStat(absl::string_view prefix, int64_t bytes_diff, int64_t count_diff);
  void UpdateQuotaForPath(absl::string_view prefix);

  absl::node_hash_map<std::string, Node> nodes_;
  absl::flat_hash_map<int64_t, absl::btree_set<absl::string_view>> ephemerals_;
  absl::btree_set<absl::string_view> containers_;
  absl::btree_set<absl::string_view> ttls_;
  AclCache acl_cache_;
  QuotaPrefixes quotas_;
  uint64_t digest_ = 0;
  int64_t data_size_ = 0;
  size_t ephemeral_count_ = 0;

  bool undo_enabled_ = false;
  std::vector<UndoEntry> undo_;
};

}  // namespace ensemble::storage

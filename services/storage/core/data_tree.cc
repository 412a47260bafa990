#include "services/storage/core/data_tree.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/base/check.h"
#include "services/storage/core/hash.h"
#include "services/storage/core/path_utils.h"

namespace ensemble::storage {
namespace {

constexpr absl::string_view kRoot = "/";

// CreateMode flags (CreateMode.toFlag()).
constexpr int kModePersistent = 0;
constexpr int kModeEphemeral = 1;
constexpr int kModePersistentSequential = 2;
constexpr int kModeEphemeralSequential = 3;
constexpr int kModeContainer = 4;
constexpr int kModePersistentWithTtl = 5;
constexpr int kModePersistentSequentialWithTtl = 6;

// Java int arithmetic (wraps instead of overflowing).
int32_t JavaIntAdd(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b));
}

// DataTree.isSpecialPath: nodes nobody may delete.
bool IsSpecialPath(absl::string_view path) {
  return path == kRoot || path == kProcZookeeper || path == kQuotaZookeeper ||
         path == kConfigZookeeper;
}

// "" (ZooKeeper's alias of the root) and "/" name the root.
absl::string_view NormalizeParent(absl::string_view parent_path) {
  return parent_path.empty() ? kRoot : parent_path;
}

std::string ChildPath(absl::string_view parent, absl::string_view name) {
  return parent == kRoot ? absl::StrCat("/", name) : absl::StrCat(parent, "/", name);
}

}  // namespace

DataTree::DataTree() {
  const AclRef open = acl_cache_.Intern(OpenAclUnsafe());
  for (absl::string_view path : {kRoot, kProcZookeeper, kQuotaZookeeper}) {
    Node node;
    node.acl = open;
    InsertNode(std::string(path), std::move(node));
  }
  // DataTree.addConfigNode: created, then setACL(READ_ACL_UNSAFE, -1).
  Node config;
  config.acl = acl_cache_.Intern(ReadAclUnsafe());
  config.stat.aversion = -1;
  InsertNode(std::string(kConfigZookeeper), std::move(config));
}

std::unique_ptr<DataTree> DataTree::Empty() {
  return std::unique_ptr<DataTree>(new DataTree(EmptyTag{}));
}

std::unique_ptr<DataTree> DataTree::Clone() const {
  std::unique_ptr<DataTree> copy = Empty();
  copy->nodes_.reserve(nodes_.size());
  for (const auto& [path, node] : nodes_) {
    Node n;
    n.data = node.data;
    n.acl = node.acl;
    n.stat = node.stat;
    n.kind = node.kind;
    n.digest = node.digest;
    copy->nodes_.emplace(path, std::move(n));
  }
  // Child sets and indexes hold views into the copy's own keys. Children are
  // appended in sorted order with an end() hint, so the btree does no
  // searching (random-order inserts compare through cold key memory).
  std::string child_path;
  for (const auto& [path, node] : nodes_) {
    if (node.children.empty()) continue;
    Node& parent = copy->nodes_.find(path)->second;
    child_path = path == kRoot ? std::string() : path;
    child_path.push_back('/');
    const size_t base = child_path.size();
    for (absl::string_view name : node.children) {
      child_path.resize(base);
      child_path.append(name.data(), name.size());
      const auto child = copy->nodes_.find(child_path);
      ENSEMBLE_CHECK(child != copy->nodes_.end());
      parent.children.insert(parent.children.end(), ChildNameOf(child->first));
    }
  }
  for (auto& [key, node] : copy->nodes_) copy->IndexNode(key, node);
  copy->acl_cache_ = acl_cache_;
  copy->quotas_ = quotas_;
  copy->digest_ = digest_;
  copy->data_size_ = data_size_;
  ENSEMBLE_CHECK(copy->ephemeral_count_ == ephemeral_count_);
  return copy;
}

uint64_t DataTree::NodeHash(absl::string_view path, const Node& node) {
  uint64_t h = HashBytes(path, 0x50415448ULL);  // "PATH"
  h = HashCombine(h, HashBytes(node.data, 0x44415441ULL));
  h = HashCombine(h, node.acl ? node.acl->hash : 0);
  h = HashCombine(h, static_cast<uint64_t>(node.kind));
  const StatPersisted& s = node.stat;
  for (int64_t v : {s.czxid, s.mzxid, s.ctime, s.mtime, s.ephemeral_owner, s.pzxid}) {
    h = HashCombine(h, static_cast<uint64_t>(v));
  }
  for (int32_t v : {s.version, s.cversion, s.aversion}) {
    h = HashCombine(h, static_cast<uint32_t>(v));
  }
  return Mix64(h);
}

const Node* DataTree::Find(absl::string_view path) const {
  auto it = nodes_.find(path.empty() ? kRoot : path);
  return it == nodes_.end() ? nullptr : &it->second;
}

Node* DataTree::FindMutable(absl::string_view path) {
  auto it = nodes_.find(path);
  return it == nodes_.end() ? nullptr : &it->second;
}

Node* DataTree::FindParent(absl::string_view parent_path) {
  return FindMutable(NormalizeParent(parent_path));
}

void DataTree::IndexNode(absl::string_view key, const Node& node) {
  switch (node.kind) {
    case NodeKind::kEphemeral:
      ephemerals_[node.stat.ephemeral_owner].insert(key);
      ++ephemeral_count_;
      break;
    case NodeKind::kContainer:
      containers_.insert(key);
      break;
    case NodeKind::kTtl:
      ttls_.insert(key);
      break;
    case NodeKind::kPersistent:
      break;
  }
}

void DataTree::UnindexNode(absl::string_view key, const Node& node) {
  switch (node.kind) {
    case NodeKind::kEphemeral: {
      auto it = ephemerals_.find(node.stat.ephemeral_owner);
      ENSEMBLE_CHECK(it != ephemerals_.end());
      ENSEMBLE_CHECK(it->second.erase(key) == 1);
      if (it->second.empty()) ephemerals_.erase(it);
      --ephemeral_count_;
      break;
    }
    case NodeKind::kContainer:
      containers_.erase(key);
      break;
    case NodeKind::kTtl:
      ttls_.erase(key);
      break;
    case NodeKind::kPersistent:
      break;
  }
}

Node* DataTree::InsertNode(std::string path, Node node) {
  auto [it, inserted] = nodes_.try_emplace(std::move(path), std::move(node));
  ENSEMBLE_CHECK(inserted);
  const absl::string_view key = it->first;
  Node& n = it->second;
  if (key != kRoot) {
    Node* parent = FindParent(ParentOf(key));
    ENSEMBLE_CHECK(parent != nullptr);
    parent->children.insert(ChildNameOf(key));
  }
  n.digest = NodeHash(key, n);
  digest_ += n.digest;
  data_size_ += static_cast<int64_t>(key.size() + n.data.size());
  IndexNode(key, n);
  if (undo_enabled_) {
    undo_.push_back(UndoEntry{UndoEntry::Kind::kEraseNode, std::string(key), Node{}});
  }
  return &n;
}

Node DataTree::EraseNode(absl::string_view path) {
  auto it = nodes_.find(path);
  ENSEMBLE_CHECK(it != nodes_.end());
  ENSEMBLE_CHECK(it->second.children.empty());
  const absl::string_view key = it->first;
  if (key != kRoot) {
    Node* parent = FindParent(ParentOf(key));
    ENSEMBLE_CHECK(parent != nullptr);
    ENSEMBLE_CHECK(parent->children.erase(ChildNameOf(key)) == 1);
  }
  UnindexNode(key, it->second);
  digest_ -= it->second.digest;
  data_size_ -= static_cast<int64_t>(key.size() + it->second.data.size());
  auto handle = nodes_.extract(it);
  Node node = std::move(handle.mapped());
  if (undo_enabled_) {
    Node saved;
    saved.data = node.data;
    saved.acl = node.acl;
    saved.stat = node.stat;
    saved.kind = node.kind;
    undo_.push_back(
        UndoEntry{UndoEntry::Kind::kInsertNode, std::move(handle.key()), std::move(saved)});
  }
  return node;
}

void DataTree::UpdateNode(absl::string_view path, Node* node, std::optional<std::string> data,
                          std::optional<AclRef> acl, std::optional<StatPersisted> stat) {
  if (undo_enabled_) {
    Node saved;
    if (data) saved.data = node->data;
    saved.acl = node->acl;
    saved.stat = node->stat;
    saved.kind = node->kind;
    undo_.push_back(UndoEntry{UndoEntry::Kind::kRestoreNode, std::string(path), std::move(saved),
                              data.has_value()});
  }
  digest_ -= node->digest;
  data_size_ -= static_cast<int64_t>(node->data.size());
  if (data) node->data = std::move(*data);
  if (acl) node->acl = std::move(*acl);
  if (stat) node->stat = *stat;
  node->digest = NodeHash(path, *node);
  digest_ += node->digest;
  data_size_ += static_cast<int64_t>(node->data.size());
}

void DataTree::AddQuotaPrefix(std::string prefix) {
  if (quotas_.Contains(prefix)) return;
  if (undo_enabled_) undo_.push_back(UndoEntry{UndoEntry::Kind::kQuotaRemove, prefix, Node{}});
  quotas_.Add(std::move(prefix));
}

void DataTree::RemoveQuotaPrefix(absl::string_view prefix) {
  if (!quotas_.Contains(prefix)) return;
  if (undo_enabled_) {
    undo_.push_back(UndoEntry{UndoEntry::Kind::kQuotaAdd, std::string(prefix), Node{}});
  }
  quotas_.Remove(prefix);
}

void DataTree::BeginUndo() {
  ENSEMBLE_CHECK(!undo_enabled_);
  undo_.clear();
  undo_enabled_ = true;
}

void DataTree::CommitUndo() {
  undo_enabled_ = false;
  undo_.clear();
}

void DataTree::RollbackUndo() {
  undo_enabled_ = false;
  for (auto it = undo_.rbegin(); it != undo_.rend(); ++it) {
    UndoEntry& e = *it;
    switch (e.kind) {
      case UndoEntry::Kind::kEraseNode:
        EraseNode(e.path);
        break;
      case UndoEntry::Kind::kInsertNode:
        InsertNode(std::move(e.path), std::move(e.node));
        break;
      case UndoEntry::Kind::kRestoreNode: {
        Node* node = FindMutable(e.path);
        ENSEMBLE_CHECK(node != nullptr);
        std::optional<std::string> data;
        if (e.restore_data) data = std::move(e.node.data);
        UpdateNode(e.path, node, std::move(data), std::move(e.node.acl), e.node.stat);
        break;
      }
      case UndoEntry::Kind::kQuotaAdd:
        quotas_.Add(std::move(e.path));
        break;
      case UndoEntry::Kind::kQuotaRemove:
        quotas_.Remove(e.path);
        break;
    }
  }
  undo_.clear();
}

void DataTree::FillStat(const Node& node, ensemble::v1::Stat* stat) const {
  const StatPersisted& s = node.stat;
  const auto num_children = static_cast<int32_t>(node.children.size());
  stat->set_czxid(s.czxid);
  stat->set_mzxid(s.mzxid);
  stat->set_ctime(s.ctime);
  stat->set_mtime(s.mtime);
  stat->set_version(s.version);
  // DataNode.copyStat: creates counted twice minus the children still there.
  stat->set_cversion(JavaIntAdd(JavaIntAdd(s.cversion, s.cversion), -num_children));
  stat->set_aversion(s.aversion);
  stat->set_ephemeral_owner(ClientEphemeralOwner(node.kind, s.ephemeral_owner));
  stat->set_data_length(static_cast<int32_t>(node.data.size()));
  stat->set_num_children(num_children);
  stat->set_pzxid(s.pzxid);
}

ZkError DataTree::Create(const ensemble::v1::CreateOp& op, const OpContext& ctx,
                         ensemble::v1::OpResult* result, std::vector<WatchTrigger>* triggers) {
  // PrepRequestProcessor.pRequest2TxnCreate, in its order.
  const int mode = op.mode();
  if (mode < kModePersistent || mode > kModePersistentSequentialWithTtl) {
    return ZkError::kBadArguments;  // CreateMode.fromFlag
  }
  const bool is_ttl = mode == kModePersistentWithTtl || mode == kModePersistentSequentialWithTtl;
  const bool is_container = mode == kModeContainer;
  const bool is_ephemeral = mode == kModeEphemeral || mode == kModeEphemeralSequential;
  const bool is_sequential = mode == kModePersistentSequential ||
                             mode == kModeEphemeralSequential ||
                             mode == kModePersistentSequentialWithTtl;
  if (is_ttl && !ctx.extended_types_enabled) return ZkError::kUnimplemented;
  // EphemeralType.validateTTL. A plain create carries ttl -1 in ZooKeeper;
  // here 0 means "none" unless the request was a createTTL.
  if (is_ttl) {
    if (op.ttl_ms() <= 0 || op.ttl_ms() > kMaxTtlMs) return ZkError::kBadArguments;
  } else if (op.ttl_ms() > 0 ||
             (op.ttl_ms() == 0 && ctx.header_type == ToInt(OpCode::kCreateTtl))) {
    return ZkError::kBadArguments;
  }
  if (is_ephemeral && !ctx.session_alive) return ZkError::kSessionExpired;

  const std::string& requested = op.path();
  const size_t last_slash = requested.rfind('/');
  if (last_slash == std::string::npos || requested.find('\0') != std::string::npos) {
    return ZkError::kBadArguments;  // validatePathForCreate
  }
  AclList acl;
  if (ZkError e = FixupAcl(AclsFromProto(op.acl()), ctx.auth, &acl); e != ZkError::kOk) return e;
  const std::string parent_path(
      NormalizeParent(absl::string_view(requested).substr(0, last_slash)));
  Node* parent = FindMutable(parent_path);
  if (parent == nullptr) return ZkError::kNoNode;
  if (CheckAcl(parent->acl->acls, perms::kCreate, ctx.auth) != ZkError::kOk) {
    return ZkError::kNoAuth;
  }
  std::string path = requested;
  if (is_sequential) absl::StrAppendFormat(&path, "%010d", parent->stat.cversion);
  if (!IsValidPath(path)) return ZkError::kBadArguments;
  if (nodes_.contains(path)) return ZkError::kNodeExists;
  if (parent->kind == NodeKind::kEphemeral) return ZkError::kNoChildrenForEphemerals;

  // DataTree.createNode.
  const int32_t new_cversion = JavaIntAdd(parent->stat.cversion, 1);
  if (new_cversion > parent->stat.cversion) {
    StatPersisted pstat = parent->stat;
    pstat.cversion = new_cversion;
    pstat.pzxid = ctx.zxid;
    UpdateNode(parent_path, parent, std::nullopt, std::nullopt, pstat);
  }
  Node child;
  child.data = op.data();
  child.acl = acl_cache_.Intern(std::move(acl));
  if (is_container) {
    child.kind = NodeKind::kContainer;
    child.stat.ephemeral_owner = kContainerEphemeralOwner;
  } else if (is_ttl) {
    child.kind = NodeKind::kTtl;
    child.stat.ephemeral_owner = TtlToEphemeralOwner(op.ttl_ms());
  } else if (is_ephemeral) {
    child.kind = NodeKind::kEphemeral;
    child.stat.ephemeral_owner = ctx.session_id;
  }
  child.stat.czxid = child.stat.mzxid = child.stat.pzxid = ctx.zxid;
  child.stat.ctime = child.stat.mtime = ctx.time_ms;
  const int64_t bytes = static_cast<int64_t>(op.data().size());
  Node* node = InsertNode(path, std::move(child));
  result->set_path(path);
  FillStat(*node, result->mutable_stat());
  const AclRef node_acl = node->acl;

  // Quota bookkeeping (createNode's /zookeeper/quota special case first).
  if (std::optional<std::string> prefix = QuotaPrefixOfParent(parent_path)) {
    const absl::string_view name = ChildNameOf(path);
    if (name == kLimitNode) {
      AddQuotaPrefix(*prefix);
    } else if (name == kStatNode) {
      UpdateQuotaForPath(*prefix);
    }
  }
  if (std::optional<absl::string_view> quota = quotas_.MaxPrefix(path)) {
    UpdateQuotaStat(std::string(*quota), bytes, 1);
  }

  triggers->push_back(
      WatchTrigger{WatchTrigger::Table::kData, EventType::kNodeCreated, path, node_acl, false});
  triggers->push_back(WatchTrigger{WatchTrigger::Table::kChild, EventType::kNodeChildrenChanged,
                                   parent_path, parent->acl, false});
  return ZkError::kOk;
}

ZkError DataTree::Delete(const ensemble::v1::DeleteOp& op, const OpContext& ctx,
                         std::vector<WatchTrigger>* triggers) {
  const std::string& path = op.path();
  const size_t last_slash = path.rfind('/');
  if (last_slash == std::string::npos || path.find('\0') != std::string::npos ||
      IsSpecialPath(path)) {
    return ZkError::kBadArguments;  // getParentPathAndValidate
  }
  Node* parent = FindParent(absl::string_view(path).substr(0, last_slash));
  if (parent == nullptr) return ZkError::kNoNode;
  if (CheckAcl(parent->acl->acls, perms::kDelete, ctx.auth) != ZkError::kOk) {
    return ZkError::kNoAuth;
  }
  Node* node = FindMutable(path);
  if (node == nullptr) return ZkError::kNoNode;
  if (op.version() != -1 && op.version() != node->stat.version) return ZkError::kBadVersion;
  if (!node->children.empty()) return ZkError::kNotEmpty;
  DeleteNodeAndTrigger(path, ctx.zxid, triggers);
  return ZkError::kOk;
}

ZkError DataTree::DeleteContainer(const ensemble::v1::DeleteContainerOp& op, const OpContext& ctx,
                                  std::vector<WatchTrigger>* triggers) {
  const std::string& path = op.path();
  const size_t last_slash = path.rfind('/');
  if (last_slash == std::string::npos || path.find('\0') != std::string::npos ||
      IsSpecialPath(path)) {
    return ZkError::kBadArguments;
  }
  const Node* node = FindMutable(path);
  if (node == nullptr) return ZkError::kNoNode;
  if (!node->children.empty()) return ZkError::kNotEmpty;
  switch (node->kind) {
    case NodeKind::kContainer:
      break;
    case NodeKind::kTtl: {
      // ContainerManager: expired once now - mtime > ttl; a setData since the
      // leader chose the node makes it young again.
      const int64_t ttl = TtlFromEphemeralOwner(node->stat.ephemeral_owner);
      if (ttl == 0 || ctx.time_ms - node->stat.mtime <= ttl) return ZkError::kBadVersion;
      break;
    }
    default:
      return ZkError::kBadVersion;
  }
  if (FindParent(absl::string_view(path).substr(0, last_slash)) == nullptr) {
    return ZkError::kNoNode;
  }
  DeleteNodeAndTrigger(path, ctx.zxid, triggers);
  return ZkError::kOk;
}

void DataTree::DeleteNodeAndTrigger(absl::string_view path_view, int64_t zxid,
                                    std::vector<WatchTrigger>* triggers) {
  const std::string path(path_view);  // the key dies with the node
  const std::string parent_path(NormalizeParent(ParentOf(path)));
  Node* parent = FindMutable(parent_path);
  ENSEMBLE_CHECK(parent != nullptr);
  // DataTree.deleteNode: pzxid only moves forward; cversion counts creates.
  if (zxid > parent->stat.pzxid) {
    StatPersisted pstat = parent->stat;
    pstat.pzxid = zxid;
    UpdateNode(parent_path, parent, std::nullopt, std::nullopt, pstat);
  }
  Node node = EraseNode(path);
  if (ChildNameOf(path) == kLimitNode) {
    if (std::optional<std::string> prefix = QuotaPrefixOfParent(parent_path)) {
      RemoveQuotaPrefix(*prefix);
    }
  }
  if (std::optional<absl::string_view> quota = quotas_.MaxPrefix(path)) {
    UpdateQuotaStat(std::string(*quota), -static_cast<int64_t>(node.data.size()), -1);
  }
  triggers->push_back(
      WatchTrigger{WatchTrigger::Table::kData, EventType::kNodeDeleted, path, node.acl, false});
  triggers->push_back(
      WatchTrigger{WatchTrigger::Table::kChild, EventType::kNodeDeleted, path, node.acl, true});
  triggers->push_back(WatchTrigger{WatchTrigger::Table::kChild, EventType::kNodeChildrenChanged,
                                   parent_path, parent->acl, false});
}

ZkError DataTree::SetData(const ensemble::v1::SetDataOp& op, const OpContext& ctx,
                          ensemble::v1::OpResult* result, std::vector<WatchTrigger>* triggers) {
  const std::string& path = op.path();
  if (!IsValidPath(path)) return ZkError::kBadArguments;
  Node* node = FindMutable(path);
  if (node == nullptr) return ZkError::kNoNode;
  if (CheckAcl(node->acl->acls, perms::kWrite, ctx.auth) != ZkError::kOk) {
    return ZkError::kNoAuth;
  }
  if (op.version() != -1 && op.version() != node->stat.version) return ZkError::kBadVersion;

  StatPersisted stat = node->stat;
  stat.version = JavaIntAdd(stat.version, 1);
  stat.mtime = ctx.time_ms;
  stat.mzxid = ctx.zxid;
  const int64_t bytes_diff =
      static_cast<int64_t>(op.data().size()) - static_cast<int64_t>(node->data.size());
  UpdateNode(path, node, op.data(), std::nullopt, stat);
  FillStat(*node, result->mutable_stat());
  result->set_path(path);
  if (std::optional<absl::string_view> quota = quotas_.MaxPrefix(path)) {
    UpdateQuotaStat(std::string(*quota), bytes_diff, 0);
  }
  triggers->push_back(WatchTrigger{WatchTrigger::Table::kData, EventType::kNodeDataChanged, path,
                                   node->acl, false});
  return ZkError::kOk;
}

ZkError DataTree::SetAcl(const ensemble::v1::SetAclOp& op, const OpContext& ctx,
                         ensemble::v1::OpResult* result) {
  const std::string& path = op.path();
  if (!IsValidPath(path)) return ZkError::kBadArguments;
  AclList acl;
  if (ZkError e = FixupAcl(AclsFromProto(op.acl()), ctx.auth, &acl); e != ZkError::kOk) return e;
  Node* node = FindMutable(path);
  if (node == nullptr) return ZkError::kNoNode;
  if (CheckAcl(node->acl->acls, perms::kAdmin, ctx.auth) != ZkError::kOk) {
    return ZkError::kNoAuth;
  }
  if (op.version() != -1 && op.version() != node->stat.aversion) return ZkError::kBadVersion;
  StatPersisted stat = node->stat;
  stat.aversion = JavaIntAdd(stat.aversion, 1);
  UpdateNode(path, node, std::nullopt, acl_cache_.Intern(std::move(acl)), stat);
  FillStat(*node, result->mutable_stat());
  result->set_path(path);
  return ZkError::kOk;
}

ZkError DataTree::Check(const ensemble::v1::CheckOp& op, const OpContext& ctx) {
  const std::string& path = op.path();
  if (!IsValidPath(path)) return ZkError::kBadArguments;
  const Node* node = FindMutable(path);
  if (node == nullptr) return ZkError::kNoNode;
  if (CheckAcl(node->acl->acls, perms::kRead, ctx.auth) != ZkError::kOk) return ZkError::kNoAuth;
  if (op.version() != -1 && op.version() != node->stat.version) return ZkError::kBadVersion;
  return ZkError::kOk;
}

void DataTree::KillSession(int64_t session_id, int64_t zxid, std::vector<WatchTrigger>* triggers) {
  auto it = ephemerals_.find(session_id);
  if (it == ephemerals_.end()) return;
  // Copies: each delete shrinks the set (and the views die with the nodes).
  const std::vector<std::string> paths(it->second.begin(), it->second.end());
  for (const std::string& path : paths) DeleteNodeAndTrigger(path, zxid, triggers);
}

void DataTree::UpdateQuotaStat(absl::string_view prefix, int64_t bytes_diff, int64_t count_diff) {
  const std::string stat_path = QuotaStatPath(prefix);
  Node* stat_node = FindMutable(stat_path);
  if (stat_node == nullptr) return;  // "should not happen" in ZooKeeper
  std::optional<StatsTrack> track = StatsTrack::Parse(stat_node->data);
  if (!track) return;  // ZooKeeper would throw while applying; leave it as it is
  track->set_count(track->count() + count_diff);
  track->set_bytes(track->bytes() + bytes_diff);
  // Data only: ZooKeeper changes neither mzxid nor version here.
  UpdateNode(stat_path, stat_node, track->ToString(), std::nullopt, std::nullopt);
}

void DataTree::UpdateQuotaForPath(absl::string_view prefix) {
  // DataTree.getCounts over the subtree at `prefix` (iteratively: paths can
  // be deep).
  int64_t count = 0;
  int64_t bytes = 0;
  std::vector<std::string> stack;
  if (Find(prefix) != nullptr && !prefix.empty()) stack.emplace_back(prefix);
  while (!stack.empty()) {
    const std::string path = std::move(stack.back());
    stack.pop_back();
    const Node* node = Find(path);
    if (node == nullptr) continue;
    ++count;
    bytes += static_cast<int64_t>(node->data.size());
    for (absl::string_view child : node->children) stack.push_back(ChildPath(path, child));
  }
  StatsTrack track;
  track.set_bytes(bytes);
  track.set_count(count);
  const std::string stat_path = QuotaStatPath(prefix);
  Node* stat_node = FindMutable(stat_path);
  if (stat_node == nullptr) return;
  UpdateNode(stat_path, stat_node, track.ToString(), std::nullopt, std::nullopt);
}

int32_t DataTree::AllChildrenNumber(absl::string_view path) const {
  if (path == kRoot || path.empty()) return static_cast<int32_t>(nodes_.size() - 1);
  int64_t count = 0;
  std::vector<std::string> stack{std::string(path)};
  while (!stack.empty()) {
    const std::string p = std::move(stack.back());
    stack.pop_back();
    const Node* node = Find(p);
    if (node == nullptr) continue;
    for (absl::string_view child : node->children) {
      ++count;
      stack.push_back(ChildPath(p, child));
    }
  }
  return static_cast<int32_t>(count);
}

std::vector<std::string> DataTree::Ephemerals(int64_t session_id) const {
  auto it = ephemerals_.find(session_id);
  if (it == ephemerals_.end()) return {};
  return std::vector<std::string>(it->second.begin(), it->second.end());
}

size_t DataTree::EphemeralCount(int64_t session_id) const {
  auto it = ephemerals_.find(session_id);
  return it == ephemerals_.end() ? 0 : it->second.size();
}

std::vector<std::string> DataTree::Containers() const {
  return std::vector<std::string>(containers_.begin(), containers_.end());
}

std::vector<std::string> DataTree::Ttls() const {
  return std::vector<std::string>(ttls_.begin(), ttls_.end());
}

void DataTree::ForEachPreorder(
    const std::function<void(absl::string_view path, const Node&)>& fn) const {
  auto root = nodes_.find(kRoot);
  if (root == nodes_.end()) return;
  std::vector<absl::string_view> stack{root->first};
  std::string child_path;
  while (!stack.empty()) {
    const absl::string_view path = stack.back();
    stack.pop_back();
    const auto it = nodes_.find(path);
    ENSEMBLE_CHECK(it != nodes_.end());
    fn(path, it->second);
    // Push in reverse so children pop (and are visited) in sorted order.
    for (auto c = it->second.children.rbegin(); c != it->second.children.rend(); ++c) {
      child_path = ChildPath(path, *c);
      const auto child = nodes_.find(child_path);
      ENSEMBLE_CHECK(child != nodes_.end());
      stack.push_back(child->first);
    }
  }
}

absl::Status DataTree::LoadNode(std::string path, std::string data, AclList acl,
                                const StatPersisted& stat, NodeKind kind) {
  if (!IsValidPath(path)) return absl::DataLossError(absl::StrCat("invalid path ", path));
  if (nodes_.contains(path)) return absl::DataLossError(absl::StrCat("duplicate node ", path));
  if (path == kRoot) {
    if (!nodes_.empty()) return absl::DataLossError("root is not the first node");
  } else {
    const Node* parent = FindParent(ParentOf(path));
    if (parent == nullptr) {
      return absl::DataLossError(absl::StrCat("node ", path, " precedes its parent"));
    }
    if (parent->kind == NodeKind::kEphemeral) {
      return absl::DataLossError(absl::StrCat("node ", path, " under an ephemeral node"));
    }
  }
  if (kind == NodeKind::kEphemeral &&
      (stat.ephemeral_owner == 0 || stat.ephemeral_owner == kContainerEphemeralOwner)) {
    return absl::DataLossError(absl::StrCat("ephemeral node ", path, " without an owner"));
  }
  Node node;
  node.data = std::move(data);
  node.acl = acl_cache_.Intern(std::move(acl));
  node.stat = stat;
  node.kind = kind;
  InsertNode(std::move(path), std::move(node));
  return absl::OkStatus();
}

absl::Status DataTree::FinishLoad() {
  if (!nodes_.contains(kRoot)) return absl::DataLossError("snapshot has no root node");
  quotas_.clear();
  // Every zookeeper_limits node under /zookeeper/quota/<ns> is a quota on
  // /<ns> (what createNode registered). Stats nodes are kept as they are.
  std::vector<std::string> stack;
  if (nodes_.contains(kQuotaZookeeper)) stack.emplace_back(kQuotaZookeeper);
  while (!stack.empty()) {
    const std::string path = std::move(stack.back());
    stack.pop_back();
    const Node* node = Find(path);
    for (absl::string_view child : node->children) {
      std::string child_path = ChildPath(path, child);
      if (child == kLimitNode) {
        if (std::optional<std::string> prefix = QuotaPrefixOfParent(path)) {
          quotas_.Add(std::move(*prefix));
        }
      }
      stack.push_back(std::move(child_path));
    }
  }
  return absl::OkStatus();
}

}  // namespace ensemble::storage

#include "services/storage/core/state_machine.h"

#include <utility>

#include "common/base/check.h"
#include "services/storage/core/hash.h"

namespace ensemble::storage {
namespace {

using ensemble::storage::v1::ReadRequest;
using ensemble::storage::v1::ReadResult;

// CreateMode flags of the kinds multi reports with their own op code.
constexpr int kModeContainer = 4;
constexpr int kModePersistentWithTtl = 5;
constexpr int kModePersistentSequentialWithTtl = 6;

// Java's Character.isWhitespace for ASCII.
bool IsJavaWhitespace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r' ||
         (c >= '\x1c' && c <= '\x1f');
}

// FinalRequestProcessor's getEphemerals: a blank prefix or "/" (after
// String.trim) means every ephemeral of the session.
bool MatchesEphemeralPrefix(absl::string_view prefix, absl::string_view path) {
  bool blank = true;
  for (char c : prefix) blank = blank && IsJavaWhitespace(c);
  if (blank) return true;
  size_t begin = 0;
  size_t end = prefix.size();
  while (begin < end && static_cast<unsigned char>(prefix[begin]) <= ' ') ++begin;
  while (end > begin && static_cast<unsigned char>(prefix[end - 1]) <= ' ') --end;
  if (prefix.substr(begin, end - begin) == "/") return true;
  return path.substr(0, prefix.size()) == prefix;
}

int32_t CreateOpCode(const ensemble::v1::CreateOp& op) {
  if (op.mode() == kModeContainer) return ToInt(OpCode::kCreateContainer);
  if (op.mode() == kModePersistentWithTtl || op.mode() == kModePersistentSequentialWithTtl) {
    return ToInt(OpCode::kCreateTtl);
  }
  return ToInt(OpCode::kCreate);
}

}  // namespace

StateMachine::StateMachine(StateMachineOptions options)
    : options_(options), tree_(std::make_unique<DataTree>()) {}

std::unique_ptr<StateMachine> StateMachine::FromParts(std::unique_ptr<DataTree> tree,
                                                      SessionTable sessions,
                                                      int64_t last_applied_zxid,
                                                      StateMachineOptions options) {
  auto sm = std::make_unique<StateMachine>(options);
  sm->tree_ = std::move(tree);
  sm->sessions_ = std::move(sessions);
  sm->last_applied_zxid_ = last_applied_zxid;
  return sm;
}

std::unique_ptr<StateMachine> StateMachine::Clone() const {
  return FromParts(tree_->Clone(), sessions_, last_applied_zxid_, options_);
}

uint64_t StateMachine::Digest() const {
  return Mix64(HashCombine(tree_->Digest(), sessions_.Digest()));
}

ApplyOutput StateMachine::Apply(const ensemble::v1::Txn& txn) {
  const ensemble::v1::TxnHeader& header = txn.header();
  ENSEMBLE_CHECK(header.zxid() > last_applied_zxid_);
  OpContext ctx;
  ctx.zxid = header.zxid();
  ctx.time_ms = header.time_ms();
  ctx.session_id = header.session_id();
  ctx.header_type = header.type();
  ctx.auth = IdsFromProto(header.auth());
  ctx.session_alive = sessions_.Contains(header.session_id());
  ctx.extended_types_enabled = options_.extended_types_enabled;

  ApplyOutput out;
  ensemble::v1::TxnResult& result = out.result;
  result.set_session_id(header.session_id());
  result.set_cxid(header.cxid());
  result.set_zxid(header.zxid());
  result.set_type(header.type());
  ensemble::v1::OpResult* op_result = result.mutable_result();
  op_result->set_type(header.type());

  std::vector<WatchTrigger> triggers;
  bool session_closed = false;
  ZkError err = ZkError::kOk;
  const ensemble::v1::Op& op = txn.op();
  // A client request from a session that no longer exists fails as a whole,
  // as ZooKeeper's PrepRequestProcessor (checkSession) makes it fail.
  // Session 0 marks requests the leader itself issues.
  const bool client_op = op.op_case() != ensemble::v1::Op::kCreateSession &&
                         op.op_case() != ensemble::v1::Op::kCloseSession &&
                         op.op_case() != ensemble::v1::Op::kDeleteContainer &&
                         op.op_case() != ensemble::v1::Op::kNoop;
  if (client_op && header.session_id() != 0 && !ctx.session_alive) {
    err = ZkError::kSessionExpired;
  } else
    switch (op.op_case()) {
      case ensemble::v1::Op::kCreate:
        err = tree_->Create(op.create(), ctx, op_result, &triggers);
        break;
      case ensemble::v1::Op::kDelete:
        err = tree_->Delete(op.delete_(), ctx, &triggers);
        break;
      case ensemble::v1::Op::kSetData:
        err = tree_->SetData(op.set_data(), ctx, op_result, &triggers);
        break;
      case ensemble::v1::Op::kSetAcl:
        err = tree_->SetAcl(op.set_acl(), ctx, op_result);
        break;
      case ensemble::v1::Op::kCheck:
        err = tree_->Check(op.check(), ctx);
        break;
      case ensemble::v1::Op::kMulti:
        err = ApplyMulti(op.multi(), ctx, &result, &triggers);
        break;
      case ensemble::v1::Op::kCreateSession:
        sessions_.Add(header.session_id(), op.create_session().timeout_ms());
        result.set_session_timeout_ms(op.create_session().timeout_ms());
        break;
      case ensemble::v1::Op::kCloseSession:
        tree_->KillSession(header.session_id(), header.zxid(), &triggers);
        sessions_.Remove(header.session_id());
        session_closed = true;
        break;
      case ensemble::v1::Op::kDeleteContainer:
        err = tree_->DeleteContainer(op.delete_container(), ctx, &triggers);
        break;
      case ensemble::v1::Op::kNoop:
        break;
      case ensemble::v1::Op::OP_NOT_SET:
        err = ZkError::kMarshallingError;
        break;
    }
  if (err != ZkError::kOk) {
    op_result->clear_path();
    op_result->clear_stat();
  }
  result.set_err(ToInt(err));
  op_result->set_err(ToInt(err));
  last_applied_zxid_ = header.zxid();
  FireTriggers(triggers, header.zxid(), &out.events);
  // The session's connection goes away with it (ZooKeeper's removeCnxn),
  // after it saw the events of its own ephemerals' deletion.
  if (session_closed) watches_.DropSession(header.session_id());
  return out;
}

ZkError StateMachine::ApplyMulti(const ensemble::v1::MultiOp& multi, const OpContext& ctx,
                                 ensemble::v1::TxnResult* result,
                                 std::vector<WatchTrigger>* triggers) {
  // MultiOperationRecord only carries create, delete, setData and check;
  // anything else fails the whole request like an undecodable one.
  for (const ensemble::v1::Op& op : multi.ops()) {
    switch (op.op_case()) {
      case ensemble::v1::Op::kCreate:
      case ensemble::v1::Op::kDelete:
      case ensemble::v1::Op::kSetData:
      case ensemble::v1::Op::kCheck:
        break;
      default:
        return ZkError::kMarshallingError;
    }
  }
  std::vector<WatchTrigger> pending;
  std::vector<ensemble::v1::OpResult> results;
  results.reserve(multi.ops_size());
  ZkError failure = ZkError::kOk;
  tree_->BeginUndo();
  for (const ensemble::v1::Op& op : multi.ops()) {
    ensemble::v1::OpResult sub;
    ZkError e = ZkError::kOk;
    switch (op.op_case()) {
      case ensemble::v1::Op::kCreate:
        sub.set_type(CreateOpCode(op.create()));
        e = tree_->Create(op.create(), ctx, &sub, &pending);
        break;
      case ensemble::v1::Op::kDelete:
        sub.set_type(ToInt(OpCode::kDelete));
        sub.set_path(op.delete_().path());
        e = tree_->Delete(op.delete_(), ctx, &pending);
        break;
      case ensemble::v1::Op::kSetData:
        sub.set_type(ToInt(OpCode::kSetData));
        e = tree_->SetData(op.set_data(), ctx, &sub, &pending);
        break;
      case ensemble::v1::Op::kCheck:
        sub.set_type(ToInt(OpCode::kCheck));
        sub.set_path(op.check().path());
        e = tree_->Check(op.check(), ctx);
        break;
      default:
        ENSEMBLE_CHECK(false);
    }
    if (e != ZkError::kOk) {
      failure = e;
      break;
    }
    results.push_back(std::move(sub));
  }
  if (failure == ZkError::kOk) {
    tree_->CommitUndo();
    for (ensemble::v1::OpResult& r : results) *result->add_multi() = std::move(r);
    for (WatchTrigger& t : pending) triggers->push_back(std::move(t));
    return ZkError::kOk;
  }
  tree_->RollbackUndo();
  // DataTree.processTxn for a multi holding an ErrorTxn: ops before the
  // failure report 0, the failure its code, later ops RUNTIMEINCONSISTENCY;
  // every result has type error (-1).
  const size_t failed_at = results.size();
  for (size_t i = 0; i < static_cast<size_t>(multi.ops_size()); ++i) {
    ensemble::v1::OpResult* r = result->add_multi();
    r->set_type(ToInt(OpCode::kError));
    if (i < failed_at) {
      r->set_err(ToInt(ZkError::kOk));
    } else if (i == failed_at) {
      r->set_err(ToInt(failure));
    } else {
      r->set_err(ToInt(ZkError::kRuntimeInconsistency));
    }
  }
  return failure;
}

void StateMachine::FireTriggers(const std::vector<WatchTrigger>& triggers, int64_t zxid,
                                std::vector<FiredEvent>* events) {
  std::vector<Watcher> previous;
  for (const WatchTrigger& t : triggers) {
    WatchManager::Fired fired =
        watches_.Trigger(t.table, t.path, t.acl, t.suppress_previous ? &previous : nullptr);
    for (const Watcher& w : fired.delivered) {
      FiredEvent e;
      e.gateway_id = w.gateway_id;
      e.event.set_session_id(w.session_id);
      e.event.set_type(ToInt(t.type));
      e.event.set_path(t.path);
      e.event.set_zxid(zxid);
      events->push_back(std::move(e));
    }
    previous = std::move(fired.notified);
  }
}

ReadResult StateMachine::Read(const ReadRequest& request, uint64_t gateway_id,
                              std::vector<FiredEvent>* events) {
  ReadResult result;
  result.set_id(request.id());
  result.set_zxid(last_applied_zxid_);
  const Watcher watcher{gateway_id, request.session_id()};
  const std::vector<Id> auth = IdsFromProto(request.auth());
  const ZkError err = ReadOne(request, watcher, auth, /*top_level=*/true, events, &result);
  result.set_err(ToInt(err));
  watches_.SetAuth(watcher, auth);
  return result;
}

void StateMachine::UpdateWatcherAuth(
    uint64_t gateway_id, int64_t session_id,
    const google::protobuf::RepeatedPtrField<ensemble::v1::Id>& auth) {
  watches_.SetAuth(Watcher{gateway_id, session_id}, IdsFromProto(auth));
}

ZkError StateMachine::ReadOne(const ReadRequest& request, const Watcher& watcher,
                              const std::vector<Id>& auth, bool top_level,
                              std::vector<FiredEvent>* events, ReadResult* result) {
  const std::string& path = request.path();
  const bool watch = top_level && request.watch();
  switch (static_cast<OpCode>(request.type())) {
    case OpCode::kGetData: {
      const Node* node = tree_->Find(path);
      if (node == nullptr) return ZkError::kNoNode;
      if (CheckAcl(node->acl->acls, perms::kRead, auth) != ZkError::kOk) return ZkError::kNoAuth;
      if (watch) watches_.AddDataWatch(path, watcher);
      result->set_data(node->data);
      tree_->FillStat(*node, result->mutable_stat());
      return ZkError::kOk;
    }
    case OpCode::kExists: {
      // No ACL check; the watch is set even if the node does not exist.
      if (path.find('\0') != std::string::npos) return ZkError::kBadArguments;
      if (watch) watches_.AddDataWatch(path, watcher);
      const Node* node = tree_->Find(path);
      if (node == nullptr) return ZkError::kNoNode;
      tree_->FillStat(*node, result->mutable_stat());
      return ZkError::kOk;
    }
    case OpCode::kGetChildren:
    case OpCode::kGetChildren2: {
      const Node* node = tree_->Find(path);
      if (node == nullptr) return ZkError::kNoNode;
      if (CheckAcl(node->acl->acls, perms::kRead, auth) != ZkError::kOk) return ZkError::kNoAuth;
      if (watch) watches_.AddChildWatch(path, watcher);
      for (absl::string_view child : node->children) result->add_children(std::string(child));
      tree_->FillStat(*node, result->mutable_stat());
      return ZkError::kOk;
    }
    case OpCode::kGetAcl: {
      const Node* node = tree_->Find(path);
      if (node == nullptr) return ZkError::kNoNode;
      if (CheckAcl(node->acl->acls, perms::kRead | perms::kAdmin, auth) != ZkError::kOk) {
        return ZkError::kNoAuth;
      }
      AclList acls = node->acl->acls;
      if (CheckAcl(node->acl->acls, perms::kAdmin, auth) != ZkError::kOk) MaskDigestIds(&acls);
      AclsToProto(acls, result->mutable_acl());
      tree_->FillStat(*node, result->mutable_stat());
      return ZkError::kOk;
    }
    case OpCode::kGetAllChildrenNumber: {
      const Node* node = tree_->Find(path);
      if (node == nullptr) return ZkError::kNoNode;
      if (CheckAcl(node->acl->acls, perms::kRead, auth) != ZkError::kOk) return ZkError::kNoAuth;
      result->set_number(tree_->AllChildrenNumber(path));
      return ZkError::kOk;
    }
    case OpCode::kGetEphemerals: {
      for (std::string& p : tree_->Ephemerals(request.session_id())) {
        if (MatchesEphemeralPrefix(path, p)) result->add_children(std::move(p));
      }
      return ZkError::kOk;
    }
    case OpCode::kAddWatch: {
      if (request.mode() == ToInt(AddWatchMode::kPersistent)) {
        watches_.AddPersistentWatch(path, watcher, /*recursive=*/false);
      } else if (request.mode() == ToInt(AddWatchMode::kPersistentRecursive)) {
        watches_.AddPersistentWatch(path, watcher, /*recursive=*/true);
      } else {
        return ZkError::kMarshallingError;  // WatcherMode.fromZooDef throws
      }
      return ZkError::kOk;
    }
    case OpCode::kRemoveWatches:
    case OpCode::kCheckWatches: {
      if (request.mode() < ToInt(WatcherType::kChildren) ||
          request.mode() > ToInt(WatcherType::kPersistentRecursive)) {
        return ZkError::kMarshallingError;  // WatcherType.fromInt throws
      }
      const auto type = static_cast<WatcherType>(request.mode());
      const bool found = request.type() == ToInt(OpCode::kRemoveWatches)
                             ? watches_.Remove(path, type, watcher)
                             : watches_.Contains(path, type, watcher);
      return found ? ZkError::kOk : ZkError::kNoWatcher;
    }
    case OpCode::kSetWatches:
    case OpCode::kSetWatches2:
      SetWatches(request.set_watches(), request.type() == ToInt(OpCode::kSetWatches2), watcher,
                 events);
      return ZkError::kOk;
    case OpCode::kMultiRead: {
      if (!top_level) return ZkError::kMarshallingError;
      for (const ReadRequest& sub : request.multi()) {
        if (sub.type() != ToInt(OpCode::kGetData) && sub.type() != ToInt(OpCode::kGetChildren)) {
          return ZkError::kMarshallingError;
        }
      }
      for (const ReadRequest& sub : request.multi()) {
        ReadResult* r = result->add_multi();
        const ZkError e = ReadOne(sub, watcher, auth, /*top_level=*/false, events, r);
        r->set_err(ToInt(e));
        if (e != ZkError::kOk) {
          r->clear_data();
          r->clear_stat();
          r->clear_children();
        }
      }
      return ZkError::kOk;
    }
    case OpCode::kSync:
      return ZkError::kOk;
    default:
      return ZkError::kUnimplemented;
  }
}

void StateMachine::SetWatches(const ensemble::storage::v1::SetWatches& sw, bool with_persistent,
                              const Watcher& watcher, std::vector<FiredEvent>* events) {
  // DataTree.setWatches: report at once what changed after relative_zxid,
  // re-register the rest.
  const int64_t relative_zxid = sw.relative_zxid();
  auto fire = [&](EventType type, const std::string& path) {
    FiredEvent e;
    e.gateway_id = watcher.gateway_id;
    e.event.set_session_id(watcher.session_id);
    e.event.set_type(ToInt(type));
    e.event.set_path(path);
    e.event.set_zxid(kNoZxid);
    events->push_back(std::move(e));
  };
  for (const std::string& path : sw.data()) {
    const Node* node = tree_->Find(path);
    if (node == nullptr) {
      fire(EventType::kNodeDeleted, path);
    } else if (node->stat.mzxid > relative_zxid) {
      fire(EventType::kNodeDataChanged, path);
    } else {
      watches_.AddDataWatch(path, watcher);
    }
  }
  for (const std::string& path : sw.exist()) {
    if (tree_->Find(path) != nullptr) {
      fire(EventType::kNodeCreated, path);
    } else {
      watches_.AddDataWatch(path, watcher);
    }
  }
  for (const std::string& path : sw.child()) {
    const Node* node = tree_->Find(path);
    if (node == nullptr) {
      fire(EventType::kNodeDeleted, path);
    } else if (node->stat.pzxid > relative_zxid) {
      fire(EventType::kNodeChildrenChanged, path);
    } else {
      watches_.AddChildWatch(path, watcher);
    }
  }
  if (!with_persistent) return;  // setWatches (101) has no persistent lists
  for (const std::string& path : sw.persistent()) {
    watches_.AddPersistentWatch(path, watcher, /*recursive=*/false);
  }
  for (const std::string& path : sw.persistent_recursive()) {
    watches_.AddPersistentWatch(path, watcher, /*recursive=*/true);
  }
}

void StateMachine::DropWatches(uint64_t gateway_id, int64_t session_id) {
  watches_.DropWatcher(Watcher{gateway_id, session_id});
}

void StateMachine::DropGateway(uint64_t gateway_id) { watches_.DropGateway(gateway_id); }

std::vector<ensemble::storage::v1::SessionInfo> StateMachine::Sessions() const {
  std::vector<ensemble::storage::v1::SessionInfo> out;
  for (const SessionEntry& s : sessions_.List()) {
    ensemble::storage::v1::SessionInfo info;
    info.set_session_id(s.session_id);
    info.set_timeout_ms(s.timeout_ms);
    info.set_ephemeral_count(static_cast<int32_t>(tree_->EphemeralCount(s.session_id)));
    out.push_back(std::move(info));
  }
  return out;
}

}  // namespace ensemble::storage

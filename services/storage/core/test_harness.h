#pragma once

// Test helpers (header-only, for tests only): builds Txns and ReadRequests
// and applies them to a StateMachine with increasing zxids.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/base/rng.h"
#include "services/storage/core/acl.h"
#include "services/storage/core/state_machine.h"
#include "services/storage/core/zk_codes.h"

namespace ensemble::storage::testing {

inline ensemble::v1::Acl MakeAcl(int32_t perms, const std::string& scheme, const std::string& id) {
  ensemble::v1::Acl acl;
  acl.set_perms(perms);
  acl.mutable_id()->set_scheme(scheme);
  acl.mutable_id()->set_id(id);
  return acl;
}

inline std::vector<ensemble::v1::Acl> OpenAcl() {
  return {MakeAcl(perms::kAll, "world", "anyone")};
}

inline ensemble::v1::Id MakeId(const std::string& scheme, const std::string& id) {
  ensemble::v1::Id out;
  out.set_scheme(scheme);
  out.set_id(id);
  return out;
}

inline ensemble::v1::Op CreateOp(const std::string& path, const std::string& data = "",
                                 int mode = 0, std::vector<ensemble::v1::Acl> acl = OpenAcl(),
                                 int64_t ttl_ms = 0) {
  ensemble::v1::Op op;
  auto* c = op.mutable_create();
  c->set_path(path);
  c->set_data(data);
  c->set_mode(static_cast<ensemble::v1::CreateMode>(mode));
  for (auto& a : acl) *c->add_acl() = a;
  c->set_ttl_ms(ttl_ms);
  return op;
}

inline ensemble::v1::Op DeleteOp(const std::string& path, int32_t version = -1) {
  ensemble::v1::Op op;
  op.mutable_delete_()->set_path(path);
  op.mutable_delete_()->set_version(version);
  return op;
}

inline ensemble::v1::Op SetDataOp(const std::string& path, const std::string& data,
                                  int32_t version = -1) {
  ensemble::v1::Op op;
  op.mutable_set_data()->set_path(path);
  op.mutable_set_data()->set_data(data);
  op.mutable_set_data()->set_version(version);
  return op;
}

inline ensemble::v1::Op SetAclOp(const std::string& path, std::vector<ensemble::v1::Acl> acl,
                                 int32_t version = -1) {
  ensemble::v1::Op op;
  op.mutable_set_acl()->set_path(path);
  for (auto& a : acl) *op.mutable_set_acl()->add_acl() = a;
  op.mutable_set_acl()->set_version(version);
  return op;
}

inline ensemble::v1::Op CheckOp(const std::string& path, int32_t version) {
  ensemble::v1::Op op;
  op.mutable_check()->set_path(path);
  op.mutable_check()->set_version(version);
  return op;
}

inline ensemble::v1::Op MultiOp(std::vector<ensemble::v1::Op> ops) {
  ensemble::v1::Op op;
  op.mutable_multi();
  for (auto& o : ops) *op.mutable_multi()->add_ops() = std::move(o);
  return op;
}

inline ensemble::v1::Op CreateSessionOp(int32_t timeout_ms) {
  ensemble::v1::Op op;
  op.mutable_create_session()->set_timeout_ms(timeout_ms);
  return op;
}

inline ensemble::v1::Op CloseSessionOp() {
  ensemble::v1::Op op;
  op.mutable_close_session();
  return op;
}

inline ensemble::v1::Op DeleteContainerOp(const std::string& path) {
  ensemble::v1::Op op;
  op.mutable_delete_container()->set_path(path);
  return op;
}

// The OpCode a client would send for `op`.
inline int32_t OpCodeOf(const ensemble::v1::Op& op) {
  switch (op.op_case()) {
    case ensemble::v1::Op::kCreate:
      return ToInt(OpCode::kCreate2);
    case ensemble::v1::Op::kDelete:
      return ToInt(OpCode::kDelete);
    case ensemble::v1::Op::kSetData:
      return ToInt(OpCode::kSetData);
    case ensemble::v1::Op::kSetAcl:
      return ToInt(OpCode::kSetAcl);
    case ensemble::v1::Op::kCheck:
      return ToInt(OpCode::kCheck);
    case ensemble::v1::Op::kMulti:
      return ToInt(OpCode::kMulti);
    case ensemble::v1::Op::kCreateSession:
      return ToInt(OpCode::kCreateSession);
    case ensemble::v1::Op::kCloseSession:
      return ToInt(OpCode::kCloseSession);
    case ensemble::v1::Op::kDeleteContainer:
      return ToInt(OpCode::kDeleteContainer);
    default:
      return 0;
  }
}

// Applies ops with zxid 1, 2, ... and time 1000 * zxid. Session 1 is open
// from the start (zxid 1).
class Harness {
 public:
  static constexpr int64_t kSession = 1;
  static constexpr uint64_t kGateway = 7;

  explicit Harness(StateMachineOptions options = {}) : sm_(options) {
    Apply(CreateSessionOp(30000), kSession);
  }

  ApplyOutput Apply(const ensemble::v1::Op& op, int64_t session = kSession,
                    std::vector<ensemble::v1::Id> auth = {}) {
    ensemble::v1::Txn txn;
    auto* h = txn.mutable_header();
    h->set_zxid(++zxid_);
    h->set_time_ms(now_ms());
    h->set_session_id(session);
    h->set_cxid(static_cast<int32_t>(zxid_));
    h->set_type(OpCodeOf(op));
    h->set_origin(kGateway);
    for (auto& id : auth) *h->add_auth() = id;
    *txn.mutable_op() = op;
    ApplyOutput out = sm_.Apply(txn);
    events_.insert(events_.end(), out.events.begin(), out.events.end());
    return out;
  }

  // The op's error code.
  int32_t Err(const ensemble::v1::Op& op, int64_t session = kSession,
              std::vector<ensemble::v1::Id> auth = {}) {
    return Apply(op, session, std::move(auth)).result.err();
  }

  ensemble::storage::v1::ReadResult Read(int32_t type, const std::string& path, bool watch = false,
                                         int64_t session = kSession, uint64_t gateway = kGateway,
                                         std::vector<ensemble::v1::Id> auth = {}) {
    ensemble::storage::v1::ReadRequest req;
    req.set_type(type);
    req.set_path(path);
    req.set_watch(watch);
    req.set_session_id(session);
    for (auto& id : auth) *req.add_auth() = id;
    return ReadRequest(req, gateway);
  }

  ensemble::storage::v1::ReadResult ReadRequest(const ensemble::storage::v1::ReadRequest& req,
                                                uint64_t gateway = kGateway) {
    std::vector<FiredEvent> events;
    auto result = sm_.Read(req, gateway, &events);
    events_.insert(events_.end(), events.begin(), events.end());
    return result;
  }

  ensemble::v1::Stat Stat(const std::string& path) {
    return Read(ToInt(OpCode::kExists), path).stat();
  }

  bool Exists(const std::string& path) {
    return Read(ToInt(OpCode::kExists), path).err() == ToInt(ZkError::kOk);
  }

  // Events fired since the last call.
  std::vector<FiredEvent> TakeEvents() { return std::exchange(events_, {}); }

  int64_t zxid() const { return zxid_; }
  int64_t now_ms() const { return 1000 * zxid_; }
  StateMachine& sm() { return sm_; }

 private:
  StateMachine sm_;
  int64_t zxid_ = 0;
  std::vector<FiredEvent> events_;
};

// Random transactions and reads over a small namespace (paths of depth 1-3
// over names a, b, c; sessions 1-3), every op kind included, for
// determinism and snapshot tests.
class RandomTxns {
 public:
  explicit RandomTxns(uint64_t seed) : rng_(seed) {}

  std::string Path() {
    static const char* kNames[] = {"a", "b", "c"};
    std::string p;
    const int depth = 1 + static_cast<int>(rng_.Uniform(3));
    for (int i = 0; i < depth; ++i) p += std::string("/") + kNames[rng_.Uniform(3)];
    return p;
  }

  int64_t Session() { return 1 + static_cast<int64_t>(rng_.Uniform(3)); }

  std::vector<ensemble::v1::Acl> Acl() {
    switch (rng_.Uniform(6)) {
      case 0:
        return {MakeAcl(perms::kRead | perms::kAdmin, "digest", DigestId("u:p"))};
      case 1:
        return {MakeAcl(perms::kAll, "auth", "")};
      default:
        return OpenAcl();
    }
  }

  ensemble::v1::Op TxnOp(int depth = 0) {
    switch (rng_.Uniform(depth == 0 ? 11 : 5)) {
      case 0:
      case 1: {
        const int mode = static_cast<int>(rng_.Uniform(7));
        const int64_t ttl = (mode >= 5) ? 1 + static_cast<int64_t>(rng_.Uniform(5000)) : 0;
        return CreateOp(Path(), std::string(rng_.Uniform(8), 'x'), mode, Acl(), ttl);
      }
      case 2:
        return DeleteOp(Path(), rng_.OneIn(4) ? 0 : -1);
      case 3:
        return SetDataOp(Path(), std::string(rng_.Uniform(8), 'y'),
                         rng_.OneIn(4) ? static_cast<int32_t>(rng_.Uniform(3)) : -1);
      case 4:
        return CheckOp(Path(), static_cast<int32_t>(rng_.Uniform(3)) - 1);
      case 5:
        return SetAclOp(Path(), Acl(), -1);
      case 6: {
        std::vector<ensemble::v1::Op> ops;
        const int n = 1 + static_cast<int>(rng_.Uniform(4));
        for (int i = 0; i < n; ++i) ops.push_back(TxnOp(1));
        return MultiOp(std::move(ops));
      }
      case 7:
        return CreateSessionOp(1000 * static_cast<int32_t>(1 + rng_.Uniform(30)));
      case 8:
        return CloseSessionOp();
      case 9:
        return DeleteContainerOp(Path());
      default:
        return CreateOp(Path(), "z");
    }
  }

  ensemble::v1::Txn Next(int64_t zxid) {
    ensemble::v1::Txn txn;
    auto* h = txn.mutable_header();
    h->set_zxid(zxid);
    h->set_time_ms(1000 * zxid);
    h->set_session_id(Session());
    h->set_type(OpCodeOf(txn.op()));
    if (rng_.OneIn(3)) *h->add_auth() = MakeId("digest", DigestId("u:p"));
    *txn.mutable_op() = TxnOp();
    h->set_type(OpCodeOf(txn.op()));
    return txn;
  }

  ensemble::storage::v1::ReadRequest Read() {
    static const int32_t kTypes[] = {ToInt(OpCode::kGetData), ToInt(OpCode::kExists),
                                     ToInt(OpCode::kGetChildren), ToInt(OpCode::kAddWatch)};
    ensemble::storage::v1::ReadRequest req;
    req.set_type(kTypes[rng_.Uniform(4)]);
    req.set_path(Path());
    req.set_watch(true);
    req.set_mode(static_cast<int32_t>(rng_.Uniform(2)));
    req.set_session_id(Session());
    return req;
  }

  Rng& rng() { return rng_; }

 private:
  Rng rng_;
};

}  // namespace ensemble::storage::testing

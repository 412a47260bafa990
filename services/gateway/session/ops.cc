#include "services/gateway/session/ops.h"

#include <type_traits>
#include <variant>

#include "common/base/check.h"

namespace ensemble::gateway {

using jute::OpCode;

OpRoute RouteOf(OpCode op) {
  switch (op) {
    case OpCode::kExists:
    case OpCode::kGetData:
    case OpCode::kGetAcl:
    case OpCode::kGetChildren:
    case OpCode::kGetChildren2:
    case OpCode::kCheckWatches:
    case OpCode::kRemoveWatches:
    case OpCode::kMultiRead:
    case OpCode::kSetWatches:
    case OpCode::kSetWatches2:
    case OpCode::kGetEphemerals:
    case OpCode::kGetAllChildrenNumber:
    case OpCode::kAddWatch:
      return OpRoute::kRead;
    case OpCode::kCreate:
    case OpCode::kDelete:
    case OpCode::kSetData:
    case OpCode::kSetAcl:
    case OpCode::kCheck:
    case OpCode::kMulti:
    case OpCode::kCreate2:
    case OpCode::kCreateContainer:
    case OpCode::kCreateTtl:
    case OpCode::kCloseSession:
      return OpRoute::kWrite;
    case OpCode::kSync:
      return OpRoute::kSync;
    default:
      return OpRoute::kLocal;
  }
}

jute::Stat ToJuteStat(const ensemble::v1::Stat& s) {
  jute::Stat out;
  out.czxid = s.czxid();
  out.mzxid = s.mzxid();
  out.ctime = s.ctime();
  out.mtime = s.mtime();
  out.version = s.version();
  out.cversion = s.cversion();
  out.aversion = s.aversion();
  out.ephemeral_owner = s.ephemeral_owner();
  out.data_length = s.data_length();
  out.num_children = s.num_children();
  out.pzxid = s.pzxid();
  return out;
}

std::vector<jute::Acl> ToJuteAcl(const google::protobuf::RepeatedPtrField<ensemble::v1::Acl>& acl) {
  std::vector<jute::Acl> out;
  out.reserve(acl.size());
  for (const auto& a : acl) {
    jute::Acl e;
    e.perms = a.perms();
    e.id.scheme = a.id().scheme();
    e.id.id = a.id().id();
    out.push_back(std::move(e));
  }
  return out;
}

void ToProtoAcl(const std::vector<jute::Acl>& acl,
                google::protobuf::RepeatedPtrField<ensemble::v1::Acl>* out) {
  for (const auto& a : acl) {
    ensemble::v1::Acl* e = out->Add();
    e->set_perms(a.perms);
    e->mutable_id()->set_scheme(a.id.scheme);
    e->mutable_id()->set_id(a.id.id);
  }
}

namespace {

void FillCreate(const jute::CreateRequest& r, ensemble::v1::CreateOp* op) {
  op->set_path(r.path);
  if (r.data) op->set_data(*r.data);
  ToProtoAcl(r.acl, op->mutable_acl());
  // Passed through as sent: storage rejects an invalid mode (proto3 enums keep
  // unknown values).
  op->set_mode(static_cast<ensemble::v1::CreateMode>(r.flags));
}

void FillCreateTtl(const jute::CreateTtlRequest& r, ensemble::v1::CreateOp* op) {
  op->set_path(r.path);
  if (r.data) op->set_data(*r.data);
  ToProtoAcl(r.acl, op->mutable_acl());
  op->set_mode(static_cast<ensemble::v1::CreateMode>(r.flags));
  op->set_ttl_ms(r.ttl);
}

// One op of a multi, or a standalone write, from its record.
template <typename Record>
void FillOp(const Record& r, ensemble::v1::Op* op) {
  using T = std::decay_t<Record>;
  if constexpr (std::is_same_v<T, jute::CreateRequest>) {
    FillCreate(r, op->mutable_create());
  } else if constexpr (std::is_same_v<T, jute::CreateTtlRequest>) {
    FillCreateTtl(r, op->mutable_create());
  } else if constexpr (std::is_same_v<T, jute::DeleteRequest>) {
    op->mutable_delete_()->set_path(r.path);
    op->mutable_delete_()->set_version(r.version);
  } else if constexpr (std::is_same_v<T, jute::SetDataRequest>) {
    op->mutable_set_data()->set_path(r.path);
    if (r.data) op->mutable_set_data()->set_data(*r.data);
    op->mutable_set_data()->set_version(r.version);
  } else if constexpr (std::is_same_v<T, jute::SetAclRequest>) {
    op->mutable_set_acl()->set_path(r.path);
    ToProtoAcl(r.acl, op->mutable_set_acl()->mutable_acl());
    op->mutable_set_acl()->set_version(r.version);
  } else if constexpr (std::is_same_v<T, jute::CheckVersionRequest>) {
    op->mutable_check()->set_path(r.path);
    op->mutable_check()->set_version(r.version);
  } else if constexpr (std::is_same_v<T, jute::EmptyRecord>) {
    op->mutable_close_session();
  } else if constexpr (std::is_same_v<T, jute::MultiRequest>) {
    for (const jute::MultiOp& sub : r.ops) {
      std::visit([&](const auto& rec) { FillOp(rec, op->mutable_multi()->add_ops()); },
                 sub.request);
    }
  } else {
    // Reads inside a write multi cannot be decoded by MultiRequest::Read with a
    // write op type; a getData/getChildren record here is a programmer error.
    ENSEMBLE_CHECK(false && "not a write record");
  }
}

void FillRead(int32_t type, const jute::RequestBody& body,
              ensemble::storage::v1::ReadRequest* read);

template <typename Record>
void FillReadRecord(const Record& r, ensemble::storage::v1::ReadRequest* read) {
  using T = std::decay_t<Record>;
  if constexpr (std::is_same_v<T, jute::ExistsRequest> || std::is_same_v<T, jute::GetDataRequest> ||
                std::is_same_v<T, jute::GetChildrenRequest> ||
                std::is_same_v<T, jute::GetChildren2Request>) {
    read->set_path(r.path);
    read->set_watch(r.watch);
  } else if constexpr (std::is_same_v<T, jute::GetAclRequest> ||
                       std::is_same_v<T, jute::GetAllChildrenNumberRequest>) {
    read->set_path(r.path);
  } else if constexpr (std::is_same_v<T, jute::GetEphemeralsRequest>) {
    read->set_path(r.prefix_path);
  } else if constexpr (std::is_same_v<T, jute::AddWatchRequest>) {
    read->set_path(r.path);
    read->set_mode(r.mode);
  } else if constexpr (std::is_same_v<T, jute::CheckWatchesRequest> ||
                       std::is_same_v<T, jute::RemoveWatchesRequest>) {
    read->set_path(r.path);
    read->set_mode(r.type);
  } else if constexpr (std::is_same_v<T, jute::SetWatches>) {
    auto* sw = read->mutable_set_watches();
    sw->set_relative_zxid(r.relative_zxid);
    for (const auto& p : r.data_watches) sw->add_data(p);
    for (const auto& p : r.exist_watches) sw->add_exist(p);
    for (const auto& p : r.child_watches) sw->add_child(p);
  } else if constexpr (std::is_same_v<T, jute::SetWatches2>) {
    auto* sw = read->mutable_set_watches();
    sw->set_relative_zxid(r.relative_zxid);
    for (const auto& p : r.data_watches) sw->add_data(p);
    for (const auto& p : r.exist_watches) sw->add_exist(p);
    for (const auto& p : r.child_watches) sw->add_child(p);
    for (const auto& p : r.persistent_watches) sw->add_persistent(p);
    for (const auto& p : r.persistent_recursive_watches) sw->add_persistent_recursive(p);
  } else if constexpr (std::is_same_v<T, jute::SyncRequest>) {
    read->set_path(r.path);
  } else if constexpr (std::is_same_v<T, jute::MultiRequest>) {
    for (const jute::MultiOp& sub : r.ops) {
      auto* sub_read = read->add_multi();
      sub_read->set_type(static_cast<int32_t>(sub.type));
      std::visit([&](const auto& rec) { FillReadRecord(rec, sub_read); }, sub.request);
    }
  }
}

}  // namespace

ensemble::v1::Op WriteOpOf(const jute::Request& request) {
  ENSEMBLE_CHECK(RouteOf(request.op()) == OpRoute::kWrite);
  ensemble::v1::Op op;
  std::visit(
      [&](const auto& rec) {
        using T = std::decay_t<decltype(rec)>;
        if constexpr (std::is_same_v<T, jute::CreateRequest> ||
                      std::is_same_v<T, jute::CreateTtlRequest> ||
                      std::is_same_v<T, jute::DeleteRequest> ||
                      std::is_same_v<T, jute::SetDataRequest> ||
                      std::is_same_v<T, jute::SetAclRequest> ||
                      std::is_same_v<T, jute::CheckVersionRequest> ||
                      std::is_same_v<T, jute::MultiRequest> ||
                      std::is_same_v<T, jute::EmptyRecord>) {
          FillOp(rec, &op);
        } else {
          ENSEMBLE_CHECK(false && "not a write request");
        }
      },
      request.body);
  return op;
}

ensemble::storage::v1::ReadRequest ReadOf(const jute::Request& request) {
  ensemble::storage::v1::ReadRequest read;
  read.set_type(request.header.type);
  std::visit([&](const auto& rec) { FillReadRecord(rec, &read); }, request.body);
  return read;
}

std::vector<OpCode> SubOpsOf(const jute::Request& request) {
  std::vector<OpCode> out;
  if (const auto* multi = std::get_if<jute::MultiRequest>(&request.body)) {
    for (const auto& op : multi->ops) out.push_back(op.type);
  }
  return out;
}

Reply ReadReplyOf(OpCode op, const std::vector<OpCode>& sub_ops,
                  const ensemble::storage::v1::ReadResult& r) {
  Reply reply;
  if (op == OpCode::kMultiRead) {
    // ZooKeeper answers a multiRead with err 0 and a result (or an error) per op.
    if (r.err() != 0 && r.multi_size() == 0) {
      reply.err = r.err();
      return reply;
    }
    jute::MultiResponse multi;
    for (int i = 0; i < r.multi_size(); ++i) {
      const auto& sub = r.multi(i);
      const OpCode sub_op = i < static_cast<int>(sub_ops.size()) ? sub_ops[i] : OpCode::kGetData;
      if (sub.err() != 0) {
        multi.results.push_back(jute::ErrorResponse{sub.err()});
      } else if (sub_op == OpCode::kGetChildren) {
        jute::GetChildrenResponse children;
        children.children.assign(sub.children().begin(), sub.children().end());
        multi.results.push_back(std::move(children));
      } else {
        jute::GetDataResponse data;
        data.data = sub.data();
        data.stat = ToJuteStat(sub.stat());
        multi.results.push_back(std::move(data));
      }
    }
    reply.body = std::move(multi);
    return reply;
  }
  reply.err = r.err();
  if (r.err() != 0) return reply;
  switch (op) {
    case OpCode::kExists:
      reply.body = jute::ExistsResponse{ToJuteStat(r.stat())};
      break;
    case OpCode::kGetData: {
      jute::GetDataResponse data;
      data.data = r.data();
      data.stat = ToJuteStat(r.stat());
      reply.body = std::move(data);
      break;
    }
    case OpCode::kGetChildren: {
      jute::GetChildrenResponse children;
      children.children.assign(r.children().begin(), r.children().end());
      reply.body = std::move(children);
      break;
    }
    case OpCode::kGetChildren2: {
      jute::GetChildren2Response children;
      children.children.assign(r.children().begin(), r.children().end());
      children.stat = ToJuteStat(r.stat());
      reply.body = std::move(children);
      break;
    }
    case OpCode::kGetAcl: {
      jute::GetAclResponse acl;
      acl.acl = ToJuteAcl(r.acl());
      acl.stat = ToJuteStat(r.stat());
      reply.body = std::move(acl);
      break;
    }
    case OpCode::kGetAllChildrenNumber:
      reply.body = jute::GetAllChildrenNumberResponse{r.number()};
      break;
    case OpCode::kGetEphemerals: {
      jute::GetEphemeralsResponse eph;
      eph.ephemerals.assign(r.children().begin(), r.children().end());
      reply.body = std::move(eph);
      break;
    }
    case OpCode::kAddWatch:
      reply.body = jute::ErrorResponse{0};
      break;
    default:
      // checkWatches, removeWatches, setWatches, setWatches2: the header only.
      break;
  }
  (void)sub_ops;
  return reply;
}

namespace {

// One result of a multi, shaped as ZooKeeper 3.8 shapes it: create and create2
// answer a CreateResponse (ZooKeeper's multi drops create2's stat), createContainer
// and createTTL a Create2Response.
jute::MultiResult MultiResultOf(OpCode op, const ensemble::v1::OpResult& r) {
  if (r.err() != 0 || r.type() == static_cast<int32_t>(OpCode::kError)) {
    return jute::ErrorResponse{r.err()};
  }
  switch (op) {
    case OpCode::kCreate:
    case OpCode::kCreate2:
      return jute::CreateResponse{r.path()};
    case OpCode::kCreateContainer:
    case OpCode::kCreateTtl:
      return jute::Create2Response{r.path(), ToJuteStat(r.stat())};
    case OpCode::kDelete:
      return jute::MultiDeleteResult{};
    case OpCode::kSetData:
      return jute::SetDataResponse{ToJuteStat(r.stat())};
    case OpCode::kCheck:
      return jute::MultiCheckResult{};
    default:
      return jute::ErrorResponse{r.err()};
  }
}

}  // namespace

Reply WriteReplyOf(OpCode op, const std::vector<OpCode>& sub_ops,
                   const ensemble::v1::TxnResult& r) {
  Reply reply;
  if (op == OpCode::kMulti) {
    if (r.err() != 0 && r.multi_size() == 0 && !sub_ops.empty()) {
      reply.err = r.err();
      return reply;
    }
    jute::MultiResponse multi;
    for (int i = 0; i < r.multi_size(); ++i) {
      const OpCode sub_op = i < static_cast<int>(sub_ops.size()) ? sub_ops[i] : OpCode::kError;
      multi.results.push_back(MultiResultOf(sub_op, r.multi(i)));
    }
    reply.body = std::move(multi);
    return reply;
  }
  reply.err = r.err();
  if (r.err() != 0) return reply;
  const auto& result = r.result();
  switch (op) {
    case OpCode::kCreate:
      reply.body = jute::CreateResponse{result.path()};
      break;
    case OpCode::kCreate2:
    case OpCode::kCreateContainer:
    case OpCode::kCreateTtl:
      reply.body = jute::Create2Response{result.path(), ToJuteStat(result.stat())};
      break;
    case OpCode::kSetData:
    case OpCode::kCheck:
      reply.body = jute::SetDataResponse{ToJuteStat(result.stat())};
      break;
    case OpCode::kSetAcl:
      reply.body = jute::SetAclResponse{ToJuteStat(result.stat())};
      break;
    default:
      // delete, closeSession: the header only.
      break;
  }
  return reply;
}

const char* LastOpName(OpCode op) {
  switch (op) {
    case OpCode::kPing:
      return "PING";
    case OpCode::kCreateSession:
      return "SESS";
    case OpCode::kMulti:
      return "MULT";
    case OpCode::kMultiRead:
      return "MLTR";
    case OpCode::kCreate:
    case OpCode::kCreate2:
    case OpCode::kCreateTtl:
    case OpCode::kCreateContainer:
      return "CREA";
    case OpCode::kDelete:
    case OpCode::kDeleteContainer:
      return "DELE";
    case OpCode::kSetData:
      return "SETD";
    case OpCode::kReconfig:
      return "RECO";
    case OpCode::kSetAcl:
      return "SETA";
    case OpCode::kCloseSession:
      return "CLOS";
    case OpCode::kSync:
      return "SYNC";
    case OpCode::kCheck:
      return "CHEC";
    case OpCode::kExists:
      return "EXIS";
    case OpCode::kGetData:
      return "GETD";
    case OpCode::kSetWatches:
      return "SETW";
    case OpCode::kSetWatches2:
      return "STW2";
    case OpCode::kAddWatch:
      return "ADDW";
    case OpCode::kGetAcl:
      return "GETA";
    case OpCode::kGetChildren:
    case OpCode::kGetChildren2:
      return "GETC";
    case OpCode::kGetAllChildrenNumber:
      return "GETACN";
    case OpCode::kCheckWatches:
      return "CHKW";
    case OpCode::kRemoveWatches:
      return "REMW";
    case OpCode::kGetEphemerals:
      return "GETE";
    case OpCode::kWhoAmI:
      return "HOMI";
    case OpCode::kAuth:
      return "AUTH";
    case OpCode::kSasl:
      return "SASL";
    default:
      return "NA";
  }
}

}  // namespace ensemble::gateway

#pragma once

// The translation between the client protocol (jute records) and Ensemble's
// internal messages (types.proto / storage.proto): which ops are reads, which are
// writes, how a request becomes a ReadRequest or a Txn op, and how a ReadResult or
// TxnResult becomes ZooKeeper's reply. Pure.
//
// Validation of paths, versions, ACLs and create modes is left to storage, which
// computes every outcome deterministically when it applies or reads; the gateway
// only forwards what the client sent (create flags pass through unchanged, so
// storage sees even an invalid one).

#include <cstdint>
#include <vector>

#include "common/jute/records.h"
#include "common/jute/request.h"
#include "ensemble/storage.pb.h"
#include "ensemble/types.pb.h"

namespace ensemble::gateway {

// How the gateway serves a client op.
enum class OpRoute {
  kRead,   // a ReadRequest to the home storage
  kWrite,  // a Txn through replication; the result comes back from storage
  kSync,   // a barrier through replication, then a ReadRequest with min_zxid
  kLocal,  // answered by the gateway itself (auth, whoAmI, sasl, reconfig, errors)
};

OpRoute RouteOf(jute::OpCode op);

// ReadRequest.type for session revalidation ("does this session still exist?").
inline constexpr int32_t kRevalidateSessionType = -10;

// Conversions of the shared data types.
jute::Stat ToJuteStat(const ensemble::v1::Stat& stat);
std::vector<jute::Acl> ToJuteAcl(const google::protobuf::RepeatedPtrField<ensemble::v1::Acl>& acl);
void ToProtoAcl(const std::vector<jute::Acl>& acl,
                google::protobuf::RepeatedPtrField<ensemble::v1::Acl>* out);

// The op of a write request. REQUIRES: RouteOf(request.op()) == kWrite.
ensemble::v1::Op WriteOpOf(const jute::Request& request);

// The read of a read request (type, path, watch, mode, set_watches, multi); the
// caller fills id, session_id and auth. REQUIRES: RouteOf(request.op()) == kRead.
ensemble::storage::v1::ReadRequest ReadOf(const jute::Request& request);

// The op types inside a multi or multiRead, in order (empty for other ops).
std::vector<jute::OpCode> SubOpsOf(const jute::Request& request);

// A reply: ReplyHeader.err and the record after the header.
struct Reply {
  int32_t err = 0;
  jute::ResponseBody body = jute::EmptyRecord{};
};

// ZooKeeper's reply to a read `op` whose result is `result`. `sub_ops` are the
// ops of a multiRead. Sync replies take `sync_path`.
Reply ReadReplyOf(jute::OpCode op, const std::vector<jute::OpCode>& sub_ops,
                  const ensemble::storage::v1::ReadResult& result);

// ZooKeeper's reply to a write `op` whose result is `result`. A multi answers with
// err 0 and one result per op even when it failed, as ZooKeeper 3.8 does.
Reply WriteReplyOf(jute::OpCode op, const std::vector<jute::OpCode>& sub_ops,
                   const ensemble::v1::TxnResult& result);

// ZooKeeper's FinalRequestProcessor name of an op as `cons` shows it ("GETD").
const char* LastOpName(jute::OpCode op);

}  // namespace ensemble::gateway

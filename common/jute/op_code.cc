#include "common/jute/op_code.h"

namespace ensemble::jute {

std::string_view OpCodeName(OpCode op) {
  switch (op) {
    case OpCode::kNotification:
      return "notification";
    case OpCode::kCreate:
      return "create";
    case OpCode::kDelete:
      return "delete";
    case OpCode::kExists:
      return "exists";
    case OpCode::kGetData:
      return "getData";
    case OpCode::kSetData:
      return "setData";
    case OpCode::kGetAcl:
      return "getACL";
    case OpCode::kSetAcl:
      return "setACL";
    case OpCode::kGetChildren:
      return "getChildren";
    case OpCode::kSync:
      return "sync";
    case OpCode::kPing:
      return "ping";
    case OpCode::kGetChildren2:
      return "getChildren2";
    case OpCode::kCheck:
      return "check";
    case OpCode::kMulti:
      return "multi";
    case OpCode::kCreate2:
      return "create2";
    case OpCode::kReconfig:
      return "reconfig";
    case OpCode::kCheckWatches:
      return "checkWatches";
    case OpCode::kRemoveWatches:
      return "removeWatches";
    case OpCode::kCreateContainer:
      return "createContainer";
    case OpCode::kDeleteContainer:
      return "deleteContainer";
    case OpCode::kCreateTtl:
      return "createTTL";
    case OpCode::kMultiRead:
      return "multiRead";
    case OpCode::kAuth:
      return "auth";
    case OpCode::kSetWatches:
      return "setWatches";
    case OpCode::kSasl:
      return "sasl";
    case OpCode::kGetEphemerals:
      return "getEphemerals";
    case OpCode::kGetAllChildrenNumber:
      return "getAllChildrenNumber";
    case OpCode::kSetWatches2:
      return "setWatches2";
    case OpCode::kAddWatch:
      return "addWatch";
    case OpCode::kWhoAmI:
      return "whoAmI";
    case OpCode::kCreateSession:
      return "createSession";
    case OpCode::kCloseSession:
      return "closeSession";
    case OpCode::kError:
      return "error";
  }
  return "unknown";
}

std::optional<OpCode> OpCodeFromInt(int32_t value) {
  const auto op = static_cast<OpCode>(value);
  if (OpCodeName(op) == "unknown") return std::nullopt;
  return op;
}

}  // namespace ensemble::jute

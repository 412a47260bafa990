#include "common/jute/zk_error.h"

namespace ensemble::jute {

std::string_view ZkErrorName(ZkError err) {
  switch (err) {
    case ZkError::kOk:
      return "OK";
    case ZkError::kSystemError:
      return "SYSTEMERROR";
    case ZkError::kRuntimeInconsistency:
      return "RUNTIMEINCONSISTENCY";
    case ZkError::kDataInconsistency:
      return "DATAINCONSISTENCY";
    case ZkError::kConnectionLoss:
      return "CONNECTIONLOSS";
    case ZkError::kMarshallingError:
      return "MARSHALLINGERROR";
    case ZkError::kUnimplemented:
      return "UNIMPLEMENTED";
    case ZkError::kOperationTimeout:
      return "OPERATIONTIMEOUT";
    case ZkError::kBadArguments:
      return "BADARGUMENTS";
    case ZkError::kUnknownSession:
      return "UNKNOWNSESSION";
    case ZkError::kNewConfigNoQuorum:
      return "NEWCONFIGNOQUORUM";
    case ZkError::kReconfigInProgress:
      return "RECONFIGINPROGRESS";
    case ZkError::kApiError:
      return "APIERROR";
    case ZkError::kNoNode:
      return "NONODE";
    case ZkError::kNoAuth:
      return "NOAUTH";
    case ZkError::kBadVersion:
      return "BADVERSION";
    case ZkError::kNoChildrenForEphemerals:
      return "NOCHILDRENFOREPHEMERALS";
    case ZkError::kNodeExists:
      return "NODEEXISTS";
    case ZkError::kNotEmpty:
      return "NOTEMPTY";
    case ZkError::kSessionExpired:
      return "SESSIONEXPIRED";
    case ZkError::kInvalidCallback:
      return "INVALIDCALLBACK";
    case ZkError::kInvalidAcl:
      return "INVALIDACL";
    case ZkError::kAuthFailed:
      return "AUTHFAILED";
    case ZkError::kSessionMoved:
      return "SESSIONMOVED";
    case ZkError::kNotReadOnly:
      return "NOTREADONLY";
    case ZkError::kEphemeralOnLocalSession:
      return "EPHEMERALONLOCALSESSION";
    case ZkError::kNoWatcher:
      return "NOWATCHER";
    case ZkError::kRequestTimeout:
      return "REQUESTTIMEOUT";
    case ZkError::kReconfigDisabled:
      return "RECONFIGDISABLED";
    case ZkError::kSessionClosedRequireSaslAuth:
      return "SESSIONCLOSEDREQUIRESASLAUTH";
    case ZkError::kQuotaExceeded:
      return "QUOTAEXCEEDED";
    case ZkError::kThrottledOp:
      return "THROTTLEDOP";
  }
  return "UNKNOWN";
}

}  // namespace ensemble::jute

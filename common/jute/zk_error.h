#pragma once

// ZooKeeper result codes (KeeperException.Code), carried in ReplyHeader.err,
// MultiHeader.err and ErrorResponse.err. A ZkError is an outcome, not a failure of
// our code (see STYLE.md 7.4). Numbers checked against zookeeper 3.8.0's
// KeeperException$Code class.

#include <cstdint>
#include <string_view>

namespace ensemble::jute {

enum class ZkError : int32_t {
  kOk = 0,
  // Server-side errors: -1 .. -99.
  kSystemError = -1,
  kRuntimeInconsistency = -2,
  kDataInconsistency = -3,
  kConnectionLoss = -4,
  kMarshallingError = -5,
  kUnimplemented = -6,
  kOperationTimeout = -7,
  kBadArguments = -8,
  kUnknownSession = -12,
  kNewConfigNoQuorum = -13,
  kReconfigInProgress = -14,
  // API errors: -100 and below.
  kApiError = -100,
  kNoNode = -101,
  kNoAuth = -102,
  kBadVersion = -103,
  kNoChildrenForEphemerals = -108,
  kNodeExists = -110,
  kNotEmpty = -111,
  kSessionExpired = -112,
  kInvalidCallback = -113,
  kInvalidAcl = -114,
  kAuthFailed = -115,
  kSessionMoved = -118,
  kNotReadOnly = -119,
  kEphemeralOnLocalSession = -120,
  kNoWatcher = -121,
  kRequestTimeout = -122,
  kReconfigDisabled = -123,
  kSessionClosedRequireSaslAuth = -124,
  kQuotaExceeded = -125,
  kThrottledOp = -127,
};

// KeeperException.Code's name ("NONODE", "SESSIONEXPIRED"), or "UNKNOWN".
std::string_view ZkErrorName(ZkError err);

inline constexpr int32_t ToInt(ZkError err) { return static_cast<int32_t>(err); }

}  // namespace ensemble::jute

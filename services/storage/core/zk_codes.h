#pragma once

// ZooKeeper's numbers, as the storage core uses them: result codes
// (KeeperException.Code), op codes (ZooDefs.OpCode), watch event types
// (Watcher.Event.EventType), permission bits (ZooDefs.Perms) and the watch
// kinds of removeWatches/checkWatches and addWatch. The values are on the wire
// (in TxnResult.err, TxnHeader.type, WatchEvent.type), so they never change.

#include <cstdint>

namespace ensemble::storage {

// KeeperException.Code. Computed by Apply identically on every peer.
enum class ZkError : int32_t {
  kOk = 0,
  kSystemError = -1,
  kRuntimeInconsistency = -2,  // a multi op after the one that failed
  kDataInconsistency = -3,
  kConnectionLoss = -4,
  kMarshallingError = -5,  // a request that cannot be decoded / an op not allowed here
  kUnimplemented = -6,     // e.g. a TTL node while extended types are off
  kOperationTimeout = -7,
  kBadArguments = -8,  // invalid path, bad TTL, bad create mode, special path
  kUnknownSession = -12,
  kNewConfigNoQuorum = -13,
  kReconfigInProgress = -14,
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

constexpr int32_t ToInt(ZkError e) { return static_cast<int32_t>(e); }

// ZooDefs.OpCode.
enum class OpCode : int32_t {
  kNotification = 0,
  kCreate = 1,
  kDelete = 2,
  kExists = 3,
  kGetData = 4,
  kSetData = 5,
  kGetAcl = 6,
  kSetAcl = 7,
  kGetChildren = 8,
  kSync = 9,
  kPing = 11,
  kGetChildren2 = 12,
  kCheck = 13,
  kMulti = 14,
  kCreate2 = 15,
  kReconfig = 16,
  kCheckWatches = 17,
  kRemoveWatches = 18,
  kCreateContainer = 19,
  kDeleteContainer = 20,
  kCreateTtl = 21,
  kMultiRead = 22,
  kAuth = 100,
  kSetWatches = 101,
  kSasl = 102,
  kGetEphemerals = 103,
  kGetAllChildrenNumber = 104,
  kSetWatches2 = 105,
  kAddWatch = 106,
  kWhoAmI = 107,
  kCreateSession = -10,
  kCloseSession = -11,
  kError = -1,  // the type of every result of a failed multi
};

constexpr int32_t ToInt(OpCode c) { return static_cast<int32_t>(c); }

// Watcher.Event.EventType.
enum class EventType : int32_t {
  kNone = -1,
  kNodeCreated = 1,
  kNodeDeleted = 2,
  kNodeDataChanged = 3,
  kNodeChildrenChanged = 4,
  kDataWatchRemoved = 5,
  kChildWatchRemoved = 6,
  kPersistentWatchRemoved = 7,
};

constexpr int32_t ToInt(EventType t) { return static_cast<int32_t>(t); }

// ZooDefs.Perms bits.
namespace perms {
inline constexpr int32_t kRead = 1;
inline constexpr int32_t kWrite = 2;
inline constexpr int32_t kCreate = 4;
inline constexpr int32_t kDelete = 8;
inline constexpr int32_t kAdmin = 16;
inline constexpr int32_t kAll = 31;
}  // namespace perms

// Watcher.WatcherType, the `mode` of removeWatches and checkWatches.
// Persistent and PersistentRecursive are ZooKeeper 3.9's (ZOOKEEPER-4472);
// 3.8 clients only send 1..3.
enum class WatcherType : int32_t {
  kChildren = 1,
  kData = 2,
  kAny = 3,
  kPersistent = 4,
  kPersistentRecursive = 5,
};

constexpr int32_t ToInt(WatcherType t) { return static_cast<int32_t>(t); }

// AddWatchMode, the `mode` of addWatch.
enum class AddWatchMode : int32_t {
  kPersistent = 0,
  kPersistentRecursive = 1,
};

constexpr int32_t ToInt(AddWatchMode m) { return static_cast<int32_t>(m); }

// The zxid a watch event carries when no transaction fired it (setWatches
// replays): ZooKeeper's WatchedEvent.NO_ZXID.
inline constexpr int64_t kNoZxid = -1;

}  // namespace ensemble::storage

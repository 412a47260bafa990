#pragma once

// Constants of the client protocol other than op codes and error codes. Numbers are
// checked against zookeeper 3.8.0's classes (ClientCnxn, Watcher, AddWatchMode,
// CreateMode, ZooDefs); WatcherType's Persistent values come from 3.9.

#include <cstdint>
#include <string_view>

namespace ensemble::jute {

// Special xids (ClientCnxn). Every other request carries the client's own
// increasing xid; closeSession does too.
inline constexpr int32_t kNotificationXid = -1;  // watch events from the server
inline constexpr int32_t kPingXid = -2;          // ping request and its reply
inline constexpr int32_t kAuthXid = -4;          // AuthPacket (addAuthInfo) and its reply
inline constexpr int32_t kSetWatchesXid = -8;    // setWatches / setWatches2 after reconnect

// ConnectRequest.protocolVersion sent by every client so far.
inline constexpr int32_t kProtocolVersion = 0;
// Length of a session password (ConnectResponse.passwd).
inline constexpr int kSessionPasswordLength = 16;
// The znode that getConfig reads with a plain getData request (ZooDefs.CONFIG_NODE).
inline constexpr std::string_view kConfigNode = "/zookeeper/config";

// WatcherEvent.type (Watcher.Event.EventType).
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

// WatcherEvent.state (Watcher.Event.KeeperState).
enum class KeeperState : int32_t {
  kUnknown = -1,  // deprecated, never sent
  kDisconnected = 0,
  kNoSyncConnected = 1,  // deprecated, never sent
  kSyncConnected = 3,
  kAuthFailed = 4,
  kConnectedReadOnly = 5,
  kSaslAuthenticated = 6,
  kExpired = -112,
  kClosed = 7,
};

// CheckWatchesRequest.type / RemoveWatchesRequest.type (Watcher.WatcherType).
enum class WatcherType : int32_t {
  kChildren = 1,
  kData = 2,
  kAny = 3,
  kPersistent = 4,           // 3.9
  kPersistentRecursive = 5,  // 3.9
};

// AddWatchRequest.mode (ZooDefs.AddWatchModes).
enum class AddWatchMode : int32_t {
  kPersistent = 0,
  kPersistentRecursive = 1,
};

// CreateRequest.flags (CreateMode.toFlag()).
enum class CreateMode : int32_t {
  kPersistent = 0,
  kEphemeral = 1,
  kPersistentSequential = 2,
  kEphemeralSequential = 3,
  kContainer = 4,
  kPersistentWithTtl = 5,
  kPersistentSequentialWithTtl = 6,
};

// ACL.perms bits (ZooDefs.Perms).
namespace perms {
inline constexpr int32_t kRead = 1 << 0;
inline constexpr int32_t kWrite = 1 << 1;
inline constexpr int32_t kCreate = 1 << 2;
inline constexpr int32_t kDelete = 1 << 3;
inline constexpr int32_t kAdmin = 1 << 4;
inline constexpr int32_t kAll = kRead | kWrite | kCreate | kDelete | kAdmin;
}  // namespace perms

}  // namespace ensemble::jute

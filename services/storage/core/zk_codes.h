#pragma once

// ZooKeeper's numbers, as the storage core uses them: result codes
// (KeeperException.Code), op codes (ZooDefs.OpCode), watch event types
// (Watcher.Event.EventType), permission bits (ZooDefs.Perms) and the watch
// kinds of removeWatches/checkWatches and addWatch. The values travel in
// TxnResult.err, TxnHeader.type and WatchEvent.type, so they are the ones the
// gateway writes on the wire: one definition, in the jute codec's headers
// (plain enums; the core uses nothing else of the codec).

#include <cstdint>

#include "common/jute/op_code.h"
#include "common/jute/zk_error.h"
#include "common/jute/zoo_defs.h"

namespace ensemble::storage {

using jute::AddWatchMode;
using jute::EventType;
using jute::OpCode;
using jute::ToInt;  // ZkError
using jute::WatcherType;
using jute::ZkError;
namespace perms = jute::perms;

constexpr int32_t ToInt(OpCode c) { return static_cast<int32_t>(c); }
constexpr int32_t ToInt(EventType t) { return static_cast<int32_t>(t); }
constexpr int32_t ToInt(WatcherType t) { return static_cast<int32_t>(t); }
constexpr int32_t ToInt(AddWatchMode m) { return static_cast<int32_t>(m); }

// The zxid a watch event carries when no transaction fired it (setWatches
// replays): ZooKeeper's WatchedEvent.NO_ZXID.
inline constexpr int64_t kNoZxid = -1;

}  // namespace ensemble::storage

#pragma once

// Operation codes of the client protocol: RequestHeader.type and MultiHeader.type.
// Numbers are ZooKeeper's ZooDefs.OpCode (checked against zookeeper 3.8.0's
// ZooDefs$OpCode class; 3.9 adds none).

#include <cstdint>
#include <optional>
#include <string_view>

namespace ensemble::jute {

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
  kError = -1,
};

// ZooKeeper's name for the op ("getData", "createSession"), or "unknown".
std::string_view OpCodeName(OpCode op);

// The OpCode with this number, or nullopt if ZooKeeper defines none.
std::optional<OpCode> OpCodeFromInt(int32_t value);

}  // namespace ensemble::jute

#pragma once

#include <cstdint>
#include <string>

#include "absl/strings/str_format.h"

namespace ensemble {

// A zxid: epoch in the high 32 bits, counter in the low 32 (ZooKeeper's layout).
struct Zxid {
  static constexpr int64_t Make(int64_t epoch, int64_t counter) {
    return static_cast<int64_t>((static_cast<uint64_t>(epoch) << 32) |
                                (static_cast<uint64_t>(counter) & 0xffffffffULL));
  }
  static constexpr int64_t Epoch(int64_t zxid) {
    return static_cast<int64_t>(static_cast<uint64_t>(zxid) >> 32);
  }
  static constexpr int64_t Counter(int64_t zxid) {
    return static_cast<int64_t>(static_cast<uint64_t>(zxid) & 0xffffffffULL);
  }
  // Printed as ZooKeeper prints it: 0x followed by lowercase hex.
  static std::string Hex(int64_t zxid) {
    return absl::StrFormat("0x%x", static_cast<uint64_t>(zxid));
  }
};

}  // namespace ensemble

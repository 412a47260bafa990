#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "spdlog/spdlog.h"

// Debian's Abseil is built with its own absl::string_view (not an alias of
// std::string_view), so fmt needs to be told how to print it and absl::Status.
template <>
struct fmt::formatter<absl::string_view> : fmt::formatter<fmt::string_view> {
  auto format(absl::string_view s, fmt::format_context& ctx) const {
    return fmt::formatter<fmt::string_view>::format(fmt::string_view(s.data(), s.size()), ctx);
  }
};

template <>
struct fmt::formatter<absl::Status> : fmt::formatter<std::string> {
  auto format(const absl::Status& s, fmt::format_context& ctx) const {
    return fmt::formatter<std::string>::format(s.ToString(), ctx);
  }
};

namespace ensemble::runtime {

// Sets up the process-wide logger: one line per event, prefixed with the
// process kind and server id, e.g.
//   2026-11-23T13:31:37.123 info storage sid=1 snapshot.loaded zxid=0x300000012
// `level` is trace, debug, info, warn, error or off.
void InitLogging(std::string_view process, int64_t sid, std::string_view level);

}  // namespace ensemble::runtime

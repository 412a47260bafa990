#pragma once

// What the load generator sends: the operation kinds, a weighted mix of them
// ("get=90,set=10") and a chooser that draws from a mix with a seeded Rng.
// Pure: no I/O.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/base/rng.h"

namespace ensemble::bench {

// The operations of ops mode. What each sends (see ops_mode.cc):
//   create   create of a new persistent node under the run's folder (value-size bytes)
//   set      setData of a random key of the key space (version -1)
//   get      getData of a random key
//   exists   exists of a random key
//   delete   delete of a node this session created (a create when it has none)
//   multi    a multi of --multi-size setData ops on random keys
enum class OpKind : int { kCreate = 0, kSet, kGet, kExists, kDelete, kMulti };
inline constexpr int kOpKindCount = 6;

// ZooKeeper's name for the op ("create", "setData", "getData", ...).
std::string_view OpKindName(OpKind kind);
// Accepts ZooKeeper's names and the short ones: create, set/setData,
// get/getData, exists, delete, multi (case-sensitive).
std::optional<OpKind> ParseOpKind(std::string_view name);

// Weights per kind; the sum is positive.
struct Mix {
  std::array<uint32_t, kOpKindCount> weights{};

  uint32_t Weight(OpKind kind) const { return weights[static_cast<int>(kind)]; }
  uint64_t Total() const;
  bool Only(OpKind kind) const { return Weight(kind) == Total(); }
  // "get=90,set=10", kinds in enum order, zero weights left out.
  std::string ToString() const;
};

// Parses "get=90,set=10" (weights are non-negative integers, not necessarily
// summing to 100; a kind may not repeat), or a single op name meaning weight 1.
// Errors: InvalidArgument naming the bad part.
absl::StatusOr<Mix> ParseMix(std::string_view text);

// Draws kinds with probability weight / total.
class OpChooser {
 public:
  OpChooser(const Mix& mix, uint64_t seed);
  OpKind Next();

 private:
  std::array<uint64_t, kOpKindCount> cumulative_{};
  uint64_t total_ = 0;
  Rng rng_;
};

}  // namespace ensemble::bench

#include "bench/loadgen/workload.h"

#include <charconv>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/base/check.h"

namespace ensemble::bench {

std::string_view OpKindName(OpKind kind) {
  switch (kind) {
    case OpKind::kCreate:
      return "create";
    case OpKind::kSet:
      return "setData";
    case OpKind::kGet:
      return "getData";
    case OpKind::kExists:
      return "exists";
    case OpKind::kDelete:
      return "delete";
    case OpKind::kMulti:
      return "multi";
  }
  return "unknown";
}

std::optional<OpKind> ParseOpKind(std::string_view name) {
  if (name == "create") return OpKind::kCreate;
  if (name == "set" || name == "setData") return OpKind::kSet;
  if (name == "get" || name == "getData") return OpKind::kGet;
  if (name == "exists") return OpKind::kExists;
  if (name == "delete") return OpKind::kDelete;
  if (name == "multi") return OpKind::kMulti;
  return std::nullopt;
}

uint64_t Mix::Total() const {
  uint64_t total = 0;
  for (uint32_t w : weights) total += w;
  return total;
}

std::string Mix::ToString() const {
  std::string out;
  for (int i = 0; i < kOpKindCount; ++i) {
    if (weights[i] == 0) continue;
    if (!out.empty()) out += ",";
    absl::StrAppend(&out, std::string(OpKindName(static_cast<OpKind>(i))), "=", weights[i]);
  }
  return out;
}

absl::StatusOr<Mix> ParseMix(std::string_view text) {
  Mix mix;
  if (text.find('=') == std::string_view::npos) {
    std::optional<OpKind> kind = ParseOpKind(text);
    if (!kind)
      return absl::InvalidArgumentError(absl::StrCat("unknown op '", std::string(text), "'"));
    mix.weights[static_cast<int>(*kind)] = 1;
    return mix;
  }
  std::array<bool, kOpKindCount> seen{};
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view part = text.substr(start, end - start);
    size_t eq = part.find('=');
    if (eq == std::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("mix part '", std::string(part), "' is not op=weight"));
    }
    std::string_view name = part.substr(0, eq);
    std::string_view number = part.substr(eq + 1);
    std::optional<OpKind> kind = ParseOpKind(name);
    if (!kind) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown op '", std::string(name), "' in mix"));
    }
    uint32_t weight = 0;
    auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), weight);
    if (number.empty() || ec != std::errc() || ptr != number.data() + number.size()) {
      return absl::InvalidArgumentError(absl::StrCat("weight '", std::string(number), "' of ",
                                                     std::string(name),
                                                     " is not a non-negative integer"));
    }
    int i = static_cast<int>(*kind);
    if (seen[i]) {
      return absl::InvalidArgumentError(
          absl::StrCat("op ", std::string(OpKindName(*kind)), " appears twice in mix"));
    }
    seen[i] = true;
    mix.weights[i] = weight;
    start = end + 1;
  }
  if (mix.Total() == 0) return absl::InvalidArgumentError("mix weights sum to 0");
  return mix;
}

OpChooser::OpChooser(const Mix& mix, uint64_t seed) : rng_(seed) {
  for (int i = 0; i < kOpKindCount; ++i) {
    total_ += mix.weights[i];
    cumulative_[i] = total_;
  }
  ENSEMBLE_CHECK(total_ > 0);
}

OpKind OpChooser::Next() {
  uint64_t r = rng_.Uniform(total_);
  for (int i = 0; i < kOpKindCount; ++i) {
    if (r < cumulative_[i]) return static_cast<OpKind>(i);
  }
  return static_cast<OpKind>(kOpKindCount - 1);  // unreachable
}

}  // namespace ensemble::bench

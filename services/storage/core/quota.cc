#include "services/storage/core/quota.h"

#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace ensemble::storage {
namespace {

// Java's String.split(regex) pieces with trailing empty strings removed.
std::vector<absl::string_view> JavaSplit(absl::string_view s, absl::string_view separators,
                                         bool collapse_runs) {
  std::vector<absl::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t pos = s.find_first_of(separators, start);
    if (pos == absl::string_view::npos) {
      parts.push_back(s.substr(start));
      break;
    }
    parts.push_back(s.substr(start, pos - start));
    start = pos + 1;
    if (collapse_runs) {
      while (start < s.size() && separators.find(s[start]) != absl::string_view::npos) ++start;
    }
  }
  if (s.empty()) return parts;  // [""]
  while (!parts.empty() && parts.back().empty()) parts.pop_back();
  return parts;
}

// Java's Long.parseLong for ASCII input.
std::optional<int64_t> JavaParseLong(absl::string_view s) {
  if (s.empty()) return std::nullopt;
  if (s[0] == '+' && (s.size() == 1 || s[1] == '-' || s[1] == '+')) return std::nullopt;
  int64_t v;
  absl::string_view digits = s[0] == '+' ? s.substr(1) : s;
  for (size_t i = (digits[0] == '-') ? 1 : 0; i < digits.size(); ++i) {
    if (digits[i] < '0' || digits[i] > '9') return std::nullopt;
  }
  if (!absl::SimpleAtoi(digits, &v)) return std::nullopt;
  return v;
}

}  // namespace

std::string QuotaStatPath(absl::string_view prefix) {
  return absl::StrCat(kQuotaZookeeper, prefix, "/", kStatNode);
}

std::optional<std::string> QuotaPrefixOfParent(absl::string_view parent) {
  if (parent.size() <= kQuotaZookeeper.size() + 1) return std::nullopt;
  if (parent.substr(0, kQuotaZookeeper.size()) != kQuotaZookeeper) return std::nullopt;
  if (parent[kQuotaZookeeper.size()] != '/') return std::nullopt;
  return std::string(parent.substr(kQuotaZookeeper.size()));
}

std::optional<StatsTrack> StatsTrack::Parse(absl::string_view text) {
  StatsTrack track;
  if (text.empty()) return track;
  for (absl::string_view pair : JavaSplit(text, ",;", /*collapse_runs=*/true)) {
    std::vector<absl::string_view> kv = JavaSplit(pair, "=", /*collapse_runs=*/false);
    if (kv.size() < 2) return std::nullopt;  // Java: kv[1] out of bounds
    std::optional<int64_t> v = kv[1].empty() ? std::optional<int64_t>(-1) : JavaParseLong(kv[1]);
    if (!v) return std::nullopt;
    track.values_[std::string(kv[0])] = *v;
  }
  return track;
}

int64_t StatsTrack::Get(const std::string& key) const {
  auto it = values_.find(key);
  return it == values_.end() ? -1 : it->second;
}

std::string StatsTrack::ToString() const {
  std::string out = absl::StrCat("count=", count(), ",bytes=", bytes());
  bool first_extra = true;
  for (const auto& [key, value] : values_) {  // std::map: sorted like Collections.sort
    if (key == "count" || key == "bytes") continue;
    if (first_extra) {
      out.push_back('=');
      first_extra = false;
    }
    absl::StrAppend(&out, ";", key, "=", value);
  }
  return out;
}

std::optional<absl::string_view> QuotaPrefixes::MaxPrefix(absl::string_view path) const {
  if (prefixes_.empty()) return std::nullopt;
  absl::string_view p = path;
  while (p.size() > 1) {
    auto it = prefixes_.find(p);
    if (it != prefixes_.end()) return absl::string_view(*it);
    const size_t slash = p.rfind('/');
    if (slash == absl::string_view::npos || slash == 0) break;
    p = p.substr(0, slash);
  }
  return std::nullopt;
}

}  // namespace ensemble::storage

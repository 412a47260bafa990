#pragma once

// Quota bookkeeping under /zookeeper/quota (Quotas.java, StatsTrack.java).
// A quota on /app is the pair of nodes
//   /zookeeper/quota/app/zookeeper_limits   (limits, written by clients)
//   /zookeeper/quota/app/zookeeper_stats    (usage, maintained by the tree)
// The stats node holds "count=<nodes>,bytes=<data bytes>" for the subtree.
// Enforcement (zookeeper.enforceQuota) is off by default in 3.8 and not done.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/container/flat_hash_set.h"

namespace ensemble::storage {

inline constexpr absl::string_view kProcZookeeper = "/zookeeper";
inline constexpr absl::string_view kQuotaZookeeper = "/zookeeper/quota";
inline constexpr absl::string_view kConfigZookeeper = "/zookeeper/config";
inline constexpr absl::string_view kLimitNode = "zookeeper_limits";
inline constexpr absl::string_view kStatNode = "zookeeper_stats";

// Quotas.statPath: "/zookeeper/quota" + prefix + "/zookeeper_stats".
std::string QuotaStatPath(absl::string_view prefix);

// If `parent` is /zookeeper/quota/<ns> with a non-empty <ns>, the quota
// prefix "/<ns>" (Quotas.trimQuotaPath); otherwise nullopt.
std::optional<std::string> QuotaPrefixOfParent(absl::string_view parent);

// StatsTrack: "key=value" pairs separated by ',' or ';'. Unset values read
// as -1. Formatting puts count and bytes first, then "=" and the other keys
// sorted, each after ';' (StatsTrack.toString, kept for 3.4 parsers).
class StatsTrack {
 public:
  // nullopt if the text is malformed (ZooKeeper would throw while applying;
  // the tree then leaves the stats node as it is).
  static std::optional<StatsTrack> Parse(absl::string_view text);

  int64_t count() const { return Get("count"); }
  int64_t bytes() const { return Get("bytes"); }
  void set_count(int64_t v) { values_["count"] = v; }
  void set_bytes(int64_t v) { values_["bytes"] = v; }
  std::string ToString() const;

 private:
  int64_t Get(const std::string& key) const;
  std::map<std::string, int64_t> values_;
};

// The set of quota prefixes (ZooKeeper's PathTrie of limit nodes).
class QuotaPrefixes {
 public:
  void Add(std::string prefix) { prefixes_.insert(std::move(prefix)); }
  void Remove(absl::string_view prefix) { prefixes_.erase(prefix); }
  bool Contains(absl::string_view prefix) const { return prefixes_.contains(prefix); }
  bool empty() const { return prefixes_.empty(); }
  void clear() { prefixes_.clear(); }

  // DataTree.getMaxPrefixWithQuota: the longest prefix covering `path`, or
  // nullopt (the root never has a quota).
  std::optional<absl::string_view> MaxPrefix(absl::string_view path) const;

 private:
  absl::flat_hash_set<std::string> prefixes_;
};

}  // namespace ensemble::storage

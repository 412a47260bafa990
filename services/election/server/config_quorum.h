#pragma once

#include <cstdint>
#include <set>
#include <vector>

#include "common/config/zoo_cfg.h"
#include "services/election/core/quorum.h"

namespace ensemble::election {

// The election core's QuorumVerifier over a parsed zoo.cfg: the participants
// of the server.N lines vote; weight.N and group.N make the quorums
// weighted/hierarchical exactly as config::Config::ContainsQuorum computes
// them (ZooKeeper's QuorumMaj / QuorumHierarchical). Immutable.
class ConfigQuorum final : public QuorumVerifier {
 public:
  explicit ConfigQuorum(const config::Config& config);

  const std::vector<int64_t>& Voters() const override { return voters_; }
  int64_t Weight(int64_t sid) const override { return config_.Weight(sid); }
  bool ContainsQuorum(const std::set<int64_t>& sids) const override;

 private:
  const config::Config config_;
  std::vector<int64_t> voters_;
};

}  // namespace ensemble::election

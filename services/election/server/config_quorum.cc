#include "services/election/server/config_quorum.h"

namespace ensemble::election {

ConfigQuorum::ConfigQuorum(const config::Config& config) : config_(config) {
  for (const config::ServerSpec& s : config_.QuorumServers()) voters_.push_back(s.sid);
}

bool ConfigQuorum::ContainsQuorum(const std::set<int64_t>& sids) const {
  // Config treats a configuration without voters as standalone ("any
  // non-empty set"); an election always has voters.
  if (voters_.empty()) return false;
  return config_.ContainsQuorum(sids);
}

}  // namespace ensemble::election

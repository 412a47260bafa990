#include "services/election/core/quorum.h"

#include <algorithm>

namespace ensemble::election {

bool QuorumVerifier::IsVoter(int64_t sid) const {
  const std::vector<int64_t>& voters = Voters();
  return std::binary_search(voters.begin(), voters.end(), sid);
}

MajorityQuorum::MajorityQuorum(std::vector<int64_t> voters) : voters_(std::move(voters)) {
  std::sort(voters_.begin(), voters_.end());
  voters_.erase(std::unique(voters_.begin(), voters_.end()), voters_.end());
}

bool MajorityQuorum::ContainsQuorum(const std::set<int64_t>& sids) const {
  size_t present = 0;
  for (int64_t sid : sids) {
    if (IsVoter(sid)) ++present;
  }
  return present > voters_.size() / 2;
}

}  // namespace ensemble::election

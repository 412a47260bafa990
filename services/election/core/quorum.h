#pragma once

#include <cstdint>
#include <set>
#include <vector>

namespace ensemble::election {

// ZooKeeper's QuorumVerifier (flexible/QuorumVerifier.java): who votes, with
// what weight, and which sets of voters form a quorum. The election core asks
// only these three questions, so majority, weighted and hierarchical quorums
// (group.N / weight.N) all work; the shell adapts the parsed zoo.cfg
// (services/election/server/config_quorum.h).
// Thread-safety: implementations are immutable after construction.
class QuorumVerifier {
 public:
  virtual ~QuorumVerifier() = default;

  // The voting members (participants), sorted by sid.
  virtual const std::vector<int64_t>& Voters() const = 0;

  // The weight of a voter (1 unless weight.N says otherwise); 0 for ids that
  // are not voters. A voter of weight 0 votes but can never be elected
  // (FastLeaderElection.totalOrderPredicate).
  virtual int64_t Weight(int64_t sid) const = 0;

  // Does `sids` (votes or acks) form a quorum? Ids that are not voters count
  // for nothing.
  virtual bool ContainsQuorum(const std::set<int64_t>& sids) const = 0;

  bool IsVoter(int64_t sid) const;
};

// ZooKeeper's QuorumMaj: more than half of the voters.
class MajorityQuorum final : public QuorumVerifier {
 public:
  // `voters` need not be sorted; duplicates are dropped.
  explicit MajorityQuorum(std::vector<int64_t> voters);

  const std::vector<int64_t>& Voters() const override { return voters_; }
  int64_t Weight(int64_t sid) const override { return IsVoter(sid) ? 1 : 0; }
  bool ContainsQuorum(const std::set<int64_t>& sids) const override;

 private:
  std::vector<int64_t> voters_;
};

}  // namespace ensemble::election

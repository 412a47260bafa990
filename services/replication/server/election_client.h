#pragma once

// The replication service's view of the local election service: a thread that
// watches Election.GetLeader (long polls with wait_ms) and reports each new
// decision, and sends Reelect when the ZAB core looks again.

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "ensemble/election.grpc.pb.h"
#include "grpcpp/grpcpp.h"

namespace ensemble::zab {

struct ElectionDecision {
  int64_t leader = 0;
  int64_t peer_epoch = 0;
  int64_t election_epoch = 0;
  ensemble::election::v1::PeerState state = ensemble::election::v1::PEER_STATE_UNSPECIFIED;
  // The election's round count at the decision: a new round's decision is a
  // new one even if it names the same leader and election epoch (a join).
  int64_t round = 0;

  bool SameAs(const ElectionDecision& other) const {
    return leader == other.leader && election_epoch == other.election_epoch &&
           state == other.state && round == other.round;
  }
};

class ElectionClient {
 public:
  // `on_decision` runs on the watcher thread for every decision (not LOOKING)
  // that differs from the previous one reported.
  using DecisionHandler = std::function<void(const ElectionDecision&)>;

  ElectionClient(std::string address, DecisionHandler on_decision);
  ~ElectionClient();

  void Start();
  void Stop();
  // Asks the election to start a new round unless it already moved past
  // `abandoned` (Reelect's guard). Returns at once; the watcher sends it.
  void Reelect(const ElectionDecision& abandoned, std::string reason);

 private:
  void Run();

  const std::string address_;
  DecisionHandler on_decision_;
  std::unique_ptr<ensemble::election::v1::Election::Stub> stub_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::optional<std::pair<ElectionDecision, std::string>> reelect_;  // GUARDED_BY(mu_)
  grpc::ClientContext* waiting_call_ = nullptr;                      // GUARDED_BY(mu_)
};

}  // namespace ensemble::zab

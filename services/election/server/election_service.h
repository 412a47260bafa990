#pragma once

#include <cstdint>
#include <set>

#include "ensemble/election.grpc.pb.h"
#include "services/election/server/election_driver.h"

namespace ensemble::election {

// The Election gRPC service (election.proto). Thin: validates, hands to the
// driver, answers from it. With `driver` == nullptr the peer is standalone (a
// quorum of one): it leads at once, ignores Reelect and refuses Notify.
class ElectionService final : public ensemble::election::v1::Election::CallbackService {
 public:
  // `known_servers`: the sids of the server.N lines (voters and observers).
  // `driver` (if any) must outlive the service.
  ElectionService(int64_t sid, std::set<int64_t> known_servers, ElectionDriver* driver);

  grpc::ServerBidiReactor<ensemble::election::v1::Notifications,
                          ensemble::election::v1::Notifications>*
  Notify(grpc::CallbackServerContext* context) override;

  grpc::ServerUnaryReactor* GetLeader(grpc::CallbackServerContext* context,
                                      const ensemble::election::v1::LeaderRequest* request,
                                      ensemble::election::v1::LeaderResponse* response) override;

  grpc::ServerUnaryReactor* Reelect(grpc::CallbackServerContext* context,
                                    const ensemble::election::v1::ReelectRequest* request,
                                    ensemble::election::v1::ReelectResponse* response) override;

  // The standalone answer: LEADING, this peer.
  static ensemble::election::v1::LeaderResponse StandaloneLeader(int64_t sid);

 private:
  const int64_t sid_;
  const std::set<int64_t> known_servers_;
  ElectionDriver* const driver_;
};

}  // namespace ensemble::election

#pragma once

#include <cstdint>
#include <map>
#include <mutex>
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
  // Notes which sid a stream carries (from its first valid batch); false if
  // the stream claimed another sid before.
  bool BindStream(const void* stream, int64_t from);
  // A stream ended: when it was the last one from its sid, tell the driver.
  void StreamDone(const void* stream);

  const int64_t sid_;
  const std::set<int64_t> known_servers_;
  ElectionDriver* const driver_;
  std::mutex streams_mu_;
  std::map<const void*, int64_t> stream_sid_;  // GUARDED_BY(streams_mu_)
  std::map<int64_t, int> open_streams_;        // GUARDED_BY(streams_mu_): by sid
};

}  // namespace ensemble::election

#pragma once

#include "ensemble/replication.grpc.pb.h"
#include "services/replication/server/replication_driver.h"

namespace ensemble::zab {

// The gRPC face of replication: a thin shell that hands every message to the
// driver and returns at once.
class ReplicationService final : public ensemble::replication::v1::Replication::CallbackService {
 public:
  explicit ReplicationService(ReplicationDriver& driver) : driver_(driver) {}

  grpc::ServerBidiReactor<ensemble::replication::v1::SubmitRequest,
                          ensemble::replication::v1::SubmitResponse>*
  Submit(grpc::CallbackServerContext* context) override;

  grpc::ServerBidiReactor<ensemble::replication::v1::PeerMessages,
                          ensemble::replication::v1::PeerMessages>*
  Peer(grpc::CallbackServerContext* context) override;

 private:
  ReplicationDriver& driver_;
};

}  // namespace ensemble::zab

#include "services/replication/server/replication_service.h"

namespace ensemble::zab {

using ensemble::replication::v1::PeerMessages;
using ensemble::replication::v1::SubmitRequest;
using ensemble::replication::v1::SubmitResponse;

grpc::ServerBidiReactor<SubmitRequest, SubmitResponse>* ReplicationService::Submit(
    grpc::CallbackServerContext* context) {
  return SubmitStream::Start(
      context,
      [this](const std::shared_ptr<SubmitStream>& stream, SubmitRequest&& request) {
        driver_.OnSubmit(stream, std::move(request));
      },
      [this](const std::shared_ptr<SubmitStream>& stream) { driver_.OnSubmitDone(stream); });
}

grpc::ServerBidiReactor<PeerMessages, PeerMessages>* ReplicationService::Peer(
    grpc::CallbackServerContext* context) {
  // Peers arrive with the replicated ensemble; a standalone peer has none.
  auto* reactor = runtime::ServerStream<PeerMessages, PeerMessages>::Start(
      context, [](const auto&, PeerMessages&&) {}, nullptr);
  reactor->Close(
      grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "this peer runs standalone (a quorum of one)"));
  return reactor;
}

}  // namespace ensemble::zab

#include "services/replication/server/replication_service.h"

#include "common/runtime/log.h"

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
  // The stream's sender, fixed by its first batch (0 until then). Only the
  // stream's reads touch it, and gRPC runs them one at a time.
  auto sender = std::make_shared<std::atomic<int64_t>>(0);
  auto* reactor = PeerServerStream::Start(
      context,
      [this, sender](const std::shared_ptr<PeerServerStream>& stream, PeerMessages&& batch) {
        const int64_t sid = batch.sid();
        if (sender->load() == 0) {
          if (!driver_.IsKnownPeer(sid)) {
            spdlog::warn(
                "replication.peer_rejected sid={} from={} (not a server of this "
                "configuration)",
                sid, stream->peer());
            stream->Close(grpc::Status(
                grpc::StatusCode::INVALID_ARGUMENT,
                "sid " + std::to_string(sid) + " is not a server of this configuration"));
            return;
          }
          sender->store(sid);
        } else if (sid != sender->load()) {
          stream->Close(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                     "a batch names another sender than the stream's first"));
          return;
        }
        driver_.OnPeerBatch(stream.get(), std::move(batch));
      },
      [this, sender](const std::shared_ptr<PeerServerStream>& stream) {
        if (sender->load() != 0) driver_.OnPeerStreamDone(stream.get(), sender->load());
      });
  // The hello: tells the sender that a live replication service took the
  // stream (its loss then means the peer went away).
  PeerMessages hello;
  hello.set_sid(driver_.sid());
  reactor->Send(std::move(hello));
  return reactor;
}

}  // namespace ensemble::zab

// ensemble-election: leader election among the voting peers. Today only the
// quorum of one is implemented: a standalone peer elects itself at once.
// Fast leader election across peers (proto/ensemble/election.proto) follows.
#include <atomic>

#include "common/runtime/admin_service.h"
#include "common/runtime/log.h"
#include "common/runtime/process.h"
#include "common/runtime/service_host.h"
#include "common/runtime/signals.h"
#include "common/runtime/streams.h"
#include "ensemble/election.grpc.pb.h"

namespace {

using namespace ensemble;
using election::v1::LeaderRequest;
using election::v1::LeaderResponse;
using election::v1::Notifications;

class StandaloneElection final : public election::v1::Election::CallbackService {
 public:
  StandaloneElection(int64_t sid, bool standalone) : sid_(sid), standalone_(standalone) {}

  grpc::ServerUnaryReactor* GetLeader(grpc::CallbackServerContext* context, const LeaderRequest*,
                                      LeaderResponse* response) override {
    if (standalone_) {
      response->set_leader(sid_);
      response->set_state(election::v1::PEER_STATE_LEADING);
    } else {
      response->set_state(election::v1::PEER_STATE_LOOKING);
    }
    auto* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  grpc::ServerBidiReactor<Notifications, Notifications>* Notify(
      grpc::CallbackServerContext* context) override {
    auto* reactor = runtime::ServerStream<Notifications, Notifications>::Start(
        context, [](const auto&, Notifications&&) {}, nullptr);
    reactor->Close(grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                                "fast leader election between peers is not implemented yet"));
    return reactor;
  }

 private:
  const int64_t sid_;
  const bool standalone_;
};

}  // namespace

int main(int argc, char** argv) {
  int exit_code = 0;
  auto process = runtime::BootProcess("election", argc, argv, "127.0.0.1:7002", &exit_code);
  if (!process) return exit_code;
  const config::Config& config = process->config;
  const int64_t sid = config.my_id == config::kNoServerId ? 1 : config.my_id;
  const bool standalone = config.QuorumServers().size() <= 1;
  if (!standalone) {
    spdlog::warn("election.unsupported voters={} (only a quorum of one is implemented)",
                 config.QuorumServers().size());
  }
  StandaloneElection service(sid, standalone);
  runtime::AdminService admin("election", runtime::PublicSettings(config),
                              [&](admin::v1::StatusResponse* r) {
                                r->set_role(standalone ? "leading" : "looking");
                                r->set_leader(standalone ? sid : 0);
                                r->mutable_header()->set_server_id(sid);
                              });
  std::string address = config.election_grpc_address;
  if (address.empty()) {
    const config::ServerSpec* self = config.Self();
    address = self ? self->host + ":" + std::to_string(self->election_port) : "127.0.0.1:3888";
  }
  auto host = runtime::ServiceHost::Start({address}, {&service, &admin});
  if (!host.ok()) {
    spdlog::error("grpc.listen_failed error={}", host.status().message());
    return 1;
  }
  (*host)->SetServing(standalone);
  spdlog::info("election.ready address={} state={}", address, standalone ? "leading" : "looking");
  int sig = runtime::WaitForShutdownSignal();
  spdlog::info("process.stopping signal={}", sig);
  (*host)->Shutdown();
  return 0;
}

// ensemble-gateway: ZooKeeper's client port in front of one peer's storage and
// the ensemble's replication.
//
//   ensemble-gateway --config zoo.cfg [--set key=value ...]
//
// Listens on clientPortAddress:clientPort for ZooKeeper clients, serves gRPC
// health, reflection and admin on ensemble.gateway.grpc (default 127.0.0.1:2891)
// and Prometheus metrics on ensemble.metrics.gateway (default 127.0.0.1:7003).
// Upstream: ensemble.storage.grpc (default 127.0.0.1:2890) and
// ensemble.replication.grpc (default: this peer's quorum address, or
// 127.0.0.1:2888). SIGINT/SIGTERM stop it cleanly.
#include <memory>

#include "absl/strings/str_cat.h"
#include "common/runtime/admin_service.h"
#include "common/runtime/process.h"
#include "common/runtime/service_host.h"
#include "common/runtime/signals.h"
#include "services/gateway/server/gateway_server.h"
#include "spdlog/spdlog.h"

namespace {

using ensemble::config::Config;

// The `conf` four-letter word's lines, as ZooKeeper's ZooKeeperServer.dumpConf
// prints them (plus the quorum lines of QuorumZooKeeperServer when distributed).
std::vector<std::pair<std::string, std::string>> ConfLines(const Config& config) {
  std::vector<std::pair<std::string, std::string>> conf = {
      {"clientPort", std::to_string(config.client_port)},
      {"secureClientPort",
       std::to_string(config.secure_client_port == 0 ? -1 : config.secure_client_port)},
      {"dataDir", config.data_dir},
      {"dataDirSize", "0"},
      {"dataLogDir", config.DataLogDir()},
      {"dataLogSize", "0"},
      {"tickTime", std::to_string(config.tick_time_ms)},
      {"maxClientCnxns", std::to_string(config.max_client_cnxns)},
      {"minSessionTimeout", std::to_string(config.MinSessionTimeoutMs())},
      {"maxSessionTimeout", std::to_string(config.MaxSessionTimeoutMs())},
      {"clientPortListenBacklog", "-1"},
      {"serverId",
       std::to_string(config.my_id == ensemble::config::kNoServerId ? 0 : config.my_id)},
  };
  if (!config.servers.empty()) {
    conf.emplace_back("initLimit", std::to_string(config.init_limit));
    conf.emplace_back("syncLimit", std::to_string(config.sync_limit));
    conf.emplace_back("electionAlg", std::to_string(config.election_alg));
    conf.emplace_back("peerType", std::to_string(static_cast<int>(config.peer_type)));
    for (const auto& server : config.servers) {
      conf.emplace_back(
          absl::StrCat("server.", server.sid),
          absl::StrCat(server.host, ":", server.quorum_port, ":", server.election_port, ":",
                       std::string(ensemble::config::PeerRoleName(server.role))));
    }
  }
  return conf;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace ensemble;
  int exit_code = 0;
  auto process = runtime::BootProcess("gateway", argc, argv, "127.0.0.1:7003", &exit_code);
  if (!process) return exit_code;
  auto config = std::make_shared<const Config>(process->config);
  if (config->client_port <= 0) {
    spdlog::error("config.invalid key=clientPort value={} (the gateway needs a client port)",
                  config->client_port);
    return 2;
  }

  gateway::GatewayOptions options;
  options.client_address =
      config->client_port_address.empty() ? "0.0.0.0" : config->client_port_address;
  options.client_port = config->client_port;
  options.storage_address =
      config->storage_grpc_address.empty() ? "127.0.0.1:2890" : config->storage_grpc_address;
  options.replication_address = config->replication_grpc_address;
  if (options.replication_address.empty()) {
    const config::ServerSpec* self = config->Self();
    options.replication_address =
        self ? absl::StrCat(self->host, ":", self->quorum_port) : "127.0.0.1:2888";
  }
  options.tick_ms = config->TickMs();
  options.max_client_cnxns = config->max_client_cnxns;
  options.max_cnxns = config->max_cnxns;
  options.connection.min_session_timeout_ms = config->MinSessionTimeoutMs();
  options.connection.max_session_timeout_ms = config->MaxSessionTimeoutMs();
  options.connection.max_frame_bytes = config->jute_max_buffer;
  options.connection.max_field_bytes = config->jute_max_buffer + config->JuteMaxBufferExtraSize();
  options.global_outstanding_limit = config->global_outstanding_limit;
  options.connection.max_outstanding = config->max_outstanding_per_connection;
  options.connection.max_watches = config->max_watches_per_session;
  options.max_send_queue_bytes = config->max_send_queue_bytes > 0
                                     ? config->max_send_queue_bytes
                                     : int64_t{4} * config->jute_max_buffer;
  options.connection.session_secret = config->session_secret.empty()
                                          ? std::string(gateway::kDefaultSessionSecret)
                                          : config->session_secret;
  options.connection.super_digest = config->super_digest;
  options.connection.reconfig_enabled = config->reconfig_enabled;
  options.four_letter_word_enabled = [config](std::string_view name) {
    return config->FourLetterWordEnabled(name);
  };
  options.conf = ConfLines(*config);

  std::unique_ptr<gateway::GatewayServer> server;
  runtime::AdminService admin(
      "gateway", runtime::PublicSettings(*config),
      [&server](admin::v1::StatusResponse* r) {
        if (!server) return;
        auto s = server->GetStatus();
        r->set_role(s.storage_up && s.replication_up ? "serving" : "not_serving");
        r->mutable_header()->set_last_zxid(s.applied_zxid);
        auto& d = *r->mutable_details();
        d["gateway_id"] = absl::StrCat(absl::Hex(server->gateway_id()));
        d["connections"] = std::to_string(s.connections);
        d["sessions"] = std::to_string(s.sessions);
        d["storage_up"] = s.storage_up ? "true" : "false";
        d["replication_up"] = s.replication_up ? "true" : "false";
        d["mode"] = s.mode;
        d["client_port"] = std::to_string(server->port());
      },
      gateway::GatewayAdminActions([&server] { return server.get(); }));
  const std::string grpc_address =
      config->gateway_grpc_address.empty() ? "127.0.0.1:2891" : config->gateway_grpc_address;
  auto host = runtime::ServiceHost::Start({grpc_address}, {&admin});
  if (!host.ok()) {
    spdlog::error("grpc.listen_failed address={} error={}", grpc_address,
                  std::string(host.status().message()));
    return 1;
  }
  auto started = gateway::GatewayServer::Start(options, process->metrics->registry());
  if (!started.ok()) {
    spdlog::error("gateway.listen_failed error={}", std::string(started.status().message()));
    (*host)->Shutdown(0);
    return 1;
  }
  server = std::move(*started);
  runtime::ServiceHost* health = host->get();
  server->SetServingCallback([health](bool serving) { health->SetServing(serving); });
  spdlog::info("gateway.ready client={}:{} grpc={}", options.client_address, server->port(),
               grpc_address);

  int sig = runtime::WaitForShutdownSignal();
  spdlog::info("process.stopping signal={}", sig);
  server->Stop();
  (*host)->Shutdown();
  return 0;
}

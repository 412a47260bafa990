// ensemble-replication: ZAB for one peer (services/replication/core/zab_peer.h
// driven by server/replication_driver.h). With server.N lines it replicates
// with the other peers, following the local election service's decisions;
// without, it is a quorum of one.
#include <algorithm>
#include <cctype>

#include "common/runtime/admin_service.h"
#include "common/runtime/log.h"
#include "common/runtime/process.h"
#include "common/runtime/service_host.h"
#include "common/runtime/signals.h"
#include "services/replication/server/replication_driver.h"
#include "services/replication/server/replication_service.h"

namespace {

std::string HostPort(const std::string& host, int32_t port) {
  // IPv6 literals need brackets in a gRPC target.
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace ensemble;
  int exit_code = 0;
  auto process = runtime::BootProcess("replication", argc, argv, "127.0.0.1:7001", &exit_code);
  if (!process) return exit_code;
  const config::Config& config = process->config;

  zab::ReplicationOptions options;
  options.sid = config.my_id == config::kNoServerId ? 1 : config.my_id;
  options.tick_ms = config.TickMs();
  options.init_limit_ticks = config.init_limit;
  options.sync_limit_ticks = config.sync_limit;
  options.initial_counter_for_testing = config.testing_initial_zxid_counter;
  // Storage runs beside this process in the same peer and dataDir: talk over
  // its unix socket.
  options.storage_address = config.data_dir.empty() ? config.storage_grpc_address
                                                    : "unix:" + config.data_dir + "/storage.sock";
  const bool distributed = !config.servers.empty() && config.IsDistributed();
  if (distributed) {
    const config::ServerSpec* self = config.Self();
    if (self == nullptr) {
      spdlog::error(
          "config.invalid my_id={} has no server.N line (set ensemble.myid or dataDir/myid)",
          config.my_id);
      return 2;
    }
    for (const config::ServerSpec& s : config.servers) {
      if (s.role == config::PeerRole::kObserver) {
        options.observers.push_back(s.sid);
      } else {
        options.voters.push_back(s.sid);
      }
      if (s.sid != options.sid) options.peer_addresses[s.sid] = HostPort(s.host, s.quorum_port);
    }
    options.election_address = config.election_grpc_address.empty()
                                   ? HostPort(self->host, self->election_port)
                                   : config.election_grpc_address;
    options.contains_quorum = [config](const std::set<int64_t>& sids) {
      return config.ContainsQuorum(sids);
    };
  }
  zab::ReplicationDriver driver(options, process->metrics->registry());
  zab::ReplicationService service(driver);
  runtime::AdminService admin(
      "replication", runtime::PublicSettings(config), [&](admin::v1::StatusResponse* r) {
        const auto s = driver.GetStatus();
        std::string role = zab::RoleName(s.role);
        std::transform(role.begin(), role.end(), role.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        if (!distributed && s.role == zab::Role::kLeading) role = "standalone";
        r->set_role(role);
        r->set_leader(s.leader);
        r->mutable_header()->set_server_id(options.sid);
        r->mutable_header()->set_epoch(s.epoch);
        r->mutable_header()->set_last_zxid(s.last_zxid);
        auto& d = *r->mutable_details();
        d["phase"] = zab::PhaseName(s.phase);
        d["serving"] = s.serving ? "true" : "false";
        d["committed_zxid"] = std::to_string(s.committed_zxid);
        d["applied_zxid"] = std::to_string(s.applied_zxid);
        d["sessions"] = std::to_string(s.sessions);
        d["elections"] = std::to_string(s.elections);
        std::string learners;
        for (int64_t sid : s.learners)
          learners += (learners.empty() ? "" : ",") + std::to_string(sid);
        d["learners"] = learners;
      });

  std::string address = config.replication_grpc_address;
  if (address.empty()) {
    const config::ServerSpec* self = config.Self();
    address = self ? HostPort(self->host, self->quorum_port) : "127.0.0.1:2888";
  }
  auto host = runtime::ServiceHost::Start({address}, {&service, &admin});
  if (!host.ok()) {
    spdlog::error("grpc.listen_failed error={}", host.status().message());
    return 1;
  }
  driver.Start();
  // Health follows the core: SERVING in the broadcast phase (a leader, or a
  // learner synced with one).
  std::atomic<bool> done{false};
  std::thread health([&] {
    while (!done) {
      (*host)->SetServing(driver.GetStatus().serving);
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  });
  int sig = runtime::WaitForShutdownSignal();
  spdlog::info("process.stopping signal={}", sig);
  done = true;
  health.join();
  (*host)->Shutdown();
  driver.Stop();
  return 0;
}

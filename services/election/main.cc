// ensemble-election: fast leader election among the voting peers
// (services/election/core/fast_leader_election.h), served on the election port
// of this peer's server.N line. The local replication service asks it who
// leads (GetLeader) and tells it to look again (Reelect). A standalone peer (a
// single participant, standaloneEnabled=true) elects itself at once.
#include <atomic>
#include <chrono>
#include <set>
#include <thread>

#include "common/base/zxid.h"
#include "common/runtime/admin_service.h"
#include "common/runtime/log.h"
#include "common/runtime/process.h"
#include "common/runtime/service_host.h"
#include "common/runtime/signals.h"
#include "prometheus/gauge.h"
#include "services/election/server/election_driver.h"
#include "services/election/server/election_service.h"

int main(int argc, char** argv) {
  using namespace ensemble;
  int exit_code = 0;
  auto process = runtime::BootProcess("election", argc, argv, "127.0.0.1:7002", &exit_code);
  if (!process) return exit_code;
  const config::Config& config = process->config;
  const int64_t sid = config.my_id == config::kNoServerId ? 1 : config.my_id;
  const bool standalone = config.servers.empty() || !config.IsDistributed();
  if (!standalone && config.Self() == nullptr) {
    spdlog::error(
        "config.invalid my_id={} has no server.N line (set ensemble.myid or dataDir/myid)",
        config.my_id);
    return 2;
  }
  std::set<int64_t> known_servers;
  for (const config::ServerSpec& s : config.servers) known_servers.insert(s.sid);

  std::unique_ptr<election::ElectionDriver> driver;
  if (!standalone) {
    // Storage runs beside this process in the same peer and dataDir.
    const std::string storage = config.data_dir.empty()
                                    ? config.storage_grpc_address
                                    : "unix:" + config.data_dir + "/storage.sock";
    driver = std::make_unique<election::ElectionDriver>(election::DriverOptionsFromConfig(config),
                                                        election::StorageStateFetcher(sid, storage),
                                                        process->metrics->registry());
  } else {
    // A quorum of one leads from the start.
    prometheus::BuildGauge()
        .Name("ensemble_election_state")
        .Help("This peer's state: 1 looking, 2 following, 3 leading, 4 observing.")
        .Register(process->metrics->registry())
        .Add({})
        .Set(static_cast<double>(election::PeerState::kLeading));
  }
  election::ElectionService service(sid, known_servers, driver.get());
  runtime::AdminService admin("election", runtime::PublicSettings(config),
                              [&](admin::v1::StatusResponse* r) {
                                r->mutable_header()->set_server_id(sid);
                                if (!driver) {
                                  r->set_role("leading");
                                  r->set_leader(sid);
                                  (*r->mutable_details())["mode"] = "standalone";
                                  return;
                                }
                                const election::ElectionView v = driver->view();
                                r->set_role(std::string(election::PeerStateName(v.state)));
                                r->mutable_header()->set_epoch(v.local.current_epoch);
                                r->mutable_header()->set_last_zxid(v.local.last_zxid);
                                auto& d = *r->mutable_details();
                                if (v.decision) {
                                  r->set_leader(v.decision->leader);
                                  d["election_epoch"] = std::to_string(v.decision->election_epoch);
                                  d["leader_zxid"] = Zxid::Hex(v.decision->zxid);
                                  d["leader_peer_epoch"] = std::to_string(v.decision->peer_epoch);
                                }
                                d["logical_clock"] = std::to_string(v.logical_clock);
                                d["rounds"] = std::to_string(v.rounds);
                                d["last_election_ms"] = std::to_string(v.last_election_ms);
                                d["peers_connected"] = std::to_string(v.peers_connected);
                                d["voters"] = std::to_string(config.QuorumServers().size());
                                d["observers"] = std::to_string(config.Observers().size());
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
  std::atomic<bool> done{false};
  std::thread health;
  if (driver) {
    driver->Start();
    // SERVING once the election takes part (its storage answered), whether or
    // not a leader is known yet: peers must reach each other to decide.
    health = std::thread([&] {
      bool serving = false;
      while (!done) {
        const bool now = driver->view().started;
        if (now != serving) (*host)->SetServing(serving = now);
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    });
  } else {
    (*host)->SetServing(true);
  }
  spdlog::info("election.ready address={} mode={} voters={} observers={}", address,
               standalone ? "standalone" : "ensemble", config.QuorumServers().size(),
               config.Observers().size());
  int sig = runtime::WaitForShutdownSignal();
  spdlog::info("process.stopping signal={}", sig);
  done = true;
  if (health.joinable()) health.join();
  // The driver first: it answers waiting GetLeader calls, so the server can
  // finish them.
  if (driver) driver->Stop();
  (*host)->Shutdown();
  return 0;
}

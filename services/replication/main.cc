// ensemble-replication: ZAB for one peer. Today a quorum of one (standalone):
// it orders every write and commits once the local storage holds it.
#include "common/runtime/admin_service.h"
#include "common/runtime/log.h"
#include "common/runtime/process.h"
#include "common/runtime/service_host.h"
#include "common/runtime/signals.h"
#include "services/replication/server/replication_driver.h"
#include "services/replication/server/replication_service.h"

int main(int argc, char** argv) {
  using namespace ensemble;
  int exit_code = 0;
  auto process = runtime::BootProcess("replication", argc, argv, "127.0.0.1:7001", &exit_code);
  if (!process) return exit_code;
  const config::Config& config = process->config;

  zab::ReplicationOptions options;
  options.sid = config.my_id == config::kNoServerId ? 1 : config.my_id;
  options.tick_ms = config.TickMs();
  // Storage runs beside this process in the same peer and dataDir: talk over
  // its unix socket.
  options.storage_address = config.data_dir.empty() ? config.storage_grpc_address
                                                    : "unix:" + config.data_dir + "/storage.sock";
  zab::ReplicationDriver driver(options, process->metrics->registry());
  zab::ReplicationService service(driver);
  runtime::AdminService admin(
      "replication", runtime::PublicSettings(config), [&](admin::v1::StatusResponse* r) {
        auto s = driver.GetSnapshot();
        r->set_role(s.serving ? "standalone" : "looking");
        r->set_leader(s.serving ? options.sid : 0);
        r->mutable_header()->set_server_id(options.sid);
        r->mutable_header()->set_epoch(s.epoch);
        r->mutable_header()->set_last_zxid(s.last_zxid);
        (*r->mutable_details())["committed_zxid"] = std::to_string(s.committed_zxid);
        (*r->mutable_details())["sessions"] = std::to_string(s.sessions);
      });

  std::string address = config.replication_grpc_address;
  if (address.empty()) {
    const config::ServerSpec* self = config.Self();
    address = self ? self->host + ":" + std::to_string(self->quorum_port) : "127.0.0.1:2888";
  }
  auto host = runtime::ServiceHost::Start({address}, {&service, &admin});
  if (!host.ok()) {
    spdlog::error("grpc.listen_failed error={}", host.status().message());
    return 1;
  }
  driver.Start();
  // Health follows the driver: SERVING once an epoch is established.
  std::atomic<bool> done{false};
  std::thread health([&] {
    while (!done) {
      (*host)->SetServing(driver.GetSnapshot().serving);
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

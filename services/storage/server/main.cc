// ensemble-storage: one peer's replicated state machine and its durability.
#include <filesystem>

#include "common/runtime/admin_service.h"
#include "common/runtime/log.h"
#include "common/runtime/process.h"
#include "common/runtime/service_host.h"
#include "common/runtime/signals.h"
#include "services/storage/log/leveldb_txn_log.h"
#include "services/storage/server/storage_admin.h"
#include "services/storage/server/storage_driver.h"
#include "services/storage/server/storage_service.h"

int main(int argc, char** argv) {
  using namespace ensemble;
  int exit_code = 0;
  auto process = runtime::BootProcess("storage", argc, argv, "127.0.0.1:7000", &exit_code);
  if (!process) return exit_code;
  const config::Config& config = process->config;
  if (config.data_dir.empty()) {
    spdlog::error("config.missing key=dataDir");
    return 2;
  }
  const int64_t sid = config.my_id == config::kNoServerId ? 1 : config.my_id;
  // Ensemble's files sit beside (never inside) ZooKeeper's version-2 folder.
  const std::string root = config.DataLogDir() + "/ensemble";
  std::error_code ec;
  std::filesystem::create_directories(root + "/log", ec);
  std::filesystem::create_directories(config.data_dir + "/ensemble/snapshots", ec);
  auto log = storage::LevelDbTxnLog::Open(root + "/log");
  if (!log.ok()) {
    spdlog::error("storage.log_open_failed dir={} error={}", root + "/log", log.status());
    return 1;
  }
  storage::StorageOptions options;
  options.sid = sid;
  options.snapshot_dir = config.data_dir + "/ensemble/snapshots";
  options.snap_count = config.snap_count;
  options.snap_retain_count = config.snap_retain_count;
  options.purge_interval_hours = config.purge_interval_hours;
  // TTL nodes need zookeeper.extendedTypesEnabled, as in ZooKeeper.
  options.machine.extended_types_enabled = config.extended_types_enabled;
  auto driver = storage::StorageDriver::Open(options, log->get(), process->metrics->registry());
  if (!driver.ok()) {
    spdlog::error("storage.restore_failed error={}", driver.status());
    return 1;
  }
  storage::StorageService service(**driver, **log, options.snapshot_dir);
  runtime::AdminService::Actions actions;
  actions.snapshot_now = [&](auto done) {
    (*driver)->Post([done](storage::StorageDriver& d) {
      d.SnapshotNow();
      done(grpc::Status::OK);
    });
  };
  actions.purge_now = [&](auto done) {
    (*driver)->Post([done](storage::StorageDriver& d) {
      absl::Status s = d.PurgeNow();
      done(s.ok() ? grpc::Status::OK
                  : grpc::Status(grpc::StatusCode::INTERNAL, std::string(s.message())));
    });
  };
  actions.list_sessions = [&](const admin::v1::ListSessionsRequest&,
                              admin::v1::ListSessionsResponse* response, auto done) {
    (*driver)->Post([response, done, sid](storage::StorageDriver& d) {
      auto* header = response->mutable_header();
      header->set_server_id(sid);
      header->set_epoch(d.published().epoch);
      header->set_last_zxid(d.state_machine().last_applied_zxid());
      storage::FillSessions(d.state_machine(), response);
      done(grpc::Status::OK);
    });
  };
  actions.watches = [&](const admin::v1::WatchesRequest& request,
                        admin::v1::WatchesResponse* response, auto done) {
    // `request` lives until done().
    (*driver)->Post([&request, response, done, sid](storage::StorageDriver& d) {
      auto* header = response->mutable_header();
      header->set_server_id(sid);
      header->set_epoch(d.published().epoch);
      header->set_last_zxid(d.state_machine().last_applied_zxid());
      storage::FillWatches(d.state_machine(), request, response);
      done(grpc::Status::OK);
    });
  };
  runtime::AdminService admin(
      "storage", runtime::PublicSettings(config),
      [&](admin::v1::StatusResponse* r) {
        auto p = (*driver)->published();
        r->set_role((*driver)->healthy() ? "serving" : "failed");
        r->mutable_header()->set_server_id(sid);
        r->mutable_header()->set_epoch(p.epoch);
        r->mutable_header()->set_last_zxid(p.last_logged_zxid);
        auto& d = *r->mutable_details();
        d["last_applied_zxid"] = std::to_string(p.last_applied_zxid);
        d["znodes"] = std::to_string(p.znodes);
        d["sessions"] = std::to_string(p.sessions);
        d["watches"] = std::to_string(p.watches);
        d["gateways"] = std::to_string(p.gateways);
        // ZooKeeper's `dirs` (the gateway asks): the transaction log's folder and
        // the snapshots' folder, in bytes, measured now.
        d["log_dir_size"] = std::to_string(storage::DirectorySize(root + "/log"));
        d["snapshot_dir_size"] = std::to_string(storage::DirectorySize(options.snapshot_dir));
      },
      actions);
  // Local processes reach storage on a unix socket; gateways and syncing
  // peers on TCP.
  std::vector<std::string> addresses = {"unix:" + config.data_dir + "/storage.sock"};
  std::filesystem::remove(config.data_dir + "/storage.sock", ec);
  addresses.push_back(config.storage_grpc_address.empty() ? "127.0.0.1:2890"
                                                          : config.storage_grpc_address);
  (*driver)->Start();
  auto host = runtime::ServiceHost::Start(addresses, {&service, &admin});
  if (!host.ok()) {
    spdlog::error("grpc.listen_failed error={}", host.status());
    return 1;
  }
  (*host)->SetServing(true);
  spdlog::info("storage.ready addresses={},{}", addresses[0], addresses[1]);
  int sig = runtime::WaitForShutdownSignal();
  spdlog::info("process.stopping signal={}", sig);
  (*host)->Shutdown();
  (*driver)->Stop();
  return 0;
}

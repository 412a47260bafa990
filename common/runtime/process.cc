#include "common/runtime/process.h"

#include <cstdio>

#include "common/runtime/log.h"
#include "common/runtime/process_options.h"
#include "common/runtime/signals.h"

namespace ensemble::runtime {

namespace {

std::string MetricsAddress(const std::string& kind, const config::Config& c) {
  if (kind == "storage") return c.storage_metrics_address;
  if (kind == "replication") return c.replication_metrics_address;
  if (kind == "election") return c.election_metrics_address;
  if (kind == "gateway") return c.gateway_metrics_address;
  return "";
}

}  // namespace

std::unique_ptr<Process> BootProcess(const std::string& kind, int argc, char** argv,
                                     const std::string& default_metrics_address, int* exit_code) {
  BlockShutdownSignals();
  const std::string program = "ensemble-" + kind;
  auto options = ParseProcessOptions(argc, argv);
  if (!options.ok()) {
    std::fprintf(stderr, "%s: %s\n%s", program.c_str(),
                 std::string(options.status().message()).c_str(), Usage(program).c_str());
    *exit_code = 2;
    return nullptr;
  }
  if (options->help) {
    std::printf("%s", Usage(program).c_str());
    *exit_code = 0;
    return nullptr;
  }
  auto config = LoadConfig(*options);
  if (!config.ok()) {
    std::fprintf(stderr, "%s: %s\n", program.c_str(),
                 std::string(config.status().message()).c_str());
    *exit_code = 2;
    return nullptr;
  }
  auto process = std::make_unique<Process>();
  process->kind = kind;
  process->config = std::move(*config);
  InitLogging(kind, process->config.my_id, process->config.log_level);
  for (const auto& warning : process->config.warnings) spdlog::warn("config.warning {}", warning);

  std::string metrics_address = MetricsAddress(kind, process->config);
  if (metrics_address.empty()) metrics_address = default_metrics_address;
  auto metrics = MetricsEndpoint::Start(metrics_address, kind);
  if (!metrics.ok()) {
    spdlog::error("metrics.listen_failed address={} error={}", metrics_address,
                  metrics.status().message());
    *exit_code = 2;
    return nullptr;
  }
  process->metrics = std::move(*metrics);
  spdlog::info("process.started version=0.1.0 config={} metrics={}", process->config.source_name,
               metrics_address);
  return process;
}

std::map<std::string, std::string> PublicSettings(const config::Config& config) {
  std::map<std::string, std::string> out;
  for (const auto& [key, property] : config.properties) {
    out[key] = config::IsSecretKey(key) ? "<hidden>" : property.value;
  }
  return out;
}

}  // namespace ensemble::runtime

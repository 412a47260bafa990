#pragma once

#include <map>
#include <memory>
#include <string>

#include "common/config/zoo_cfg.h"
#include "common/runtime/metrics.h"

namespace ensemble::runtime {

// What every Ensemble process sets up before its own work: options parsed,
// configuration loaded (warnings logged), logging, the metrics endpoint.
struct Process {
  std::string kind;  // "storage", "replication", "election", "gateway"
  config::Config config;
  std::unique_ptr<MetricsEndpoint> metrics;
};

// Returns nullptr after printing a message to stderr when the command line or
// the configuration is wrong, or the metrics port cannot be bound; main()
// then exits with *exit_code (0 for --help, 2 otherwise).
std::unique_ptr<Process> BootProcess(const std::string& kind, int argc, char** argv,
                                     const std::string& default_metrics_address, int* exit_code);

// The settings for the admin GetConfig call, secrets hidden.
std::map<std::string, std::string> PublicSettings(const config::Config& config);

}  // namespace ensemble::runtime

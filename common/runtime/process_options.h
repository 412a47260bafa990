#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/config/zoo_cfg.h"

namespace ensemble::runtime {

// The command line every Ensemble process accepts:
//   --config PATH        the zoo.cfg file (required)
//   --set KEY=VALUE      override one setting (repeatable); same keys as the file
//   --help
struct ProcessOptions {
  std::string config_path;
  std::vector<std::string> overrides;
  bool help = false;
};

absl::StatusOr<ProcessOptions> ParseProcessOptions(int argc, const char* const* argv);

// Loads the file named by the options and applies the overrides in order.
absl::StatusOr<config::Config> LoadConfig(const ProcessOptions& options);

// The usage text for `program`.
std::string Usage(const std::string& program);

}  // namespace ensemble::runtime

#include "common/runtime/process_options.h"

#include <string_view>

#include "absl/strings/str_cat.h"
#include "common/base/status.h"

namespace ensemble::runtime {

absl::StatusOr<ProcessOptions> ParseProcessOptions(int argc, const char* const* argv) {
  ProcessOptions options;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value = [&](std::string_view flag) -> absl::StatusOr<std::string> {
      // Accept both "--flag value" and "--flag=value".
      if (arg.size() > flag.size() && arg[flag.size()] == '=') {
        return std::string(arg.substr(flag.size() + 1));
      }
      if (i + 1 >= argc)
        return absl::InvalidArgumentError(absl::StrCat(std::string(flag), " needs a value"));
      return std::string(argv[++i]);
    };
    if (arg == "--help" || arg == "-h") {
      options.help = true;
    } else if (arg.starts_with("--config")) {
      ENSEMBLE_ASSIGN_OR_RETURN(options.config_path, value("--config"));
    } else if (arg.starts_with("--set")) {
      ENSEMBLE_ASSIGN_OR_RETURN(std::string kv, value("--set"));
      if (kv.find('=') == std::string::npos) {
        return absl::InvalidArgumentError(absl::StrCat("--set ", kv, ": expected KEY=VALUE"));
      }
      options.overrides.push_back(std::move(kv));
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown argument: ", std::string(arg)));
    }
  }
  if (!options.help && options.config_path.empty()) {
    return absl::InvalidArgumentError("--config PATH is required");
  }
  return options;
}

absl::StatusOr<config::Config> LoadConfig(const ProcessOptions& options) {
  return config::LoadZooCfg(options.config_path, options.overrides, "--set");
}

std::string Usage(const std::string& program) {
  return absl::StrCat("usage: ", program,
                      " --config zoo.cfg [--set key=value ...]\n"
                      "Reads ZooKeeper's zoo.cfg format plus ensemble.* keys "
                      "(docs/configuration.md); --set overrides one key.\n");
}

}  // namespace ensemble::runtime

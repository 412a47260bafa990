// ensemble-bench: a load generator speaking ZooKeeper's client protocol with the
// project's jute codec. See Usage() in options.cc, or run with --help.

#include <sys/resource.h>

#include <cstdio>
#include <string>
#include <vector>

#include "bench/loadgen/modes.h"
#include "bench/loadgen/options.h"
#include "bench/loadgen/report.h"
#include "bench/loadgen/zk_connection.h"

namespace {

// Many sessions need many sockets: raise the soft limit to the hard one.
void RaiseFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

}  // namespace

int main(int argc, char** argv) {
  using namespace ensemble::bench;
  std::vector<std::string> args(argv + 1, argv + argc);
  auto options = ParseOptions(args);
  if (!options.ok()) {
    if (absl::IsCancelled(options.status())) {
      std::fputs(Usage().c_str(), stdout);
      return 0;
    }
    std::fprintf(stderr, "ensemble-bench: %s\n(--help lists the flags)\n",
                 std::string(options.status().message()).c_str());
    return 2;
  }
  auto servers = ParseEndpoints(options->servers);
  if (!servers.ok()) {
    std::fprintf(stderr, "ensemble-bench: --servers: %s\n",
                 std::string(servers.status().message()).c_str());
    return 2;
  }
  RaiseFileLimit();
  Report report;
  switch (options->mode) {
    case Mode::kOps:
      report = RunOps(*options, *servers);
      break;
    case Mode::kWatchFanout:
      report = RunWatchFanout(*options, *servers);
      break;
    case Mode::kSessions:
      report = RunSessions(*options, *servers);
      break;
    case Mode::kEphemeralCleanup:
      report = RunEphemeralCleanup(*options, *servers);
      break;
    case Mode::kProbe:
      report = RunProbe(*options, *servers);
      break;
  }
  std::string out = options->json ? FormatJson(report) : FormatText(report);
  std::fputs(out.c_str(), stdout);
  std::fflush(stdout);
  if (!report.errors.empty() && !options->allow_errors) return 1;
  return 0;
}

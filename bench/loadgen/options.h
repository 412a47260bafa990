#pragma once

// Command line of ensemble-bench. Pure: parsing only.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/loadgen/workload.h"

namespace ensemble::bench {

enum class Mode { kOps, kWatchFanout, kSessions, kEphemeralCleanup, kProbe };

struct Options {
  Mode mode = Mode::kOps;
  std::string servers;  // "host:port,..."
  // Bounds: a run stops at whichever comes first; 0 turns one off (not both).
  double seconds = 10;
  uint64_t count = 1000000;
  double warmup_seconds = 0;
  bool json = false;
  bool allow_errors = false;
  int32_t session_timeout_ms = 30000;
  std::string root = "/ensemble-bench";
  uint64_t seed = 1;
  int connect_concurrency = 64;
  double connect_timeout_seconds = 60;

  // ops
  int sessions = 1;
  int outstanding = 1;
  Mix mix;  // default: getData only
  int value_size = 100;
  int keys = 1000;
  int multi_size = 3;
  bool cleanup = true;
  // Pace the measured phase at this many ops/s in total (0: as fast as the
  // sessions' windows allow).
  double rate = 0;

  // watch-fanout
  int watchers = 1000;
  // watch-fanout and ephemeral-cleanup
  int repeat = 10;
  // ephemeral-cleanup
  int ephemerals = 1000;

  // probe: retry an op on fresh sessions until one succeeds.
  double timeout_seconds = 60;
  double retry_interval_ms = 10;
  std::string probe_path = "/";  // what a getData probe reads
};

std::string_view ModeName(Mode mode);

// The usage text.
std::string Usage();

// Parses argv[1..]: an optional mode word first, then --flag value or
// --flag=value. "--help" yields a Cancelled error (print Usage(), exit 0).
// Errors: InvalidArgument naming the flag.
absl::StatusOr<Options> ParseOptions(const std::vector<std::string>& args);

}  // namespace ensemble::bench

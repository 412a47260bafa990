#include "bench/loadgen/options.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <map>
#include <optional>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/base/status.h"

namespace ensemble::bench {

std::string_view ModeName(Mode mode) {
  switch (mode) {
    case Mode::kOps:
      return "ops";
    case Mode::kWatchFanout:
      return "watch-fanout";
    case Mode::kSessions:
      return "sessions";
    case Mode::kEphemeralCleanup:
      return "ephemeral-cleanup";
    case Mode::kProbe:
      return "probe";
  }
  return "unknown";
}

std::string Usage() {
  return R"(ensemble-bench: a load generator speaking ZooKeeper's client protocol.

  ensemble-bench [MODE] --servers HOST:PORT[,HOST:PORT...] [flags]

Modes:
  ops (default)       N sessions x K outstanding requests each, spread over the servers;
                      latency per op (p50, p99, p99.9, max) and throughput
  watch-fanout        M sessions watch one node, one setData; time until all M are
                      notified, repeated R times
  sessions            open/close rate: N concurrent loops of connect, handshake, closeSession
  ephemeral-cleanup   a session with E ephemerals closes; time until another session has
                      seen every one deleted (exists watches), repeated R times
  probe               fresh sessions try one op (--op getData or create) until it
                      succeeds; prints the time taken (restart and fail-over timing)

Common flags:
  --servers LIST              servers, round-robin over sessions (required)
  --seconds S                 stop after S seconds (default 10; 0 = no time bound)
  --count N                   stop after N operations / sessions (default 1000000; 0 = none)
  --warmup S                  ops mode: run S seconds before measuring (default 0)
  --json                      one JSON object instead of the table
  --allow-errors              exit 0 even when errors were counted
  --session-timeout-ms MS     requested session timeout (default 30000)
  --root PATH                 parent of the run's folder (default /ensemble-bench)
  --seed N                    seed of the op and key choices (default 1)
  --connect-concurrency N     handshakes in flight at once (default 64)
  --connect-timeout S         give up connecting after S seconds (default 60)

ops mode:
  --sessions N                sessions (default 1)
  --outstanding K             requests in flight per session (default 1)
  --op OP | --mix OP=W,...    create, setData (set), getData (get), exists, delete, multi;
                              e.g. --mix get=90,set=10 (default: getData)
  --value-size B              bytes per create/setData (default 100)
  --keys K                    key space of getData/setData/exists/multi (default 1000)
  --multi-size M              setData ops per multi (default 3)
  --rate R                    pace the measured phase at R ops/s in total (default: no
                              pacing; each session keeps --outstanding in flight)
  --no-cleanup                leave the run's nodes in place (e.g. to measure a tree)

watch-fanout:       --watchers M (default 1000) --repeat R (default 10)
ephemeral-cleanup:  --ephemerals E (default 1000) --repeat R (default 10)
probe:              --op getData|create --path P (getData's node, default /)
                    --timeout S (default 60) --retry-interval-ms MS (10)

A run that counted errors prints them per op and code and exits 1 (unless
--allow-errors); bad flags exit 2.
)";
}

namespace {

absl::Status Bad(std::string_view flag, std::string_view value, std::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("--", std::string(flag), " ", std::string(value), ": ", std::string(what)));
}

template <typename T>
absl::Status ParseInt(std::string_view flag, std::string_view text, T min, T* out) {
  T value{};
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) {
    return Bad(flag, text, "not an integer");
  }
  if (value < min) return Bad(flag, text, absl::StrCat("must be at least ", min));
  *out = value;
  return absl::OkStatus();
}

absl::Status ParseDouble(std::string_view flag, std::string_view text, double* out) {
  std::string s(text);
  char* end = nullptr;
  double value = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(value) || value < 0) {
    return Bad(flag, text, "not a non-negative number");
  }
  *out = value;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Options> ParseOptions(const std::vector<std::string>& args) {
  Options o;
  o.mix.weights[static_cast<int>(OpKind::kGet)] = 1;
  size_t i = 0;
  if (!args.empty() && !args[0].starts_with("-")) {
    const std::string& m = args[0];
    if (m == "ops") {
      o.mode = Mode::kOps;
    } else if (m == "watch-fanout") {
      o.mode = Mode::kWatchFanout;
    } else if (m == "sessions") {
      o.mode = Mode::kSessions;
    } else if (m == "ephemeral-cleanup") {
      o.mode = Mode::kEphemeralCleanup;
    } else if (m == "probe") {
      o.mode = Mode::kProbe;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown mode '", m, "'"));
    }
    i = 1;
  }
  using Setter = std::function<absl::Status(std::string_view, std::string_view)>;
  const std::map<std::string, Setter, std::less<>> with_value = {
      {"servers",
       [&](auto, auto v) {
         o.servers = std::string(v);
         return absl::OkStatus();
       }},
      {"seconds", [&](auto f, auto v) { return ParseDouble(f, v, &o.seconds); }},
      {"count", [&](auto f, auto v) { return ParseInt<uint64_t>(f, v, 0, &o.count); }},
      {"warmup", [&](auto f, auto v) { return ParseDouble(f, v, &o.warmup_seconds); }},
      {"session-timeout-ms",
       [&](auto f, auto v) { return ParseInt<int32_t>(f, v, 1, &o.session_timeout_ms); }},
      {"root",
       [&](auto f, auto v) {
         if (!v.starts_with("/") || v.size() < 2 || v.ends_with("/")) {
           return Bad(f, v, "must be an absolute path other than /");
         }
         o.root = std::string(v);
         return absl::OkStatus();
       }},
      {"seed", [&](auto f, auto v) { return ParseInt<uint64_t>(f, v, 0, &o.seed); }},
      {"connect-concurrency",
       [&](auto f, auto v) { return ParseInt<int>(f, v, 1, &o.connect_concurrency); }},
      {"connect-timeout",
       [&](auto f, auto v) { return ParseDouble(f, v, &o.connect_timeout_seconds); }},
      {"sessions", [&](auto f, auto v) { return ParseInt<int>(f, v, 1, &o.sessions); }},
      {"outstanding", [&](auto f, auto v) { return ParseInt<int>(f, v, 1, &o.outstanding); }},
      {"op",
       [&](auto f, auto v) {
         if (v.find('=') != std::string_view::npos) return Bad(f, v, "use --mix for a mix");
         auto mix = ParseMix(v);
         if (!mix.ok()) return Bad(f, v, std::string(mix.status().message()));
         o.mix = *mix;
         return absl::OkStatus();
       }},
      {"mix",
       [&](auto f, auto v) {
         auto mix = ParseMix(v);
         if (!mix.ok()) return Bad(f, v, std::string(mix.status().message()));
         o.mix = *mix;
         return absl::OkStatus();
       }},
      {"value-size", [&](auto f, auto v) { return ParseInt<int>(f, v, 0, &o.value_size); }},
      {"keys", [&](auto f, auto v) { return ParseInt<int>(f, v, 1, &o.keys); }},
      {"multi-size", [&](auto f, auto v) { return ParseInt<int>(f, v, 1, &o.multi_size); }},
      {"watchers", [&](auto f, auto v) { return ParseInt<int>(f, v, 1, &o.watchers); }},
      {"repeat", [&](auto f, auto v) { return ParseInt<int>(f, v, 1, &o.repeat); }},
      {"ephemerals", [&](auto f, auto v) { return ParseInt<int>(f, v, 1, &o.ephemerals); }},
      {"timeout", [&](auto f, auto v) { return ParseDouble(f, v, &o.timeout_seconds); }},
      {"rate", [&](auto f, auto v) { return ParseDouble(f, v, &o.rate); }},
      {"path",
       [&](auto f, auto v) {
         if (!v.starts_with("/")) return Bad(f, v, "must be an absolute path");
         o.probe_path = std::string(v);
         return absl::OkStatus();
       }},
      {"retry-interval-ms",
       [&](auto f, auto v) { return ParseDouble(f, v, &o.retry_interval_ms); }},
  };
  for (; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg == "--help" || arg == "-h") return absl::CancelledError("help");
    if (!arg.starts_with("--")) {
      return absl::InvalidArgumentError(
          absl::StrCat("unexpected argument '", std::string(arg), "'"));
    }
    arg.remove_prefix(2);
    std::optional<std::string_view> value;
    if (size_t eq = arg.find('='); eq != std::string_view::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    }
    if (arg == "json" || arg == "allow-errors" || arg == "no-cleanup") {
      if (value) return Bad(arg, *value, "takes no value");
      if (arg == "json") o.json = true;
      if (arg == "allow-errors") o.allow_errors = true;
      if (arg == "no-cleanup") o.cleanup = false;
      continue;
    }
    auto it = with_value.find(arg);
    if (it == with_value.end()) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", std::string(arg)));
    }
    if (!value) {
      if (i + 1 >= args.size()) return Bad(arg, "", "needs a value");
      value = args[++i];
    }
    ENSEMBLE_RETURN_IF_ERROR(it->second(arg, *value));
  }
  if (o.servers.empty()) return absl::InvalidArgumentError("--servers is required");
  if (o.seconds == 0 && o.count == 0 && o.mode != Mode::kProbe) {
    return absl::InvalidArgumentError("--seconds 0 and --count 0: the run would be unbounded");
  }
  if (o.mode == Mode::kProbe) {
    if (!(o.mix.Only(OpKind::kGet) || o.mix.Only(OpKind::kCreate))) {
      return absl::InvalidArgumentError("probe: --op must be getData or create");
    }
    if (o.timeout_seconds <= 0) return absl::InvalidArgumentError("probe: --timeout must be > 0");
  }
  return o;
}

}  // namespace ensemble::bench

#include "common/config/zoo_cfg.h"

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <sstream>
#include <system_error>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "common/base/status.h"
#include "common/config/known_keys.h"
#include "common/config/properties.h"
#include "common/config/text_util.h"

namespace ensemble::config {
namespace {

using internal::Cat;
using internal::Contains;
using internal::EqualsIgnoreCase;
using internal::Join;
using internal::Lower;
using internal::Split;
using internal::ToAbsl;
using internal::ToStd;
using internal::Trim;

constexpr int32_t kMinSnapRetainCount = 3;   // QuorumPeerConfig.MIN_SNAP_RETAIN_COUNT
constexpr int32_t kMinJuteExtraSize = 1024;  // BinaryInputArchive: never below 1024
constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

// ZooKeeper 3.8's four-letter words (FourLetterCommands).
constexpr std::string_view kFourLetterWords[] = {"conf", "cons", "crst", "dirs", "dump", "envi",
                                                 "gtmk", "hash", "isro", "mntr", "ruok", "srst",
                                                 "srvr", "stat", "stmk", "wchc", "wchp", "wchs"};

// spdlog's level names.
constexpr std::string_view kLogLevels[] = {"trace", "debug",    "info", "warn",
                                           "error", "critical", "off"};

constexpr std::string_view kServerLineForm =
    "expected host:quorumPort:electionPort[:participant|:observer][;[clientAddress:]clientPort]";

// ---------------------------------------------------------------------------------
// Value parsers. Their messages name the problem; callers prefix "origin: key: ".

absl::Status Invalid(std::string_view message) {
  return absl::InvalidArgumentError(ToAbsl(message));
}

bool IsDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

absl::StatusOr<int64_t> ParseInteger(std::string_view v, int64_t min, int64_t max) {
  std::string_view digits = v;
  if (!digits.empty() && (digits[0] == '-' || digits[0] == '+')) digits.remove_prefix(1);
  if (!IsDigits(digits)) return Invalid(Cat("expected an integer, got '", v, "'"));
  int64_t n = 0;
  if (!absl::SimpleAtoi(ToAbsl(v), &n)) return Invalid(Cat("integer out of range: ", v));
  if (n < min || n > max) {
    if (max == kInt32Max || max == kInt64Max) {
      return Invalid(Cat("must be at least ", min, ", got ", n));
    }
    return Invalid(Cat("must be between ", min, " and ", max, ", got ", n));
  }
  return n;
}

absl::StatusOr<int32_t> ParsePort(std::string_view v, bool allow_zero) {
  const int64_t min = allow_zero ? 0 : 1;
  int64_t n = -1;
  std::string_view digits = v;
  if (!digits.empty() && digits[0] == '+') digits.remove_prefix(1);
  if (!IsDigits(digits) || digits.size() > 5 || !absl::SimpleAtoi(ToAbsl(digits), &n) || n < min ||
      n > 65535) {
    return Invalid(Cat("expected a port number between ", min, " and 65535, got '", v, "'"));
  }
  return static_cast<int32_t>(n);
}

absl::StatusOr<int64_t> ParseServerId(std::string_view v) {
  int64_t n = 0;
  if (!IsDigits(v) || !absl::SimpleAtoi(ToAbsl(v), &n)) {
    return Invalid(Cat("expected a server id (a non-negative integer), got '", v, "'"));
  }
  return n;
}

absl::StatusOr<bool> ParseBool(std::string_view v, bool yes_no) {
  const std::string lower = Lower(v);
  if (lower == "true" || lower == "yes") return true;
  if (lower == "false" || lower == "no") return false;
  return Invalid(Cat(yes_no ? "expected yes or no" : "expected true or false", ", got '", v, "'"));
}

// ConfigUtils.getHostAndPort: "host:a:b" or "[v6]:a:b" -> {host, a, b}.
absl::StatusOr<std::vector<std::string>> SplitHostAndPorts(std::string_view v) {
  std::vector<std::string> parts;
  if (v.starts_with("[")) {
    const size_t close = v.find(']');
    if (close == std::string_view::npos) return Invalid("missing ']' after an IPv6 address");
    parts.emplace_back(v.substr(1, close - 1));
    std::string_view rest = v.substr(close + 1);
    if (rest.empty()) return parts;
    if (rest[0] != ':') return Invalid("expected ':' after ']'");
    for (std::string_view p : Split(rest.substr(1), ':')) parts.emplace_back(p);
    return parts;
  }
  for (std::string_view p : Split(v, ':')) parts.emplace_back(p);
  return parts;
}

bool HasBlank(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return absl::ascii_isspace(c); });
}

// A hostname or IP literal; brackets around an IPv6 literal are dropped.
absl::StatusOr<std::string> ParseHost(std::string_view v) {
  if (v.size() >= 2 && v.front() == '[' && v.back() == ']') v = v.substr(1, v.size() - 2);
  if (v.empty()) return Invalid("expected a host name or IP address, got ''");
  if (HasBlank(v) || Contains(v, ';') || Contains(v, '|') || Contains(v, '/')) {
    return Invalid(Cat("expected a host name or IP address, got '", v, "'"));
  }
  return std::string(v);
}

std::string FormatHost(std::string_view host) {
  return Contains(host, ':') ? Cat("[", host, "]") : std::string(host);
}

// "host:port" or "[v6]:port"; with allow_unix also gRPC's "unix:path".
absl::Status CheckAddress(std::string_view v, bool allow_unix) {
  if (allow_unix && v.starts_with("unix:")) {
    if (v.size() == 5) return Invalid("missing socket path after 'unix:'");
    return absl::OkStatus();
  }
  const std::string expected =
      Cat("expected host:port", allow_unix ? " or unix:path" : "", ", got '", v, "'");
  absl::StatusOr<std::vector<std::string>> parts = SplitHostAndPorts(v);
  if (!parts.ok() || parts->size() != 2) return Invalid(expected);
  if (!ParseHost((*parts)[0]).ok()) return Invalid(expected);
  absl::StatusOr<int32_t> port = ParsePort((*parts)[1], /*allow_zero=*/false);
  if (!port.ok()) return Invalid(Cat(expected, ": ", port.status().message()));
  return absl::OkStatus();
}

absl::StatusOr<ServerSpec> ParseServerValue(int64_t sid, std::string_view v) {
  const std::string form = Cat(kServerLineForm, ", got '", v, "'");
  std::vector<std::string_view> server_client = Split(v, ';');
  if (server_client.size() > 2) return Invalid(form);
  std::string_view server_part = Trim(server_client[0]);
  if (Contains(server_part, '|')) {
    return Invalid("multiple addresses per server ('|', multiAddress.enabled) are not supported");
  }
  absl::StatusOr<std::vector<std::string>> parts = SplitHostAndPorts(server_part);
  if (!parts.ok() || parts->size() < 3 || parts->size() > 4) return Invalid(form);

  ServerSpec spec;
  spec.sid = sid;
  absl::StatusOr<std::string> host = ParseHost((*parts)[0]);
  if (!host.ok()) return Invalid(Cat(form, ": ", host.status().message()));
  spec.host = *std::move(host);
  absl::StatusOr<int32_t> quorum_port = ParsePort((*parts)[1], /*allow_zero=*/false);
  if (!quorum_port.ok()) {
    return Invalid(Cat("quorum port: ", quorum_port.status().message()));
  }
  absl::StatusOr<int32_t> election_port = ParsePort((*parts)[2], /*allow_zero=*/false);
  if (!election_port.ok()) {
    return Invalid(Cat("election port: ", election_port.status().message()));
  }
  spec.quorum_port = *quorum_port;
  spec.election_port = *election_port;
  if (spec.quorum_port == spec.election_port) {
    return Invalid(Cat("quorum port and election port must differ (both ", spec.quorum_port, ")"));
  }
  if (parts->size() == 4) {
    const std::string role = Lower((*parts)[3]);
    if (role == "participant") {
      spec.role = PeerRole::kParticipant;
    } else if (role == "observer") {
      spec.role = PeerRole::kObserver;
    } else {
      return Invalid(Cat("unknown role '", (*parts)[3], "' (expected participant or observer)"));
    }
  }
  if (server_client.size() == 2) {
    std::string_view client_part = Trim(server_client[1]);
    absl::StatusOr<std::vector<std::string>> client = SplitHostAndPorts(client_part);
    if (!client.ok() || client->empty() || client->size() > 2) return Invalid(form);
    if (client->size() == 2) {
      absl::StatusOr<std::string> address = ParseHost((*client)[0]);
      if (!address.ok()) {
        return Invalid(Cat("client address: ", address.status().message()));
      }
      spec.client_address = *std::move(address);
    } else {
      spec.client_address = "0.0.0.0";
    }
    absl::StatusOr<int32_t> client_port = ParsePort(client->back(), /*allow_zero=*/false);
    if (!client_port.ok()) {
      return Invalid(Cat("client port: ", client_port.status().message()));
    }
    spec.client_port = *client_port;
  }
  return spec;
}

std::string FormatServerValue(const ServerSpec& s) {
  std::string out = Cat(FormatHost(s.host), ":", s.quorum_port, ":", s.election_port);
  if (s.role == PeerRole::kObserver) out += ":observer";
  if (s.client_port != 0) {
    out += Cat(";", FormatHost(s.client_address.empty() ? "0.0.0.0" : s.client_address), ":",
               s.client_port);
  }
  return out;
}

absl::StatusOr<std::vector<int64_t>> ParseGroupMembers(std::string_view v) {
  std::vector<int64_t> members;
  for (std::string_view part : Split(v, ':')) {
    absl::StatusOr<int64_t> sid = ParseServerId(Trim(part));
    if (!sid.ok()) {
      return Invalid(Cat("expected server ids separated by ':', got '", v, "'"));
    }
    if (std::find(members.begin(), members.end(), *sid) != members.end()) {
      return Invalid(Cat("server ", *sid, " is listed twice"));
    }
    members.push_back(*sid);
  }
  std::sort(members.begin(), members.end());
  return members;
}

// ---------------------------------------------------------------------------------
// The typed keys: each parses its value into a Config field, and renders it back.

const Config& DefaultConfig() {
  static const Config* const kDefault = new Config();
  return *kDefault;
}

struct TypedKey {
  std::string_view name;
  // Parses `value` into the config; may set `*warning` (a non-fatal finding).
  std::function<absl::Status(Config&, std::string_view value, std::string* warning)> set;
  // The value to write in ToZooCfg, or nullopt to leave the key out (its default).
  std::function<std::optional<std::string>(const Config&)> render;
};

constexpr bool kAlways = true;

template <typename T>
TypedKey IntKey(std::string_view name, T Config::*field, int64_t min, int64_t max,
                bool always = false) {
  return {name,
          [=](Config& c, std::string_view v, std::string*) -> absl::Status {
            ENSEMBLE_ASSIGN_OR_RETURN(int64_t n, ParseInteger(v, min, max));
            c.*field = static_cast<T>(n);
            return absl::OkStatus();
          },
          [=](const Config& c) -> std::optional<std::string> {
            if (!always && c.*field == DefaultConfig().*field) return std::nullopt;
            return Cat(c.*field);
          }};
}

TypedKey OptionalIntKey(std::string_view name, std::optional<int32_t> Config::*field, int64_t min) {
  return {name,
          [=](Config& c, std::string_view v, std::string*) -> absl::Status {
            ENSEMBLE_ASSIGN_OR_RETURN(int64_t n, ParseInteger(v, min, kInt32Max));
            c.*field = static_cast<int32_t>(n);
            return absl::OkStatus();
          },
          [=](const Config& c) -> std::optional<std::string> {
            if (!(c.*field).has_value()) return std::nullopt;
            return Cat(*(c.*field));
          }};
}

TypedKey PortKey(std::string_view name, int32_t Config::*field, bool allow_zero,
                 bool always = false) {
  return {name,
          [=](Config& c, std::string_view v, std::string*) -> absl::Status {
            ENSEMBLE_ASSIGN_OR_RETURN(c.*field, ParsePort(v, allow_zero));
            return absl::OkStatus();
          },
          [=](const Config& c) -> std::optional<std::string> {
            if (!always && c.*field == DefaultConfig().*field) return std::nullopt;
            return Cat(c.*field);
          }};
}

// `yes_no`: ZooKeeper reads this one as "yes"/"no" (leaderServes, forceSync, skipACL);
// we accept both spellings and write yes/no so ZooKeeper reads our files the same way.
TypedKey BoolKey(std::string_view name, bool Config::*field, bool yes_no = false) {
  return {name,
          [=](Config& c, std::string_view v, std::string*) -> absl::Status {
            ENSEMBLE_ASSIGN_OR_RETURN(c.*field, ParseBool(v, yes_no));
            return absl::OkStatus();
          },
          [=](const Config& c) -> std::optional<std::string> {
            if (c.*field == DefaultConfig().*field) return std::nullopt;
            if (yes_no) return std::string(c.*field ? "yes" : "no");
            return std::string(c.*field ? "true" : "false");
          }};
}

std::optional<std::string> RenderString(const Config& c, std::string Config::*field, bool always) {
  const std::string& v = c.*field;
  if (v.empty()) return std::nullopt;
  if (!always && v == DefaultConfig().*field) return std::nullopt;
  return v;
}

TypedKey PathKey(std::string_view name, std::string Config::*field, bool always = false) {
  return {name,
          [=](Config& c, std::string_view v, std::string*) -> absl::Status {
            if (v.empty()) return Invalid("expected a path, got ''");
            c.*field = std::string(v);
            return absl::OkStatus();
          },
          [=](const Config& c) { return RenderString(c, field, always); }};
}

TypedKey HostKey(std::string_view name, std::string Config::*field) {
  return {name,
          [=](Config& c, std::string_view v, std::string*) -> absl::Status {
            ENSEMBLE_ASSIGN_OR_RETURN(c.*field, ParseHost(v));
            return absl::OkStatus();
          },
          [=](const Config& c) -> std::optional<std::string> {
            std::optional<std::string> v = RenderString(c, field, /*always=*/false);
            if (v) return FormatHost(*v);
            return v;
          }};
}

TypedKey AddressKey(std::string_view name, std::string Config::*field, bool allow_unix) {
  return {name,
          [=](Config& c, std::string_view v, std::string*) -> absl::Status {
            ENSEMBLE_RETURN_IF_ERROR(CheckAddress(v, allow_unix));
            c.*field = std::string(v);
            return absl::OkStatus();
          },
          [=](const Config& c) { return RenderString(c, field, /*always=*/false); }};
}

std::vector<TypedKey> BuildTypedKeys() {
  std::vector<TypedKey> k;
  // The basics, always written by ToZooCfg.
  k.push_back(IntKey("tickTime", &Config::tick_time_ms, 1, kInt32Max, kAlways));
  k.push_back(IntKey("initLimit", &Config::init_limit, 1, kInt32Max, kAlways));
  k.push_back(IntKey("syncLimit", &Config::sync_limit, 1, kInt32Max, kAlways));
  k.push_back(PathKey("dataDir", &Config::data_dir, kAlways));
  k.push_back(PathKey("dataLogDir", &Config::data_log_dir));
  k.push_back(PortKey("clientPort", &Config::client_port, /*allow_zero=*/true, kAlways));

  k.push_back(HostKey("clientPortAddress", &Config::client_port_address));
  k.push_back(PortKey("secureClientPort", &Config::secure_client_port, /*allow_zero=*/true));
  k.push_back(HostKey("secureClientPortAddress", &Config::secure_client_port_address));
  k.push_back(PortKey("observerMasterPort", &Config::observer_master_port, /*allow_zero=*/true));
  k.push_back(IntKey("maxClientCnxns", &Config::max_client_cnxns, 0, kInt32Max));
  k.push_back(IntKey("maxCnxns", &Config::max_cnxns, 0, kInt32Max));
  k.push_back(OptionalIntKey("minSessionTimeout", &Config::min_session_timeout_ms, 1));
  k.push_back(OptionalIntKey("maxSessionTimeout", &Config::max_session_timeout_ms, 1));
  k.push_back(
      OptionalIntKey("connectToLearnerMasterLimit", &Config::connect_to_learner_master_limit, 1));
  k.push_back({"autopurge.snapRetainCount",
               [](Config& c, std::string_view v, std::string* warning) -> absl::Status {
                 ENSEMBLE_ASSIGN_OR_RETURN(int64_t n, ParseInteger(v, 0, kInt32Max));
                 if (n < kMinSnapRetainCount) {
                   // QuorumPeerConfig: "Invalid autopurge.snapRetainCount: 1. Defaulting to 3"
                   *warning = Cat(n, " is below the minimum of ", kMinSnapRetainCount, "; using ",
                                  kMinSnapRetainCount);
                   n = kMinSnapRetainCount;
                 }
                 c.snap_retain_count = static_cast<int32_t>(n);
                 return absl::OkStatus();
               },
               [](const Config& c) -> std::optional<std::string> {
                 if (c.snap_retain_count == DefaultConfig().snap_retain_count) return std::nullopt;
                 return Cat(c.snap_retain_count);
               }});
  k.push_back(IntKey("autopurge.purgeInterval", &Config::purge_interval_hours, 0, kInt32Max));
  k.push_back(IntKey("snapCount", &Config::snap_count, 2, kInt32Max));
  k.push_back(IntKey("preAllocSize", &Config::pre_alloc_size_kb, 1, kInt64Max / 1024));
  k.push_back(
      IntKey("fsync.warningthresholdms", &Config::fsync_warning_threshold_ms, 0, kInt64Max));
  k.push_back(BoolKey("forceSync", &Config::force_sync, /*yes_no=*/true));
  k.push_back(BoolKey("syncEnabled", &Config::sync_enabled));
  k.push_back(IntKey("globalOutstandingLimit", &Config::global_outstanding_limit, 1, kInt32Max));
  k.push_back(IntKey("jute.maxbuffer", &Config::jute_max_buffer, 1, kInt32Max));
  k.push_back({"jute.maxbuffer.extrasize",
               [](Config& c, std::string_view v, std::string* warning) -> absl::Status {
                 ENSEMBLE_ASSIGN_OR_RETURN(int64_t n, ParseInteger(v, 0, kInt32Max));
                 if (n < kMinJuteExtraSize) {
                   // BinaryInputArchive silently raises it to 1024.
                   *warning = Cat(n, " is below the minimum of ", kMinJuteExtraSize, "; using ",
                                  kMinJuteExtraSize);
                   n = kMinJuteExtraSize;
                 }
                 c.jute_max_buffer_extra_size = static_cast<int32_t>(n);
                 return absl::OkStatus();
               },
               [](const Config& c) -> std::optional<std::string> {
                 if (!c.jute_max_buffer_extra_size) return std::nullopt;
                 return Cat(*c.jute_max_buffer_extra_size);
               }});
  k.push_back(
      {"4lw.commands.whitelist",
       [](Config& c, std::string_view v, std::string*) -> absl::Status {
         std::vector<std::string> words;
         for (std::string_view w : Split(v, ',')) {
           w = Trim(w);
           if (w.empty()) continue;
           if (w != "*" && std::find(std::begin(kFourLetterWords), std::end(kFourLetterWords), w) ==
                               std::end(kFourLetterWords)) {
             return Invalid(Cat("unknown four-letter word '", w,
                                "' (known: ", Join(kFourLetterWords, ", "), "; or * for all)"));
           }
           words.emplace_back(w);
         }
         c.four_letter_words = std::move(words);
         return absl::OkStatus();
       },
       [](const Config& c) -> std::optional<std::string> {
         if (c.four_letter_words == DefaultConfig().four_letter_words) return std::nullopt;
         return Join(c.four_letter_words, ",");
       }});
  k.push_back(BoolKey("skipACL", &Config::skip_acl, /*yes_no=*/true));
  k.push_back(BoolKey("extendedTypesEnabled", &Config::extended_types_enabled));
  k.push_back({"DigestAuthenticationProvider.superDigest",
               [](Config& c, std::string_view v, std::string*) -> absl::Status {
                 // Never echo the value: it is a secret.
                 const size_t colon = v.find(':');
                 if (colon == std::string_view::npos || colon == 0 || colon + 1 == v.size()) {
                   return Invalid(
                       "expected user:base64digest (as DigestAuthenticationProvider "
                       "prints it)");
                 }
                 c.super_digest = std::string(v);
                 return absl::OkStatus();
               },
               [](const Config& c) { return RenderString(c, &Config::super_digest, false); }});

  k.push_back({"electionAlg",
               [](Config& c, std::string_view v, std::string*) -> absl::Status {
                 ENSEMBLE_ASSIGN_OR_RETURN(int64_t n, ParseInteger(v, 0, kInt32Max));
                 if (n != 3) {
                   return Invalid(Cat("only 3 (TCP fast leader election) is supported, got ", n));
                 }
                 c.election_alg = 3;
                 return absl::OkStatus();
               },
               [](const Config&) -> std::optional<std::string> { return std::nullopt; }});
  k.push_back(BoolKey("leaderServes", &Config::leader_serves, /*yes_no=*/true));
  k.push_back(BoolKey("standaloneEnabled", &Config::standalone_enabled));
  k.push_back(BoolKey("reconfigEnabled", &Config::reconfig_enabled));
  k.push_back(BoolKey("quorumListenOnAllIPs", &Config::quorum_listen_on_all_ips));
  k.push_back({"peerType",
               [](Config& c, std::string_view v, std::string*) -> absl::Status {
                 const std::string lower = Lower(v);
                 if (lower == "participant") {
                   c.peer_type = PeerRole::kParticipant;
                 } else if (lower == "observer") {
                   c.peer_type = PeerRole::kObserver;
                 } else {
                   return Invalid(Cat("expected participant or observer, got '", v, "'"));
                 }
                 return absl::OkStatus();
               },
               [](const Config& c) -> std::optional<std::string> {
                 if (c.peer_type == DefaultConfig().peer_type) return std::nullopt;
                 return std::string(PeerRoleName(c.peer_type));
               }});
  // Merged by LoadZooCfg; ToZooCfg writes the servers inline instead.
  k.push_back({"dynamicConfigFile",
               [](Config& c, std::string_view v, std::string*) -> absl::Status {
                 if (v.empty()) return Invalid("expected a path, got ''");
                 c.dynamic_config_file = std::string(v);
                 return absl::OkStatus();
               },
               [](const Config&) -> std::optional<std::string> { return std::nullopt; }});
  k.push_back(IntKey("fastleader.minNotificationInterval",
                     &Config::fle_min_notification_interval_ms, 1, kInt32Max));
  k.push_back(IntKey("fastleader.maxNotificationInterval",
                     &Config::fle_max_notification_interval_ms, 1, kInt32Max));
  k.push_back(BoolKey("admin.enableServer", &Config::admin_enable_server));
  k.push_back(HostKey("admin.serverAddress", &Config::admin_server_address));
  k.push_back(PortKey("admin.serverPort", &Config::admin_server_port, /*allow_zero=*/false));

  // Ensemble's own keys.
  k.push_back({"ensemble.myid",
               [](Config& c, std::string_view v, std::string*) -> absl::Status {
                 ENSEMBLE_ASSIGN_OR_RETURN(c.my_id, ParseServerId(v));
                 c.my_id_file.clear();
                 return absl::OkStatus();
               },
               [](const Config& c) -> std::optional<std::string> {
                 if (c.my_id == kNoServerId) return std::nullopt;
                 return Cat(c.my_id);
               }});
  k.push_back(IntKey("ensemble.testing.initialZxidCounter", &Config::testing_initial_zxid_counter,
                     0, 0xfffffffeLL));
  k.push_back(IntKey("ensemble.maxOutstandingPerConnection",
                     &Config::max_outstanding_per_connection, 1, kInt32Max));
  k.push_back(
      IntKey("ensemble.maxWatchesPerSession", &Config::max_watches_per_session, 0, kInt32Max));
  k.push_back(
      IntKey("ensemble.maxSendQueueBytes", &Config::max_send_queue_bytes, 0, int64_t{1} << 40));
  k.push_back(AddressKey("ensemble.storage.grpc", &Config::storage_grpc_address, true));
  k.push_back(AddressKey("ensemble.replication.grpc", &Config::replication_grpc_address, true));
  k.push_back(AddressKey("ensemble.election.grpc", &Config::election_grpc_address, true));
  k.push_back(AddressKey("ensemble.gateway.grpc", &Config::gateway_grpc_address, true));
  k.push_back(AddressKey("ensemble.metrics.storage", &Config::storage_metrics_address, false));
  k.push_back(
      AddressKey("ensemble.metrics.replication", &Config::replication_metrics_address, false));
  k.push_back(AddressKey("ensemble.metrics.election", &Config::election_metrics_address, false));
  k.push_back(AddressKey("ensemble.metrics.gateway", &Config::gateway_metrics_address, false));
  k.push_back({"ensemble.logLevel",
               [](Config& c, std::string_view v, std::string*) -> absl::Status {
                 const std::string lower = Lower(v);
                 if (std::find(std::begin(kLogLevels), std::end(kLogLevels), lower) ==
                     std::end(kLogLevels)) {
                   return Invalid(
                       Cat("expected one of ", Join(kLogLevels, ", "), ", got '", v, "'"));
                 }
                 c.log_level = lower;
                 return absl::OkStatus();
               },
               [](const Config& c) { return RenderString(c, &Config::log_level, false); }});
  k.push_back({"ensemble.sessionSecret",
               [](Config& c, std::string_view v, std::string*) -> absl::Status {
                 if (v.empty()) return Invalid("must not be empty");
                 c.session_secret = std::string(v);
                 return absl::OkStatus();
               },
               [](const Config& c) { return RenderString(c, &Config::session_secret, false); }});
  return k;
}

const std::vector<TypedKey>& TypedKeys() {
  static const std::vector<TypedKey>* const kKeys = new std::vector<TypedKey>(BuildTypedKeys());
  return *kKeys;
}

const TypedKey* FindTypedKey(std::string_view name) {
  for (const TypedKey& k : TypedKeys()) {
    if (k.name == name) return &k;
  }
  return nullptr;
}

// Other spellings of typed keys.
struct Alias {
  std::string_view alias;
  std::string_view canonical;
};
constexpr Alias kAliases[] = {
    {"ensemble.superDigest", "DigestAuthenticationProvider.superDigest"},
    {"observer.syncEnabled", "syncEnabled"},  // its system property: zookeeper.observer.*
};

std::optional<std::string_view> TypedCanonical(std::string_view key) {
  for (const Alias& a : kAliases) {
    if (a.alias == key) return a.canonical;
  }
  if (const TypedKey* k = FindTypedKey(key)) return k->name;
  return std::nullopt;
}

// ---------------------------------------------------------------------------------
// Resolving a key as written to what it sets.

enum class KeyKind { kTyped, kServer, kGroup, kWeight, kRecorded };

struct ResolvedKey {
  KeyKind kind = KeyKind::kRecorded;
  std::string canonical;
  const TypedKey* typed = nullptr;  // kTyped
  int64_t id = 0;                   // kServer, kGroup, kWeight
  bool warn_unknown_property = false;
};

constexpr std::pair<std::string_view, KeyKind> kNumberedPrefixes[] = {
    {"server.", KeyKind::kServer},
    {"group.", KeyKind::kGroup},
    {"weight.", KeyKind::kWeight},
};

bool IsNumberedKey(std::string_view canonical) {
  for (const auto& [prefix, kind] : kNumberedPrefixes) {
    if (canonical.starts_with(prefix)) return true;
  }
  return false;
}

std::string Suggestion(std::string_view key) {
  std::vector<std::string_view> candidates;
  for (const TypedKey& k : TypedKeys()) candidates.push_back(k.name);
  for (const Alias& a : kAliases) candidates.push_back(a.alias);
  for (std::string_view k : RecordedZooKeeperKeys()) candidates.push_back(k);
  for (std::string_view c : candidates) {
    if (EqualsIgnoreCase(c, key)) return Cat("; did you mean '", c, "'?");
  }
  return "";
}

absl::StatusOr<ResolvedKey> ResolveKey(std::string_view key) {
  ResolvedKey r;
  for (const auto& [prefix, kind] : kNumberedPrefixes) {
    if (!key.starts_with(prefix)) continue;
    absl::StatusOr<int64_t> id = ParseServerId(key.substr(prefix.size()));
    if (!id.ok()) {
      return Invalid(Cat("expected ", prefix, "N with N a non-negative integer (the ",
                         kind == KeyKind::kGroup ? "group id" : "server id", ")"));
    }
    r.kind = kind;
    r.id = *id;
    r.canonical = Cat(prefix, *id);
    return r;
  }
  std::optional<std::string_view> typed = TypedCanonical(key);
  if (!typed && key.starts_with("zookeeper.")) {
    typed = TypedCanonical(key.substr(std::string_view("zookeeper.").size()));
  }
  if (typed) {
    r.kind = KeyKind::kTyped;
    r.canonical = std::string(*typed);
    r.typed = FindTypedKey(*typed);
    return r;
  }
  if (IsRecordedZooKeeperKey(key) || HasRecordedPrefix(key)) {
    r.kind = KeyKind::kRecorded;
    r.canonical = std::string(key);
    if (key.starts_with("zookeeper.")) {
      r.warn_unknown_property =
          !IsRecordedZooKeeperKey(key.substr(std::string_view("zookeeper.").size()));
    }
    return r;
  }
  return Invalid(
      Cat("unknown key (not a ZooKeeper 3.8 or Ensemble setting; see "
          "docs/configuration.md)",
          Suggestion(key)));
}

// ---------------------------------------------------------------------------------
// Applying settings.

void AddWarning(Config& c, std::string warning) {
  if (std::find(c.warnings.begin(), c.warnings.end(), warning) == c.warnings.end()) {
    c.warnings.push_back(std::move(warning));
  }
}

absl::Status ErrorAt(std::string_view origin, std::string_view key, absl::string_view message) {
  return absl::InvalidArgumentError(Cat(origin, ": ", key, ": ", message));
}

std::string OriginOf(const Config& c, std::string_view canonical) {
  auto it = c.properties.find(std::string(canonical));
  return it == c.properties.end() ? c.source_name : it->second.origin;
}

absl::Status ErrorAtKey(const Config& c, std::string_view canonical, absl::string_view message) {
  return ErrorAt(OriginOf(c, canonical), canonical, message);
}

// Applies `key`=`value` from `origin`. Unless `replace`, a setting already present is
// an error (a key given twice in one file).
absl::Status ApplySetting(Config& c, std::string_view key, const ResolvedKey& r,
                          std::string_view value, const std::string& origin, bool replace) {
  if (!replace) {
    auto it = c.properties.find(r.canonical);
    if (it != c.properties.end()) {
      if (r.kind == KeyKind::kServer) {
        return ErrorAt(
            origin, key,
            Cat("duplicate server id ", r.id, " (first defined at ", it->second.origin, ")"));
      }
      return ErrorAt(origin, key, Cat("set twice (first at ", it->second.origin, ")"));
    }
  }
  std::string warning;
  absl::Status status;
  switch (r.kind) {
    case KeyKind::kTyped:
      status = r.typed->set(c, value, &warning);
      break;
    case KeyKind::kServer: {
      absl::StatusOr<ServerSpec> spec = ParseServerValue(r.id, value);
      if (!spec.ok()) {
        status = spec.status();
        break;
      }
      auto it = std::lower_bound(c.servers.begin(), c.servers.end(), r.id,
                                 [](const ServerSpec& s, int64_t sid) { return s.sid < sid; });
      if (it != c.servers.end() && it->sid == r.id) {
        *it = *std::move(spec);
      } else {
        c.servers.insert(it, *std::move(spec));
      }
      break;
    }
    case KeyKind::kGroup: {
      absl::StatusOr<std::vector<int64_t>> members = ParseGroupMembers(value);
      if (!members.ok()) {
        status = members.status();
        break;
      }
      c.groups[r.id] = *std::move(members);
      break;
    }
    case KeyKind::kWeight: {
      absl::StatusOr<int64_t> weight = ParseInteger(value, 0, kInt64Max);
      if (!weight.ok()) {
        status = weight.status();
        break;
      }
      c.weights[r.id] = *weight;
      break;
    }
    case KeyKind::kRecorded:
      if (r.warn_unknown_property) {
        warning = "not a ZooKeeper 3.8 server property; recorded, no effect";
      }
      break;
  }
  if (!status.ok()) return ErrorAt(origin, key, status.message());
  c.properties[r.canonical] = Property{std::string(value), origin};
  if (!warning.empty()) AddWarning(c, Cat(origin, ": ", key, ": ", warning));
  return absl::OkStatus();
}

absl::StatusOr<Config> ParseStatic(std::string_view text, std::string_view source_name) {
  ENSEMBLE_ASSIGN_OR_RETURN(std::vector<PropertyLine> lines, ReadProperties(text, source_name));
  Config c;
  c.source_name = std::string(source_name);
  for (const PropertyLine& line : lines) {
    const std::string origin = Cat(source_name, ":", line.line);
    absl::StatusOr<ResolvedKey> r = ResolveKey(line.key);
    if (!r.ok()) return ErrorAt(origin, line.key, r.status().message());
    ENSEMBLE_RETURN_IF_ERROR(ApplySetting(c, line.key, *r, line.value, origin, false));
  }
  // QuorumPeerConfig: "parameter: server.1 must be in a separate dynamic config file".
  if (!c.dynamic_config_file.empty()) {
    for (const auto& [key, property] : c.properties) {
      if (IsNumberedKey(key)) {
        return ErrorAt(property.origin, key,
                       "must be in the dynamic config file when dynamicConfigFile is set");
      }
    }
  }
  return c;
}

absl::Status ApplyOverrideUnchecked(Config& c, std::string_view key_eq_value,
                                    std::string_view flag_name) {
  const size_t eq = key_eq_value.find('=');
  if (eq == std::string_view::npos) {
    return absl::InvalidArgumentError(
        Cat(flag_name, ": expected key=value, got '", key_eq_value, "'"));
  }
  const std::string_view key = Trim(key_eq_value.substr(0, eq));
  const std::string_view value = Trim(key_eq_value.substr(eq + 1));
  if (key.empty()) {
    return absl::InvalidArgumentError(
        Cat(flag_name, ": expected key=value, got '", key_eq_value, "'"));
  }
  absl::StatusOr<ResolvedKey> r = ResolveKey(key);
  if (!r.ok()) return ErrorAt(flag_name, key, r.status().message());
  if (IsNumberedKey(r->canonical) && !c.dynamic_config_file.empty()) {
    return ErrorAt(flag_name, key,
                   "cannot be overridden when dynamicConfigFile is set; edit the dynamic file");
  }
  if (r->canonical == "dynamicConfigFile" && !c.servers.empty()) {
    return ErrorAt(flag_name, key,
                   "cannot be set once server lines are loaded (they would have to move to "
                   "the dynamic file)");
  }
  return ApplySetting(c, key, *r, value, std::string(flag_name), /*replace=*/true);
}

absl::Status MergeDynamicUnchecked(Config& c, std::string_view text, std::string_view source_name) {
  if (!c.servers.empty() || !c.groups.empty() || !c.weights.empty()) {
    return absl::InvalidArgumentError(
        Cat(source_name,
            ": the static configuration already has server, group or weight lines; a dynamic "
            "config file replaces them"));
  }
  ENSEMBLE_ASSIGN_OR_RETURN(std::vector<PropertyLine> lines, ReadProperties(text, source_name));
  for (const PropertyLine& line : lines) {
    const std::string origin = Cat(source_name, ":", line.line);
    if (line.key == "version") {
      // QuorumPeerConfig: "dynamic file shouldn't have version inside".
      return ErrorAt(origin, line.key,
                     "not allowed in a dynamic config file (the version comes from the file "
                     "name)");
    }
    absl::StatusOr<ResolvedKey> r = ResolveKey(line.key);
    if (!r.ok()) return ErrorAt(origin, line.key, r.status().message());
    if (!IsNumberedKey(r->canonical)) {
      return ErrorAt(origin, line.key,
                     "not allowed in a dynamic config file (only server.N, group.N and "
                     "weight.N)");
    }
    ENSEMBLE_RETURN_IF_ERROR(ApplySetting(c, line.key, *r, line.value, origin, false));
  }
  // QuorumPeerConfig.getVersionFromFilename: the hex suffix after the last '.'.
  const size_t dot = source_name.rfind('.');
  if (dot != std::string_view::npos) {
    uint64_t version = 0;
    const std::string_view suffix = source_name.substr(dot + 1);
    if (!suffix.empty() && suffix.size() <= 16 && absl::SimpleHexAtoi(ToAbsl(suffix), &version) &&
        std::all_of(suffix.begin(), suffix.end(),
                    [](char ch) { return absl::ascii_isxdigit(ch); })) {
      c.dynamic_config_version = static_cast<int64_t>(version);
    }
  }
  return absl::OkStatus();
}

// Cross-field checks (QuorumPeerConfig.parseProperties' tail, parseDynamicConfig,
// setupPeerType), run after every change. May adjust peer_type and add warnings.
absl::Status Validate(Config& c) {
  if (c.data_dir.empty()) {
    return ErrorAt(c.source_name, "dataDir", "is not set (required, as in ZooKeeper)");
  }
  if (!c.client_port_address.empty() && c.client_port == 0) {
    return ErrorAtKey(c, "clientPortAddress", "is set but clientPort is 0");
  }
  if (!c.secure_client_port_address.empty() && c.secure_client_port == 0) {
    return ErrorAtKey(c, "secureClientPortAddress", "is set but secureClientPort is not");
  }
  if (c.MinSessionTimeoutMs() > c.MaxSessionTimeoutMs()) {
    const std::string message =
        Cat("minSessionTimeout (", c.MinSessionTimeoutMs(),
            " ms) must not be larger than maxSessionTimeout (", c.MaxSessionTimeoutMs(), " ms)");
    if (c.min_session_timeout_ms) return ErrorAtKey(c, "minSessionTimeout", message);
    if (c.max_session_timeout_ms) return ErrorAtKey(c, "maxSessionTimeout", message);
    return ErrorAtKey(c, "tickTime", message);
  }
  if (c.fle_min_notification_interval_ms > c.fle_max_notification_interval_ms) {
    return ErrorAtKey(c, "fastleader.minNotificationInterval",
                      Cat("must not be larger than fastleader.maxNotificationInterval (",
                          c.fle_max_notification_interval_ms, ")"));
  }

  // Server addresses must not collide.
  std::map<std::pair<std::string, int32_t>, int64_t> used;
  for (const ServerSpec& s : c.servers) {
    for (int32_t port : {s.quorum_port, s.election_port}) {
      auto [it, inserted] = used.emplace(std::make_pair(Lower(s.host), port), s.sid);
      if (!inserted && it->second != s.sid) {
        return ErrorAtKey(
            c, Cat("server.", s.sid),
            Cat("address ", FormatHost(s.host), ":", port, " is also used by server.", it->second));
      }
    }
  }

  // Hierarchical quorums (QuorumHierarchical.parse).
  std::map<int64_t, int64_t> group_of;
  for (const auto& [gid, members] : c.groups) {
    const std::string key = Cat("group.", gid);
    for (int64_t sid : members) {
      const ServerSpec* s = c.FindServer(sid);
      if (s == nullptr) {
        return ErrorAtKey(c, key, Cat("server ", sid, " has no server.", sid, " line"));
      }
      if (s->role == PeerRole::kObserver) {
        return ErrorAtKey(
            c, key, Cat("server ", sid, " is an observer; only participants can be in a group"));
      }
      auto [it, inserted] = group_of.emplace(sid, gid);
      if (!inserted) {
        return ErrorAtKey(c, key, Cat("server ", sid, " is also in group.", it->second));
      }
    }
  }
  for (const auto& [sid, weight] : c.weights) {
    const std::string key = Cat("weight.", sid);
    if (c.groups.empty()) {
      return ErrorAtKey(c, key, "weights need group.N lines (hierarchical quorums)");
    }
    if (c.FindServer(sid) == nullptr) {
      return ErrorAtKey(c, key, Cat("server ", sid, " has no server.", sid, " line"));
    }
  }
  int voters = 0;
  int observers = 0;
  const ServerSpec* first_observer = nullptr;
  for (const ServerSpec& s : c.servers) {
    if (s.role == PeerRole::kObserver) {
      ++observers;
      if (first_observer == nullptr) first_observer = &s;
      continue;
    }
    ++voters;
    if (!c.groups.empty() && !group_of.contains(s.sid)) {
      return ErrorAtKey(c, Cat("server.", s.sid),
                        "participant is in no group (with group.N lines, every participant "
                        "must be in one)");
    }
  }

  // QuorumPeerConfig.parseDynamicConfig. Membership named by a dynamic file that is
  // not merged yet (ParseZooCfg, or LoadZooCfg before the merge) is checked later.
  const bool membership_pending =
      !c.dynamic_config_file.empty() && c.servers.empty() && c.groups.empty() && c.weights.empty();
  if (membership_pending) {
    // Nothing to check yet.
  } else if (voters == 0) {
    if (!c.standalone_enabled) {
      return ErrorAtKey(c, "standaloneEnabled",
                        "is false, so at least one participant server line is needed");
    }
    if (observers > 0) {
      return ErrorAtKey(c, Cat("server.", first_observer->sid), "observers without participants");
    }
  } else if (voters == 1 && c.standalone_enabled) {
    if (observers > 0) {
      return ErrorAtKey(c, Cat("server.", first_observer->sid),
                        "observers need at least two participants when standaloneEnabled is "
                        "true");
    }
  } else if (voters <= 2) {
    AddWarning(c, Cat(c.source_name, ": ", voters, voters == 1 ? " participant" : " participants",
                      ": no server failure will be tolerated; you need at least 3 servers"));
  } else if (voters % 2 == 0) {
    AddWarning(
        c, Cat(c.source_name, ": ", voters, " participants: consider an odd number of servers"));
  }

  // This peer's own line (QuorumPeer: "My id N not in the peer list"; setupPeerType).
  if (c.my_id != kNoServerId && !c.servers.empty()) {
    const ServerSpec* self = c.FindServer(c.my_id);
    if (self == nullptr) {
      if (c.properties.contains("ensemble.myid")) {
        return ErrorAtKey(c, "ensemble.myid",
                          Cat("server id ", c.my_id, " has no server.", c.my_id, " line"));
      }
      return ErrorAt(Cat(c.my_id_file, ":1"), "myid",
                     Cat("server id ", c.my_id, " has no server.", c.my_id, " line"));
    }
    if (self->role != c.peer_type) {
      if (c.properties.contains("peerType")) {
        AddWarning(c, Cat(OriginOf(c, "peerType"), ": peerType: is ", PeerRoleName(c.peer_type),
                          " but server.", c.my_id, " says ", PeerRoleName(self->role), "; using ",
                          PeerRoleName(self->role)));
      }
      c.peer_type = self->role;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::ErrnoToStatus(errno, Cat(path, ": cannot open"));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return absl::ErrnoToStatus(errno, Cat(path, ": cannot read"));
  return buffer.str();
}

// QuorumPeerConfig.setupMyId: the first line of dataDir/myid, if that file exists.
absl::Status ReadMyId(Config& c) {
  std::string path = c.data_dir;
  if (!path.ends_with('/')) path += "/";
  path += "myid";
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return absl::OkStatus();
  ENSEMBLE_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  std::string_view first_line = text;
  first_line = first_line.substr(0, first_line.find_first_of("\r\n"));
  absl::StatusOr<int64_t> id = ParseServerId(Trim(first_line));
  if (!id.ok()) return ErrorAt(Cat(path, ":1"), "myid", id.status().message());
  c.my_id = *id;
  c.my_id_file = path;
  return absl::OkStatus();
}

}  // namespace

std::string_view PeerRoleName(PeerRole role) {
  return role == PeerRole::kObserver ? "observer" : "participant";
}

// --- Config ------------------------------------------------------------------------

int32_t Config::MinSessionTimeoutMs() const {
  if (min_session_timeout_ms) return *min_session_timeout_ms;
  return static_cast<int32_t>(std::min<int64_t>(2 * int64_t{tick_time_ms}, kInt32Max));
}

int32_t Config::MaxSessionTimeoutMs() const {
  if (max_session_timeout_ms) return *max_session_timeout_ms;
  return static_cast<int32_t>(std::min<int64_t>(20 * int64_t{tick_time_ms}, kInt32Max));
}

int32_t Config::ConnectToLearnerMasterLimit() const {
  return connect_to_learner_master_limit.value_or(init_limit);
}

int32_t Config::JuteMaxBufferExtraSize() const {
  return std::max(jute_max_buffer_extra_size.value_or(jute_max_buffer), kMinJuteExtraSize);
}

std::vector<ServerSpec> Config::QuorumServers() const {
  std::vector<ServerSpec> out;
  for (const ServerSpec& s : servers) {
    if (s.role == PeerRole::kParticipant) out.push_back(s);
  }
  return out;
}

std::vector<ServerSpec> Config::Observers() const {
  std::vector<ServerSpec> out;
  for (const ServerSpec& s : servers) {
    if (s.role == PeerRole::kObserver) out.push_back(s);
  }
  return out;
}

const ServerSpec* Config::FindServer(int64_t sid) const {
  auto it = std::lower_bound(servers.begin(), servers.end(), sid,
                             [](const ServerSpec& s, int64_t id) { return s.sid < id; });
  if (it == servers.end() || it->sid != sid) return nullptr;
  return &*it;
}

bool Config::IsObserver(int64_t sid) const {
  const ServerSpec* s = FindServer(sid);
  return s != nullptr && s->role == PeerRole::kObserver;
}

int Config::QuorumSize() const {
  int voters = 0;
  for (const ServerSpec& s : servers) {
    if (s.role == PeerRole::kParticipant) ++voters;
  }
  return voters / 2 + 1;
}

int64_t Config::Weight(int64_t sid) const {
  const ServerSpec* s = FindServer(sid);
  if (s == nullptr || s->role != PeerRole::kParticipant) return 0;
  auto it = weights.find(sid);
  return it == weights.end() ? 1 : it->second;
}

bool Config::ContainsQuorum(const std::set<int64_t>& sids) const {
  if (sids.empty()) return false;
  if (!IsHierarchical()) {
    int voters = 0;
    int present = 0;
    for (const ServerSpec& s : servers) {
      if (s.role != PeerRole::kParticipant) continue;
      ++voters;
      if (sids.contains(s.sid)) ++present;
    }
    if (voters == 0) return true;  // standalone: the lone peer decides alone
    return present > voters / 2;
  }
  // QuorumHierarchical.containsQuorum: a majority (by weight) in a majority of the
  // groups that have a non-zero weight.
  int groups_with_weight = 0;
  int groups_with_majority = 0;
  for (const auto& [gid, members] : groups) {
    int64_t total = 0;
    int64_t present = 0;
    for (int64_t sid : members) {
      total += Weight(sid);
      if (sids.contains(sid)) present += Weight(sid);
    }
    if (total == 0) continue;
    ++groups_with_weight;
    if (present > total / 2) ++groups_with_majority;
  }
  return groups_with_majority > groups_with_weight / 2;
}

bool Config::IsDistributed() const {
  int voters = 0;
  for (const ServerSpec& s : servers) {
    if (s.role == PeerRole::kParticipant) ++voters;
  }
  return !standalone_enabled || voters > 1;
}

bool Config::FourLetterWordEnabled(std::string_view cmd) const {
  if (cmd == "srvr") return true;  // FourLetterCommands always adds srvr
  for (const std::string& w : four_letter_words) {
    if (w == cmd) return true;
    if (w == "*") {
      return std::find(std::begin(kFourLetterWords), std::end(kFourLetterWords), cmd) !=
             std::end(kFourLetterWords);
    }
  }
  return false;
}

// --- Entry points ------------------------------------------------------------------

absl::StatusOr<Config> ParseZooCfg(std::string_view text, std::string_view source_name) {
  ENSEMBLE_ASSIGN_OR_RETURN(Config c, ParseStatic(text, source_name));
  ENSEMBLE_RETURN_IF_ERROR(Validate(c));
  return c;
}

absl::StatusOr<Config> LoadZooCfg(std::string_view path, absl::Span<const std::string> overrides,
                                  std::string_view flag_name) {
  ENSEMBLE_ASSIGN_OR_RETURN(std::string text, ReadFile(std::string(path)));
  ENSEMBLE_ASSIGN_OR_RETURN(Config c, ParseStatic(text, path));
  // All overrides first, then one validation: two overrides may only make sense
  // together (minSessionTimeout and maxSessionTimeout).
  for (const std::string& o : overrides) {
    ENSEMBLE_RETURN_IF_ERROR(ApplyOverrideUnchecked(c, o, flag_name));
  }
  if (!c.dynamic_config_file.empty()) {
    ENSEMBLE_ASSIGN_OR_RETURN(std::string dynamic_text, ReadFile(c.dynamic_config_file));
    ENSEMBLE_RETURN_IF_ERROR(MergeDynamicUnchecked(c, dynamic_text, c.dynamic_config_file));
  }
  if (c.my_id == kNoServerId && !c.data_dir.empty()) {
    ENSEMBLE_RETURN_IF_ERROR(ReadMyId(c));
  }
  ENSEMBLE_RETURN_IF_ERROR(Validate(c));
  return c;
}

absl::Status MergeDynamicConfig(Config& config, std::string_view text,
                                std::string_view source_name) {
  Config next = config;
  ENSEMBLE_RETURN_IF_ERROR(MergeDynamicUnchecked(next, text, source_name));
  ENSEMBLE_RETURN_IF_ERROR(Validate(next));
  config = std::move(next);
  return absl::OkStatus();
}

absl::Status ApplyOverride(Config& config, std::string_view key_eq_value,
                           std::string_view flag_name) {
  Config next = config;
  ENSEMBLE_RETURN_IF_ERROR(ApplyOverrideUnchecked(next, key_eq_value, flag_name));
  if (absl::Status s = Validate(next); !s.ok()) {
    // The override may have broken a setting from the file: name the flag too.
    if (absl::StartsWith(s.message(), ToAbsl(flag_name))) return s;
    return absl::InvalidArgumentError(Cat(flag_name, " ", key_eq_value, ": ", s.message()));
  }
  config = std::move(next);
  return absl::OkStatus();
}

std::string ToZooCfg(const Config& config) {
  std::string out = "# zoo.cfg written by Ensemble (common/config ToZooCfg)\n";
  auto emit = [&out](std::string_view key, std::string_view value) {
    out += Cat(EscapePropertyKey(key), "=", EscapePropertyValue(value), "\n");
  };
  auto emit_typed = [&](bool ensemble_keys) {
    for (const TypedKey& k : TypedKeys()) {
      if (k.name.starts_with("ensemble.") != ensemble_keys) continue;
      if (std::optional<std::string> v = k.render(config)) emit(k.name, *v);
    }
  };
  emit_typed(/*ensemble_keys=*/false);
  for (const ServerSpec& s : config.servers) {
    emit(Cat("server.", s.sid), FormatServerValue(s));
  }
  for (const auto& [gid, members] : config.groups) {
    emit(Cat("group.", gid), Join(members, ":"));
  }
  for (const auto& [sid, weight] : config.weights) {
    emit(Cat("weight.", sid), Cat(weight));
  }
  emit_typed(/*ensemble_keys=*/true);
  for (const auto& [key, property] : config.properties) {
    if (IsNumberedKey(key) || FindTypedKey(key) != nullptr) continue;
    emit(key, property.value);
  }
  return out;
}

std::vector<std::string_view> TypedKeyNames() {
  std::vector<std::string_view> names;
  for (const TypedKey& k : TypedKeys()) names.push_back(k.name);
  return names;
}

bool IsSecretKey(std::string_view key) {
  const std::string lower = Lower(key);
  return Contains(lower, "password") || Contains(lower, "secret") || Contains(lower, "superdigest");
}

}  // namespace ensemble::config

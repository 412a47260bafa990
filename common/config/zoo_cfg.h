#pragma once

// The configuration every Ensemble process reads: Apache ZooKeeper's zoo.cfg
// (java.util.Properties syntax, QuorumPeerConfig's keys and defaults) plus Ensemble's
// own `ensemble.*` keys, plus command-line overrides (`--set key=value`).
// docs/configuration.md lists every key, its default and its meaning.
//
// Errors are absl::InvalidArgumentError naming the place, the key and the problem:
//   zoo.cfg:12: server.3: expected host:quorumPort:electionPort[:participant|:observer]...
//   --set: tickTime: expected an integer, got 'fast'
// Unlike ZooKeeper (which turns any unknown key into a `zookeeper.` system property),
// an unknown key is an error, unless it is one of ZooKeeper's own settings
// (known_keys.h) or starts with `zookeeper.`, `ssl.`, `authProvider.` or
// `metricsProvider.`: those are accepted and recorded in Config::properties.
//
// Thread-safety: everything here is a plain value or a pure function, except
// LoadZooCfg, which reads files.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace ensemble::config {

// "No server id": a gateway, or a peer whose id is not known yet.
inline constexpr int64_t kNoServerId = -1;

// ZooKeeper's LearnerType.
enum class PeerRole : uint8_t {
  kParticipant = 0,  // votes in elections and on proposals; can lead
  kObserver = 1,     // learns committed transactions from the leader; never votes
};

// "participant" or "observer", as written in server lines.
std::string_view PeerRoleName(PeerRole role);

// One `server.N=host:quorumPort:electionPort[:participant|:observer][;[clientAddr:]clientPort]`.
struct ServerSpec {
  int64_t sid = kNoServerId;
  std::string host;           // hostname or IP literal (IPv6 without brackets)
  int32_t quorum_port = 0;    // learners connect to the leader here (ZooKeeper's 2888)
  int32_t election_port = 0;  // fast leader election (ZooKeeper's 3888)
  PeerRole role = PeerRole::kParticipant;
  // The optional client part after ';'. A bare port gets ZooKeeper's address
  // "0.0.0.0". Without a client part: empty and 0. Recorded (reported by `conf`);
  // Ensemble's gateways listen on clientPort/clientPortAddress.
  std::string client_address;
  int32_t client_port = 0;

  friend bool operator==(const ServerSpec&, const ServerSpec&) = default;
};

// One setting as given: its value (trimmed) and where it came from, "zoo.cfg:12"
// (source name and line) or the override flag's name ("--set").
struct Property {
  std::string value;
  std::string origin;

  friend bool operator==(const Property&, const Property&) = default;
};

// The parsed configuration. Fields hold ZooKeeper's defaults until a key sets them.
// Settings whose default derives from another (dataLogDir from dataDir, the session
// timeouts from tickTime, ...) are optional here and read through the accessors
// below, so an override of tickTime moves the derived defaults with it.
struct Config {
  // --- Where the configuration came from ---
  std::string source_name;  // the file path or the name given to ParseZooCfg
  // Every key=value read from the file, the dynamic file and the overrides, by
  // canonical key (see docs/configuration.md: `zookeeper.` aliases of typed keys are
  // folded, server/group/weight ids normalized). For the admin `conf` output; hide
  // values for which IsSecretKey() is true.
  std::map<std::string, Property> properties;
  // Non-fatal findings (clamped values, inconsistent peerType, even number of voters),
  // each "origin: key: message". The process logs them at start.
  std::vector<std::string> warnings;

  // --- Time (ZooKeeper basics) ---
  int32_t tick_time_ms = 2000;                             // tickTime
  int32_t init_limit = 10;                                 // initLimit, in ticks
  int32_t sync_limit = 5;                                  // syncLimit, in ticks
  std::optional<int32_t> connect_to_learner_master_limit;  // ticks; default initLimit
  std::optional<int32_t> min_session_timeout_ms;           // default 2 * tickTime
  std::optional<int32_t> max_session_timeout_ms;           // default 20 * tickTime

  // --- Storage ---
  std::string data_dir;                       // dataDir (required)
  std::string data_log_dir;                   // dataLogDir; empty: dataDir
  int32_t snap_retain_count = 3;              // autopurge.snapRetainCount, at least 3
  int32_t purge_interval_hours = 0;           // autopurge.purgeInterval; 0 disables autopurge
  int64_t snap_count = 100000;                // snapCount: transactions between snapshots
  int64_t pre_alloc_size_kb = 65536;          // preAllocSize: log preallocation block (64 MiB)
  int64_t fsync_warning_threshold_ms = 1000;  // fsync.warningthresholdms
  bool force_sync = true;                     // forceSync (yes/no): fsync the log
  bool sync_enabled = true;                   // syncEnabled: observers persist transactions too

  // --- Clients (gateway) ---
  int32_t client_port = 2181;               // clientPort; 0: no plaintext port
  std::string client_port_address;          // clientPortAddress; empty: all interfaces
  int32_t secure_client_port = 0;           // secureClientPort; 0: no TLS port
  std::string secure_client_port_address;   // secureClientPortAddress
  int32_t max_client_cnxns = 60;            // maxClientCnxns per client IP; 0: no limit
  int32_t max_cnxns = 0;                    // maxCnxns in total; 0: no limit
  int32_t global_outstanding_limit = 1000;  // globalOutstandingLimit
  // jute.maxbuffer: the largest packet a gateway accepts from a client, and the
  // largest znode data; ZooKeeper's 0xfffff. The server's deserializer allows each
  // string/buffer field up to jute.maxbuffer + jute.maxbuffer.extrasize.
  int32_t jute_max_buffer = 0xfffff;
  std::optional<int32_t> jute_max_buffer_extra_size;  // default jute.maxbuffer, min 1024
  // 4lw.commands.whitelist, as listed ("*" = all). "srvr" is always enabled, like
  // ZooKeeper; use FourLetterWordEnabled().
  std::vector<std::string> four_letter_words = {"srvr"};
  bool skip_acl = false;                // skipACL (yes/no)
  bool extended_types_enabled = false;  // extendedTypesEnabled: TTL nodes
  std::string super_digest;  // DigestAuthenticationProvider.superDigest ("super:<digest>")

  // --- Quorum ---
  std::vector<ServerSpec> servers;  // sorted by sid; empty: standalone
  // group.N=a:b:c (hierarchical quorums): group id -> sorted member sids.
  std::map<int64_t, std::vector<int64_t>> groups;
  std::map<int64_t, int64_t> weights;           // weight.N=w; a grouped participant defaults to 1
  int32_t observer_master_port = 0;             // observerMasterPort; 0: unset
  int32_t election_alg = 3;                     // electionAlg; only 3 (fast leader election)
  bool leader_serves = true;                    // leaderServes (yes/no)
  bool standalone_enabled = true;               // standaloneEnabled
  bool reconfig_enabled = false;                // reconfigEnabled
  bool quorum_listen_on_all_ips = false;        // quorumListenOnAllIPs
  PeerRole peer_type = PeerRole::kParticipant;  // peerType; the server line wins
  std::string dynamic_config_file;              // dynamicConfigFile (LoadZooCfg merges it)
  int64_t dynamic_config_version = 0;           // hex suffix of the dynamic file's name, or 0
  int32_t fle_min_notification_interval_ms = 200;    // fastleader.minNotificationInterval
  int32_t fle_max_notification_interval_ms = 60000;  // fastleader.maxNotificationInterval

  // --- ZooKeeper's AdminServer (recorded; Ensemble's admin service is gRPC) ---
  bool admin_enable_server = true;               // admin.enableServer
  std::string admin_server_address = "0.0.0.0";  // admin.serverAddress
  int32_t admin_server_port = 8080;              // admin.serverPort

  // --- Ensemble's own keys ---
  int64_t my_id = kNoServerId;  // ensemble.myid, else the first line of dataDir/myid
  std::string my_id_file;       // the myid file my_id came from; empty otherwise
  // gRPC listen addresses, "host:port" or "unix:path"; empty: the service's default.
  std::string storage_grpc_address;      // ensemble.storage.grpc
  std::string replication_grpc_address;  // ensemble.replication.grpc
  std::string election_grpc_address;     // ensemble.election.grpc
  std::string gateway_grpc_address;      // ensemble.gateway.grpc
  // Prometheus /metrics listen addresses, "host:port"; empty: the service's default.
  std::string storage_metrics_address;      // ensemble.metrics.storage
  std::string replication_metrics_address;  // ensemble.metrics.replication
  std::string election_metrics_address;     // ensemble.metrics.election
  std::string gateway_metrics_address;      // ensemble.metrics.gateway
  std::string log_level = "info";  // ensemble.logLevel: trace|debug|info|warn|error|critical|off
  std::string session_secret;      // ensemble.sessionSecret
  // ensemble.testing.initialZxidCounter (ZooKeeper's
  // zookeeper.testingonly.initialZxid): a new leader starts its epoch's 32-bit
  // counter here, so tests reach the counter roll-over quickly. 0: off.
  int64_t testing_initial_zxid_counter = 0;
  // Limits that protect the gateway (docs/reliability.md).
  // ensemble.maxOutstandingPerConnection: a connection with this many requests
  // unanswered is not read from until some are answered.
  int32_t max_outstanding_per_connection = 1000;
  // ensemble.maxWatchesPerSession: watches one session may hold on its gateway;
  // further registrations are refused (ZOPERATIONTIMEOUT). 0: no limit.
  int32_t max_watches_per_session = 0;
  // ensemble.maxSendQueueBytes: replies waiting for a client that does not read
  // beyond this stop the gateway reading from it. 0: 4 x jute.maxbuffer.
  int64_t max_send_queue_bytes = 0;

  // --- Derived values ---
  int32_t TickMs() const { return tick_time_ms; }
  const std::string& DataLogDir() const { return data_log_dir.empty() ? data_dir : data_log_dir; }
  int32_t MinSessionTimeoutMs() const;
  int32_t MaxSessionTimeoutMs() const;
  int32_t ConnectToLearnerMasterLimit() const;
  int32_t JuteMaxBufferExtraSize() const;

  // --- Quorum helpers ---
  // The voting members (participants), sorted by sid.
  std::vector<ServerSpec> QuorumServers() const;
  // The observers, sorted by sid.
  std::vector<ServerSpec> Observers() const;
  // The server line for `sid`, or nullptr.
  const ServerSpec* FindServer(int64_t sid) const;
  // The server line for my_id, or nullptr (a gateway, or standalone).
  const ServerSpec* Self() const { return FindServer(my_id); }
  // False for unknown ids.
  bool IsObserver(int64_t sid) const;
  // The number of voters that make a majority: QuorumServers().size() / 2 + 1 (1 when
  // standalone). With groups (hierarchical quorums) a majority of voters is neither
  // necessary nor sufficient: use ContainsQuorum.
  int QuorumSize() const;
  // ZooKeeper's QuorumMaj / QuorumHierarchical containsQuorum: does `sids` (acks or
  // votes) form a quorum? Ids that are not voters are ignored. Standalone (no server
  // lines): any non-empty set.
  bool ContainsQuorum(const std::set<int64_t>& sids) const;
  // The weight of a voter in hierarchical quorums (weight.N, default 1); 0 for ids
  // that are not voters.
  int64_t Weight(int64_t sid) const;
  bool IsHierarchical() const { return !groups.empty(); }
  // ZooKeeper's isDistributed(): more than one voter, or standaloneEnabled=false.
  bool IsDistributed() const;

  // Is the four-letter word `cmd` allowed by 4lw.commands.whitelist?
  bool FourLetterWordEnabled(std::string_view cmd) const;
};

// Parses zoo.cfg text. `source_name` prefixes error messages and origins ("zoo.cfg").
// Pure: it reads neither dynamicConfigFile nor dataDir/myid (LoadZooCfg does).
// Errors: InvalidArgument for a malformed line, an unknown key, a malformed value, a
// key given twice, a cross-field conflict (minSessionTimeout > maxSessionTimeout, an
// observer without voters, ...); the message names the source, line and key.
absl::StatusOr<Config> ParseZooCfg(std::string_view text, std::string_view source_name);

// Reads the file at `path` like QuorumPeerConfig.parse: parses it, applies
// `overrides` (each "key=value", errors naming `flag_name`), merges the file named by
// dynamicConfigFile (if any; relative paths are relative to the working directory,
// like ZooKeeper), and, when ensemble.myid is not set, reads the server id from the
// first line of dataDir/myid if that file exists.
// Errors: NotFound / PermissionDenied / ... when a file cannot be read, otherwise as
// ParseZooCfg.
absl::StatusOr<Config> LoadZooCfg(std::string_view path,
                                  absl::Span<const std::string> overrides = {},
                                  std::string_view flag_name = "--set");

// Merges a dynamic configuration file's text (only server.N, group.N and weight.N
// lines, as ZooKeeper requires) into `config`, then re-validates it. Pure.
absl::Status MergeDynamicConfig(Config& config, std::string_view text,
                                std::string_view source_name);

// Applies one override "key=value" with the same keys and checks as the file; a key
// already set is replaced. `flag_name` names the origin in errors ("--set: tickTime:
// expected an integer, got 'x'"). On error `config` is unchanged.
// dynamicConfigFile cannot be overridden once server lines are loaded (pass it in
// LoadZooCfg's overrides instead), and server/group/weight lines cannot be overridden
// when dynamicConfigFile is set.
absl::Status ApplyOverride(Config& config, std::string_view key_eq_value,
                           std::string_view flag_name = "--set");

// Renders `config` as a self-contained zoo.cfg that ParseZooCfg reads back into the
// same settings: the basics (tickTime, initLimit, syncLimit, dataDir, clientPort)
// always, other typed keys when they differ from their defaults, the server, group and
// weight lines inline (dynamicConfigFile is not written), ensemble.myid when my_id is
// set (so the file then belongs to that one peer), then the recorded keys from
// `properties` that no typed field holds. Secrets are written as they are.
std::string ToZooCfg(const Config& config);

// The keys Ensemble parses into Config fields, by canonical name, in ToZooCfg's order
// (server.N, group.N and weight.N aside). For docs checks and admin listings.
std::vector<std::string_view> TypedKeyNames();

// True for keys whose values are secrets (superDigest, sessionSecret, passwords), so
// admin and `conf` output can hide them.
bool IsSecretKey(std::string_view key);

}  // namespace ensemble::config

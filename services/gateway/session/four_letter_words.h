#pragma once

// ZooKeeper's four-letter-word commands on the client port ("ruok", "stat", ...):
// recognising them in the first four bytes of a connection, and formatting their
// output exactly as ZooKeeper 3.8's *Command classes do. Pure: the caller gathers
// the figures (ServerInfo) and writes the text.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ensemble::gateway {

// The commands ZooKeeper 3.8 knows (FourLetterCommands.cmd2String).
enum class FourLetterWord : uint8_t {
  kConf,
  kCons,
  kCrst,
  kDirs,
  kDump,
  kEnvi,
  kGtmk,
  kRuok,
  kStmk,
  kSrst,
  kSrvr,
  kStat,
  kWchc,
  kWchp,
  kWchs,
  kMntr,
  kIsro,
  kHash,
  kTelnetClose,  // 0xfff4fffd, what telnet sends when it closes
};

// The command whose code is `first_four` (exactly 4 bytes), or nullopt: then the
// bytes are a frame length like any other.
std::optional<FourLetterWord> ParseFourLetterWord(std::string_view first_four);

// "conf", "cons", ..., "telnet close".
std::string_view FourLetterWordName(FourLetterWord word);

// ZooKeeper's answer to a known command that 4lw.commands.whitelist does not allow.
std::string NotInWhitelist(FourLetterWord word);

// One client connection as `cons`, `stat` and `dump` show it
// (ServerCnxn.dumpConnectionInfo).
struct ConnectionInfo {
  std::string remote;      // "/127.0.0.1:43440", as Java prints an InetSocketAddress
  int interest_ops = 1;    // 1 while reading, 0 for the connection running the command
  int64_t queued = 0;      // outstanding requests
  int64_t received = 0;    // packets
  int64_t sent = 0;        // packets
  int64_t session_id = 0;  // 0 before the handshake
  std::string last_op = "NA";
  int64_t established_ms = 0;  // wall clock
  int32_t timeout_ms = 0;
  int64_t last_cxid = -1;  // -1: none yet
  int64_t last_zxid = -1;
  int64_t last_response_ms = 0;
  int64_t last_latency_ms = 0;
  int64_t min_latency_ms = 0;
  int64_t avg_latency_ms = 0;
  int64_t max_latency_ms = 0;
  int64_t expires_at_ms = 0;  // wall clock: when the connection idles out (dump)
};

// The figures the commands print. Fields the gateway cannot know stay 0 (they
// live in storage or replication); see the gateway's README for which.
struct ServerInfo {
  bool serving = true;  // false: "This ZooKeeper instance is not currently serving requests"
  std::string version;  // "3.8.0-ensemble-0.1.0, built on ..."
  std::string mode;     // standalone, leader, follower, observer
  int64_t zxid = 0;     // last applied zxid of the home storage
  int64_t node_count = 0;
  int64_t tree_digest = 0;
  int64_t min_latency_ms = 0;
  double avg_latency_ms = 0;
  int64_t max_latency_ms = 0;
  int64_t packets_received = 0;
  int64_t packets_sent = 0;
  int64_t outstanding = 0;
  std::vector<ConnectionInfo> connections;  // every open connection, this one included
  int64_t global_sessions = 0;
  int64_t watch_count = 0;
  // wchs, wchc, wchp: the home storage's data-table watches (ZooKeeper's
  // DataTree dumps its dataWatches only), fetched when the command arrives.
  int64_t data_watch_count = 0;
  int64_t watched_paths = 0;
  int64_t watching_connections = 0;
  std::vector<std::pair<int64_t, std::vector<std::string>>> watches_by_session;
  std::vector<std::pair<std::string, std::vector<int64_t>>> watches_by_path;
  // dirs: ZooKeeper's datadir_size is its transaction log folder
  // (FileTxnSnapLog.getDataDir) and logdir_size its snapshot folder.
  int64_t log_dir_size = 0;
  int64_t snapshot_dir_size = 0;
  int64_t ephemerals_count = 0;
  int64_t approximate_data_size = 0;
  int64_t uptime_ms = 0;
  int64_t open_file_descriptors = 0;
  int64_t max_file_descriptors = 0;
  int64_t auth_failed = 0;
  int64_t trace_mask = 0;
  int32_t tick_ms = 2000;                                        // for dump's expiry sets
  std::vector<std::pair<std::string, std::string>> conf;         // `conf` lines, in order
  std::vector<std::pair<std::string, std::string>> environment;  // `envi` lines
};

// The text ZooKeeper writes for `word`. crst, srst and stmk only format here; the
// caller resets the statistics or sets the mask first (stmk prints the new mask,
// taken from info.trace_mask).
std::string FormatFourLetterWord(FourLetterWord word, const ServerInfo& info);

// One connection line: " /ip:port[1](queued=0,recved=1,sent=0[,sid=...])".
std::string FormatConnection(const ConnectionInfo& c, bool brief);

// A Java double as Double.toString prints it ("0.0", "2.5", "0.3333").
std::string JavaDouble(double value);

// A wall-clock time as java.util.Date.toString in UTC: "Mon Nov 23 13:42:24 UTC 2026".
std::string JavaDate(int64_t wall_ms);

}  // namespace ensemble::gateway

#include "services/gateway/session/four_letter_words.h"

#include <charconv>
#include <cmath>
#include <ctime>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace ensemble::gateway {
namespace {

struct Known {
  std::string_view code;
  FourLetterWord word;
  std::string_view name;
};

constexpr Known kKnown[] = {
    {"conf", FourLetterWord::kConf, "conf"},
    {"cons", FourLetterWord::kCons, "cons"},
    {"crst", FourLetterWord::kCrst, "crst"},
    {"dirs", FourLetterWord::kDirs, "dirs"},
    {"dump", FourLetterWord::kDump, "dump"},
    {"envi", FourLetterWord::kEnvi, "envi"},
    {"gtmk", FourLetterWord::kGtmk, "gtmk"},
    {"ruok", FourLetterWord::kRuok, "ruok"},
    {"stmk", FourLetterWord::kStmk, "stmk"},
    {"srst", FourLetterWord::kSrst, "srst"},
    {"srvr", FourLetterWord::kSrvr, "srvr"},
    {"stat", FourLetterWord::kStat, "stat"},
    {"wchc", FourLetterWord::kWchc, "wchc"},
    {"wchp", FourLetterWord::kWchp, "wchp"},
    {"wchs", FourLetterWord::kWchs, "wchs"},
    {"mntr", FourLetterWord::kMntr, "mntr"},
    {"isro", FourLetterWord::kIsro, "isro"},
    {"hash", FourLetterWord::kHash, "hash"},
    {"\xff\xf4\xff\xfd", FourLetterWord::kTelnetClose, "telnet close"},
};

// AbstractFourLetterCommand.ZK_NOT_SERVING.
constexpr std::string_view kNotServing =
    "This ZooKeeper instance is not currently serving requests";

std::string Hex(int64_t v) { return absl::StrFormat("%x", static_cast<uint64_t>(v)); }

// ServerStats.toString, then "Node count".
void AppendServerStats(const ServerInfo& info, std::string* out) {
  absl::StrAppend(out, "Latency min/avg/max: ", info.min_latency_ms, "/",
                  JavaDouble(info.avg_latency_ms), "/", info.max_latency_ms, "\n");
  absl::StrAppend(out, "Received: ", info.packets_received, "\n");
  absl::StrAppend(out, "Sent: ", info.packets_sent, "\n");
  absl::StrAppend(out, "Connections: ", info.connections.size(), "\n");
  absl::StrAppend(out, "Outstanding: ", info.outstanding, "\n");
  absl::StrAppend(out, "Zxid: 0x", Hex(info.zxid), "\n");
  absl::StrAppend(out, "Mode: ", info.mode, "\n");
  absl::StrAppend(out, "Node count: ", info.node_count, "\n");
  if (info.mode == "leader") absl::StrAppend(out, "Proposal sizes last/min/max: -1/-1/-1\n");
}

std::string Stat(const ServerInfo& info, bool with_clients) {
  std::string out = absl::StrCat("Zookeeper version: ", info.version, "\n");
  if (with_clients) {
    out += "Clients:\n";
    for (const auto& c : info.connections) absl::StrAppend(&out, FormatConnection(c, true), "\n");
    out += "\n";
  }
  AppendServerStats(info, &out);
  return out;
}

std::string Monitor(const ServerInfo& info) {
  std::vector<std::pair<std::string, std::string>> kv = {
      {"zk_version", info.version},
      {"zk_server_state", info.mode},
      {"zk_ephemerals_count", absl::StrCat(info.ephemerals_count)},
      {"zk_num_alive_connections", absl::StrCat(info.connections.size())},
      {"zk_avg_latency", JavaDouble(info.avg_latency_ms)},
      {"zk_outstanding_requests", absl::StrCat(info.outstanding)},
      {"zk_znode_count", absl::StrCat(info.node_count)},
      {"zk_global_sessions", absl::StrCat(info.global_sessions)},
      {"zk_non_mtls_remote_conn_count", "0"},
      {"zk_last_client_response_size", "-1"},
      {"zk_packets_sent", absl::StrCat(info.packets_sent)},
      {"zk_packets_received", absl::StrCat(info.packets_received)},
      {"zk_max_client_response_size", "-1"},
      {"zk_connection_drop_probability", "0.0"},
      {"zk_watch_count", absl::StrCat(info.watch_count)},
      {"zk_auth_failed_count", absl::StrCat(info.auth_failed)},
      {"zk_min_latency", absl::StrCat(info.min_latency_ms)},
      {"zk_max_file_descriptor_count", absl::StrCat(info.max_file_descriptors)},
      {"zk_approximate_data_size", absl::StrCat(info.approximate_data_size)},
      {"zk_open_file_descriptor_count", absl::StrCat(info.open_file_descriptors)},
      {"zk_local_sessions", "0"},
      {"zk_uptime", absl::StrCat(info.uptime_ms)},
      {"zk_max_latency", absl::StrCat(info.max_latency_ms)},
      {"zk_outstanding_tls_handshake", "0"},
      {"zk_min_client_response_size", "-1"},
      {"zk_non_mtls_local_conn_count", "0"},
  };
  std::string out;
  for (const auto& [k, v] : kv) absl::StrAppend(&out, k, "\t", v, "\n");
  return out;
}

// ExpiryQueue.roundToNextInterval.
int64_t RoundToNextInterval(int64_t time, int64_t interval) {
  if (interval <= 0) return time;
  return (time / interval + 1) * interval;
}

std::string Dump(const ServerInfo& info) {
  // Sessions attached here, grouped by expiry like ZooKeeper's SessionTracker.
  std::map<int64_t, std::vector<int64_t>> sessions;
  std::map<int64_t, std::vector<const ConnectionInfo*>> connections;
  size_t session_count = 0;
  for (const auto& c : info.connections) {
    if (c.session_id != 0) {
      sessions[RoundToNextInterval(c.expires_at_ms, info.tick_ms)].push_back(c.session_id);
      ++session_count;
    }
    // NIOServerCnxnFactory's connection expiry queue ticks every 10 s by default.
    connections[RoundToNextInterval(c.expires_at_ms, 10000)].push_back(&c);
  }
  std::string out = "SessionTracker dump:\n";
  absl::StrAppend(&out, "Session Sets (", sessions.size(), ")/(", session_count, "):\n");
  for (const auto& [at, ids] : sessions) {
    absl::StrAppend(&out, ids.size(), " expire at ", JavaDate(at), ":\n");
    for (int64_t id : ids) absl::StrAppend(&out, "\t0x", Hex(id), "\n");
  }
  out += "ephemeral nodes dump:\n";
  out += "Sessions with Ephemerals (0):\n";
  out += "Connections dump:\n";
  absl::StrAppend(&out, "Connections Sets (", connections.size(), ")/(", info.connections.size(),
                  "):\n");
  for (const auto& [at, list] : connections) {
    absl::StrAppend(&out, list.size(), " expire at ", JavaDate(at), ":\n");
    for (const ConnectionInfo* c : list) {
      absl::StrAppend(&out, "\tip: ", c->remote, " sessionId: 0x", Hex(c->session_id), "\n");
    }
  }
  return out;
}

std::string Lines(const std::vector<std::pair<std::string, std::string>>& kv) {
  std::string out;
  for (const auto& [k, v] : kv) absl::StrAppend(&out, k, "=", v, "\n");
  return out;
}

}  // namespace

std::optional<FourLetterWord> ParseFourLetterWord(std::string_view first_four) {
  if (first_four.size() != 4) return std::nullopt;
  for (const Known& k : kKnown) {
    if (k.code == first_four) return k.word;
  }
  return std::nullopt;
}

std::string_view FourLetterWordName(FourLetterWord word) {
  for (const Known& k : kKnown) {
    if (k.word == word) return k.name;
  }
  return "unknown";
}

std::string NotInWhitelist(FourLetterWord word) {
  return absl::StrCat(std::string(FourLetterWordName(word)),
                      " is not executed because it is not in the whitelist.\n");
}

std::string FormatConnection(const ConnectionInfo& c, bool brief) {
  std::string out =
      absl::StrCat(" ", c.remote, "[", c.interest_ops == 0 ? "0" : Hex(c.interest_ops),
                   "](queued=", c.queued, ",recved=", c.received, ",sent=", c.sent);
  if (!brief && c.session_id != 0) {
    absl::StrAppend(&out, ",sid=0x", Hex(c.session_id), ",lop=", c.last_op,
                    ",est=", c.established_ms, ",to=", c.timeout_ms);
    if (c.last_cxid >= 0) absl::StrAppend(&out, ",lcxid=0x", Hex(c.last_cxid));
    absl::StrAppend(&out, ",lzxid=0x", Hex(c.last_zxid), ",lresp=", c.last_response_ms,
                    ",llat=", c.last_latency_ms, ",minlat=", c.min_latency_ms,
                    ",avglat=", c.avg_latency_ms, ",maxlat=", c.max_latency_ms);
  }
  out += ")";
  return out;
}

std::string JavaDouble(double value) {
  if (!std::isfinite(value)) return value != value ? "NaN" : (value > 0 ? "Infinity" : "-Infinity");
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  std::string s(buf, ec == std::errc() ? end : buf);
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

std::string JavaDate(int64_t wall_ms) {
  std::time_t seconds = static_cast<std::time_t>(wall_ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[64];
  std::strftime(buf, sizeof(buf), "%a %b %d %H:%M:%S UTC %Y", &tm);
  return buf;
}

std::string FormatFourLetterWord(FourLetterWord word, const ServerInfo& info) {
  const std::string not_serving = std::string(kNotServing) + "\n";
  switch (word) {
    case FourLetterWord::kRuok:
      return "imok";
    case FourLetterWord::kSrvr:
    case FourLetterWord::kStat:
      if (!info.serving) return not_serving;
      return Stat(info, word == FourLetterWord::kStat);
    case FourLetterWord::kMntr:
      if (!info.serving) return not_serving;
      return Monitor(info);
    case FourLetterWord::kConf:
      if (!info.serving) return not_serving;
      return Lines(info.conf);
    case FourLetterWord::kCons: {
      std::string out;
      for (const auto& c : info.connections)
        absl::StrAppend(&out, FormatConnection(c, false), "\n");
      return out + "\n";
    }
    case FourLetterWord::kCrst:
      return "Connection stats reset.\n";
    case FourLetterWord::kSrst:
      if (!info.serving) return not_serving;
      return "Server stats reset.\n";
    case FourLetterWord::kEnvi:
      return "Environment:\n" + Lines(info.environment);
    case FourLetterWord::kWchs:
      // WatchManager.toString, then println.
      if (!info.serving) return not_serving;
      return absl::StrCat(info.watching_connections, " connections watching ", info.watched_paths,
                          " paths\nTotal watches:", info.data_watch_count, "\n");
    case FourLetterWord::kWchc: {
      // WatchManager.dumpWatches(byPath=false), then println.
      if (!info.serving) return not_serving;
      std::string out;
      for (const auto& [session, paths] : info.watches_by_session) {
        absl::StrAppend(&out, "0x", Hex(session), "\n");
        for (const std::string& path : paths) absl::StrAppend(&out, "\t", path, "\n");
      }
      return out + "\n";
    }
    case FourLetterWord::kWchp: {
      // WatchManager.dumpWatches(byPath=true), then println.
      if (!info.serving) return not_serving;
      std::string out;
      for (const auto& [path, sessions] : info.watches_by_path) {
        absl::StrAppend(&out, path, "\n");
        for (int64_t session : sessions) absl::StrAppend(&out, "\t0x", Hex(session), "\n");
      }
      return out + "\n";
    }
    case FourLetterWord::kDump:
      if (!info.serving) return not_serving;
      return Dump(info);
    case FourLetterWord::kDirs:
      if (!info.serving) return not_serving;
      return absl::StrCat("datadir_size: ", info.log_dir_size,
                          "\nlogdir_size: ", info.snapshot_dir_size, "\n");
    case FourLetterWord::kIsro:
      if (!info.serving) return "null";
      return "rw";
    case FourLetterWord::kGtmk:
    case FourLetterWord::kStmk:
      return absl::StrCat(info.trace_mask);
    case FourLetterWord::kHash:
      if (!info.serving) return std::string(kNotServing);
      if (info.tree_digest == 0) return "";
      return absl::StrCat(Hex(info.zxid), ": ", info.tree_digest, "\n");
    case FourLetterWord::kTelnetClose:
      return "";
  }
  return "";
}

}  // namespace ensemble::gateway

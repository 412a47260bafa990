// ensemblectl: the command-line client for Ensemble's admin API (like etcdctl).
//
//   ensemblectl health --endpoints host:port[,host:port...]
//   ensemblectl status --endpoints ... [-o json]
//   ensemblectl config --endpoints ... [-o json]
//   ensemblectl snapshot|purge --endpoints ...   (storage: write a snapshot / purge now)
//   ensemblectl sessions --endpoints ...         (storage: the session table)
//   ensemblectl watches --endpoints ... [--by-path] [--by-session] [--prefix P] [--limit N]
//                                                (storage: the watches on that peer)
//   ensemblectl connections --endpoints ...      (gateway: its client connections)
//   ensemblectl drop-connection (--session ID | --remote IP[:PORT]) --endpoints ...
//                                                (gateway: close connections; sessions live on)
//   ensemblectl kill-session ID --endpoints ...  (gateway: end a session as its expiry would)
//
// Tables by default, one JSON object per endpoint with -o json. Session ids
// are read and printed in hex (0x...) or read in decimal.
// Exit code 0 when every endpoint answered (and, for health, is SERVING); 1
// otherwise, with one line per failing endpoint on stderr; 2 for bad usage.
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "ensemble/admin.grpc.pb.h"
#include "google/protobuf/util/json_util.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"

namespace {

struct Args {
  std::string command;
  std::vector<std::string> endpoints;
  bool json = false;
  int timeout_ms = 3000;
  std::vector<std::string> positional;  // kill-session's session id
  std::string session;                  // drop-connection --session
  std::string remote;                   // drop-connection --remote
  bool by_path = false;                 // watches
  bool by_session = false;
  std::string prefix;
  int limit = 0;
};

void Usage() {
  std::fprintf(stderr,
               "usage: ensemblectl COMMAND --endpoints host:port[,...] [-o json] "
               "[--timeout-ms N]\n"
               "  health | status | config           any process\n"
               "  snapshot | purge                   storage\n"
               "  sessions                           storage\n"
               "  watches [--by-path] [--by-session] [--prefix PATH] [--limit N]   storage\n"
               "  connections                        gateway\n"
               "  drop-connection (--session ID | --remote IP[:PORT])             gateway\n"
               "  kill-session ID                    gateway\n");
}

bool Parse(int argc, char** argv, Args* args) {
  if (argc < 2) return false;
  args->command = argv[1];
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--endpoints" || a == "--endpoint") {
      args->endpoints = absl::StrSplit(next(), ',', absl::SkipEmpty());
    } else if (a == "-o" || a == "--output") {
      const std::string format = next();
      if (format != "json" && format != "table") {
        std::fprintf(stderr, "ensemblectl: -o takes json or table, not '%s'\n", format.c_str());
        return false;
      }
      args->json = format == "json";
    } else if (a == "--timeout-ms") {
      args->timeout_ms = std::atoi(next().c_str());
    } else if (a == "--session") {
      args->session = next();
    } else if (a == "--remote") {
      args->remote = next();
    } else if (a == "--by-path") {
      args->by_path = true;
    } else if (a == "--by-session") {
      args->by_session = true;
    } else if (a == "--prefix") {
      args->prefix = next();
    } else if (a == "--limit") {
      args->limit = std::atoi(next().c_str());
    } else if (!a.empty() && a[0] != '-') {
      args->positional.push_back(a);
    } else {
      std::fprintf(stderr, "ensemblectl: unknown argument %s\n", a.c_str());
      return false;
    }
  }
  if (args->endpoints.empty()) {
    std::fprintf(stderr, "ensemblectl: --endpoints is required\n");
    return false;
  }
  return true;
}

// A session id as ZooKeeper prints it (0x...) or in decimal.
bool ParseSessionId(const std::string& text, int64_t* out) {
  if (text.empty()) return false;
  errno = 0;
  char* end = nullptr;
  const bool hex = text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X');
  const unsigned long long value = std::strtoull(text.c_str(), &end, hex ? 16 : 10);
  if (errno != 0 || end == nullptr || *end != '\0' || value == 0) return false;
  *out = static_cast<int64_t>(value);
  return true;
}

std::string Hex(int64_t value) { return absl::StrFormat("0x%x", static_cast<uint64_t>(value)); }

// What went wrong with one endpoint, for a human.
std::string Explain(const grpc::Status& s, const Args& args) {
  switch (s.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
      if (s.error_message().find("onnect") != std::string::npos) {
        return "endpoint is down or unreachable (" + s.error_message() + ")";
      }
      return "unavailable: " + s.error_message();
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return absl::StrFormat("no answer within %d ms (--timeout-ms)", args.timeout_ms);
    case grpc::StatusCode::UNIMPLEMENTED:
      return s.error_message() +
             " (sessions, watches, snapshot and purge are storage calls; connections, "
             "drop-connection and kill-session are gateway calls)";
    case grpc::StatusCode::NOT_FOUND:
      return "not found: " + s.error_message();
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "invalid argument: " + s.error_message();
    default:
      return s.error_message();
  }
}

std::shared_ptr<grpc::Channel> Dial(const std::string& endpoint) {
  return grpc::CreateChannel(endpoint, grpc::InsecureChannelCredentials());
}

void SetDeadline(grpc::ClientContext* ctx, int timeout_ms) {
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(timeout_ms));
}

std::string ToJson(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  (void)google::protobuf::util::MessageToJsonString(m, &out, options);
  return out;
}

// The response's JSON object with the endpoint as its first member.
std::string ToJson(const std::string& endpoint, const google::protobuf::Message& m) {
  std::string body = ToJson(m);
  std::string head = absl::StrFormat("{\"endpoint\":\"%s\"", endpoint);
  if (body.size() <= 2) return head + "}";
  return head + "," + body.substr(1);
}

int Health(const Args& args) {
  int failures = 0;
  for (const auto& ep : args.endpoints) {
    auto stub = grpc::health::v1::Health::NewStub(Dial(ep));
    grpc::ClientContext ctx;
    SetDeadline(&ctx, args.timeout_ms);
    grpc::health::v1::HealthCheckResponse reply;
    grpc::Status s = stub->Check(&ctx, {}, &reply);
    std::string state =
        s.ok() ? grpc::health::v1::HealthCheckResponse::ServingStatus_Name(reply.status())
               : "UNREACHABLE (" + s.error_message() + ")";
    if (!s.ok() || reply.status() != grpc::health::v1::HealthCheckResponse::SERVING) ++failures;
    if (args.json) {
      std::printf(
          "{\"endpoint\":\"%s\",\"status\":\"%s\"}\n", ep.c_str(),
          s.ok() ? grpc::health::v1::HealthCheckResponse::ServingStatus_Name(reply.status()).c_str()
                 : "UNREACHABLE");
    } else {
      std::printf("%-28s %s\n", ep.c_str(), state.c_str());
    }
  }
  return failures == 0 ? 0 : 1;
}

// Calls the admin service of every endpoint in turn. `call` makes the RPC on
// the stub within the deadline and prints what it got; an endpoint that fails
// is reported on stderr. Returns the exit code: 0 when every call succeeded.
int ForEachEndpoint(
    const Args& args,
    const std::function<grpc::Status(ensemble::admin::v1::Admin::Stub&, grpc::ClientContext*,
                                     const std::string&)>& call) {
  int failures = 0;
  for (const auto& ep : args.endpoints) {
    auto stub = ensemble::admin::v1::Admin::NewStub(Dial(ep));
    grpc::ClientContext ctx;
    SetDeadline(&ctx, args.timeout_ms);
    grpc::Status s = call(*stub, &ctx, ep);
    if (!s.ok()) {
      ++failures;
      std::fprintf(stderr, "ensemblectl: %s: %s\n", ep.c_str(), Explain(s, args).c_str());
    }
  }
  return failures == 0 ? 0 : 1;
}

int Status(const Args& args) {
  if (!args.json) {
    std::printf("%-28s %-12s %-10s %-8s %-14s %-8s %s\n", "ENDPOINT", "PROCESS", "ROLE", "LEADER",
                "LAST ZXID", "EPOCH", "UPTIME");
  }
  return ForEachEndpoint(args, [&](auto& stub, grpc::ClientContext* ctx, const std::string& ep) {
    ensemble::admin::v1::StatusResponse reply;
    grpc::Status s = stub.Status(ctx, {}, &reply);
    if (!s.ok()) return s;
    if (args.json) {
      std::printf("%s\n", ToJson(reply).c_str());
      return s;
    }
    std::printf("%-28s %-12s %-10s %-8lld 0x%-12llx %-8lld %llds\n", ep.c_str(),
                reply.process().c_str(), reply.role().c_str(),
                static_cast<long long>(reply.leader()),
                static_cast<unsigned long long>(reply.header().last_zxid()),
                static_cast<long long>(reply.header().epoch()),
                static_cast<long long>(reply.uptime_ms() / 1000));
    return s;
  });
}

int Config(const Args& args) {
  return ForEachEndpoint(args, [&](auto& stub, grpc::ClientContext* ctx, const std::string& ep) {
    ensemble::admin::v1::GetConfigResponse reply;
    grpc::Status s = stub.GetConfig(ctx, {}, &reply);
    if (!s.ok()) return s;
    if (args.json) {
      std::printf("%s\n", ToJson(reply).c_str());
      return s;
    }
    std::printf("# %s\n", ep.c_str());
    std::map<std::string, std::string> sorted(reply.settings().begin(), reply.settings().end());
    for (const auto& [k, v] : sorted) std::printf("%s=%s\n", k.c_str(), v.c_str());
    return s;
  });
}

// snapshot / purge: an operator action on storage processes.
int Action(const Args& args) {
  return ForEachEndpoint(args, [&](auto& stub, grpc::ClientContext* ctx, const std::string& ep) {
    grpc::Status s;
    if (args.command == "snapshot") {
      ensemble::admin::v1::SnapshotNowResponse reply;
      s = stub.SnapshotNow(ctx, {}, &reply);
    } else {
      ensemble::admin::v1::PurgeNowResponse reply;
      s = stub.PurgeNow(ctx, {}, &reply);
    }
    if (s.ok()) std::printf("%-28s %s started\n", ep.c_str(), args.command.c_str());
    return s;
  });
}

int Sessions(const Args& args) {
  if (!args.json) {
    std::printf("%-28s %-20s %-10s %-10s %s\n", "ENDPOINT", "SESSION", "TIMEOUT_MS", "EPHEMERALS",
                "WATCHES");
  }
  return ForEachEndpoint(args, [&](auto& stub, grpc::ClientContext* ctx, const std::string& ep) {
    ensemble::admin::v1::ListSessionsResponse reply;
    grpc::Status s = stub.ListSessions(ctx, {}, &reply);
    if (!s.ok()) return s;
    if (args.json) {
      std::printf("%s\n", ToJson(ep, reply).c_str());
      return s;
    }
    for (const auto& session : reply.sessions()) {
      std::printf("%-28s %-20s %-10d %-10d %" PRId64 "\n", ep.c_str(),
                  Hex(session.session_id()).c_str(), session.timeout_ms(),
                  session.ephemeral_count(), session.watch_count());
    }
    return s;
  });
}

int Watches(const Args& args) {
  return ForEachEndpoint(args, [&](auto& stub, grpc::ClientContext* ctx, const std::string& ep) {
    ensemble::admin::v1::WatchesRequest request;
    request.set_by_path(args.by_path);
    request.set_by_session(args.by_session);
    request.set_path_prefix(args.prefix);
    request.set_limit(args.limit);
    ensemble::admin::v1::WatchesResponse reply;
    grpc::Status s = stub.Watches(ctx, request, &reply);
    if (!s.ok()) return s;
    if (args.json) {
      std::printf("%s\n", ToJson(ep, reply).c_str());
      return s;
    }
    std::printf("%-28s %-8s %-8s %-8s %-11s %-10s %-8s %s\n", "ENDPOINT", "TOTAL", "DATA", "CHILD",
                "PERSISTENT", "RECURSIVE", "PATHS", "SESSIONS");
    std::printf("%-28s %-8" PRId64 " %-8" PRId64 " %-8" PRId64 " %-11" PRId64 " %-10" PRId64
                " %-8" PRId64 " %" PRId64 "\n",
                ep.c_str(), reply.total(), reply.data(), reply.child(), reply.persistent(),
                reply.persistent_recursive(), reply.paths(), reply.sessions());
    if (args.by_path) {
      std::printf("%-40s %s\n", "PATH", "SESSIONS");
      for (const auto& entry : reply.by_path()) {
        std::vector<std::string> ids;
        for (int64_t id : entry.session_ids()) ids.push_back(Hex(id));
        std::printf("%-40s %s\n", entry.path().c_str(), absl::StrJoin(ids, ",").c_str());
      }
    }
    if (args.by_session) {
      std::printf("%-20s %s\n", "SESSION", "PATHS");
      for (const auto& entry : reply.by_session()) {
        std::printf("%-20s %s\n", Hex(entry.session_id()).c_str(),
                    absl::StrJoin(entry.paths(), ",").c_str());
      }
    }
    if (reply.truncated()) std::printf("(lists cut at --limit)\n");
    return s;
  });
}

void PrintConnectionHeader() {
  std::printf("%-28s %-24s %-20s %-14s %-5s %-9s %-8s %-8s %s\n", "ENDPOINT", "REMOTE", "SESSION",
              "LAST_ZXID", "OUT", "IDLE_MS", "RECV", "SENT", "LAST_OP");
}

void PrintConnection(const std::string& ep, const ensemble::admin::v1::Connection& c) {
  std::printf(
      "%-28s %-24s %-20s %-14s %-5" PRId64 " %-9" PRId64 " %-8" PRId64 " %-8" PRId64 " %s\n",
      ep.c_str(), c.remote().c_str(), c.session_id() == 0 ? "-" : Hex(c.session_id()).c_str(),
      c.last_zxid() < 0 ? "-" : Hex(c.last_zxid()).c_str(), c.outstanding(), c.idle_ms(),
      c.packets_received(), c.packets_sent(), c.last_op().c_str());
}

int Connections(const Args& args) {
  if (!args.json) PrintConnectionHeader();
  return ForEachEndpoint(args, [&](auto& stub, grpc::ClientContext* ctx, const std::string& ep) {
    ensemble::admin::v1::ListConnectionsResponse reply;
    grpc::Status s = stub.ListConnections(ctx, {}, &reply);
    if (!s.ok()) return s;
    if (args.json) {
      std::printf("%s\n", ToJson(ep, reply).c_str());
      return s;
    }
    for (const auto& c : reply.connections()) PrintConnection(ep, c);
    return s;
  });
}

int DropConnection(const Args& args) {
  ensemble::admin::v1::DropConnectionRequest request;
  int64_t session = 0;
  if (!args.session.empty() == !args.remote.empty()) {
    std::fprintf(stderr, "ensemblectl: drop-connection needs one of --session ID, --remote ADDR\n");
    return 2;
  }
  if (!args.session.empty()) {
    if (!ParseSessionId(args.session, &session)) {
      std::fprintf(stderr, "ensemblectl: bad session id '%s' (0x... or decimal)\n",
                   args.session.c_str());
      return 2;
    }
    request.set_session_id(session);
  } else {
    request.set_remote(args.remote);
  }
  if (!args.json) PrintConnectionHeader();
  return ForEachEndpoint(args, [&](auto& stub, grpc::ClientContext* ctx, const std::string& ep) {
    ensemble::admin::v1::DropConnectionResponse reply;
    grpc::Status s = stub.DropConnection(ctx, request, &reply);
    if (!s.ok()) return s;
    if (args.json) {
      std::printf("%s\n", ToJson(ep, reply).c_str());
      return s;
    }
    for (const auto& c : reply.dropped()) PrintConnection(ep, c);
    return s;
  });
}

int KillSession(const Args& args) {
  int64_t session = 0;
  if (args.positional.size() != 1 || !ParseSessionId(args.positional[0], &session)) {
    std::fprintf(stderr, "ensemblectl: kill-session takes one session id (0x... or decimal)\n");
    return 2;
  }
  ensemble::admin::v1::KillSessionRequest request;
  request.set_session_id(session);
  return ForEachEndpoint(args, [&](auto& stub, grpc::ClientContext* ctx, const std::string& ep) {
    ensemble::admin::v1::KillSessionResponse reply;
    grpc::Status s = stub.KillSession(ctx, request, &reply);
    if (!s.ok()) return s;
    if (args.json) {
      std::printf("%s\n", ToJson(ep, reply).c_str());
    } else {
      std::printf("%-28s session %s closed at zxid %s\n", ep.c_str(), Hex(session).c_str(),
                  Hex(reply.zxid()).c_str());
    }
    return s;
  });
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (!Parse(argc, argv, &args)) {
    Usage();
    return 2;
  }
  if (args.command == "health") return Health(args);
  if (args.command == "status") return Status(args);
  if (args.command == "config") return Config(args);
  if (args.command == "snapshot" || args.command == "purge") return Action(args);
  if (args.command == "sessions") return Sessions(args);
  if (args.command == "watches") return Watches(args);
  if (args.command == "connections") return Connections(args);
  if (args.command == "drop-connection") return DropConnection(args);
  if (args.command == "kill-session") {
    // One endpoint: the session is ended once, by whichever gateway is named.
    if (args.endpoints.size() != 1) {
      std::fprintf(stderr, "ensemblectl: kill-session takes exactly one gateway endpoint\n");
      return 2;
    }
    return KillSession(args);
  }
  std::fprintf(stderr, "ensemblectl: unknown command %s\n", args.command.c_str());
  Usage();
  return 2;
}

// ensemblectl: the command-line client for Ensemble's admin API (like etcdctl).
//
//   ensemblectl health --endpoints host:port[,host:port...]
//   ensemblectl status --endpoints ... [-o json]
//   ensemblectl config --endpoints ... [-o json]
//   ensemblectl snapshot|purge --endpoints ...   (storage: write a snapshot / purge now)
//
// Exit code 0 when every endpoint answered (and, for health, is SERVING).
#include <chrono>
#include <cstdio>
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
};

void Usage() {
  std::fprintf(
      stderr,
      "usage: ensemblectl {health|status|config|snapshot|purge} --endpoints host:port[,...] "
      "[-o json] [--timeout-ms N]\n");
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
      args->json = next() == "json";
    } else if (a == "--timeout-ms") {
      args->timeout_ms = std::atoi(next().c_str());
    } else {
      std::fprintf(stderr, "ensemblectl: unknown argument %s\n", a.c_str());
      return false;
    }
  }
  return !args->endpoints.empty();
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
      std::fprintf(stderr, "ensemblectl: %s: %s\n", ep.c_str(), s.error_message().c_str());
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
  Usage();
  return 2;
}

// ephemeral-cleanup mode: an owner session creates E ephemeral nodes, an
// observer session (on another server when there are several) sets an exists
// watch on each, the owner sends closeSession, and the time from that until the
// observer has seen all E NodeDeleted events is one sample; repeated R times.

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/loadgen/modes.h"
#include "bench/loadgen/session.h"
#include "common/jute/zoo_defs.h"

namespace ensemble::bench {

namespace {
constexpr int kWindow = 256;
constexpr double kRoundTimeoutSeconds = 120;
}  // namespace

Report RunEphemeralCleanup(const Options& o, const std::vector<Endpoint>& servers) {
  Report report;
  report.mode = "ephemeral-cleanup";
  report.params = {{"ephemerals", absl::StrCat(o.ephemerals)},
                   {"repeat", absl::StrCat(o.repeat)},
                   {"servers", absl::StrCat(servers.size())}};
  ErrorCounts* errors = &report.errors;
  auto loop = EventLoop::Create();
  if (!loop.ok()) {
    errors->AddNote(std::string(loop.status().message()));
    return report;
  }
  Runner runner(std::move(*loop));
  ZkConnection::Config config{o.session_timeout_ms};
  Session observer(runner.loop(), servers[servers.size() > 1 ? 1 : 0], config);
  Histogram all_deleted, close_latency;
  int64_t bench_start = NowNs();
  std::string run, folder;
  if (runner.ConnectAll({&observer}, 1, NowNs() + SecondsToNs(o.connect_timeout_seconds), errors) ==
      1) {
    run = CreateRunDir(runner, observer, o.root, o.seed, NowNs() + SecondsToNs(60), errors);
  }
  if (!run.empty()) {
    folder = run + "/e";
    RunBatch(
        runner, {&observer}, 1,
        [&](size_t) {
          return std::make_pair(jute::OpCode::kCreate,
                                jute::RequestBody(jute::CreateRequest{folder, "", OpenAcl(), 0}));
        },
        1, {}, NowNs() + SecondsToNs(60), errors);
  }
  std::vector<std::string> paths;
  for (int i = 0; i < o.ephemerals; ++i) paths.push_back(absl::StrCat(folder, "/n", i));
  for (int round = 0; errors->empty() && round < o.repeat; ++round) {
    if (o.seconds > 0 && NowNs() - bench_start > SecondsToNs(o.seconds) && round > 0) break;
    int64_t deadline = NowNs() + SecondsToNs(kRoundTimeoutSeconds);
    Session owner(runner.loop(), servers[0], config);
    if (runner.ConnectAll({&owner}, 1, deadline, errors) != 1) break;
    size_t created = RunBatch(
        runner, {&owner}, paths.size(),
        [&](size_t i) {
          return std::make_pair(
              jute::OpCode::kCreate,
              jute::RequestBody(jute::CreateRequest{
                  paths[i], "e", OpenAcl(), static_cast<int32_t>(jute::CreateMode::kEphemeral)}));
        },
        kWindow, {}, deadline, errors);
    size_t watched = 0;
    if (created == paths.size()) {
      watched = RunBatch(
          runner, {&observer}, paths.size(),
          [&](size_t i) {
            return std::make_pair(jute::OpCode::kExists,
                                  jute::RequestBody(jute::ExistsRequest{paths[i], true}));
          },
          kWindow, {}, deadline, errors);
    }
    if (watched != paths.size()) {
      runner.Untrack(&owner);
      owner.Abort();
      break;
    }
    size_t deleted = 0;
    int64_t last_ns = 0;
    observer.on_notification = [&](const jute::WatcherEvent& e, int64_t now) {
      if (e.type != static_cast<int32_t>(jute::EventType::kNodeDeleted)) {
        errors->AddNote(absl::StrCat("unexpected event type ", e.type, " on ", e.path));
        return;
      }
      ++deleted;
      last_ns = now;
    };
    int64_t sent_ns = NowNs();
    bool closed = false;
    owner.Close([&](const Reply& r) {
      closed = true;
      if (r.header.err != 0) {
        errors->Add("closeSession", r.header.err);
      } else {
        close_latency.Record(static_cast<uint64_t>(r.now_ns - r.sent.sent_ns));
      }
    });
    bool all_in = runner.RunUntil([&] { return closed && deleted >= paths.size(); }, deadline);
    observer.on_notification = nullptr;
    runner.Untrack(&owner);
    if (!owner.closed()) owner.Abort();
    if (!all_in) {
      errors->AddNote(absl::StrCat("round ", round + 1, ": ", paths.size() - deleted, " of ",
                                   paths.size(), " ephemerals not seen deleted within ",
                                   kRoundTimeoutSeconds, " s"));
      break;
    }
    all_deleted.Record(static_cast<uint64_t>(last_ns - sent_ns));
  }
  report.elapsed_s = static_cast<double>(NowNs() - bench_start) / 1e9;
  report.stopped_by = "done";
  report.ops.push_back(OpResult{"all_deleted", all_deleted, false});
  report.ops.push_back(OpResult{"closeSession", close_latency, false});
  report.figures.push_back({"rounds", static_cast<double>(all_deleted.count())});
  report.figures.push_back(
      {"all_deleted_ms_median", static_cast<double>(all_deleted.Percentile(0.5)) / 1e6});
  if (!run.empty() && observer.connected()) {
    std::vector<std::string> dirs = {folder, run};
    RunBatch(
        runner, {&observer}, dirs.size(),
        [&](size_t i) {
          return std::make_pair(jute::OpCode::kDelete,
                                jute::RequestBody(jute::DeleteRequest{dirs[i], -1}));
        },
        1, {}, NowNs() + SecondsToNs(30), errors);
  }
  CloseAll(runner, {&observer}, NowNs() + SecondsToNs(30), errors);
  return report;
}

}  // namespace ensemble::bench

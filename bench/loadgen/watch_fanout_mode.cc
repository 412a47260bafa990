// watch-fanout mode: M sessions set a data watch on one node (getData with
// watch), one session writes it, and the time from sending the setData until all
// M have their NodeDataChanged event is one sample; repeated R times (watches
// are one-shot, so each round sets them again).

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/loadgen/modes.h"
#include "bench/loadgen/session.h"
#include "common/jute/zoo_defs.h"

namespace ensemble::bench {

namespace {
constexpr double kRoundTimeoutSeconds = 60;
}  // namespace

Report RunWatchFanout(const Options& o, const std::vector<Endpoint>& servers) {
  Report report;
  report.mode = "watch-fanout";
  report.params = {{"watchers", absl::StrCat(o.watchers)},
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
  // Session 0 writes; watchers spread over the servers.
  std::vector<std::unique_ptr<Session>> owned;
  std::vector<Session*> all, watchers;
  for (int i = 0; i <= o.watchers; ++i) {
    owned.push_back(std::make_unique<Session>(runner.loop(), servers[i % servers.size()], config));
    all.push_back(owned.back().get());
    if (i > 0) watchers.push_back(owned.back().get());
  }
  Session* writer = all[0];
  int64_t t0 = NowNs();
  size_t up = runner.ConnectAll(all, o.connect_concurrency,
                                t0 + SecondsToNs(o.connect_timeout_seconds), errors);
  Histogram notify, all_notified, set_latency;
  std::string run, node;
  if (up == all.size()) {
    run = CreateRunDir(runner, *writer, o.root, o.seed, NowNs() + SecondsToNs(60), errors);
  }
  if (!run.empty()) {
    node = run + "/w";
    RunBatch(
        runner, {writer}, 1,
        [&](size_t) {
          return std::make_pair(jute::OpCode::kCreate,
                                jute::RequestBody(jute::CreateRequest{node, "0", OpenAcl(), 0}));
        },
        1, {}, NowNs() + SecondsToNs(60), errors);
  }
  int64_t bench_start = NowNs();
  for (int round = 0; errors->empty() && round < o.repeat; ++round) {
    if (o.seconds > 0 && NowNs() - bench_start > SecondsToNs(o.seconds) && round > 0) break;
    int64_t deadline = NowNs() + SecondsToNs(kRoundTimeoutSeconds);
    // 1. Every watcher sets its watch.
    size_t ok = RunBatch(
        runner, watchers, watchers.size(),
        [&](size_t) {
          return std::make_pair(jute::OpCode::kGetData,
                                jute::RequestBody(jute::GetDataRequest{node, true}));
        },
        1, {}, deadline, errors);
    if (ok != watchers.size()) break;
    // 2. One write; count the events.
    size_t notified = 0;
    int64_t last_ns = 0, sent_ns = 0;
    bool write_done = false;
    for (Session* w : watchers) {
      w->on_notification = [&](const jute::WatcherEvent& e, int64_t now) {
        if (e.type != static_cast<int32_t>(jute::EventType::kNodeDataChanged) || e.path != node) {
          errors->AddNote(absl::StrCat("unexpected event type ", e.type, " on ", e.path));
          return;
        }
        ++notified;
        last_ns = std::max(last_ns, now);
        notify.Record(static_cast<uint64_t>(now - sent_ns));
      };
    }
    sent_ns = NowNs();
    writer->Call(jute::OpCode::kSetData, jute::SetDataRequest{node, absl::StrCat(round + 1), -1}, 0,
                 [&](const Reply& r) {
                   write_done = true;
                   if (r.header.err != 0) {
                     errors->Add("setData", r.header.err);
                   } else {
                     set_latency.Record(static_cast<uint64_t>(r.now_ns - r.sent.sent_ns));
                   }
                 });
    bool all_in =
        runner.RunUntil([&] { return write_done && notified >= watchers.size(); }, deadline);
    for (Session* w : watchers) w->on_notification = nullptr;
    if (!all_in) {
      if (!write_done) writer->Abort();
      errors->AddNote(absl::StrCat("round ", round + 1, ": ", watchers.size() - notified, " of ",
                                   watchers.size(), " watchers not notified within ",
                                   kRoundTimeoutSeconds, " s"));
      break;
    }
    all_notified.Record(static_cast<uint64_t>(last_ns - sent_ns));
  }
  report.elapsed_s = static_cast<double>(NowNs() - bench_start) / 1e9;
  report.stopped_by = "done";
  report.ops.push_back(OpResult{"all_notified", all_notified, false});
  report.ops.push_back(OpResult{"notify", notify, false});
  report.ops.push_back(OpResult{"setData", set_latency, false});
  report.figures.push_back({"rounds", static_cast<double>(all_notified.count())});
  report.figures.push_back(
      {"all_notified_ms_median", static_cast<double>(all_notified.Percentile(0.5)) / 1e6});
  report.figures.push_back({"all_notified_ms_max", static_cast<double>(all_notified.max()) / 1e6});
  // Clean up: the node and the run folder, then every session.
  if (!run.empty() && writer->connected()) {
    std::vector<std::string> paths = {node, run};
    RunBatch(
        runner, {writer}, paths.size(),
        [&](size_t i) {
          return std::make_pair(jute::OpCode::kDelete,
                                jute::RequestBody(jute::DeleteRequest{paths[i], -1}));
        },
        1, {}, NowNs() + SecondsToNs(30), errors);
  }
  CloseAll(runner, all, NowNs() + SecondsToNs(60), errors);
  return report;
}

}  // namespace ensemble::bench

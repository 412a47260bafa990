// sessions mode: N concurrent loops, each opening a session (TCP connect and
// handshake), closing it (closeSession) and starting again, until --count
// sessions were opened or --seconds passed. Reports open, close and whole-cycle
// latency and sessions per second.

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/loadgen/modes.h"
#include "bench/loadgen/session.h"

namespace ensemble::bench {

namespace {
constexpr double kDrainTimeoutSeconds = 30;
}  // namespace

Report RunSessions(const Options& o, const std::vector<Endpoint>& servers) {
  Report report;
  report.mode = "sessions";
  report.params = {{"sessions", absl::StrCat(o.sessions)},
                   {"servers", absl::StrCat(servers.size())}};
  ErrorCounts* errors = &report.errors;
  auto loop = EventLoop::Create();
  if (!loop.ok()) {
    errors->AddNote(std::string(loop.status().message()));
    return report;
  }
  Runner runner(std::move(*loop));
  ZkConnection::Config config{o.session_timeout_ms};
  Histogram open_latency, close_latency, cycle_latency;
  uint64_t started = 0, completed = 0;
  bool stop = false;
  int64_t start_ns = NowNs();
  int64_t end_ns = o.seconds > 0 ? start_ns + SecondsToNs(o.seconds) : INT64_MAX;
  int64_t last_ns = start_ns;
  std::vector<std::unique_ptr<Session>> loops;
  std::vector<int> active(o.sessions, 0);

  // Starts loop i's next session unless the run is over; false if it did not.
  auto begin = [&](size_t i) {
    if (stop || NowNs() >= end_ns || (o.count > 0 && started >= o.count)) {
      stop = true;
      return false;
    }
    absl::Status st = loops[i]->connection().Start();
    if (!st.ok()) {
      errors->AddNote(absl::StrCat("connect: ", st.message()));
      stop = true;  // a refused connection repeats at once: end the run
      return false;
    }
    ++started;
    active[i] = 1;
    return true;
  };

  for (int i = 0; i < o.sessions; ++i) {
    loops.push_back(std::make_unique<Session>(runner.loop(), servers[i % servers.size()], config));
    Session* s = loops.back().get();
    size_t index = static_cast<size_t>(i);
    s->on_connected = [&, s](int64_t now) {
      open_latency.Record(static_cast<uint64_t>(now - s->connection().connect_started_ns()));
      s->Close([&, s](const Reply& r) {
        if (r.header.err != 0) {
          errors->Add("closeSession", r.header.err);
          return;
        }
        close_latency.Record(static_cast<uint64_t>(r.now_ns - r.sent.sent_ns));
        cycle_latency.Record(
            static_cast<uint64_t>(r.now_ns - s->connection().connect_started_ns()));
        ++completed;
        last_ns = r.now_ns;
      });
    };
    s->on_closed = [&, index](const absl::Status& status, int64_t) {
      active[index] = 0;
      if (!status.ok()) {
        errors->AddNote(std::string(status.message()));
        stop = true;
        return;
      }
      begin(index);
    };
  }
  for (size_t i = 0; i < loops.size(); ++i) begin(i);
  int64_t deadline = o.seconds > 0 ? end_ns + SecondsToNs(kDrainTimeoutSeconds) : INT64_MAX;
  bool drained = runner.RunUntil(
      [&] {
        if (NowNs() >= end_ns) stop = true;
        for (int a : active) {
          if (a) return false;
        }
        return true;
      },
      deadline);
  if (!drained) {
    errors->AddNote("sessions still open at the drain deadline");
    for (auto& s : loops) s->Abort();
  }
  report.elapsed_s = static_cast<double>(last_ns - start_ns) / 1e9;
  report.stopped_by = o.count > 0 && started >= o.count ? "count" : "time";
  report.ops.push_back(OpResult{"cycle", cycle_latency, true});
  report.ops.push_back(OpResult{"open", open_latency, false});
  report.ops.push_back(OpResult{"close", close_latency, false});
  report.figures.push_back(
      {"sessions_per_second",
       report.elapsed_s > 0 ? static_cast<double>(completed) / report.elapsed_s : 0});
  return report;
}

}  // namespace ensemble::bench

// probe mode: how long until a server serves again. Fresh sessions, rotating
// over the servers, try one op (getData of --path or the create of an ephemeral
// sequential node "<root>-probe-") until one succeeds or --timeout passes.
// Failed attempts are expected (the server is down or electing) and are not
// errors; not succeeding in time is.

#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/loadgen/modes.h"
#include "bench/loadgen/session.h"
#include "common/jute/zk_error.h"
#include "common/jute/zoo_defs.h"

namespace ensemble::bench {

namespace {
constexpr double kAttemptTimeoutSeconds = 5;
}  // namespace

Report RunProbe(const Options& o, const std::vector<Endpoint>& servers) {
  Report report;
  report.mode = "probe";
  bool write = o.mix.Only(OpKind::kCreate);
  report.params = {{"op", write ? "create" : "getData"},
                   {"path", write ? o.root + "-probe-" : o.probe_path},
                   {"servers", absl::StrCat(servers.size())}};
  auto loop = EventLoop::Create();
  if (!loop.ok()) {
    report.errors.AddNote(std::string(loop.status().message()));
    return report;
  }
  Runner runner(std::move(*loop));
  ZkConnection::Config config{o.session_timeout_ms};
  int64_t start = NowNs();
  int64_t deadline = start + SecondsToNs(o.timeout_seconds);
  uint64_t attempts = 0;
  int64_t success_ns = 0;
  std::string last_failure;
  Histogram op_latency;
  while (success_ns == 0 && NowNs() < deadline) {
    const Endpoint& server = servers[attempts % servers.size()];
    ++attempts;
    int64_t attempt_deadline = std::min(deadline, NowNs() + SecondsToNs(kAttemptTimeoutSeconds));
    Session s(runner.loop(), server, config);
    ErrorCounts scratch;
    if (runner.ConnectAll({&s}, 1, attempt_deadline, &scratch) == 1) {
      bool replied = false;
      jute::OpCode op = write ? jute::OpCode::kCreate : jute::OpCode::kGetData;
      jute::RequestBody body =
          write ? jute::RequestBody(jute::CreateRequest{
                      o.root + "-probe-", "", OpenAcl(),
                      static_cast<int32_t>(jute::CreateMode::kEphemeralSequential)})
                : jute::RequestBody(jute::GetDataRequest{o.probe_path, false});
      s.Call(op, body, 0, [&](const Reply& r) {
        replied = true;
        if (r.header.err == 0) {
          success_ns = r.now_ns;
          op_latency.Record(static_cast<uint64_t>(r.now_ns - r.sent.sent_ns));
        } else {
          last_failure = absl::StrCat(
              server.label, ": ",
              std::string(jute::ZkErrorName(static_cast<jute::ZkError>(r.header.err))));
        }
      });
      runner.RunUntil([&] { return replied; }, attempt_deadline);
      if (!replied) last_failure = absl::StrCat(server.label, ": no reply");
      if (success_ns != 0) {
        CloseAll(runner, {&s}, NowNs() + SecondsToNs(2), &scratch);
      }
    } else {
      for (const auto& [note, n] : scratch.notes()) last_failure = note;
    }
    runner.Untrack(&s);
    if (!s.closed()) s.Abort();
    if (success_ns == 0) usleep(static_cast<useconds_t>(o.retry_interval_ms * 1000));
  }
  report.stopped_by = "done";
  report.elapsed_s = static_cast<double>((success_ns ? success_ns : NowNs()) - start) / 1e9;
  report.ops.push_back(OpResult{write ? "create" : "getData", op_latency, false});
  report.figures.push_back({"attempts", static_cast<double>(attempts)});
  if (success_ns != 0) {
    report.figures.push_back({"serving_after_ms", static_cast<double>(success_ns - start) / 1e6});
  } else {
    report.errors.AddNote(absl::StrCat("no successful ", write ? "create" : "getData", " within ",
                                       o.timeout_seconds, " s (", attempts,
                                       " attempts; last: ", last_failure, ")"));
  }
  return report;
}

}  // namespace ensemble::bench

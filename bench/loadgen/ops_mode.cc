// ops mode: N sessions x K outstanding requests, a mix of operations, latency
// histograms per op and throughput.
//
// Layout under the run folder R:
//   R/k<i>            the key space (--keys nodes of --value-size bytes), read and
//                     written by getData, setData, exists and multi
//   R/c/s<j>-<n>      nodes created by session j; delete removes one of them
//                     (any session's: the pool of existing nodes is shared)
//
// Each op is attributed to the phase it was sent in: ops sent during --warmup are
// not measured; the measured phase ends when --count ops were sent or --seconds
// passed, and its elapsed time runs to the last measured reply. With --rate the
// sends are paced (open loop up to the --outstanding window): latency is then
// that of a given load rather than of saturation.

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/loadgen/modes.h"
#include "bench/loadgen/session.h"
#include "bench/loadgen/workload.h"
#include "common/base/rng.h"

namespace ensemble::bench {
namespace {

constexpr int kSetupWindow = 256;
constexpr double kSetupTimeoutSeconds = 600;
constexpr double kDrainTimeoutSeconds = 60;

struct OpsSession {
  Session* session = nullptr;
  int index = 0;
  OpChooser chooser;
  Rng rng;
  uint32_t next_create = 0;
  int in_flight = 0;
};

// tag: bits 0-7 OpKind, bit 8 measured, bits 32-63 the create's node number.
uint64_t MakeTag(OpKind kind, bool measured, uint32_t number) {
  return static_cast<uint64_t>(kind) | (measured ? 0x100u : 0u) |
         (static_cast<uint64_t>(number) << 32);
}

uint64_t PoolEntry(int session, uint32_t number) {
  return (static_cast<uint64_t>(session) << 32) | number;
}

class OpsRun {
 public:
  OpsRun(const Options& o, const std::vector<Endpoint>& servers, Report* report)
      : o_(o), servers_(servers), report_(report), value_(static_cast<size_t>(o.value_size), 'x') {}

  void Run();

 private:
  std::string CreatedPath(int session, uint32_t n) const {
    return absl::StrCat(run_, "/c/s", session, "-", n);
  }
  bool Setup();
  void Measure();
  void Issue(OpsSession& s, int64_t now_ns);
  void OnReply(OpsSession& s, const Reply& r);
  bool Stopping(int64_t now_ns) const;
  void Cleanup();

  const Options& o_;
  const std::vector<Endpoint>& servers_;
  Report* report_;
  std::string value_;
  std::unique_ptr<Runner> runner_;
  std::vector<std::unique_ptr<Session>> owned_;
  std::vector<Session*> sessions_;
  std::vector<std::unique_ptr<OpsSession>> states_;
  std::string run_;
  std::vector<std::string> keys_;
  // Nodes under R/c that exist: session << 32 | number.
  std::vector<uint64_t> pool_;

  bool measuring_ = false;
  int64_t warmup_end_ns_ = 0;
  int64_t measure_start_ns_ = 0;
  int64_t measure_end_ns_ = 0;  // by time; INT64_MAX without --seconds
  int64_t last_measured_reply_ns_ = 0;
  uint64_t measured_sent_ = 0;
  bool count_reached_ = false;
  std::vector<Histogram> latency_ = std::vector<Histogram>(kOpKindCount);
  Histogram total_;
};

void OpsRun::Run() {
  auto loop = EventLoop::Create();
  if (!loop.ok()) {
    report_->errors.AddNote(std::string(loop.status().message()));
    return;
  }
  runner_ = std::make_unique<Runner>(std::move(*loop));
  ZkConnection::Config config{o_.session_timeout_ms};
  for (int i = 0; i < o_.sessions; ++i) {
    owned_.push_back(
        std::make_unique<Session>(runner_->loop(), servers_[i % servers_.size()], config));
    sessions_.push_back(owned_.back().get());
  }
  size_t up =
      runner_->ConnectAll(sessions_, o_.connect_concurrency,
                          NowNs() + SecondsToNs(o_.connect_timeout_seconds), &report_->errors);
  if (up == sessions_.size() && Setup()) {
    Measure();
    if (o_.cleanup) Cleanup();
  } else {
    report_->stopped_by = "errors";
  }
  CloseAll(*runner_, sessions_, NowNs() + SecondsToNs(30), &report_->errors);
}

bool OpsRun::Setup() {
  int64_t deadline = NowNs() + SecondsToNs(kSetupTimeoutSeconds);
  ErrorCounts* errors = &report_->errors;
  run_ = CreateRunDir(*runner_, *sessions_[0], o_.root, o_.seed, deadline, errors);
  if (run_.empty()) return false;
  report_->params.emplace_back("run", run_);
  std::string created = run_ + "/c";
  if (RunBatch(
          *runner_, {sessions_[0]}, 1,
          [&](size_t) {
            return std::make_pair(jute::OpCode::kCreate, jute::RequestBody(jute::CreateRequest{
                                                             created, "", OpenAcl(), 0}));
          },
          1, {}, deadline, errors) != 1) {
    return false;
  }
  const Mix& mix = o_.mix;
  bool need_keys = mix.Weight(OpKind::kSet) + mix.Weight(OpKind::kGet) +
                       mix.Weight(OpKind::kExists) + mix.Weight(OpKind::kMulti) >
                   0;
  if (need_keys) {
    for (int i = 0; i < o_.keys; ++i) keys_.push_back(absl::StrCat(run_, "/k", i));
    size_t ok = RunBatch(
        *runner_, sessions_, keys_.size(),
        [&](size_t i) {
          return std::make_pair(jute::OpCode::kCreate, jute::RequestBody(jute::CreateRequest{
                                                           keys_[i], value_, OpenAcl(), 0}));
        },
        kSetupWindow, {}, deadline, errors);
    if (ok != keys_.size()) return false;
  }
  for (int i = 0; i < o_.sessions; ++i) {
    states_.push_back(std::make_unique<OpsSession>(OpsSession{
        sessions_[i], i, OpChooser(mix, o_.seed * 7919 + i), Rng(o_.seed * 104729 + i), 0, 0}));
  }
  // A delete workload without creates deletes nodes made beforehand: enough for
  // --count (delete's share of it), spread over the sessions.
  if (mix.Weight(OpKind::kDelete) > 0 && mix.Weight(OpKind::kCreate) == 0) {
    if (o_.count == 0) {
      errors->AddNote("a delete mix without create needs --count (nodes are made beforehand)");
      return false;
    }
    uint64_t deletes = (o_.count * mix.Weight(OpKind::kDelete) + mix.Total() - 1) / mix.Total();
    uint64_t per_session = (deletes + o_.sessions - 1) / o_.sessions;
    size_t n = deletes;
    size_t ok = RunBatch(
        *runner_, sessions_, n,
        [&](size_t i) {
          int s = static_cast<int>(i % o_.sessions);
          auto number = static_cast<uint32_t>(i / o_.sessions);
          return std::make_pair(
              jute::OpCode::kCreate,
              jute::RequestBody(jute::CreateRequest{CreatedPath(s, number), value_, OpenAcl(), 0}));
        },
        kSetupWindow, {}, deadline, errors);
    if (ok != n) return false;
    for (size_t i = n; i-- > 0;) {  // popped from the back: oldest first
      pool_.push_back(
          PoolEntry(static_cast<int>(i % o_.sessions), static_cast<uint32_t>(i / o_.sessions)));
    }
    for (auto& st : states_) {
      st->next_create = static_cast<uint32_t>(per_session);
    }
  }
  return true;
}

bool OpsRun::Stopping(int64_t now_ns) const {
  if (!measuring_) return false;
  return count_reached_ || now_ns >= measure_end_ns_;
}

void OpsRun::Issue(OpsSession& s, int64_t now_ns) {
  if (!measuring_ && now_ns >= warmup_end_ns_) {
    measuring_ = true;
    measure_start_ns_ = now_ns;
    measure_end_ns_ = o_.seconds > 0 ? now_ns + SecondsToNs(o_.seconds) : INT64_MAX;
    last_measured_reply_ns_ = now_ns;
  }
  while (s.in_flight < o_.outstanding && s.session->connected() && !Stopping(now_ns)) {
    if (measuring_ && o_.rate > 0 &&
        static_cast<double>(measured_sent_) >=
            o_.rate * static_cast<double>(now_ns - measure_start_ns_) / 1e9) {
      break;  // ahead of the pace: Measure() polls again within a millisecond
    }
    OpKind kind = s.chooser.Next();
    if (kind == OpKind::kDelete && pool_.empty()) kind = OpKind::kCreate;
    uint32_t number = 0;
    jute::OpCode op = jute::OpCode::kGetData;
    jute::RequestBody body;
    switch (kind) {
      case OpKind::kCreate:
        number = s.next_create++;
        op = jute::OpCode::kCreate;
        body = jute::CreateRequest{CreatedPath(s.index, number), value_, OpenAcl(), 0};
        break;
      case OpKind::kSet:
        op = jute::OpCode::kSetData;
        body = jute::SetDataRequest{keys_[s.rng.Uniform(keys_.size())], value_, -1};
        break;
      case OpKind::kGet:
        op = jute::OpCode::kGetData;
        body = jute::GetDataRequest{keys_[s.rng.Uniform(keys_.size())], false};
        break;
      case OpKind::kExists:
        op = jute::OpCode::kExists;
        body = jute::ExistsRequest{keys_[s.rng.Uniform(keys_.size())], false};
        break;
      case OpKind::kDelete: {
        uint64_t entry = pool_.back();
        pool_.pop_back();
        op = jute::OpCode::kDelete;
        body = jute::DeleteRequest{
            CreatedPath(static_cast<int>(entry >> 32), static_cast<uint32_t>(entry)), -1};
      } break;
      case OpKind::kMulti: {
        op = jute::OpCode::kMulti;
        jute::MultiRequest multi;
        for (int i = 0; i < o_.multi_size; ++i) {
          multi.ops.push_back(
              jute::MultiOp{jute::OpCode::kSetData,
                            jute::SetDataRequest{keys_[s.rng.Uniform(keys_.size())], value_, -1}});
        }
        body = std::move(multi);
        break;
      }
    }
    s.session->Call(op, body, MakeTag(kind, measuring_, number));
    ++s.in_flight;
    if (measuring_ && o_.count > 0 && ++measured_sent_ >= o_.count) count_reached_ = true;
  }
}

void OpsRun::OnReply(OpsSession& s, const Reply& r) {
  --s.in_flight;
  auto kind = static_cast<OpKind>(r.sent.tag & 0xff);
  bool measured = (r.sent.tag & 0x100) != 0;
  jute::ZkError err = ReplyError(r);
  if (err != jute::ZkError::kOk) {
    report_->errors.Add(OpKindName(kind), jute::ToInt(err));
  } else {
    if (kind == OpKind::kCreate) {
      pool_.push_back(PoolEntry(s.index, static_cast<uint32_t>(r.sent.tag >> 32)));
    }
    if (measured) {
      uint64_t ns = static_cast<uint64_t>(std::max<int64_t>(0, r.now_ns - r.sent.sent_ns));
      latency_[static_cast<int>(kind)].Record(ns);
      total_.Record(ns);
    }
  }
  if (measured) last_measured_reply_ns_ = std::max(last_measured_reply_ns_, r.now_ns);
  Issue(s, r.now_ns);
}

void OpsRun::Measure() {
  for (auto& st : states_) {
    OpsSession* s = st.get();
    s->session->on_reply = [this, s](const Reply& r) { OnReply(*s, r); };
  }
  int64_t start = NowNs();
  warmup_end_ns_ = start + SecondsToNs(o_.warmup_seconds);
  measuring_ = false;
  for (auto& st : states_) Issue(*st, start);
  // The phase ends by count or time; then the replies still due drain. Without
  // --seconds, --count bounds it.
  int64_t deadline =
      o_.seconds > 0 ? start + SecondsToNs(o_.warmup_seconds + o_.seconds + kDrainTimeoutSeconds)
                     : INT64_MAX;
  bool done = runner_->RunUntil(
      [&] {
        int64_t now = NowNs();
        bool any_alive = false;
        bool idle = true;
        for (auto& st : states_) {
          if (st->in_flight > 0) idle = false;
          if (st->session->connected()) any_alive = true;
          // Sessions whose replies all came back while the warm-up ran out, or
          // that wait for the pace.
          if ((st->in_flight == 0 || o_.rate > 0) && !Stopping(now)) Issue(*st, now);
        }
        return (idle && (Stopping(now) || !any_alive));
      },
      deadline, o_.rate > 0 ? 1 : 50);
  if (!done) report_->errors.AddNote("replies still outstanding at the drain deadline");
  for (auto& st : states_) st->session->on_reply = nullptr;
  report_->elapsed_s =
      measuring_ ? static_cast<double>(last_measured_reply_ns_ - measure_start_ns_) / 1e9 : 0;
  report_->stopped_by = count_reached_ ? "count" : "time";
  for (int k = 0; k < kOpKindCount; ++k) {
    if (o_.mix.weights[k] == 0 && latency_[k].count() == 0) continue;
    report_->ops.push_back(OpResult{std::string(OpKindName(static_cast<OpKind>(k))), latency_[k]});
  }
  report_->ops.push_back(OpResult{"total", total_});
}

void OpsRun::Cleanup() {
  std::vector<std::string> paths;
  for (uint64_t entry : pool_) {
    paths.push_back(CreatedPath(static_cast<int>(entry >> 32), static_cast<uint32_t>(entry)));
  }
  paths.insert(paths.end(), keys_.begin(), keys_.end());
  std::vector<Session*> live;
  for (Session* s : sessions_) {
    if (s->connected()) live.push_back(s);
  }
  if (live.empty()) return;
  int64_t deadline = NowNs() + SecondsToNs(kSetupTimeoutSeconds);
  auto del = [&](const std::string& p) {
    return std::make_pair(jute::OpCode::kDelete, jute::RequestBody(jute::DeleteRequest{p, -1}));
  };
  RunBatch(
      *runner_, live, paths.size(), [&](size_t i) { return del(paths[i]); }, kSetupWindow, {},
      deadline, &report_->errors);
  std::vector<std::string> dirs = {run_ + "/c", run_};
  for (const std::string& d : dirs) {
    if (!live[0]->connected()) break;
    RunBatch(
        *runner_, {live[0]}, 1, [&](size_t) { return del(d); }, 1, {}, deadline, &report_->errors);
  }
}

}  // namespace

Report RunOps(const Options& o, const std::vector<Endpoint>& servers) {
  Report report;
  report.mode = "ops";
  report.params = {{"sessions", absl::StrCat(o.sessions)},
                   {"outstanding", absl::StrCat(o.outstanding)},
                   {"mix", o.mix.ToString()},
                   {"value_size", absl::StrCat(o.value_size)},
                   {"keys", absl::StrCat(o.keys)},
                   {"servers", absl::StrCat(servers.size())}};
  if (o.rate > 0) report.params.emplace_back("rate", absl::StrCat(o.rate));
  if (o.mix.Weight(OpKind::kMulti) > 0)
    report.params.emplace_back("multi_size", absl::StrCat(o.multi_size));
  OpsRun(o, servers, &report).Run();
  return report;
}

}  // namespace ensemble::bench

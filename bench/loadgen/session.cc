#include "bench/loadgen/session.h"

#include <algorithm>

#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "common/base/check.h"
#include "common/base/rng.h"
#include "common/jute/zoo_defs.h"

namespace ensemble::bench {

Session::Session(EventLoop* loop, Endpoint server, ZkConnection::Config config)
    : connection_(loop, this, std::move(server), config) {}

void Session::Call(jute::OpCode op, const jute::RequestBody& body, uint64_t tag, ReplyFn fn) {
  connection_.Send(op, body, tag);
  callbacks_.push_back(std::move(fn));
}

void Session::Close(ReplyFn fn) {
  connection_.SendClose(0);
  callbacks_.push_back(std::move(fn));
}

void Session::Abort() {
  connection_.Abort();
  callbacks_.clear();
}

void Session::Dispatch(const Reply& reply) {
  ENSEMBLE_CHECK(!callbacks_.empty());
  ReplyFn fn = std::move(callbacks_.front());
  callbacks_.pop_front();
  if (fn) {
    fn(reply);
  } else if (on_reply) {
    on_reply(reply);
  }
}

void Session::OnConnected(ZkConnection&, int64_t now_ns) {
  connected_ns_ = now_ns;
  close_status_ = absl::OkStatus();
  if (on_connected) on_connected(now_ns);
}

void Session::OnReply(ZkConnection&, const ZkConnection::Sent& sent,
                      const jute::ReplyHeader& header, std::string_view payload, int64_t now_ns) {
  Dispatch(Reply{sent, header, payload, now_ns});
}

void Session::OnNotification(ZkConnection&, const jute::WatcherEvent& event, int64_t now_ns) {
  if (on_notification) on_notification(event, now_ns);
}

void Session::OnClosed(ZkConnection&, const absl::Status& status,
                       std::vector<ZkConnection::Sent> lost, int64_t now_ns) {
  close_status_ = status;
  jute::ReplyHeader header{0, 0, jute::ToInt(jute::ZkError::kConnectionLoss)};
  for (const ZkConnection::Sent& sent : lost) {
    header.xid = sent.xid;
    Dispatch(Reply{sent, header, {}, now_ns});
  }
  callbacks_.clear();
  if (on_closed) on_closed(status, now_ns);
}

void Runner::Untrack(Session* s) {
  tracked_.erase(std::remove(tracked_.begin(), tracked_.end(), s), tracked_.end());
}

bool Runner::RunUntil(const std::function<bool()>& done, int64_t deadline_ns, int max_wait_ms) {
  while (!done()) {
    int64_t now = NowNs();
    if (now >= deadline_ns) return false;
    if (now - last_tick_ns_ > 100'000'000) {
      last_tick_ns_ = now;
      for (Session* s : tracked_) s->connection().Tick(now);
    }
    int64_t wait_ms = std::clamp<int64_t>((deadline_ns - now) / 1'000'000, 0, max_wait_ms);
    loop_->RunOnce(static_cast<int>(wait_ms));
  }
  return true;
}

size_t Runner::ConnectAll(const std::vector<Session*>& sessions, int concurrency,
                          int64_t deadline_ns, ErrorCounts* errors) {
  enum : char { kNotStarted, kInFlight, kFinished };
  std::vector<char> state(sessions.size(), kNotStarted);
  size_t next = 0, in_flight = 0, finished = 0, connected = 0;
  auto step = [&] {
    for (size_t i = 0; i < next; ++i) {
      if (state[i] != kInFlight) continue;
      ZkConnection::State s = sessions[i]->connection().state();
      if (s == ZkConnection::State::kConnecting) continue;
      state[i] = kFinished;
      --in_flight;
      ++finished;
      if (s == ZkConnection::State::kConnected) {
        ++connected;
      } else {
        errors->AddNote(absl::StrCat("connect: ", sessions[i]->close_status().message()));
      }
    }
    while (next < sessions.size() && in_flight < static_cast<size_t>(concurrency)) {
      absl::Status st = sessions[next]->connection().Start();
      if (st.ok()) {
        state[next] = kInFlight;
        ++in_flight;
      } else {
        errors->AddNote(absl::StrCat("connect: ", st.message()));
        state[next] = kFinished;
        ++finished;
      }
      ++next;
    }
    return finished == sessions.size();
  };
  RunUntil(step, deadline_ns);
  for (size_t i = 0; i < sessions.size(); ++i) {
    if (state[i] == kFinished) continue;
    sessions[i]->Abort();
    errors->AddNote("connect: no session within the connect timeout");
  }
  for (Session* s : sessions) {
    if (s->connected()) Track(s);
  }
  return connected;
}

size_t RunBatch(Runner& runner, const std::vector<Session*>& sessions, size_t n,
                const RequestMaker& make, int window, const std::vector<jute::ZkError>& accepted,
                int64_t deadline_ns, ErrorCounts* errors) {
  ENSEMBLE_CHECK(!sessions.empty());
  size_t ok = 0, replied = 0;
  std::vector<size_t> next(sessions.size());
  std::vector<int> in_flight(sessions.size(), 0);
  for (size_t s = 0; s < sessions.size(); ++s) next[s] = s;
  std::function<void(size_t)> fill = [&](size_t s) {
    Session* session = sessions[s];
    while (in_flight[s] < window && next[s] < n && session->connected()) {
      auto [op, body] = make(next[s]);
      next[s] += sessions.size();
      ++in_flight[s];
      session->Call(op, body, 0, [&, s](const Reply& r) {
        --in_flight[s];
        ++replied;
        jute::ZkError err = ReplyError(r);
        if (err == jute::ZkError::kOk ||
            std::find(accepted.begin(), accepted.end(), err) != accepted.end()) {
          ++ok;
        } else {
          errors->Add(jute::OpCodeName(r.sent.op), jute::ToInt(err));
        }
        fill(s);
      });
    }
  };
  for (size_t s = 0; s < sessions.size(); ++s) fill(s);
  auto all_done = [&] {
    for (size_t s = 0; s < sessions.size(); ++s) {
      if (in_flight[s] > 0) return false;
      if (next[s] < n && sessions[s]->connected()) return false;
    }
    return true;
  };
  runner.RunUntil(all_done, deadline_ns);
  if (replied < n) {
    errors->AddNote(absl::StrCat("batch: ", n - replied, " of ", n,
                                 " requests without a reply (deadline or lost session)"));
  }
  // The callbacks still queued refer to this frame: drop those sessions.
  for (size_t s = 0; s < sessions.size(); ++s) {
    if (in_flight[s] > 0) sessions[s]->Abort();
  }
  return ok;
}

void CloseAll(Runner& runner, const std::vector<Session*>& sessions, int64_t deadline_ns,
              ErrorCounts* errors) {
  std::vector<Session*> closing;
  for (Session* s : sessions) {
    if (s->connected()) {
      s->Close();
      closing.push_back(s);
    }
  }
  runner.RunUntil(
      [&] {
        for (Session* s : closing) {
          if (!s->closed()) return false;
        }
        return true;
      },
      deadline_ns);
  for (Session* s : closing) {
    if (!s->closed()) {
      errors->AddNote("closeSession: no reply within the deadline");
      s->Abort();
    } else if (!s->close_status().ok()) {
      errors->AddNote(absl::StrCat("closeSession: ", s->close_status().message()));
    }
  }
  for (Session* s : sessions) runner.Untrack(s);
}

std::vector<jute::Acl> OpenAcl() {
  return {jute::Acl{jute::perms::kAll, jute::Id{"world", "anyone"}}};
}

jute::ZkError ReplyError(const Reply& reply) {
  if (reply.header.err != 0) return reply.error();
  if (reply.sent.op != jute::OpCode::kMulti) return jute::ZkError::kOk;
  auto response = jute::DecodeResponse(reply.payload, jute::OpCode::kMulti);
  if (!response.ok()) return jute::ZkError::kMarshallingError;
  const auto* multi = std::get_if<jute::MultiResponse>(&response->body);
  if (multi == nullptr) return jute::ZkError::kMarshallingError;
  for (const jute::MultiResult& result : multi->results) {
    if (const auto* e = std::get_if<jute::ErrorResponse>(&result); e && e->err != 0) {
      return static_cast<jute::ZkError>(e->err);
    }
  }
  return jute::ZkError::kOk;
}

std::string CreateRunDir(Runner& runner, Session& session, const std::string& root, uint64_t salt,
                         int64_t deadline_ns, ErrorCounts* errors) {
  std::vector<std::string> paths;
  for (size_t slash = root.find('/', 1); slash != std::string::npos;
       slash = root.find('/', slash + 1)) {
    paths.push_back(root.substr(0, slash));
  }
  paths.push_back(root);
  Rng rng(salt ^ static_cast<uint64_t>(NowNs()) ^ (static_cast<uint64_t>(getpid()) << 32));
  std::string run = absl::StrCat(root, "/r", absl::Hex(rng.Next() & 0xffffffffffff));
  paths.push_back(run);
  // One at a time: each parent must exist before its child.
  for (size_t i = 0; i < paths.size(); ++i) {
    bool last = i + 1 == paths.size();
    std::vector<jute::ZkError> accepted;
    if (!last) accepted.push_back(jute::ZkError::kNodeExists);
    size_t ok = RunBatch(
        runner, {&session}, 1,
        [&](size_t) {
          return std::make_pair(jute::OpCode::kCreate,
                                jute::RequestBody(jute::CreateRequest{paths[i], "", OpenAcl(), 0}));
        },
        1, accepted, deadline_ns, errors);
    if (ok != 1) return "";
  }
  return run;
}

}  // namespace ensemble::bench

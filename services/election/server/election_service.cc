#include "services/election/server/election_service.h"

#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/runtime/log.h"
#include "common/runtime/streams.h"

namespace ensemble::election {

using ensemble::election::v1::LeaderRequest;
using ensemble::election::v1::LeaderResponse;
using ensemble::election::v1::Notifications;
using ensemble::election::v1::ReelectRequest;
using ensemble::election::v1::ReelectResponse;
using NotifyServerStream = runtime::ServerStream<Notifications, Notifications>;

namespace {

constexpr int64_t kMaxWaitMs = 60000;
constexpr int kMaxNotificationsPerBatch = 1024;

}  // namespace

ElectionService::ElectionService(int64_t sid, std::set<int64_t> known_servers,
                                 ElectionDriver* driver)
    : sid_(sid), known_servers_(std::move(known_servers)), driver_(driver) {}

LeaderResponse ElectionService::StandaloneLeader(int64_t sid) {
  LeaderResponse r;
  r.set_leader(sid);
  r.set_state(ensemble::election::v1::PEER_STATE_LEADING);
  r.mutable_header()->set_server_id(sid);
  return r;
}

grpc::ServerBidiReactor<Notifications, Notifications>* ElectionService::Notify(
    grpc::CallbackServerContext* context) {
  if (driver_ == nullptr) {
    auto* reactor = NotifyServerStream::Start(
        context, [](const auto&, Notifications&&) {}, nullptr);
    reactor->Close(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                                "this peer runs standalone (a quorum of one)"));
    return reactor;
  }
  return NotifyServerStream::Start(
      context,
      [this](const std::shared_ptr<NotifyServerStream>& stream, Notifications&& batch) {
        // Validate the whole batch first: a peer that sends garbage loses its
        // stream, everyone else carries on.
        std::string error;
        const int64_t from = batch.sid();
        if (from == sid_ || !known_servers_.contains(from)) {
          error = absl::StrCat("sid ", from, " is not another server of the configuration");
        } else if (batch.notifications_size() > kMaxNotificationsPerBatch) {
          error = absl::StrCat("batch of ", batch.notifications_size(), " notifications");
        }
        std::vector<Notification> notifications;
        for (const auto& p : batch.notifications()) {
          if (!error.empty()) break;
          auto n = FromProto(p);
          if (!n.ok()) {
            error = std::string(n.status().message());
          } else if (n->sid != from) {
            error = absl::StrCat("notification from sid ", n->sid, " in a batch from sid ", from);
          } else {
            notifications.push_back(*n);
          }
        }
        std::optional<Notification> status;
        if (error.empty() && batch.has_status()) {
          auto s = FromProto(batch.status());
          if (!s.ok() || s->sid != from) {
            error = absl::StrCat("bad status in a batch from sid ", from);
          } else {
            status = *s;
          }
        }
        if (error.empty() && !BindStream(stream.get(), from)) {
          error = absl::StrCat("a stream of another sid now says sid ", from);
        }
        if (!error.empty()) {
          spdlog::warn("election.bad_batch peer={} error={}", stream->peer(), error);
          stream->Close(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, error));
          return;
        }
        driver_->OnBatch(from, std::move(notifications), std::move(status));
      },
      [this](const std::shared_ptr<NotifyServerStream>& stream) { StreamDone(stream.get()); });
}

bool ElectionService::BindStream(const void* stream, int64_t from) {
  std::lock_guard<std::mutex> lock(streams_mu_);
  auto [it, inserted] = stream_sid_.emplace(stream, from);
  if (inserted) ++open_streams_[from];
  return it->second == from;
}

void ElectionService::StreamDone(const void* stream) {
  int64_t sid = 0;
  {
    std::lock_guard<std::mutex> lock(streams_mu_);
    auto it = stream_sid_.find(stream);
    if (it == stream_sid_.end()) return;
    sid = it->second;
    stream_sid_.erase(it);
    if (--open_streams_[sid] > 0) return;
    open_streams_.erase(sid);
  }
  driver_->OnPeerDisconnected(sid);
}

grpc::ServerUnaryReactor* ElectionService::GetLeader(grpc::CallbackServerContext* context,
                                                     const LeaderRequest* request,
                                                     LeaderResponse* response) {
  auto* reactor = context->DefaultReactor();
  if (request->wait_ms() < 0 || request->wait_ms() > kMaxWaitMs) {
    reactor->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                 absl::StrCat("wait_ms must be in [0, ", kMaxWaitMs, "]")));
    return reactor;
  }
  if (driver_ == nullptr) {
    *response = StandaloneLeader(sid_);
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  driver_->RequestLeader(*request, [reactor, response](const LeaderResponse& r) {
    *response = r;
    reactor->Finish(grpc::Status::OK);
  });
  return reactor;
}

grpc::ServerUnaryReactor* ElectionService::Reelect(grpc::CallbackServerContext* context,
                                                   const ReelectRequest* request,
                                                   ReelectResponse* response) {
  auto* reactor = context->DefaultReactor();
  if (driver_ == nullptr) {
    response->set_restarted(false);
    *response->mutable_current() = StandaloneLeader(sid_);
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  driver_->RequestReelect(*request, [reactor, response](const ReelectResponse& r) {
    *response = r;
    reactor->Finish(grpc::Status::OK);
  });
  return reactor;
}

}  // namespace ensemble::election

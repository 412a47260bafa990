#include "services/replication/server/election_client.h"

#include <chrono>

#include "common/runtime/log.h"

namespace ensemble::zab {

namespace ev1 = ensemble::election::v1;

ElectionClient::ElectionClient(std::string address, DecisionHandler on_decision)
    : address_(std::move(address)), on_decision_(std::move(on_decision)) {}

ElectionClient::~ElectionClient() { Stop(); }

void ElectionClient::Start() {
  stub_ = ev1::Election::NewStub(grpc::CreateChannel(address_, grpc::InsecureChannelCredentials()));
  thread_ = std::thread([this] { Run(); });
}

void ElectionClient::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    if (waiting_call_ != nullptr) waiting_call_->TryCancel();
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ElectionClient::Reelect(const ElectionDecision& abandoned, std::string reason) {
  std::lock_guard<std::mutex> lock(mu_);
  reelect_.emplace(abandoned, std::move(reason));
  // Cut the long poll short so that the request goes out now.
  if (waiting_call_ != nullptr) waiting_call_->TryCancel();
}

void ElectionClient::Run() {
  std::optional<ElectionDecision> reported;
  ev1::LeaderResponse known;
  known.set_state(ev1::PEER_STATE_LOOKING);
  int64_t last_error_log_ms = -100000;
  while (true) {
    std::optional<std::pair<ElectionDecision, std::string>> reelect;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
      reelect = std::exchange(reelect_, std::nullopt);
    }
    if (reelect) {
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
      ev1::ReelectRequest request;
      request.set_leader(reelect->first.leader);
      request.set_election_epoch(reelect->first.election_epoch);
      request.set_reason(reelect->second);
      ev1::ReelectResponse response;
      grpc::Status status = stub_->Reelect(&ctx, request, &response);
      if (!status.ok()) {
        spdlog::warn("replication.reelect_failed address={} error=\"{}\"", address_,
                     status.error_message());
        std::lock_guard<std::mutex> lock(mu_);
        if (!reelect_) reelect_ = reelect;  // try again
      } else {
        spdlog::info("replication.reelect restarted={} reason=\"{}\"", response.restarted(),
                     reelect->second);
      }
      // The abandoned decision may be the current one still; wait for another.
      known.set_state(reelect->first.state);
      known.set_leader(reelect->first.leader);
      known.set_election_epoch(reelect->first.election_epoch);
      known.set_round(reelect->first.round);
    }
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(3));
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
      if (reelect_) continue;
      waiting_call_ = &ctx;
    }
    ev1::LeaderRequest request;
    request.set_wait_ms(1000);
    request.set_known_state(known.state());
    request.set_known_leader(known.leader());
    request.set_known_election_epoch(known.election_epoch());
    request.set_known_round(known.round());
    ev1::LeaderResponse response;
    grpc::Status status = stub_->GetLeader(&ctx, request, &response);
    {
      std::lock_guard<std::mutex> lock(mu_);
      waiting_call_ = nullptr;
    }
    if (!status.ok()) {
      if (status.error_code() == grpc::StatusCode::CANCELLED) continue;
      const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::steady_clock::now().time_since_epoch())
                              .count();
      if (now - last_error_log_ms >= 10000) {
        last_error_log_ms = now;
        spdlog::warn("replication.election_unreachable address={} error=\"{}\"", address_,
                     status.error_message());
      }
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, std::chrono::milliseconds(200), [&] { return stopping_; });
      continue;
    }
    known = response;
    if (response.state() == ev1::PEER_STATE_LOOKING || response.leader() == 0) continue;
    ElectionDecision decision{response.leader(), response.epoch(), response.election_epoch(),
                              response.state(), response.round()};
    if (reported && reported->SameAs(decision)) continue;
    reported = decision;
    on_decision_(decision);
  }
}

}  // namespace ensemble::zab

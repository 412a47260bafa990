#include "services/election/server/peer_transport.h"

#include <algorithm>

#include "common/runtime/log.h"

namespace ensemble::election {

using ensemble::election::v1::Notifications;

PeerTransport::PeerTransport(TransportOptions options)
    : options_(std::move(options)), rng_(options_.seed) {
  for (const auto& [sid, address] : options_.peers) {
    if (sid == options_.sid) continue;
    Link& link = links_[sid];
    link.address = address;
    link.backoff_ms = options_.reconnect_min_ms;
  }
}

PeerTransport::~PeerTransport() { Stop(); }

void PeerTransport::Stop() {
  for (auto& [sid, link] : links_) {
    if (link.stream) link.stream->Cancel();
    link.stream.reset();
  }
}

bool PeerTransport::connected(int64_t sid) const {
  auto it = links_.find(sid);
  return it != links_.end() && it->second.stream && !it->second.stream->done();
}

void PeerTransport::Send(int64_t to, const Notification& n) {
  auto it = links_.find(to);
  if (it == links_.end()) {
    ++stats_.dropped;
    return;
  }
  Link& link = it->second;
  link.queue.push_back(n);
  while (link.queue.size() > options_.queue_limit) {
    link.queue.pop_front();
    ++stats_.dropped;
  }
}

void PeerTransport::PeerAlive(int64_t sid) {
  auto it = links_.find(sid);
  if (it == links_.end()) return;
  Link& link = it->second;
  if (!link.stream || link.stream->done()) {
    link.reopen_now = true;
    link.backoff_ms = options_.reconnect_min_ms;
  }
}

void PeerTransport::Open(int64_t sid, Link& link, int64_t now_ms) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  link.stub = ensemble::election::v1::Election::NewStub(
      grpc::CreateCustomChannel(link.address, grpc::InsecureChannelCredentials(), args));
  auto* stub = link.stub.get();
  link.stream = NotifyClientStream::Open(
      [stub](grpc::ClientContext* context,
             grpc::ClientBidiReactor<Notifications, Notifications>* reactor) {
        stub->async()->Notify(context, reactor);
      },
      [](Notifications&&) {},  // nothing flows back on this stream
      [sid](const grpc::Status& status) {
        spdlog::debug("election.peer_stream_ended sid={} code={} error={}", sid,
                      static_cast<int>(status.error_code()), status.error_message());
      });
  link.opened_ms = now_ms;
  link.last_batch_ms = 0;  // announce ourselves at once
  link.busy_since_ms = -1;
  link.resend_last = link.last_sent.has_value();
}

void PeerTransport::Flush(int64_t now_ms, const Notification& status) {
  stats_.connected = 0;
  for (auto& [sid, link] : links_) {
    Flush(sid, link, now_ms, status);
    if (link.stream) ++stats_.connected;
  }
}

void PeerTransport::Flush(int64_t sid, Link& link, int64_t now_ms, const Notification& status) {
  if (link.stream && link.stream->done()) {
    // A stream that lived a while was a working connection: start the
    // back-off afresh; otherwise double it.
    if (now_ms - link.opened_ms >= options_.reconnect_max_ms) {
      link.backoff_ms = options_.reconnect_min_ms;
    } else {
      link.backoff_ms = std::min(link.backoff_ms * 2, options_.reconnect_max_ms);
    }
    const int64_t jitter =
        static_cast<int64_t>(rng_.Uniform(static_cast<uint64_t>(link.backoff_ms / 4 + 1)));
    link.next_open_ms = now_ms + link.backoff_ms + jitter;
    link.stream.reset();
  }
  if (!link.stream) {
    if (now_ms < link.next_open_ms && !link.reopen_now) return;
    link.reopen_now = false;
    Open(sid, link, now_ms);
  }
  const size_t queued = link.stream->queued();
  if (queued == 0) {
    link.busy_since_ms = -1;
  } else if (link.busy_since_ms < 0) {
    link.busy_since_ms = now_ms;
  } else if (now_ms - link.busy_since_ms > options_.stall_ms) {
    spdlog::warn("election.peer_stream_stalled sid={} address={} queued={}", sid, link.address,
                 queued);
    ++stats_.stalls;
    link.stream->Cancel();  // done() follows; the next Flush reopens after back-off
    link.busy_since_ms = -1;
    return;
  }
  if (queued >= options_.max_batches_in_flight) return;
  const bool heartbeat_due = now_ms - link.last_batch_ms >= options_.heartbeat_ms;
  if (link.queue.empty() && !link.resend_last && !heartbeat_due) return;
  Notifications batch;
  batch.set_sid(options_.sid);
  *batch.mutable_status() = ToProto(status);
  if (link.queue.empty() && link.resend_last) {
    *batch.add_notifications() = ToProto(*link.last_sent);
  }
  link.resend_last = false;
  for (const Notification& n : link.queue) *batch.add_notifications() = ToProto(n);
  if (!link.queue.empty()) link.last_sent = link.queue.back();
  const int count = batch.notifications_size();
  link.queue.clear();
  if (link.stream->Send(std::move(batch))) {
    stats_.sent += count;
    ++stats_.batches;
  } else {
    stats_.dropped += count;  // the stream is closing; the next one repeats last_sent
    link.resend_last = link.last_sent.has_value();
  }
  link.last_batch_ms = now_ms;
}

}  // namespace ensemble::election

#include "services/replication/server/peer_links.h"

#include <algorithm>

#include "common/runtime/log.h"

namespace ensemble::zab {

using ensemble::replication::v1::PeerMessage;
using ensemble::replication::v1::PeerMessages;

PeerLinks::PeerLinks(PeerLinksOptions options, LostHandler on_lost)
    : options_(std::move(options)), on_lost_(std::move(on_lost)), rng_(options_.seed) {
  for (const auto& [sid, address] : options_.peers) {
    if (sid == options_.sid) continue;
    Link& link = links_[sid];
    link.address = address;
    link.backoff_ms = options_.reconnect_min_ms;
  }
}

PeerLinks::~PeerLinks() { Stop(); }

void PeerLinks::Stop() {
  for (auto& [sid, link] : links_) {
    if (link.stream) link.stream->Cancel();
    link.stream.reset();
  }
}

bool PeerLinks::connected(int64_t sid) const {
  auto it = links_.find(sid);
  return it != links_.end() && it->second.stream && !it->second.stream->done() &&
         it->second.established->load();
}

void PeerLinks::Send(int64_t to, PeerMessage message) {
  auto it = links_.find(to);
  if (it == links_.end()) {
    ++stats_.dropped;
    return;
  }
  it->second.queue.push_back(std::move(message));
}

void PeerLinks::PeerAlive(int64_t sid) {
  auto it = links_.find(sid);
  if (it == links_.end()) return;
  Link& link = it->second;
  if (!link.stream || link.stream->done()) {
    link.reopen_now = true;
    link.backoff_ms = options_.reconnect_min_ms;
  }
}

void PeerLinks::Open(int64_t sid, Link& link, int64_t now_ms) {
  grpc::ChannelArguments args;
  // A fresh subchannel per attempt: gRPC's own reconnect back-off never adds
  // to ours.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetMaxReceiveMessageSize(kMaxPeerMessageBytes);
  args.SetMaxSendMessageSize(kMaxPeerMessageBytes);
  link.stub = ensemble::replication::v1::Replication::NewStub(
      grpc::CreateCustomChannel(link.address, grpc::InsecureChannelCredentials(), args));
  auto* stub = link.stub.get();
  auto established = std::make_shared<std::atomic<bool>>(false);
  link.established = established;
  LostHandler on_lost = on_lost_;
  link.stream = PeerClientStream::Open(
      [stub](grpc::ClientContext* context,
             grpc::ClientBidiReactor<PeerMessages, PeerMessages>* reactor) {
        stub->async()->Peer(context, reactor);
      },
      // The server's hello: the stream reached a live replication service.
      [established](PeerMessages&&) { established->store(true); },
      [sid, established, on_lost](const grpc::Status& status) {
        if (!established->load()) return;
        spdlog::info("replication.peer_stream_lost sid={} code={} error=\"{}\"", sid,
                     static_cast<int>(status.error_code()), status.error_message());
        on_lost(sid);
      });
  PeerMessages hello;
  hello.set_sid(options_.sid);
  link.stream->Send(std::move(hello));
  link.opened_ms = now_ms;
  ++stats_.reconnects;
}

void PeerLinks::Flush(int64_t now_ms) {
  for (auto& [sid, link] : links_) {
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
    if (!link.stream && (now_ms >= link.next_open_ms || link.reopen_now)) {
      link.reopen_now = false;
      Open(sid, link, now_ms);
    }
    if (link.queue.empty()) continue;
    if (!link.stream) {
      stats_.dropped += static_cast<int64_t>(link.queue.size());
      link.queue.clear();
      continue;
    }
    PeerMessages batch;
    size_t batch_bytes = 0;
    auto send = [&] {
      if (batch.messages_size() == 0) return;
      batch.set_sid(options_.sid);
      stats_.messages += batch.messages_size();
      stats_.bytes += static_cast<int64_t>(batch_bytes);
      ++stats_.batches;
      if (!link.stream->Send(std::move(batch))) stats_.dropped += batch.messages_size();
      batch = PeerMessages();
      batch_bytes = 0;
    };
    for (auto& message : link.queue) {
      for (auto& part : ChunkForTransport(std::move(message))) {
        const size_t bytes = part.ByteSizeLong();
        if (batch_bytes + bytes > kMaxBatchBytes) send();
        *batch.add_messages() = std::move(part);
        batch_bytes += bytes;
      }
    }
    send();
    link.queue.clear();
  }
}

std::vector<PeerMessage> ChunkForTransport(PeerMessage message, size_t chunk_bytes) {
  std::vector<PeerMessage> parts;
  if (message.type() != ensemble::replication::v1::PEER_MESSAGE_TYPE_SNAP ||
      message.snapshot().size() <= chunk_bytes) {
    parts.push_back(std::move(message));
    return parts;
  }
  std::string snapshot = std::move(*message.mutable_snapshot());
  message.clear_snapshot();
  for (size_t offset = 0; offset < snapshot.size(); offset += chunk_bytes) {
    PeerMessage part;
    if (offset == 0) {
      part = message;
    } else {
      part.set_type(message.type());
      part.set_sid(message.sid());
      part.set_conn(message.conn());
    }
    part.set_snapshot(snapshot.substr(offset, chunk_bytes));
    part.set_snapshot_more(offset + chunk_bytes < snapshot.size());
    parts.push_back(std::move(part));
  }
  return parts;
}

std::optional<PeerMessage> SnapshotAssembler::Add(PeerMessage message) {
  const bool snap = message.type() == ensemble::replication::v1::PEER_MESSAGE_TYPE_SNAP;
  if (!snap) {
    // A chunked SNAP interrupted by another message was cut off (a stream
    // broke): drop the partial one, the core asks again.
    partial_.reset();
    return message;
  }
  if (!partial_) {
    if (!message.snapshot_more()) return message;
    partial_ = std::move(message);
    return std::nullopt;
  }
  partial_->mutable_snapshot()->append(message.snapshot());
  if (message.snapshot_more()) return std::nullopt;
  partial_->set_snapshot_more(false);
  std::optional<PeerMessage> whole = std::move(partial_);
  partial_.reset();
  return whole;
}

}  // namespace ensemble::zab

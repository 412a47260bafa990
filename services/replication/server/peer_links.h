#pragma once

// The network between the replication services of the peers: one outgoing
// Replication.Peer stream to every other server, written only (its reverse
// direction carries a single hello), reopened with back-off when it ends.
// Each peer receives on the streams the others opened to it (the service's
// Peer handler, which hands batches to the driver). ZAB's messages to one
// peer keep their order (one stream), and the core tolerates what a broken
// stream loses (docs/zab.md, "Connections, loss and duplicates").
//
// Messages are queued per destination and flushed as one PeerMessages batch
// per destination; batches are split so that none exceeds kMaxBatchBytes, and
// a SNAP whose snapshot is larger is cut into chunks (PeerMessage.
// snapshot_more) that the receiver joins again (SnapshotAssembler).
//
// Thread-compatible: owned by the replication driver's thread. Stream
// callbacks run on gRPC threads and only call the handlers given here.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/base/rng.h"
#include "common/runtime/streams.h"
#include "ensemble/replication.grpc.pb.h"

namespace ensemble::zab {

using PeerClientStream = runtime::ClientStream<ensemble::replication::v1::PeerMessages,
                                               ensemble::replication::v1::PeerMessages>;
using PeerServerStream = runtime::ServerStream<ensemble::replication::v1::PeerMessages,
                                               ensemble::replication::v1::PeerMessages>;

// gRPC message limit on peer channels and the Peer service; batches stay far
// below it (kMaxBatchBytes), so a large snapshot or DIFF never hits it.
inline constexpr int kMaxPeerMessageBytes = 64 << 20;
inline constexpr size_t kMaxBatchBytes = 4 << 20;
inline constexpr size_t kSnapshotChunkBytes = 2 << 20;

struct PeerLinksOptions {
  int64_t sid = 0;
  std::map<int64_t, std::string> peers;  // sid -> replication address, every other server
  int64_t reconnect_min_ms = 50;
  int64_t reconnect_max_ms = 1000;
  uint64_t seed = 1;
};

class PeerLinks {
 public:
  // `on_lost(sid)`: an outgoing stream that had been established
  // (the peer said hello) ended. Called on a gRPC thread.
  using LostHandler = std::function<void(int64_t sid)>;

  PeerLinks(PeerLinksOptions options, LostHandler on_lost);
  ~PeerLinks();
  PeerLinks(const PeerLinks&) = delete;
  PeerLinks& operator=(const PeerLinks&) = delete;

  // Queues `message` for `to` (unknown peers: dropped and counted).
  void Send(int64_t to, ensemble::replication::v1::PeerMessage message);
  // Writes what is queued, and (re)opens streams whose back-off has passed.
  // Messages queued for a peer whose stream is down are dropped: ZAB repeats
  // or repairs what matters once the stream is back.
  void Flush(int64_t now_ms);
  // `sid` opened a stream to us: if ours to it is down, reopen it at the next
  // Flush without waiting out the back-off.
  void PeerAlive(int64_t sid);
  void Stop();

  bool connected(int64_t sid) const;
  struct Stats {
    int64_t batches = 0;
    int64_t messages = 0;
    int64_t bytes = 0;
    int64_t dropped = 0;
    int64_t reconnects = 0;
  };
  const Stats& stats() const { return stats_; }

 private:
  struct Link {
    std::string address;
    std::unique_ptr<ensemble::replication::v1::Replication::Stub> stub;
    std::shared_ptr<PeerClientStream> stream;
    std::shared_ptr<std::atomic<bool>> established;
    int64_t opened_ms = 0;
    int64_t next_open_ms = 0;
    int64_t backoff_ms = 0;
    bool reopen_now = false;
    std::vector<ensemble::replication::v1::PeerMessage> queue;
  };
  void Open(int64_t sid, Link& link, int64_t now_ms);

  const PeerLinksOptions options_;
  LostHandler on_lost_;
  Rng rng_;
  std::map<int64_t, Link> links_;
  Stats stats_;
};

// Cuts a SNAP message into chunks of at most kSnapshotChunkBytes of snapshot
// (every chunk but the last has snapshot_more set; the first carries the other
// fields). Other messages come back unchanged, as one.
std::vector<ensemble::replication::v1::PeerMessage> ChunkForTransport(
    ensemble::replication::v1::PeerMessage message, size_t chunk_bytes = kSnapshotChunkBytes);

// The receiving side of ChunkForTransport, per sender: feed every message in
// order; a whole message comes out (SNAP chunks are joined first).
class SnapshotAssembler {
 public:
  std::optional<ensemble::replication::v1::PeerMessage> Add(
      ensemble::replication::v1::PeerMessage message);
  void Reset() { partial_.reset(); }

 private:
  std::optional<ensemble::replication::v1::PeerMessage> partial_;
};

}  // namespace ensemble::zab

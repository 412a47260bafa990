#pragma once

// SimNetwork: the links between simulated peers (TigerBeetle's
// packet_simulator, etcd raft_test's network). Each directed link is FIFO,
// like the gRPC stream it stands for; faults are injected per message (loss),
// as replays (a duplicate delivered later, out of order), per link
// (partitions, one-way cuts) and per peer (a crash drops what is in flight).
// Time is the simulator's step counter.
//
// Deterministic: one seeded Rng; ties broken by send order.

#include <cstdint>
#include <functional>
#include <map>
#include <queue>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/base/rng.h"
#include "ensemble/replication.pb.h"
#include "services/election/core/vote.h"

namespace ensemble::sim {

struct NetworkOptions {
  uint64_t delay_min_steps = 1;
  uint64_t delay_mean_steps = 3;  // extra delay is uniform in [0, 2 * (mean - min)]
  uint32_t loss_per_mille = 0;
  uint32_t replay_per_mille = 0;  // a copy arrives again later
  uint64_t replay_delay_max_steps = 50;
};

// One message: ZAB (replication) or a fast-leader-election notification.
// Both kinds share the links, their delays, faults and partitions.
struct Packet {
  int64_t from = 0;
  int64_t to = 0;
  bool election = false;
  ensemble::replication::v1::PeerMessage message;  // !election
  ensemble::election::Notification notification;   // election
};

class SimNetwork {
 public:
  SimNetwork(uint64_t seed, NetworkOptions options) : rng_(seed), options_(options) {}

  void set_options(const NetworkOptions& options) { options_ = options; }
  const NetworkOptions& options() const { return options_; }

  // Queues a message; it may be lost or duplicated. `now` in steps.
  void Send(int64_t from, int64_t to, ensemble::replication::v1::PeerMessage message, uint64_t now);
  void SendElection(int64_t from, int64_t to, const ensemble::election::Notification& n,
                    uint64_t now);
  // Every packet due at or before `now` on an open link, in delivery order.
  // Packets on a cut link are dropped when due.
  std::vector<Packet> TakeDue(uint64_t now);

  // A crashed peer's connections die with everything in flight.
  void DropInFlight(int64_t sid);

  // Links. A cut is directed; Cut(a, b) and Cut(b, a) make a partition.
  void Cut(int64_t from, int64_t to) { cut_.insert({from, to}); }
  void Isolate(int64_t sid, const std::vector<int64_t>& all);
  void Partition(const std::vector<int64_t>& side_a, const std::vector<int64_t>& side_b);
  void HealAll() { cut_.clear(); }
  bool Open(int64_t from, int64_t to) const { return cut_.count({from, to}) == 0; }
  bool Connected(int64_t a, int64_t b) const { return Open(a, b) && Open(b, a); }
  size_t cut_count() const { return cut_.size(); }

  // Drops a message when it returns true (scenario tests).
  std::function<bool(const Packet&)> filter;

  size_t in_flight() const { return queue_.size(); }
  // The busiest links in flight, e.g. "2->3 election x51234, ..." (for a
  // storm's report).
  std::string BusiestLinks(size_t n) const;
  uint64_t sent() const { return sent_; }
  uint64_t lost() const { return lost_; }
  uint64_t replayed() const { return replayed_; }

 private:
  struct Scheduled {
    uint64_t at;
    uint64_t seq;
    Packet packet;
    uint64_t from_generation;
    uint64_t to_generation;
    bool operator>(const Scheduled& o) const { return at != o.at ? at > o.at : seq > o.seq; }
  };
  uint64_t Delay();
  void Enqueue(Packet packet, uint64_t now);

  Rng rng_;
  NetworkOptions options_;
  std::priority_queue<Scheduled, std::vector<Scheduled>, std::greater<Scheduled>> queue_;
  std::map<std::pair<int64_t, int64_t>, uint64_t> link_busy_until_;
  std::set<std::pair<int64_t, int64_t>> cut_;
  std::map<int64_t, uint64_t> generation_;  // bumps on DropInFlight
  uint64_t seq_ = 0;
  uint64_t sent_ = 0;
  uint64_t lost_ = 0;
  uint64_t replayed_ = 0;
};

}  // namespace ensemble::sim

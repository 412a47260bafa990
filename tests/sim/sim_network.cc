#include "tests/sim/sim_network.h"

#include <algorithm>
#include <tuple>

#include <utility>
#include "absl/strings/str_cat.h"

namespace ensemble::sim {

uint64_t SimNetwork::Delay() {
  uint64_t spread = options_.delay_mean_steps > options_.delay_min_steps
                        ? 2 * (options_.delay_mean_steps - options_.delay_min_steps)
                        : 0;
  return options_.delay_min_steps + (spread > 0 ? rng_.Uniform(spread + 1) : 0);
}

void SimNetwork::Send(int64_t from, int64_t to, ensemble::replication::v1::PeerMessage message,
                      uint64_t now) {
  Packet packet;
  packet.from = from;
  packet.to = to;
  packet.message = std::move(message);
  Enqueue(std::move(packet), now);
}

void SimNetwork::SendElection(int64_t from, int64_t to, const ensemble::election::Notification& n,
                              uint64_t now) {
  Packet packet;
  packet.from = from;
  packet.to = to;
  packet.election = true;
  packet.notification = n;
  Enqueue(std::move(packet), now);
}

void SimNetwork::Enqueue(Packet packet, uint64_t now) {
  ++sent_;
  if (options_.loss_per_mille > 0 && rng_.Uniform(1000) < options_.loss_per_mille) {
    ++lost_;
    return;
  }
  const uint64_t from_gen = generation_[packet.from];
  const uint64_t to_gen = generation_[packet.to];
  if (options_.replay_per_mille > 0 && rng_.Uniform(1000) < options_.replay_per_mille) {
    // A copy outside the link's FIFO order: a late duplicate.
    ++replayed_;
    uint64_t at = now + Delay() + 1 + rng_.Uniform(options_.replay_delay_max_steps + 1);
    queue_.push(Scheduled{at, seq_++, packet, from_gen, to_gen});
  }
  uint64_t& busy = link_busy_until_[{packet.from, packet.to}];
  uint64_t at = std::max(now + Delay(), busy);
  busy = at;
  queue_.push(Scheduled{at, seq_++, std::move(packet), from_gen, to_gen});
}

std::vector<Packet> SimNetwork::TakeDue(uint64_t now) {
  std::vector<Packet> out;
  while (!queue_.empty() && queue_.top().at <= now) {
    Scheduled s = queue_.top();
    queue_.pop();
    if (s.from_generation != generation_[s.packet.from] ||
        s.to_generation != generation_[s.packet.to]) {
      continue;  // the connection died with a crash
    }
    if (!Open(s.packet.from, s.packet.to)) continue;
    if (filter && filter(s.packet)) continue;
    out.push_back(std::move(s.packet));
  }
  return out;
}

void SimNetwork::DropInFlight(int64_t sid) { ++generation_[sid]; }

std::string SimNetwork::BusiestLinks(size_t n) const {
  std::map<std::tuple<int64_t, int64_t, bool>, size_t> counts;
  auto copy = queue_;
  while (!copy.empty()) {
    const Packet& p = copy.top().packet;
    ++counts[{p.from, p.to, p.election}];
    copy.pop();
  }
  std::vector<std::pair<size_t, std::tuple<int64_t, int64_t, bool>>> sorted;
  for (const auto& [link, count] : counts) sorted.emplace_back(count, link);
  std::sort(sorted.rbegin(), sorted.rend());
  std::string out;
  for (size_t i = 0; i < sorted.size() && i < n; ++i) {
    const auto& [from, to, election] = sorted[i].second;
    out += absl::StrCat(i ? ", " : "", from, "->", to, election ? " election x" : " zab x",
                        sorted[i].first);
  }
  return out;
}

void SimNetwork::Isolate(int64_t sid, const std::vector<int64_t>& all) {
  for (int64_t other : all) {
    if (other == sid) continue;
    Cut(sid, other);
    Cut(other, sid);
  }
}

void SimNetwork::Partition(const std::vector<int64_t>& side_a, const std::vector<int64_t>& side_b) {
  for (int64_t a : side_a) {
    for (int64_t b : side_b) {
      Cut(a, b);
      Cut(b, a);
    }
  }
}

}  // namespace ensemble::sim

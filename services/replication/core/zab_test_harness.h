#pragma once

// Test-only driver for a few ZabPeers (header-only): an in-memory log per
// peer, FIFO links with optional cuts and filters, persists that complete at
// once or when released, and a record of everything each peer emitted. It
// executes Ready exactly as ready.h says, so the tests exercise the real core
// and the real contract; the tests/sim simulator does the same with faults,
// a real state machine and random schedules.

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/base/check.h"
#include "common/base/zxid.h"
#include "services/replication/core/zab_peer.h"

namespace ensemble::zab::testing {

namespace rv1 = ensemble::replication::v1;

inline ensemble::v1::Txn MakeWrite(int64_t session, int32_t cxid, const std::string& path) {
  ensemble::v1::Txn txn;
  txn.mutable_header()->set_session_id(session);
  txn.mutable_header()->set_cxid(cxid);
  txn.mutable_header()->set_type(1);  // create
  txn.mutable_op()->mutable_create()->set_path(path);
  return txn;
}

// A txn already ordered (for pre-filled logs).
inline ensemble::v1::Txn LoggedTxn(int64_t zxid) {
  ensemble::v1::Txn txn = MakeWrite(0, 0, "/pre");
  txn.mutable_header()->set_zxid(zxid);
  return txn;
}

// The durable state of one test peer.
struct TestDisk {
  std::map<int64_t, ensemble::v1::Txn> log;
  int64_t floor = 0;
  int64_t accepted_epoch = 0;
  int64_t current_epoch = 0;
  int64_t applied = 0;
  std::vector<int64_t> applied_zxids;

  int64_t last() const { return log.empty() ? floor : log.rbegin()->first; }

  PeerState ToPeerState() const {
    PeerState s;
    s.accepted_epoch = accepted_epoch;
    s.current_epoch = current_epoch;
    s.log_floor_zxid = floor;
    s.last_logged_zxid = last();
    std::map<int64_t, int64_t> ends;
    for (const auto& [zxid, txn] : log) ends[Zxid::Epoch(zxid)] = zxid;
    for (const auto& [e, z] : ends) s.epoch_last_zxids.push_back(z);
    s.last_applied_zxid = applied;
    return s;
  }

  // Pre-fills the log with `count` txns of `epoch` starting at counter 1.
  void Fill(int64_t epoch, int count) {
    for (int c = 1; c <= count; ++c) log[Zxid::Make(epoch, c)] = LoggedTxn(Zxid::Make(epoch, c));
  }
};

struct Delivery {
  int64_t from;
  int64_t to;
  rv1::PeerMessage message;
};

class Harness {
 public:
  // Peers 1..voters vote; voters+1..voters+observers observe. `disks` (by sid)
  // pre-set durable state.
  Harness(int voters, int observers = 0, std::map<int64_t, TestDisk> disks = {},
          std::function<void(ZabConfig&)> tweak = nullptr) {
    std::vector<int64_t> v, o;
    for (int i = 1; i <= voters; ++i) v.push_back(i);
    for (int i = voters + 1; i <= voters + observers; ++i) o.push_back(i);
    for (int i = 1; i <= voters + observers; ++i) {
      ZabConfig c;
      c.sid = i;
      c.voters = v;
      c.observers = o;
      c.init_limit_ticks = 10;
      c.sync_limit_ticks = 5;
      c.tick_ms = 100;
      c.conn_base = static_cast<uint64_t>(i) * 1000;
      if (tweak) tweak(c);
      configs_[i] = c;
      disks_[i] = disks.count(i) ? disks[i] : TestDisk();
      Start(i);
    }
  }

  ZabPeer& peer(int64_t sid) { return *peers_.at(sid); }
  TestDisk& disk(int64_t sid) { return disks_.at(sid); }
  std::vector<int64_t> sids() const {
    std::vector<int64_t> out;
    for (const auto& [sid, p] : peers_) out.push_back(sid);
    return out;
  }

  // Every message each peer has sent (after fills), in order.
  const std::vector<Delivery>& sent() const { return sent_; }
  std::vector<rv1::PeerMessage> SentBy(int64_t from, rv1::PeerMessageType type) const {
    std::vector<rv1::PeerMessage> out;
    for (const auto& d : sent_) {
      if (d.from == from && d.message.type() == type) out.push_back(d.message);
    }
    return out;
  }
  std::vector<rv1::PeerMessage> SentTo(int64_t to, rv1::PeerMessageType type) const {
    std::vector<rv1::PeerMessage> out;
    for (const auto& d : sent_) {
      if (d.to == to && d.message.type() == type) out.push_back(d.message);
    }
    return out;
  }
  const std::vector<SyncDone>& sync_done(int64_t sid) { return sync_done_[sid]; }
  const std::vector<ensemble::v1::Txn>& rejected(int64_t sid) { return rejected_[sid]; }
  const std::vector<std::string>& events(int64_t sid) { return events_[sid]; }
  bool looked_again(int64_t sid) const { return look_again_.count(sid) > 0; }
  void ClearLookAgain() { look_again_.clear(); }

  // Links.
  void Cut(int64_t a, int64_t b) {
    cut_.insert({a, b});
    cut_.insert({b, a});
  }
  void CutOneWay(int64_t from, int64_t to) { cut_.insert({from, to}); }
  void Isolate(int64_t sid) {
    for (int64_t other : sids()) {
      if (other != sid) Cut(sid, other);
    }
  }
  void HealAll() { cut_.clear(); }
  // Drops a message if this returns true.
  std::function<bool(const Delivery&)> drop;

  // Persist control: while held, a peer's persists stay pending.
  void HoldPersist(int64_t sid) { held_.insert(sid); }
  void ReleasePersist(int64_t sid) {
    held_.erase(sid);
    FlushPersists(sid);
    Drain();
  }

  void Crash(int64_t sid) {
    peers_.erase(sid);
    pending_persist_[sid].clear();
    std::deque<Delivery> keep;
    for (auto& d : inflight_) {
      if (d.from != sid && d.to != sid) keep.push_back(std::move(d));
    }
    inflight_ = std::move(keep);
  }
  void Restart(int64_t sid) {
    configs_[sid].conn_base += 100;
    Start(sid);
  }

  // Election stand-in: every LOOKING peer learns that `leader` leads.
  void Elect(int64_t leader) {
    for (auto& [sid, p] : peers_) {
      if (p->role() == Role::kLooking) p->ElectionFinished(ElectionResult{leader, 0});
    }
    Drain();
  }
  void ElectOnly(int64_t sid, int64_t leader) {
    peers_.at(sid)->ElectionFinished(ElectionResult{leader, 0});
    Drain();
  }

  // Processes every peer's Ready until none is left.
  void Drain() {
    for (int round = 0; round < 1000; ++round) {
      bool any = false;
      for (auto& [sid, p] : peers_) {
        while (p->HasReady()) {
          any = true;
          Handle(sid, p->GetReady());
          p->Advance();
        }
      }
      if (!any) return;
    }
    ENSEMBLE_CHECK(false);
  }

  // Delivers in-flight messages (FIFO) until the network is quiet.
  void Deliver(int max_messages = 100000) {
    Drain();
    while (!inflight_.empty() && max_messages-- > 0) {
      Delivery d = std::move(inflight_.front());
      inflight_.pop_front();
      auto it = peers_.find(d.to);
      if (it == peers_.end() || cut_.count({d.from, d.to}) || (drop && drop(d))) continue;
      it->second->Step(d.from, d.message);
      Drain();
    }
  }

  // Ticks every live peer once, then delivers.
  void TickAll(int n = 1) {
    for (int i = 0; i < n; ++i) {
      for (auto& [sid, p] : peers_) p->Tick();
      Deliver();
    }
  }
  void TickOnly(int64_t sid, int n = 1) {
    for (int i = 0; i < n; ++i) {
      peers_.at(sid)->Tick();
      Deliver();
    }
  }

  // Elects `leader` and runs until everyone serves (or fails).
  bool Establish(int64_t leader, int max_ticks = 30) {
    Elect(leader);
    for (int i = 0; i < max_ticks; ++i) {
      Deliver();
      bool all = true;
      for (auto& [sid, p] : peers_) all &= p->serving();
      if (all) return true;
      TickAll();
    }
    return false;
  }

  void Submit(int64_t sid, ensemble::v1::Txn txn) {
    peers_.at(sid)->Submit(std::move(txn));
    Deliver();
  }

 private:
  void Start(int64_t sid) {
    peers_[sid] = std::make_unique<ZabPeer>(configs_[sid], disks_[sid].ToPeerState());
    Drain();
  }

  struct PendingPersist {
    uint64_t seq;
    std::vector<OutMessage> after;
  };

  void Handle(int64_t sid, Ready rd) {
    for (auto& e : rd.events) events_[sid].push_back(e);
    if (rd.look_again) look_again_.insert(sid);
    for (auto& s : rd.sync_done) sync_done_[sid].push_back(s);
    for (auto& r : rd.rejected) rejected_[sid].push_back(r);
    // 1. persist: written at once, durable (PersistDone) when not held
    for (auto& pr : rd.to_persist) {
      Write(sid, pr);
      pending_persist_[sid].push_back({pr.seq, {}});
    }
    // 2. send now
    for (auto& m : rd.messages) Send(sid, std::move(m));
    // 3. after persist
    if (!rd.messages_after_persist.empty()) {
      if (pending_persist_[sid].empty()) {
        for (auto& m : rd.messages_after_persist) Send(sid, std::move(m));
      } else {
        auto& after = pending_persist_[sid].back().after;
        for (auto& m : rd.messages_after_persist) after.push_back(std::move(m));
      }
    }
    // 4. apply (only logged txns, in order)
    if (rd.commit_up_to > 0) Apply(sid, rd.commit_up_to);
    if (!held_.count(sid)) FlushPersists(sid);
  }

  void Write(int64_t sid, const PersistRequest& r) {
    TestDisk& d = disks_[sid];
    if (r.truncate_after_zxid) {
      ENSEMBLE_CHECK(*r.truncate_after_zxid >= d.applied);
      d.log.erase(d.log.upper_bound(*r.truncate_after_zxid), d.log.end());
    }
    if (r.snapshot) {
      d.log.clear();
      d.floor = r.snapshot->zxid;
      d.applied = r.snapshot->zxid;
    }
    for (const auto& txn : r.append) {
      ENSEMBLE_CHECK(txn.header().zxid() > d.last());
      d.log[txn.header().zxid()] = txn;
    }
    if (r.accepted_epoch) d.accepted_epoch = *r.accepted_epoch;
    if (r.current_epoch) d.current_epoch = *r.current_epoch;
  }

  void FlushPersists(int64_t sid) {
    auto& pending = pending_persist_[sid];
    while (!pending.empty()) {
      PendingPersist p = std::move(pending.front());
      pending.pop_front();
      auto it = peers_.find(sid);
      if (it != peers_.end()) it->second->PersistDone(p.seq);
      for (auto& m : p.after) Send(sid, std::move(m));
    }
  }

  void Apply(int64_t sid, int64_t upto) {
    TestDisk& d = disks_[sid];
    for (auto it = d.log.upper_bound(d.applied); it != d.log.end() && it->first <= upto; ++it) {
      d.applied = it->first;
      d.applied_zxids.push_back(it->first);
    }
    auto p = peers_.find(sid);
    if (p != peers_.end()) p->second->ApplyDone(d.applied);
  }

  void Send(int64_t from, OutMessage out) {
    const TestDisk& d = disks_[from];
    if (out.fill == OutMessage::Fill::kLogToSend) {
      for (auto it = d.log.upper_bound(out.message.prev_zxid());
           it != d.log.end() && it->first <= out.message.zxid(); ++it) {
        *out.message.add_txns() = it->second;
      }
    } else if (out.fill == OutMessage::Fill::kSnapshotToSend) {
      out.message.set_zxid(std::max(out.message.zxid(), d.applied));
      out.message.set_snapshot("snapshot");
    }
    Delivery delivery{from, out.to, std::move(out.message)};
    sent_.push_back(delivery);
    inflight_.push_back(std::move(delivery));
  }

  std::map<int64_t, ZabConfig> configs_;
  std::map<int64_t, TestDisk> disks_;
  std::map<int64_t, std::unique_ptr<ZabPeer>> peers_;
  std::deque<Delivery> inflight_;
  std::vector<Delivery> sent_;
  std::set<std::pair<int64_t, int64_t>> cut_;
  std::set<int64_t> held_;
  std::map<int64_t, std::deque<PendingPersist>> pending_persist_;
  std::map<int64_t, std::vector<SyncDone>> sync_done_;
  std::map<int64_t, std::vector<ensemble::v1::Txn>> rejected_;
  std::map<int64_t, std::vector<std::string>> events_;
  std::set<int64_t> look_again_;
};

}  // namespace ensemble::zab::testing

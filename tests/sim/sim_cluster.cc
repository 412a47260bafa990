#include "tests/sim/sim_cluster.h"

#include <algorithm>
#include <iterator>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/base/check.h"
#include "common/base/zxid.h"
#include "services/storage/snapshot/snapshot_reader.h"
#include "services/storage/snapshot/snapshot_writer.h"

namespace ensemble::sim {

namespace rv1 = ensemble::replication::v1;

namespace {
constexpr int32_t kOpCreate = 1;
constexpr int32_t kOpDelete = 2;
constexpr int32_t kOpSetData = 5;
constexpr int32_t kOpCreateSession = -10;
constexpr int32_t kOpCloseSession = -11;
constexpr size_t kTraceLines = 400;

uint64_t Mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  return h;
}

uint64_t HashString(const std::string& s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  return h;
}

bool Chance(Rng& rng, uint32_t per_mille) { return per_mille > 0 && rng.Uniform(1000) < per_mille; }

uint64_t Between(Rng& rng, uint64_t lo, uint64_t hi) {
  return hi <= lo ? lo : lo + rng.Uniform(hi - lo + 1);
}

}  // namespace

uint64_t TxnFingerprint(const ensemble::v1::Txn& txn) {
  const auto& h = txn.header();
  uint64_t f = 0;
  f = Mix(f, static_cast<uint64_t>(h.zxid()));
  f = Mix(f, static_cast<uint64_t>(h.session_id()));
  f = Mix(f, static_cast<uint64_t>(static_cast<uint32_t>(h.cxid())));
  f = Mix(f, static_cast<uint64_t>(h.time_ms()));
  f = Mix(f, static_cast<uint64_t>(static_cast<uint32_t>(h.type())));
  f = Mix(f, h.origin());
  std::string op;
  txn.op().SerializeToString(&op);
  return Mix(f, HashString(op));
}

// ---------------------------------------------------------------------------
// Options

SimOptions SimOptions::Swarm(uint64_t seed) {
  Rng r(seed ^ 0x5157a4d3u);
  SimOptions o;
  o.seed = seed;
  o.voters = 1 + static_cast<int>(r.Uniform(5));
  o.observers = static_cast<int>(r.Uniform(3));
  o.init_limit_ticks = 6 + static_cast<int32_t>(r.Uniform(10));
  o.sync_limit_ticks = 3 + static_cast<int32_t>(r.Uniform(5));
  o.log_cache_txns = r.OneIn(3) ? r.Uniform(16) : 1000;
  o.initial_counter_for_testing =
      r.OneIn(4) ? 0xffffffffLL - static_cast<int64_t>(r.Uniform(300)) : 0;
  o.net.delay_min_steps = 1 + r.Uniform(3);
  o.net.delay_mean_steps = o.net.delay_min_steps + r.Uniform(8);
  o.net.loss_per_mille = r.OneIn(3) ? 0 : (r.OneIn(6) ? r.Uniform(300) : r.Uniform(20));
  o.net.replay_per_mille = r.OneIn(3) ? static_cast<uint32_t>(r.Uniform(40)) : 0;
  o.net.replay_delay_max_steps = 10 + r.Uniform(100);
  o.partition_per_mille = r.OneIn(4) ? 0 : static_cast<uint32_t>(3 + r.Uniform(30));
  o.heal_per_mille = static_cast<uint32_t>(20 + r.Uniform(100));
  o.crash_per_mille = r.OneIn(3) ? 0 : static_cast<uint32_t>(2 + r.Uniform(15));
  o.restart_min_ticks = 2 + r.Uniform(10);
  o.restart_max_ticks = o.restart_min_ticks + r.Uniform(150);
  o.torn_writes = r.OneIn(2);
  o.fsync_min_steps = 1 + r.Uniform(3);
  o.fsync_max_steps = o.fsync_min_steps + r.Uniform(20);
  o.snapshot_every_txns = r.OneIn(2) ? 0 : 5 + r.Uniform(60);
  o.clients = 1 + static_cast<int>(r.Uniform(6));
  o.write_per_mille = static_cast<uint32_t>(100 + r.Uniform(700));
  o.sync_per_mille = static_cast<uint32_t>(r.Uniform(80));
  o.silence_per_mille = r.OneIn(3) ? static_cast<uint32_t>(r.Uniform(6)) : 0;
  o.session_timeout_ms = static_cast<int32_t>(2000 + r.Uniform(4000));
  o.chaos_ticks = 600 + r.Uniform(900);
  o.liveness_ticks = 40 * static_cast<uint64_t>(o.init_limit_ticks) + 400;
  o.client_timeout_ticks = 4 * static_cast<uint64_t>(o.init_limit_ticks) + 40;
  o.election_delay_max_ticks = 1 + r.Uniform(4);
  o.use_fle = !r.OneIn(5);
  return o;
}

std::string SimOptions::Describe() const {
  return absl::StrFormat(
      "seed=%d election=%s voters=%d observers=%d init_limit=%d sync_limit=%d cache=%d "
      "counter0=0x%x "
      "delay=%d..%d loss=%d/1000 replay=%d/1000 partition=%d/1000 heal=%d/1000 "
      "crash=%d/1000 restart=%d..%d torn=%d fsync=%d..%d snapshot_every=%d clients=%d "
      "write=%d/1000 sync=%d/1000 silence=%d/1000 session_timeout=%dms chaos=%d liveness=%d",
      seed, use_fle ? "fle" : "oracle", voters, observers, init_limit_ticks, sync_limit_ticks,
      log_cache_txns, initial_counter_for_testing, net.delay_min_steps, net.delay_mean_steps,
      net.loss_per_mille, net.replay_per_mille, partition_per_mille, heal_per_mille,
      crash_per_mille, restart_min_ticks, restart_max_ticks, torn_writes, fsync_min_steps,
      fsync_max_steps, snapshot_every_txns, clients, write_per_mille, sync_per_mille,
      silence_per_mille, session_timeout_ms, chaos_ticks, liveness_ticks);
}

std::string SimStats::Describe() const {
  return absl::StrFormat(
      "ticks=%d acked=%d abandoned=%d syncs=%d/%d crashes=%d partitions=%d established=%d "
      "rollovers=%d diff=%d trunc=%d snap=%d expired=%d lost_unsynced=%d",
      ticks, writes_acked, writes_abandoned, syncs_ok, syncs_ok + syncs_failed, crashes, partitions,
      establishments, rollovers, diffs, truncs, snaps, sessions_expired, lost_unsynced_writes);
}

// ---------------------------------------------------------------------------
// Construction

Cluster::Cluster(SimOptions options)
    : options_(options),
      rng_(Rng(options.seed).Derive()),
      disk_rng_(Rng(options.seed ^ 0xd15cULL).Derive()),
      network_(Rng(options.seed ^ 0x4e7ULL).Derive(), options.net) {
  ENSEMBLE_CHECK(options_.voters >= 1);
  for (int i = 1; i <= options_.voters; ++i) voter_sids_.push_back(i);
  for (int i = 1; i <= options_.observers; ++i) observer_sids_.push_back(options_.voters + i);
  quorum_ = std::make_shared<election::MajorityQuorum>(voter_sids_);
  for (int64_t sid : voter_sids_) peers_[sid].voter = true;
  for (int64_t sid : observer_sids_) peers_[sid].voter = false;
  for (auto& [sid, p] : peers_) {
    p.sid = sid;
    Start(p);
  }
  for (int i = 0; i < options_.clients; ++i) NewClient(false, PickHome());
}

Cluster::~Cluster() = default;

zab::ZabConfig Cluster::ConfigFor(int64_t sid, uint64_t incarnation) const {
  zab::ZabConfig c;
  c.sid = sid;
  c.voters = voter_sids_;
  c.observers = observer_sids_;
  c.init_limit_ticks = options_.init_limit_ticks;
  c.sync_limit_ticks = options_.sync_limit_ticks;
  c.tick_ms = options_.tick_ms;
  c.log_cache_txns = options_.log_cache_txns;
  // Distinct per peer and incarnation, as the real driver's random base is:
  // with equal bases two peers that (wrongly) follow each other after an
  // election race took each other's FOLLOWERINFO for their leader's traffic
  // and never timed out.
  c.conn_base = (static_cast<uint64_t>(sid) << 48) | (incarnation << 32);
  c.initial_counter_for_testing = options_.initial_counter_for_testing;
  auto quorum = quorum_;
  c.contains_quorum = [quorum](const std::set<int64_t>& sids) {
    return quorum->ContainsQuorum(sids);
  };
  return c;
}

void Cluster::Start(Peer& p) {
  ++p.incarnation;
  const SimTxnLog::State& d = p.disk.durable();
  // The storage restores the newest snapshot, then replays the log up to
  // what it knows is committed (never an uncommitted txn).
  if (!d.snapshots.empty()) {
    auto sm = storage::ReadSnapshot(*d.snapshots.rbegin()->second);
    ENSEMBLE_CHECK(sm.ok());
    p.sm = std::move(*sm);
  } else {
    p.sm = std::make_unique<storage::StateMachine>();
  }
  for (auto it = d.log.upper_bound(p.sm->last_applied_zxid());
       it != d.log.end() && it->first <= d.commit_mark; ++it) {
    p.sm->Apply(it->second);
  }
  zab::PeerState s;
  s.accepted_epoch = d.accepted_epoch;
  s.current_epoch = std::min(d.current_epoch, d.accepted_epoch);
  s.log_floor_zxid = d.floor;
  ENSEMBLE_CHECK(p.sm->last_applied_zxid() <= d.last());
  s.last_logged_zxid = d.last();
  std::map<int64_t, int64_t> ends;
  for (const auto& [zxid, txn] : d.log) ends[Zxid::Epoch(zxid)] = zxid;
  for (const auto& [epoch, zxid] : ends) s.epoch_last_zxids.push_back(zxid);
  s.last_applied_zxid = p.sm->last_applied_zxid();
  std::map<int64_t, int32_t> sessions;
  for (const auto& e : p.sm->sessions().List()) sessions[e.session_id] = e.timeout_ms;
  for (auto it = d.log.upper_bound(s.last_applied_zxid); it != d.log.end(); ++it) {
    const auto& h = it->second.header();
    if (h.type() == kOpCreateSession) {
      sessions[h.session_id()] = it->second.op().create_session().timeout_ms();
    } else if (h.type() == kOpCloseSession) {
      sessions.erase(h.session_id());
    }
  }
  for (const auto& [id, timeout] : sessions) {
    rv1::SessionTimeout st;
    st.set_session_id(id);
    st.set_timeout_ms(timeout);
    s.sessions.push_back(st);
  }
  p.zab = std::make_unique<zab::ZabPeer>(ConfigFor(p.sid, p.incarnation), s);
  if (options_.use_fle) {
    election::ElectionOptions eo;
    eo.sid = p.sid;
    eo.quorum = quorum_;
    eo.finalize_wait_ticks = 2;
    eo.min_notification_interval_ticks = 2;
    eo.max_notification_interval_ticks = 40;
    eo.leader_timeout_ticks = 0;  // ZAB's own timeouts detect a dead leader
    eo.seed = options_.seed ^ (static_cast<uint64_t>(p.sid) << 40) ^ p.incarnation;
    p.fle = std::make_unique<election::FastLeaderElection>(eo);
  }
  p.election_pending = false;
  p.up = true;
  p.pending.clear();
  p.fsync_running = false;
  p.applied_since_snapshot = 0;
  TraceEvent(p.sid, absl::StrCat("up incarnation=", p.incarnation,
                                 " applied=", Zxid::Hex(s.last_applied_zxid),
                                 " last=", Zxid::Hex(s.last_logged_zxid)));
  ProcessReadies(p);
}

// ---------------------------------------------------------------------------
// The loop

bool Cluster::Run() {
  RunTicks(options_.chaos_ticks);
  if (failed()) return false;
  TraceEvent(0, "liveness: heal everything");
  Heal();
  StopClients();
  // One probe write through every peer; a probe lost with a connection is
  // sent again, as a client would after a connection loss.
  std::map<int64_t, std::pair<uint64_t, uint64_t>> probes;  // sid -> (write id, tick)
  const uint64_t retry_ticks = 2 * static_cast<uint64_t>(options_.init_limit_ticks) + 10;
  bool converged = RunUntil(
      [&] {
        if (!AllServing()) return false;
        bool all_acked = true;
        for (int64_t sid : sids()) {
          auto it = probes.find(sid);
          if (it != probes.end() && Acked(it->second.first)) continue;
          all_acked = false;
          if (it == probes.end() || tick() - it->second.second > retry_ticks) {
            probes[sid] = {Write(sid), tick()};
          }
        }
        return all_acked && Converged();
      },
      options_.liveness_ticks);
  if (failed()) return false;
  if (!converged) {
    std::string state;
    for (const auto& [sid, p] : peers_) {
      state += absl::StrCat(" p", sid, "=", p.up ? zab::RoleName(p.zab->role()) : "DOWN");
      if (p.up) {
        state += absl::StrCat("/", zab::PhaseName(p.zab->phase()), "/e", p.zab->epoch(),
                              "/applied=", Zxid::Hex(p.sm->last_applied_zxid()));
      }
    }
    Fail(absl::StrCat("liveness: no convergence within ", options_.liveness_ticks,
                      " ticks after healing;", state));
    return false;
  }
  return CheckFinal();
}

void Cluster::RunTicks(uint64_t n) {
  for (uint64_t i = 0; i < n * kStepsPerTick && !failed(); ++i) Step();
}

bool Cluster::RunUntil(const std::function<bool()>& condition, uint64_t max_ticks) {
  for (uint64_t t = 0; t <= max_ticks && !failed(); ++t) {
    if (condition()) return true;
    RunTicks(1);
  }
  return false;
}

void Cluster::Step() {
  ++step_;
  if (network_.in_flight() > kMaxInFlight) {
    Fail(absl::StrCat("message storm: ", network_.in_flight(), " messages in flight (",
                      network_.BusiestLinks(4), ")"));
    return;
  }
  // Deliveries.
  for (Packet& packet : network_.TakeDue(step_)) {
    auto it = peers_.find(packet.to);
    if (it == peers_.end() || !it->second.up) continue;
    if (packet.election) {
      if (it->second.fle) {
        it->second.fle->Step(packet.notification);
        DriveElection(it->second);
      }
    } else {
      it->second.zab->Step(packet.from, packet.message);
      ProcessReadies(it->second);
    }
    if (failed()) return;
  }
  // Disks.
  for (auto& [sid, p] : peers_) {
    if (p.up && p.fsync_running && p.fsync_done_at <= step_) FinishFsync(p);
    if (failed()) return;
  }
  // Per-peer ticks, staggered within the tick.
  for (auto& [sid, p] : peers_) {
    if (!p.up || (step_ + static_cast<uint64_t>(sid)) % kStepsPerTick != 0) continue;
    p.zab->Tick(static_cast<int64_t>(step_ * options_.tick_ms / kStepsPerTick));
    ProcessReadies(p);
    if (p.up && p.fle) {
      p.fle->Tick();
      DriveElection(p);
    }
    if (failed()) return;
  }
  if (step_ % kStepsPerTick == 0) Tick();
}

void Cluster::Tick() {
  stats_.ticks = tick();
  for (auto& [sid, p] : peers_) {
    if (!p.up && options_.auto_restart && p.restart_at_tick <= tick()) Restart(sid);
  }
  if (faults_enabled_) InjectFaults();
  if (!options_.use_fle) Elect();
  DriveClients();
  if (tick() % 50 == 0) CheckDurability();
}

void Cluster::ProcessReadies(Peer& p) {
  for (int guard = 0; p.up && p.zab->HasReady(); ++guard) {
    ENSEMBLE_CHECK(guard < 10000);
    zab::Ready rd = p.zab->GetReady();
    Execute(p, std::move(rd));
    if (!p.up) return;
    p.zab->Advance();
    CheckLeaders(p);
    if (failed()) return;
  }
  if (p.up) StartFsync(p);
  if (p.up && p.fle) DriveElection(p);
}

void Cluster::DriveElection(Peer& p) {
  if (p.election_pending && p.zab->role() == zab::Role::kLooking) {
    p.election_pending = false;
    p.fle->Start(election::LocalState{p.sid, p.zab->last_zxid(), p.zab->current_epoch()});
  }
  election::ElectionOutput out = p.fle->TakeOutput();
  for (auto& line : out.trace) TraceEvent(p.sid, absl::StrCat("fle ", line));
  // The election's failure detector gave its decision up; a new round starts
  // once replication looks again too.
  if (out.restart_reason) p.election_pending = true;
  for (const auto& n : out.notifications) {
    network_.SendElection(p.sid, n.to, n.notification, step_);
  }
  if (out.decision && p.zab->role() == zab::Role::kLooking) {
    const election::Decision& d = *out.decision;
    TraceEvent(p.sid, absl::StrCat("elected: leader p", d.leader, " round=", d.election_epoch,
                                   d.joined ? " (joined)" : "", " ticks=", d.ticks));
    p.zab->ElectionFinished(zab::ElectionResult{d.leader, d.peer_epoch});
    ProcessReadies(p);
  }
}

// Executes one Ready in the order ready.h prescribes.
void Cluster::Execute(Peer& p, zab::Ready rd) {
  for (auto& e : rd.events) {
    if (e.rfind("sync mode=DIFF", 0) == 0) ++stats_.diffs;
    if (e.rfind("sync mode=TRUNC", 0) == 0) ++stats_.truncs;
    if (e.rfind("sync mode=SNAP", 0) == 0) ++stats_.snaps;
    if (e.rfind("rollover_done", 0) == 0) ++stats_.rollovers;
    if (e.rfind("session_expired", 0) == 0) ++stats_.sessions_expired;
    if (e.rfind("established", 0) == 0) ++stats_.establishments;
    TraceEvent(p.sid, e);
  }
  if (rd.role_change) {
    const auto& rc = *rd.role_change;
    TraceEvent(p.sid, absl::StrCat("role ", zab::RoleName(rc.role), "/", zab::PhaseName(rc.phase),
                                   " leader=", rc.leader, " epoch=", rc.epoch));
  }
  // 1. Persist (written now; durable when an fsync covers it).
  for (auto& pr : rd.to_persist) {
    if (pr.truncate_after_zxid) {
      if (*pr.truncate_after_zxid < p.sm->last_applied_zxid()) {
        Fail(absl::StrCat("p", p.sid, " told to truncate to ", Zxid::Hex(*pr.truncate_after_zxid),
                          " below its applied ", Zxid::Hex(p.sm->last_applied_zxid())));
        return;
      }
      p.disk.TruncateAfter(*pr.truncate_after_zxid);
    }
    if (pr.snapshot) {
      auto data = std::make_shared<const std::string>(std::move(pr.snapshot->data));
      auto sm = storage::ReadSnapshot(*data);
      if (!sm.ok()) {
        Fail(absl::StrCat("p", p.sid, " got an unreadable snapshot: ", sm.status().ToString()));
        return;
      }
      const int64_t zxid = pr.snapshot->zxid;
      if ((*sm)->last_applied_zxid() != zxid || zxid < p.sm->last_applied_zxid()) {
        Fail(absl::StrCat("p", p.sid, " snapshot zxid mismatch ", Zxid::Hex(zxid)));
        return;
      }
      auto d = digest_at_.find(zxid);
      if (zxid > 0 && (d == digest_at_.end() || d->second != (*sm)->Digest())) {
        Fail(absl::StrCat("p", p.sid, " installed a snapshot at ", Zxid::Hex(zxid),
                          " whose digest no peer had there"));
        return;
      }
      p.sm = std::move(*sm);
      p.disk.InstallSnapshot(zxid, data);
      TraceEvent(p.sid, absl::StrCat("snapshot_installed zxid=", Zxid::Hex(zxid)));
    }
    for (const auto& txn : pr.append) p.disk.Append(txn);
    if (pr.accepted_epoch) p.disk.SetAcceptedEpoch(*pr.accepted_epoch);
    if (pr.current_epoch) p.disk.SetCurrentEpoch(*pr.current_epoch);
    p.pending.push_back(Pending{pr.seq, p.disk.written_count(), {}});
  }
  // 2. Send now.
  std::shared_ptr<const std::string> snapshot;
  for (auto& m : rd.messages) SendOut(p, std::move(m), &snapshot);
  if (failed()) return;
  // 3. Send after persist.
  if (!rd.messages_after_persist.empty()) {
    if (p.pending.empty()) {
      for (auto& m : rd.messages_after_persist) SendOut(p, std::move(m), &snapshot);
    } else {
      auto& after = p.pending.back().after;
      for (auto& m : rd.messages_after_persist) after.push_back(std::move(m));
    }
  }
  // 4. Apply.
  if (rd.commit_up_to > 0) ApplyUpTo(p, rd.commit_up_to);
  if (failed()) return;
  // 5. The rest.
  for (const auto& s : rd.sync_done) OnSyncDone(p, s);
  for (const auto& txn : rd.rejected) OnRejected(p, txn);
  if (rd.look_again) {
    p.election_pending = true;
    p.looking = true;
    p.looking_since = tick();
    p.election_delay = Between(rng_, 1, options_.election_delay_max_ticks);
  }
}

void Cluster::SendOut(Peer& p, zab::OutMessage out, std::shared_ptr<const std::string>* snapshot) {
  if (out.fill == zab::OutMessage::Fill::kLogToSend) {
    const auto& w = p.disk.written();
    const int64_t from = out.message.prev_zxid();
    if (from < w.floor) {
      Fail(absl::StrCat("p", p.sid, " asked to send log from ", Zxid::Hex(from),
                        " below its floor ", Zxid::Hex(w.floor)));
      return;
    }
    int64_t expect_prev = from;
    for (auto it = w.log.upper_bound(from); it != w.log.end() && it->first <= out.message.zxid();
         ++it) {
      *out.message.add_txns() = it->second;
      expect_prev = it->first;
    }
    if (expect_prev != out.message.zxid() && out.message.zxid() > from) {
      Fail(absl::StrCat("p", p.sid, " log lacks ", Zxid::Hex(out.message.zxid())));
      return;
    }
  } else if (out.fill == zab::OutMessage::Fill::kSnapshotToSend) {
    if (!*snapshot) *snapshot = Serialize(*p.sm);
    if (p.sm->last_applied_zxid() < out.message.zxid()) {
      Fail(absl::StrCat("p", p.sid, " snapshot below the core's floor"));
      return;
    }
    out.message.set_zxid(p.sm->last_applied_zxid());
    out.message.set_snapshot(**snapshot);
  }
  network_.Send(p.sid, out.to, std::move(out.message), step_);
}

std::shared_ptr<const std::string> Cluster::Serialize(const storage::StateMachine& sm) {
  auto out = std::make_shared<std::string>();
  storage::SnapshotWriter writer(
      [&](absl::string_view bytes) {
        out->append(bytes.data(), bytes.size());
        return absl::OkStatus();
      },
      4096);
  ENSEMBLE_CHECK(writer.Write(sm).ok());
  return out;
}

void Cluster::ApplyUpTo(Peer& p, int64_t zxid) {
  const auto& log = p.disk.written().log;
  int64_t applied = p.sm->last_applied_zxid();
  for (auto it = log.upper_bound(applied); it != log.end() && it->first <= zxid; ++it) {
    const int64_t prev = p.sm->last_applied_zxid();
    storage::ApplyOutput out = p.sm->Apply(it->second);
    CheckApplied(p, it->second, prev);
    if (failed()) return;
    OnResult(p, it->second, out.result);
    ++p.applied_since_snapshot;
  }
  if (p.sm->last_applied_zxid() < zxid && p.disk.written().last() >= zxid) {
    Fail(absl::StrCat("p", p.sid, " could not apply up to ", Zxid::Hex(zxid)));
    return;
  }
  if (p.sm->last_applied_zxid() > applied) {
    p.disk.MarkCommitted(p.sm->last_applied_zxid());
    p.zab->ApplyDone(p.sm->last_applied_zxid());
    MaybeSnapshot(p);
  }
}

void Cluster::MaybeSnapshot(Peer& p) {
  if (options_.snapshot_every_txns == 0 ||
      p.applied_since_snapshot < options_.snapshot_every_txns) {
    return;
  }
  p.applied_since_snapshot = 0;
  const int64_t zxid = p.sm->last_applied_zxid();
  p.disk.SaveSnapshot(zxid, Serialize(*p.sm));
  // Keep the two newest snapshots and the log after the older one.
  const auto& snaps = p.disk.written().snapshots;
  if (snaps.size() > 2) {
    auto it = snaps.rbegin();
    ++it;
    const int64_t older = it->first;
    p.disk.PurgeBefore(older);
    p.zab->LogPurged(older);
    TraceEvent(p.sid, absl::StrCat("purged_before ", Zxid::Hex(older)));
  }
}

void Cluster::StartFsync(Peer& p) {
  if (p.fsync_running || p.disk.written_count() == p.disk.synced_count()) return;
  p.fsync_running = true;
  p.fsync_covers = p.disk.written_count();
  p.fsync_done_at = step_ + Between(disk_rng_, options_.fsync_min_steps, options_.fsync_max_steps);
}

void Cluster::FinishFsync(Peer& p) {
  p.fsync_running = false;
  p.disk.SyncUpTo(p.fsync_covers);
  std::shared_ptr<const std::string> snapshot;
  while (!p.pending.empty() && p.pending.front().needs <= p.disk.synced_count()) {
    Pending done = std::move(p.pending.front());
    p.pending.pop_front();
    p.zab->PersistDone(done.seq);
    for (auto& m : done.after) SendOut(p, std::move(m), &snapshot);
  }
  ProcessReadies(p);
}

// ---------------------------------------------------------------------------
// Faults, election, clients

void Cluster::Crash(int64_t sid) {
  Peer& p = peers_.at(sid);
  if (!p.up) return;
  p.up = false;
  p.zab.reset();
  p.fle.reset();
  p.sm.reset();
  p.pending.clear();
  p.fsync_running = false;
  p.looking = false;
  size_t lost = p.disk.Crash(disk_rng_, options_.torn_writes);
  stats_.lost_unsynced_writes += lost;
  network_.DropInFlight(sid);
  ++stats_.crashes;
  // The crashed process's streams end: the others notice (a TCP reset).
  for (auto& [other, q] : peers_) {
    if (!q.up) continue;
    if (q.fle) q.fle->PeerDisconnected(sid);
    q.zab->PeerDisconnected(sid);
    ProcessReadies(q);
  }
  p.restart_at_tick =
      tick() + Between(rng_, options_.restart_min_ticks, options_.restart_max_ticks);
  TraceEvent(sid, absl::StrCat("CRASH lost_unsynced_writes=", lost,
                               " durable_last=", Zxid::Hex(p.disk.durable().last())));
  for (Client& c : clients_) {
    if (c.home == sid) {
      if (c.waiting) ++stats_.writes_abandoned;
      c.waiting = false;
      c.creating_session = false;
      c.home = 0;
    }
  }
  CheckDurability();
}

void Cluster::Restart(int64_t sid) {
  Peer& p = peers_.at(sid);
  if (p.up) return;
  Start(p);
}

void Cluster::Heal() {
  faults_enabled_ = false;
  network_.HealAll();
  NetworkOptions net = network_.options();
  net.loss_per_mille = 0;
  net.replay_per_mille = 0;
  network_.set_options(net);
  network_.filter = nullptr;
  for (auto& [sid, p] : peers_) {
    if (!p.up) Restart(sid);
  }
}

void Cluster::InjectFaults() {
  std::vector<int64_t> all = sids();
  if (network_.cut_count() > 0 && Chance(rng_, options_.heal_per_mille)) {
    network_.HealAll();
    TraceEvent(0, "network healed");
  }
  if (Chance(rng_, options_.partition_per_mille)) {
    ++stats_.partitions;
    switch (rng_.Uniform(4)) {
      case 0: {  // isolate the leader
        int64_t leader = Leader();
        int64_t victim = leader != 0 ? leader : all[rng_.Uniform(all.size())];
        network_.Isolate(victim, all);
        TraceEvent(0, absl::StrCat("partition: isolate p", victim));
        break;
      }
      case 1: {  // isolate anyone
        int64_t victim = all[rng_.Uniform(all.size())];
        network_.Isolate(victim, all);
        TraceEvent(0, absl::StrCat("partition: isolate p", victim));
        break;
      }
      case 2: {  // random split
        std::vector<int64_t> a, b;
        for (int64_t sid : all) (rng_.OneIn(2) ? a : b).push_back(sid);
        network_.Partition(a, b);
        TraceEvent(0, absl::StrCat("partition: split ", a.size(), "|", b.size()));
        break;
      }
      default: {  // one-way loss on a link
        int64_t from = all[rng_.Uniform(all.size())];
        int64_t to = all[rng_.Uniform(all.size())];
        if (from != to) network_.Cut(from, to);
        TraceEvent(0, absl::StrCat("partition: one-way p", from, "->p", to));
        break;
      }
    }
  }
  if (Chance(rng_, options_.crash_per_mille)) {
    std::vector<int64_t> up = UpSids();
    if (!up.empty()) {
      int64_t leader = Leader();
      int64_t victim = (leader != 0 && rng_.OneIn(2)) ? leader : up[rng_.Uniform(up.size())];
      Crash(victim);
    }
  }
}

void Cluster::Elect() {
  auto vote_less = [&](int64_t a, int64_t b) {
    const zab::ZabPeer& x = *peers_.at(a).zab;
    const zab::ZabPeer& y = *peers_.at(b).zab;
    if (x.current_epoch() != y.current_epoch()) return x.current_epoch() < y.current_epoch();
    if (x.last_zxid() != y.last_zxid()) return x.last_zxid() < y.last_zxid();
    return a < b;
  };
  std::vector<int64_t> ready;
  for (auto& [sid, p] : peers_) {
    if (!p.up || p.zab->role() != zab::Role::kLooking) {
      p.looking = false;
      continue;
    }
    if (!p.looking) {
      p.looking = true;
      p.looking_since = tick();
      p.election_delay = Between(rng_, 1, options_.election_delay_max_ticks);
    }
    if (tick() - p.looking_since >= p.election_delay) ready.push_back(sid);
  }
  if (ready.empty()) return;
  // Rule 1: join a reachable LEADING peer (the newest epoch first).
  std::vector<int64_t> unassigned;
  for (int64_t sid : ready) {
    int64_t best = 0;
    for (auto& [lsid, l] : peers_) {
      if (lsid == sid || !l.up || l.zab->role() != zab::Role::kLeading) continue;
      if (!network_.Connected(sid, lsid)) continue;
      if (best == 0 || peers_.at(best).zab->epoch() < l.zab->epoch()) best = lsid;
    }
    if (best != 0) {
      Peer& p = peers_.at(sid);
      TraceEvent(sid, absl::StrCat("elected: join leader p", best));
      p.zab->ElectionFinished(zab::ElectionResult{best, peers_.at(best).zab->current_epoch()});
      p.looking = false;
      ProcessReadies(p);
    } else if (peers_.at(sid).voter) {
      unassigned.push_back(sid);
    }
  }
  // Rule 2: a quorum of LOOKING voters that reach each other elects the best.
  std::set<int64_t> left(unassigned.begin(), unassigned.end());
  while (!left.empty()) {
    std::vector<int64_t> component{*left.begin()};
    left.erase(left.begin());
    for (size_t i = 0; i < component.size(); ++i) {
      for (auto it = left.begin(); it != left.end();) {
        if (network_.Connected(component[i], *it)) {
          component.push_back(*it);
          it = left.erase(it);
        } else {
          ++it;
        }
      }
    }
    if (component.size() * 2 <= voter_sids_.size()) continue;
    int64_t leader = *std::max_element(component.begin(), component.end(), vote_less);
    const int64_t epoch = peers_.at(leader).zab->current_epoch();
    // The leader first, so that its followers find it LEADING.
    std::sort(component.begin(), component.end(),
              [&](int64_t a, int64_t b) { return (a == leader) > (b == leader); });
    for (int64_t sid : component) {
      Peer& p = peers_.at(sid);
      TraceEvent(sid, absl::StrCat("elected: leader p", leader, " among ", component.size()));
      p.zab->ElectionFinished(zab::ElectionResult{leader, epoch});
      p.looking = false;
      ProcessReadies(p);
      if (failed()) return;
    }
  }
}

Cluster::Client& Cluster::NewClient(bool scripted, int64_t home) {
  Client c;
  c.id = static_cast<int>(clients_.size()) + 1;
  c.scripted = scripted;
  c.home = home;
  clients_.push_back(c);
  return clients_.back();
}

int64_t Cluster::PickHome() {
  std::vector<int64_t> up = UpSids();
  return up.empty() ? 0 : up[rng_.Uniform(up.size())];
}

void Cluster::SubmitFor(Client& c, ensemble::v1::Txn txn) {
  c.waiting = true;
  c.cxid = (c.id << 20) | (c.next_n++ & 0xfffff);
  c.sent_tick = tick();
  txn.mutable_header()->set_cxid(c.cxid);
  txn.mutable_header()->set_origin(static_cast<uint64_t>(c.home));
  Peer& home = peers_.at(c.home);
  home.zab->Submit(std::move(txn));
  ProcessReadies(home);
}

void Cluster::DriveClients() {
  for (Client& c : clients_) {
    if (c.home == 0 || !peers_.at(c.home).up) {
      if (c.waiting) ++stats_.writes_abandoned;
      c.waiting = false;
      c.creating_session = false;
      c.home = PickHome();
      if (c.home == 0) continue;
    }
    Peer& home = peers_.at(c.home);
    if (c.session_id != 0 && !c.silent && !c.scripted) {
      home.zab->Touch(c.session_id);
      if (faults_enabled_ && Chance(rng_, options_.silence_per_mille)) {
        c.silent = true;
        TraceEvent(0, absl::StrCat("client ", c.id, " goes silent (session 0x",
                                   absl::Hex(c.session_id), " will expire)"));
      }
    }
    if (c.waiting && tick() - c.sent_tick > options_.client_timeout_ticks) {
      ++stats_.writes_abandoned;
      c.waiting = false;
      c.creating_session = false;
    }
    if (c.scripted || c.waiting || !clients_enabled_) continue;
    if (Chance(rng_, options_.sync_per_mille)) {
      uint64_t id = next_sync_id_++;
      pending_syncs_[id] = PendingSync{c.home, MaxAckedZxid()};
      home.zab->SyncRequest(id);
      ProcessReadies(home);
      continue;
    }
    if (!Chance(rng_, options_.write_per_mille)) continue;
    ensemble::v1::Txn txn;
    if (c.session_id == 0 || c.silent) {
      if (c.session_id != 0) continue;  // silent clients stop writing too
      txn.mutable_header()->set_type(kOpCreateSession);
      txn.mutable_op()->mutable_create_session()->set_timeout_ms(options_.session_timeout_ms);
      c.creating_session = true;
      c.write_id = next_write_id_++;
      SubmitFor(c, std::move(txn));
      continue;
    }
    txn.mutable_header()->set_session_id(c.session_id);
    const int n = c.next_n;
    switch (rng_.Uniform(5)) {
      case 0:
      case 1: {
        txn.mutable_header()->set_type(kOpCreate);
        auto* op = txn.mutable_op()->mutable_create();
        op->set_path(absl::StrCat("/k", rng_.Uniform(4)));
        op->set_data(absl::StrCat("c", c.id, "-", n));
        auto* acl = op->add_acl();
        acl->set_perms(31);
        acl->mutable_id()->set_scheme("world");
        acl->mutable_id()->set_id("anyone");
        break;
      }
      case 2: {
        txn.mutable_header()->set_type(kOpSetData);
        auto* op = txn.mutable_op()->mutable_set_data();
        op->set_path(absl::StrCat("/k", rng_.Uniform(4)));
        op->set_data(absl::StrCat("c", c.id, "-", n));
        op->set_version(-1);
        break;
      }
      case 3: {
        txn.mutable_header()->set_type(kOpCreate);
        auto* op = txn.mutable_op()->mutable_create();
        op->set_path(absl::StrCat("/e", c.id, "-", n));
        op->set_mode(ensemble::v1::CREATE_MODE_EPHEMERAL);
        auto* acl = op->add_acl();
        acl->set_perms(31);
        acl->mutable_id()->set_scheme("world");
        acl->mutable_id()->set_id("anyone");
        break;
      }
      default: {
        txn.mutable_header()->set_type(kOpDelete);
        auto* op = txn.mutable_op()->mutable_delete_();
        op->set_path(absl::StrCat("/e", c.id, "-", rng_.Uniform(static_cast<uint64_t>(n)) + 1));
        op->set_version(-1);
        break;
      }
    }
    c.write_id = next_write_id_++;
    SubmitFor(c, std::move(txn));
  }
}

uint64_t Cluster::Write(int64_t home) {
  Client* c = nullptr;
  for (Client& existing : clients_) {
    if (existing.scripted && existing.home == home && !existing.waiting) c = &existing;
  }
  if (c == nullptr) c = &NewClient(true, home);
  ENSEMBLE_CHECK(peers_.at(home).up);
  ensemble::v1::Txn txn;
  txn.mutable_header()->set_type(kOpCreate);
  auto* op = txn.mutable_op()->mutable_create();
  op->set_path(absl::StrCat("/w", c->id, "-", c->next_n));
  auto* acl = op->add_acl();
  acl->set_perms(31);
  acl->mutable_id()->set_scheme("world");
  acl->mutable_id()->set_id("anyone");
  c->write_id = next_write_id_++;
  const uint64_t id = c->write_id;
  SubmitFor(*c, std::move(txn));
  TraceEvent(home, absl::StrCat("write id=", id, " cxid=", c->cxid));
  return id;
}

bool Cluster::Acked(uint64_t write_id) const { return acked_.count(write_id) > 0; }

int64_t Cluster::AckedZxid(uint64_t write_id) const {
  auto it = acked_.find(write_id);
  return it == acked_.end() ? 0 : it->second.zxid;
}

void Cluster::OnResult(Peer& p, const ensemble::v1::Txn& txn,
                       const ensemble::v1::TxnResult& result) {
  const auto& h = txn.header();
  if (h.origin() != static_cast<uint64_t>(p.sid)) return;
  for (Client& c : clients_) {
    if (!c.waiting || c.home != p.sid || c.cxid != h.cxid()) continue;
    c.waiting = false;
    if (c.creating_session) {
      c.creating_session = false;
      c.session_id = h.session_id();
    }
    if (c.write_id != 0) {
      acked_[c.write_id] = AckedWrite{h.zxid(), TxnFingerprint(txn)};
      ++stats_.writes_acked;
    }
    return;
  }
}

void Cluster::OnSyncDone(Peer& p, const zab::SyncDone& done) {
  auto it = pending_syncs_.find(done.id);
  if (it == pending_syncs_.end()) {
    Fail(absl::StrCat("p", p.sid, " answered an unknown or finished sync ", done.id));
    return;
  }
  if (done.ok) {
    ++stats_.syncs_ok;
    if (done.zxid < it->second.floor) {
      Fail(absl::StrCat("sync ", done.id, " at p", p.sid, " returned ", Zxid::Hex(done.zxid),
                        " below the acknowledged write ", Zxid::Hex(it->second.floor),
                        " that completed before it began"));
      return;
    }
  } else {
    ++stats_.syncs_failed;
  }
  pending_syncs_.erase(it);
}

void Cluster::OnRejected(Peer& p, const ensemble::v1::Txn& txn) {
  for (Client& c : clients_) {
    if (c.waiting && c.home == p.sid && c.cxid == txn.header().cxid()) {
      c.waiting = false;
      c.creating_session = false;
      ++stats_.writes_abandoned;
    }
  }
}

// ---------------------------------------------------------------------------
// Checkers

void Cluster::CheckLeaders(Peer& p) {
  const zab::ZabPeer& z = *p.zab;
  if (z.role() != zab::Role::kLeading || !z.serving()) return;
  auto [it, inserted] = leader_of_epoch_.emplace(z.epoch(), p.sid);
  if (!inserted && it->second != p.sid) {
    Fail(absl::StrCat("two established leaders in epoch ", z.epoch(), ": p", it->second, " and p",
                      p.sid));
  }
}

void Cluster::CheckApplied(Peer& p, const ensemble::v1::Txn& txn, int64_t prev) {
  const int64_t zxid = txn.header().zxid();
  const uint64_t fp = TxnFingerprint(txn);
  if (zxid <= prev) {
    Fail(absl::StrCat("p", p.sid, " applied ", Zxid::Hex(zxid), " after ", Zxid::Hex(prev)));
    return;
  }
  // Contiguous: no committed txn between the previous one and this one.
  auto next = committed_.upper_bound(prev);
  if (next != committed_.end() && next->first < zxid) {
    Fail(absl::StrCat("p", p.sid, " skipped committed ", Zxid::Hex(next->first), " (applied ",
                      Zxid::Hex(zxid), " after ", Zxid::Hex(prev), ")"));
    return;
  }
  auto [it, inserted] = committed_.emplace(zxid, fp);
  if (!inserted && it->second != fp) {
    Fail(absl::StrCat("two different txns committed at ", Zxid::Hex(zxid), " (p", p.sid, ")"));
    return;
  }
  if (inserted && std::next(it) != committed_.end()) {
    Fail(absl::StrCat("p", p.sid, " applied ", Zxid::Hex(zxid),
                      " that others skipped (they applied ", Zxid::Hex(std::next(it)->first), ")"));
    return;
  }
  const uint64_t digest = p.sm->Digest();
  auto [d, d_inserted] = digest_at_.emplace(zxid, digest);
  if (!d_inserted && d->second != digest) {
    Fail(absl::StrCat("p", p.sid, " state digest differs at ", Zxid::Hex(zxid)));
    return;
  }
  if (inserted) {
    // Each session's requests are applied in the order it sent them.
    const auto& h = txn.header();
    if (h.session_id() != 0 && h.cxid() != 0 && h.type() != kOpCreateSession) {
      auto [s, s_inserted] = session_last_cxid_.emplace(h.session_id(), h.cxid());
      if (!s_inserted) {
        if (h.cxid() <= s->second) {
          Fail(absl::StrCat("session 0x", absl::Hex(h.session_id()), " cxid ", h.cxid(),
                            " applied after cxid ", s->second));
          return;
        }
        s->second = h.cxid();
      }
    }
  }
}

void Cluster::CheckDurability() {
  // Every acknowledged write is held durably by a quorum of voters: no crash
  // sequence can lose it while a quorum's disks survive.
  const size_t quorum = voter_sids_.size() / 2 + 1;
  for (const auto& [id, w] : acked_) {
    size_t holders = 0;
    for (int64_t sid : voter_sids_) holders += peers_.at(sid).disk.durable().Holds(w.zxid);
    if (holders < quorum) {
      Fail(absl::StrCat("acknowledged write ", id, " at ", Zxid::Hex(w.zxid), " is durable on ",
                        holders, " voters, fewer than a quorum"));
      return;
    }
  }
}

bool Cluster::AllServing() const {
  int64_t leader = 0;
  for (const auto& [sid, p] : peers_) {
    if (!p.up || !p.zab->serving()) return false;
    int64_t l = p.zab->leader();
    if (leader == 0) leader = l;
    if (l != leader) return false;
  }
  return leader != 0;
}

bool Cluster::Converged() const {
  if (!AllServing()) return false;
  const Peer& l = peers_.at(Leader());
  const int64_t last = l.zab->last_zxid();
  if (l.zab->committed_zxid() != last) return false;
  for (const auto& [sid, p] : peers_) {
    if (p.sm->last_applied_zxid() != last) return false;
  }
  return true;
}

bool Cluster::CheckFinal() {
  if (failed()) return false;
  if (!Converged()) {
    Fail("final check before convergence");
    return false;
  }
  CheckDurability();
  if (failed()) return false;
  const int64_t last = peers_.at(Leader()).zab->last_zxid();
  uint64_t digest = 0;
  bool first = true;
  for (const auto& [sid, p] : peers_) {
    if (first) digest = p.sm->Digest();
    first = false;
    if (p.sm->Digest() != digest) {
      Fail(absl::StrCat("p", sid, " digest differs after convergence at ", Zxid::Hex(last)));
      return false;
    }
  }
  for (const auto& [id, w] : acked_) {
    auto it = committed_.find(w.zxid);
    if (it == committed_.end() || it->second != w.fingerprint) {
      Fail(absl::StrCat("acknowledged write ", id, " at ", Zxid::Hex(w.zxid),
                        " is not what the ensemble committed there"));
      return false;
    }
    if (w.zxid > last) {
      Fail(absl::StrCat("acknowledged write ", id, " beyond the final state"));
      return false;
    }
  }
  for (const auto& [sid, p] : peers_) {
    // Every peer holds every committed txn since its snapshot, identically.
    for (auto it = p.disk.written().log.begin(); it != p.disk.written().log.end(); ++it) {
      auto c = committed_.find(it->first);
      if (c == committed_.end() || c->second != TxnFingerprint(it->second)) {
        Fail(absl::StrCat("p", sid, " logs ", Zxid::Hex(it->first),
                          " that the ensemble did not commit"));
        return false;
      }
    }
  }
  return true;
}

void Cluster::Fail(const std::string& what) {
  if (!failure_.empty()) return;
  failure_ = absl::StrCat("tick ", tick(), ": ", what);
  TraceEvent(0, absl::StrCat("FAILURE ", what));
}

void Cluster::TraceEvent(int64_t sid, const std::string& line) {
  std::string full = absl::StrFormat("t=%d.%d %s %s", tick(), step_ % kStepsPerTick,
                                     sid == 0 ? "sim" : absl::StrCat("p", sid), line);
  auto& trace = sid == 0 ? global_trace_ : peers_.at(sid).trace;
  trace.push_back(std::move(full));
  if (trace.size() > kTraceLines) trace.pop_front();
}

std::string Cluster::Trace() const {
  std::string out = absl::StrCat("== sim\n");
  for (const auto& line : global_trace_) absl::StrAppend(&out, line, "\n");
  for (const auto& [sid, p] : peers_) {
    absl::StrAppend(&out, "== p", sid, p.voter ? " (voter)" : " (observer)", "\n");
    for (const auto& line : p.trace) absl::StrAppend(&out, line, "\n");
  }
  return out;
}

// ---------------------------------------------------------------------------
// Accessors

const zab::ZabPeer* Cluster::zab(int64_t sid) const {
  const Peer& p = peers_.at(sid);
  return p.up ? p.zab.get() : nullptr;
}

const storage::StateMachine* Cluster::state(int64_t sid) const {
  const Peer& p = peers_.at(sid);
  return p.up ? p.sm.get() : nullptr;
}

const SimTxnLog& Cluster::disk(int64_t sid) const { return peers_.at(sid).disk; }
bool Cluster::up(int64_t sid) const { return peers_.at(sid).up; }

std::vector<int64_t> Cluster::sids() const {
  std::vector<int64_t> out;
  for (const auto& [sid, p] : peers_) out.push_back(sid);
  return out;
}

std::vector<int64_t> Cluster::UpSids() const {
  std::vector<int64_t> out;
  for (const auto& [sid, p] : peers_) {
    if (p.up) out.push_back(sid);
  }
  return out;
}

int64_t Cluster::Leader() const {
  int64_t best = 0;
  int64_t best_epoch = -1;
  for (const auto& [sid, p] : peers_) {
    if (!p.up || p.zab->role() != zab::Role::kLeading || !p.zab->serving()) continue;
    if (p.zab->epoch() > best_epoch) {
      best = sid;
      best_epoch = p.zab->epoch();
    }
  }
  return best;
}

int64_t Cluster::MaxAckedZxid() const {
  int64_t max = 0;
  for (const auto& [id, w] : acked_) max = std::max(max, w.zxid);
  return max;
}

}  // namespace ensemble::sim

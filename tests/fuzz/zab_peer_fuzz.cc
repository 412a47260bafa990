// libFuzzer target for the ZAB core (services/replication/core/zab_peer.h)
// facing a malicious or buggy peer. One ZabPeer -- a leader, a follower or an
// observer, from one of a few disks -- is driven exactly as the replication
// driver drives it (the Ready contract of ready.h: persists issued in order and
// completed later, messages sent, commits applied, Advance), and the other
// members of the ensemble are played by the input: every PeerMessage they send
// is either parsed from input bytes (ParseFromArray, as gRPC would) or built
// field by field from values near the peer's own state (its zxids, epochs and
// connection ids), so that whole protocol runs -- and every deviation from
// them -- are reachable. Local inputs (ticks, gateway writes, sync barriers,
// touches, purges, disconnects, elections) are interleaved.
//
// A message from a peer must never crash the process: no ENSEMBLE_CHECK, no
// sanitizer report. The harness also checks what the core asks of its driver:
//   - PersistRequest seqs are consecutive; appended zxids increase and lie
//     above the log's end as the persists before them leave it;
//   - commit_up_to only grows and never passes the log's end;
//   - messages go to other configured members, from this sid.
// The input format is in fuzz_input.h (zab_cmd) and README.md.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/base/zxid.h"
#include "google/protobuf/stubs/logging.h"
#include "services/replication/core/zab_peer.h"
#include "tests/fuzz/fuzz_input.h"

namespace ensemble::fuzz {
namespace {

namespace rv1 = ensemble::replication::v1;
using zab::ZabPeer;
constexpr char kTarget[] = "zab_peer_fuzz";
constexpr int64_t kPresetSession = 0x0100000000000001LL;

constexpr int64_t Z(int64_t epoch, int64_t counter) { return Zxid::Make(epoch, counter); }

// The disk a peer starts from ((setup >> 2) & 3).
zab::PeerState DiskFor(int disk) {
  zab::PeerState s;
  switch (disk) {
    case 0:  // a new member
      break;
    case 1:  // epoch 1, six txns, four applied
      s.accepted_epoch = s.current_epoch = 1;
      s.last_logged_zxid = Z(1, 6);
      s.epoch_last_zxids = {Z(1, 6)};
      s.last_applied_zxid = Z(1, 4);
      break;
    case 2:  // purged up to (1,1); epochs 1 and 2 logged; accepted a third
      s.accepted_epoch = 3;
      s.current_epoch = 2;
      s.log_floor_zxid = Z(1, 1);
      s.last_logged_zxid = Z(2, 2);
      s.epoch_last_zxids = {Z(1, 3), Z(2, 2)};
      s.last_applied_zxid = Z(2, 1);
      break;
    default:  // everything applied; accepted epoch 2 without a NEWLEADER
      s.accepted_epoch = 2;
      s.current_epoch = 1;
      s.last_logged_zxid = Z(1, 6);
      s.epoch_last_zxids = {Z(1, 6)};
      s.last_applied_zxid = Z(1, 6);
      break;
  }
  if (disk != 0) {
    rv1::SessionTimeout session;
    session.set_session_id(kPresetSession);
    session.set_timeout_ms(30000);
    s.sessions.push_back(session);
  }
  return s;
}

class Harness {
 public:
  explicit Harness(uint8_t setup) {
    using namespace zab_cmd;
    const uint8_t scenario = setup & 3;
    zab::ZabConfig config;
    config.sid = scenario == kScenarioObserver ? 4 : 1;
    config.voters = {1, 2, 3};
    config.observers = {4};
    config.init_limit_ticks = 10;
    config.sync_limit_ticks = 5;
    config.tick_ms = 100;
    config.log_cache_txns = (setup & kSetupSmallCache) ? 2 : 1000;
    config.max_waiting_txns = (setup & kSetupFewWaiting) ? 4 : 10000;
    config.conn_base = kZabConnBase;
    if (setup & kSetupRollover) config.initial_counter_for_testing = 0xfffffffdLL;
    lazy_ = (setup & kSetupLazyDisk) != 0;
    self_ = config.sid;
    for (int64_t sid : {1, 2, 3, 4}) {
      if (sid != self_) others_.push_back(sid);
    }
    const zab::PeerState disk = DiskFor((setup >> 2) & 3);
    log_last_ = std::max(disk.log_floor_zxid, disk.last_logged_zxid);
    durable_last_ = log_last_;
    commit_target_ = disk.last_applied_zxid;
    peer_ = std::make_unique<ZabPeer>(config, disk);
    Drain();
    const int64_t leader = scenario == kScenarioLeader        ? 1
                           : scenario == kScenarioFollowerOf3 ? 3
                                                              : 2;
    peer_->ElectionFinished(zab::ElectionResult{leader, 0});
    Settle();
  }

  void Run(Input& in) {
    using namespace zab_cmd;
    int commands = 0;
    while (!in.empty() && ++commands <= 2000) {
      const uint8_t op = in.Byte();
      const uint8_t arg = op >> 4;
      switch (op & 15) {
        case kStepRaw:
        case kStepRaw2:
          StepRaw(in, arg);
          break;
        case kTick:
          for (int i = 0; i <= arg; ++i) {
            peer_->Tick();
            Drain();
          }
          break;
        case kPersist:
          CompletePersists(arg == 15 ? pending_.size() : static_cast<size_t>(arg) + 1);
          break;
        case kApply:
          Apply();
          break;
        case kSubmit:
          Submit(in, arg);
          break;
        case kLocal:
          Local(in, arg);
          break;
        case kDisconnect:
          peer_->PeerDisconnected(Peer(arg));
          break;
        case kElection:
          if (peer_->role() == zab::Role::kLooking) {
            constexpr int64_t kLeaders[] = {1, 2, 3, 4, 9};
            peer_->ElectionFinished(zab::ElectionResult{kLeaders[arg % 5], 0});
          }
          break;
        default:
          StepFields(in, arg);
          break;
      }
      Settle();
    }
  }

 private:
  int64_t Peer(uint8_t arg) const { return others_[(arg & 3) % others_.size()]; }

  // The connection id a well-behaved `from` would put on its message.
  uint64_t ExpectedConn(int64_t from) const {
    if (peer_->role() == zab::Role::kLeading) {
      auto it = fake_conn_.find(from);
      return it == fake_conn_.end() ? 500 + static_cast<uint64_t>(from) : it->second;
    }
    return learner_conn_;
  }

  int64_t Value(Input& in) { return ValueOf(in.Byte(), in); }

  // One of the values near the peer's state (zab_cmd::ValueSel), by selector.
  int64_t ValueOf(uint8_t sel, Input& in) {
    using namespace zab_cmd;
    switch (static_cast<ValueSel>(sel & 15)) {
      case kZero:
        return 0;
      case kLast:
        return peer_->last_zxid();
      case kLastPlus1:
        return WrapAdd(peer_->last_zxid(), 1);
      case kLastMinus1:
        return WrapAdd(peer_->last_zxid(), -1);
      case kCommitted:
        return peer_->committed_zxid();
      case kCommittedMinus1:
        return WrapAdd(peer_->committed_zxid(), -1);
      case kEpochZxid:
        return Z(peer_->epoch(), in.Byte());
      case kNextEpochZxid:
        return Z(WrapAdd(peer_->accepted_epoch(), 1), 1);
      case kEpoch:
        return peer_->epoch();
      case kAcceptedEpoch:
        return peer_->accepted_epoch();
      case kAcceptedEpochPlus1:
        return WrapAdd(peer_->accepted_epoch(), 1);
      case kCurrentEpoch:
        return peer_->current_epoch();
      case kMinusOne:
        return -1;
      case kMax:
        return std::numeric_limits<int64_t>::max();
      case kMin:
        return std::numeric_limits<int64_t>::min();
      case kRaw:
        return static_cast<int64_t>(in.U64());
    }
    return 0;
  }

  ensemble::v1::Txn MakeTxn(int32_t kind, int64_t session) {
    ensemble::v1::Txn txn;
    auto* h = txn.mutable_header();
    h->set_session_id(session);
    h->set_cxid(++cxid_);
    switch (kind % 6) {
      case 0:
        h->set_type(-10);
        h->set_session_id(0);
        txn.mutable_op()->mutable_create_session()->set_timeout_ms(100 * (cxid_ % 400));
        break;
      case 1:
        h->set_type(1);
        txn.mutable_op()->mutable_create()->set_path(absl::StrCat("/n", cxid_));
        break;
      case 2:
        h->set_type(5);
        txn.mutable_op()->mutable_set_data()->set_path("/n1");
        break;
      case 3:
        h->set_type(-11);
        txn.mutable_op()->mutable_close_session();
        break;
      case 4:
        h->set_type(2);
        txn.mutable_op()->mutable_delete_()->set_path("/n1");
        break;
      default:
        h->set_type(static_cast<int32_t>(cxid_ * 7919));  // a type nobody knows
        break;
    }
    return txn;
  }

  int64_t SessionChoice(uint8_t b) {
    switch (b & 3) {
      case 0:
        return kPresetSession;
      case 1:
        return 0;
      case 2:
        return last_session_;
      default:
        return static_cast<int64_t>(b) << 40;
    }
  }

  void StepFields(Input& in, uint8_t arg) {
    const int64_t from = Peer(arg);
    rv1::PeerMessage m;
    const uint8_t type = in.Byte();
    m.set_type(static_cast<rv1::PeerMessageType>(type < 240 ? type % 20 : in.U32()));
    const uint16_t mask = in.U16();
    if (mask & (1 << 0)) m.set_zxid(Value(in));
    if (mask & (1 << 1)) m.set_epoch(Value(in));
    if (mask & (1 << 2)) m.set_prev_zxid(Value(in));
    if (mask & (1 << 3)) m.set_commit_zxid(Value(in));
    if (mask & (1 << 4)) {
      // The echo a well-behaved peer gives: the leader's PING round, or the
      // learner's forwarded sync barrier.
      const uint64_t echo = peer_->role() == zab::Role::kLeading ? ping_round_[from] : sync_id_;
      m.set_sync_id(in.Byte() < 128 ? echo : in.U64());
    }
    if (mask & (1 << 5)) m.set_request_seq(++request_seq_[from] + (in.Byte() & 3) - 1);
    if (mask & (1 << 6)) m.set_uptodate(true);
    if (mask & (1 << 7)) {
      const int count = 1 + in.Byte() % 3;
      int64_t running = m.prev_zxid() != 0 ? m.prev_zxid() : peer_->last_zxid();
      for (int i = 0; i < count; ++i) {
        const uint8_t zsel = in.Byte();
        int64_t zxid;
        if (zsel < 0x40) {
          zxid = WrapAdd(running, 1);
        } else if (zsel < 0x80) {
          zxid = Z(Zxid::Epoch(running) + 1, 1);
        } else {
          zxid = ValueOf(zsel, in);
        }
        running = zxid;
        const uint8_t tsel = in.Byte();
        ensemble::v1::Txn txn = MakeTxn(tsel, SessionChoice(tsel >> 3));
        txn.mutable_header()->set_zxid(zxid);
        *m.add_txns() = std::move(txn);
      }
      if (!(mask & (1 << 0))) m.set_zxid(running);
    }
    if (mask & (1 << 8)) {
      for (int i = 0, n = 1 + in.Byte() % 3; i < n; ++i) m.add_sessions(SessionChoice(in.Byte()));
    }
    if (mask & (1 << 9)) {
      for (int i = 0, n = in.Byte() % 3; i < n; ++i) {
        auto* s = m.add_known_sessions();
        s->set_session_id(SessionChoice(in.Byte()));
        s->set_timeout_ms(static_cast<int32_t>(in.U32()));
      }
    }
    if (mask & (1 << 10)) m.set_snapshot(std::string(in.Bytes(in.Byte())));
    if (mask & (1 << 11)) m.set_snapshot_more(true);
    m.set_sid((mask & (1 << 12)) ? Value(in) : from);
    const bool info = m.type() == rv1::PEER_MESSAGE_TYPE_FOLLOWERINFO ||
                      m.type() == rv1::PEER_MESSAGE_TYPE_OBSERVERINFO;
    if (info && (mask & (1 << 13))) ++fake_conn_[from];  // a new connection
    if (arg & 4) {
      m.set_conn(in.U64());
    } else {
      m.set_conn(info && peer_->role() == zab::Role::kLeading ? FakeConn(from)
                                                              : ExpectedConn(from));
    }
    if (info) fake_conn_[from] = m.conn();
    Step(from, m);
  }

  uint64_t FakeConn(int64_t from) {
    auto [it, inserted] = fake_conn_.emplace(from, 500 + static_cast<uint64_t>(from));
    return it->second;
  }

  void StepRaw(Input& in, uint8_t arg) {
    const int64_t from = Peer(arg);
    const std::string_view bytes = in.Bytes(in.U16() & 0x3ff);
    rv1::PeerMessage m;
    // gRPC drops a batch that does not parse (and the stream with it).
    if (!m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return;
    if (!(arg & 4)) m.set_conn(ExpectedConn(from));
    if (m.type() == rv1::PEER_MESSAGE_TYPE_FOLLOWERINFO ||
        m.type() == rv1::PEER_MESSAGE_TYPE_OBSERVERINFO) {
      fake_conn_[from] = m.conn();
    }
    Step(from, m);
  }

  // True if `m` would trigger a known crash class the environment asks to skip.
  bool KnownCrash(int64_t from, const rv1::PeerMessage& m) const {
    const bool from_leader = peer_->role() != zab::Role::kLeading && from == peer_->leader();
    // zab_learner.cc: ENSEMBLE_CHECK(zxid >= committed_zxid_) on TRUNC / SNAP.
    if (from_leader && m.type() == rv1::PEER_MESSAGE_TYPE_TRUNC &&
        m.zxid() < peer_->committed_zxid() && SkipKnown("zab-trunc-below-commit")) {
      return true;
    }
    if (from_leader && m.type() == rv1::PEER_MESSAGE_TYPE_SNAP &&
        m.zxid() < peer_->committed_zxid() && SkipKnown("zab-snap-below-commit")) {
      return true;
    }
    // Epochs are not checked to fit a zxid: a learner reporting acceptedEpoch
    // 2^31 - 1 or more makes the leader pick an epoch whose zxids are negative
    // or wrap (zab_leader.cc: ENSEMBLE_CHECK(header.zxid() > prev) in Propose);
    // at the top of int64, `highest + 1` is a signed overflow.
    if (m.epoch() > 0x7ffffffeLL && SkipKnown("zab-epoch-out-of-range")) return true;
    // A zxid of INT64_MAX (SNAP, a txn, COMMIT) becomes the commit point, and
    // History::TrimCache computes committed + 1: a signed overflow.
    if (SkipKnown("zab-zxid-int64-max")) {
      constexpr int64_t kMaxZxid = std::numeric_limits<int64_t>::max();
      bool max = m.zxid() == kMaxZxid || m.commit_zxid() == kMaxZxid;
      for (const auto& txn : m.txns()) max |= txn.header().zxid() == kMaxZxid;
      if (max) return true;
    }
    // A learner's ACK / PING zxid is taken as an ack if <= the leader's last
    // zxid, even when no such txn exists: the commit point lands between two
    // txns, and syncing an observer then fails
    // ENSEMBLE_CHECK(cursor == end || end <= from) in StartSync.
    if (peer_->role() == zab::Role::kLeading &&
        (m.type() == rv1::PEER_MESSAGE_TYPE_ACK || m.type() == rv1::PEER_MESSAGE_TYPE_PING) &&
        m.zxid() > peer_->committed_zxid() && m.zxid() <= peer_->last_zxid() &&
        !peer_->history().Contains(m.zxid()) && SkipKnown("zab-ack-not-in-history")) {
      return true;
    }
    return false;
  }

  void Step(int64_t from, const rv1::PeerMessage& m) {
    if (KnownCrash(from, m)) return;
    if (Tracing()) {
      std::fprintf(stderr, "zab: <- %lld %s\n", static_cast<long long>(from),
                   m.ShortDebugString().c_str());
    }
    peer_->Step(from, m);
    Drain();
  }

  void Submit(Input& in, uint8_t arg) {
    // createSession / create / setData / closeSession (MakeTxn kinds 0-3).
    peer_->Submit(MakeTxn(arg % 4, SessionChoice(in.Byte())));
    Drain();
  }

  void Local(Input& in, uint8_t arg) {
    switch (arg % 3) {
      case 0:
        peer_->Touch(SessionChoice(in.Byte()));
        break;
      case 1:
        peer_->SyncRequest(++sync_id_);
        break;
      default:
        // The driver purges after a snapshot of the applied state.
        peer_->LogPurged(peer_->applied_zxid());
        break;
    }
    Drain();
  }

  // Step 1 of the Ready contract, as the storage would perform each
  // PersistRequest, checked against the log's end.
  void Issue(const zab::PersistRequest& p) {
    if (p.seq != next_seq_) {
      Fail(kTarget, absl::StrCat("persist seq ", p.seq, ", expected ", next_seq_));
    }
    ++next_seq_;
    if (p.truncate_after_zxid) log_last_ = *p.truncate_after_zxid;
    if (p.snapshot) log_last_ = p.snapshot->zxid;
    for (const auto& txn : p.append) {
      const int64_t zxid = txn.header().zxid();
      if (zxid <= log_last_) {
        Fail(kTarget, absl::StrCat("append of ", Zxid::Hex(zxid), " at or below the log's end ",
                                   Zxid::Hex(log_last_)));
      }
      log_last_ = zxid;
    }
    pending_.emplace_back(p.seq, log_last_);
  }

  void CheckMessage(const zab::OutMessage& out) {
    bool member = false;
    for (int64_t sid : others_) member |= sid == out.to;
    if (!member) Fail(kTarget, absl::StrCat("a message to ", out.to, ", not another member"));
    if (out.message.sid() != self_) Fail(kTarget, "a message that names another sender");
    if (peer_->role() != zab::Role::kLeading && out.to == peer_->leader()) {
      learner_conn_ = out.message.conn();
    }
    if (out.message.type() == rv1::PEER_MESSAGE_TYPE_PING) {
      ping_round_[out.to] = out.message.sync_id();
    }
  }

  // Takes every Ready (the driver's loop): issue persists, send, note commits.
  void Drain() {
    for (int i = 0; peer_->HasReady(); ++i) {
      if (i > 100) Fail(kTarget, "HasReady stays true");
      zab::Ready r = peer_->GetReady();
      if (Tracing()) {
        for (const auto& e : r.events) std::fprintf(stderr, "zab: %s\n", e.c_str());
        for (const auto& m : r.messages) {
          std::fprintf(stderr, "zab: -> %lld %s\n", static_cast<long long>(m.to),
                       m.message.ShortDebugString().c_str());
        }
        for (const auto& m : r.messages_after_persist) {
          std::fprintf(stderr, "zab: -> %lld (after persist) %s\n", static_cast<long long>(m.to),
                       m.message.ShortDebugString().c_str());
        }
      }
      for (const auto& p : r.to_persist) Issue(p);
      for (const auto& m : r.messages) CheckMessage(m);
      for (const auto& m : r.messages_after_persist) CheckMessage(m);
      if (r.commit_up_to != 0) {
        if (r.commit_up_to <= commit_target_) {
          Fail(kTarget, absl::StrCat("commit_up_to went from ", Zxid::Hex(commit_target_), " to ",
                                     Zxid::Hex(r.commit_up_to)));
        }
        if (r.commit_up_to > log_last_) {
          Fail(kTarget, absl::StrCat("commit_up_to ", Zxid::Hex(r.commit_up_to),
                                     " beyond the log's end ", Zxid::Hex(log_last_)));
        }
        commit_target_ = r.commit_up_to;
      }
      for (const auto& txn : r.to_persist) {
        for (const auto& t : txn.append) {
          if (t.header().type() == -10) last_session_ = t.header().session_id();
        }
      }
      peer_->Advance();
    }
  }

  // Step 3: persists complete in order.
  void CompletePersists(size_t n) {
    while (n-- > 0 && !pending_.empty()) {
      const auto [seq, last] = pending_.front();
      pending_.pop_front();
      durable_last_ = last;
      peer_->PersistDone(seq);
      Drain();
    }
  }

  // Step 4: storage applies the committed and logged transactions.
  void Apply() {
    const int64_t upto = std::min(commit_target_, durable_last_);
    if (upto > 0) peer_->ApplyDone(upto);
    Drain();
  }

  // Without kSetupLazyDisk the disk keeps up: every persist completes and
  // every commit is applied after each command.
  void Settle() {
    Drain();
    if (lazy_) return;
    for (int i = 0; i < 8 && (!pending_.empty() ||
                              peer_->applied_zxid() < std::min(commit_target_, durable_last_));
         ++i) {
      CompletePersists(pending_.size());
      Apply();
    }
  }

  std::unique_ptr<ZabPeer> peer_;
  int64_t self_ = 0;
  std::vector<int64_t> others_;
  bool lazy_ = false;
  std::map<int64_t, uint64_t> fake_conn_;  // leader: the conn each fake learner uses
  uint64_t learner_conn_ = 0;              // learner: the conn of our last message to the leader
  std::map<int64_t, uint64_t> request_seq_;
  std::map<int64_t, uint64_t> ping_round_;  // leader: the last PING round sent to each learner
  uint64_t sync_id_ = 0;
  int32_t cxid_ = 0;
  int64_t last_session_ = 0;
  // The log as the issued persists leave it, and as the completed ones do.
  int64_t log_last_ = 0;
  int64_t durable_last_ = 0;
  uint64_t next_seq_ = 1;
  std::deque<std::pair<uint64_t, int64_t>> pending_;  // (seq, log end after it)
  int64_t commit_target_ = 0;
};

}  // namespace
}  // namespace ensemble::fuzz

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Fuzzed strings are often not UTF-8: protobuf's parse warnings are noise.
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ensemble::fuzz::Input in(data, size);
  ensemble::fuzz::Harness harness(in.Byte());
  harness.Run(in);
  return 0;
}

// libFuzzer target for fast leader election (services/election/core/
// fast_leader_election.h) facing malicious or buggy peers. One
// FastLeaderElection -- a voter or an observer, in an ensemble of three or five
// voters and one observer -- receives whatever the other members send: Notify
// batches parsed from input bytes (ensemble.election.v1.Notifications, checked
// exactly as ElectionService checks a batch before the driver sees it), or
// notifications and status heartbeats built field by field from values near
// its own (its round, its vote, extreme values), interleaved with ticks,
// disconnects and restarts of the election as the shell performs them.
//
// A notification must never crash the process: no ENSEMBLE_CHECK, no sanitizer
// report (signed overflow included). The harness also checks the output:
//   - notifications go to other members, in this peer's name;
//   - a decision is for a voter, LEADING exactly when it names this peer,
//     OBSERVING exactly when this peer is an observer.
// The input format is in fuzz_input.h (fle_cmd) and README.md.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/base/zxid.h"
#include "ensemble/election.pb.h"
#include "services/election/core/fast_leader_election.h"
#include "services/election/core/quorum.h"
#include "services/election/core/vote.h"
#include "tests/fuzz/fuzz_input.h"

namespace ensemble::fuzz {
namespace {

namespace ev1 = ensemble::election::v1;
using election::FastLeaderElection;
using election::Notification;
using election::PeerState;
constexpr char kTarget[] = "fle_fuzz";
constexpr int kMaxNotificationsPerBatch = 1024;  // ElectionService's limit
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

class Harness {
 public:
  Harness(uint8_t setup, uint8_t state) {
    const bool five = (setup & 4) != 0;
    for (int64_t sid = 1; sid <= (five ? 5 : 3); ++sid) voters_.push_back(sid);
    observer_ = five ? 6 : 4;
    members_ = voters_;
    members_.push_back(observer_);
    const int choice = setup & 3;
    self_ = choice == 3 ? observer_ : choice + 1;
    for (int64_t sid : members_) {
      if (sid != self_) others_.push_back(sid);
    }
    election::ElectionOptions options;
    options.sid = self_;
    options.quorum = std::make_shared<election::MajorityQuorum>(voters_);
    options.leader_timeout_ticks = (setup & 8) ? 20 : 0;
    options.finalize_wait_ticks = (setup & 16) ? 0 : 4;
    options.seed = setup;
    core_ = std::make_unique<FastLeaderElection>(options);
    local_.sid = self_;
    local_.current_epoch = 1 + (state & 3);
    local_.last_zxid = Zxid::Make(local_.current_epoch, state >> 2);
    core_->Start(local_);
    Take();
  }

  void Run(Input& in) {
    using namespace fle_cmd;
    int commands = 0;
    while (!in.empty() && ++commands <= 4000) {
      const uint8_t op = in.Byte();
      const uint8_t arg = op >> 3;
      switch (static_cast<Kind>(op & 7)) {
        case kStep:
        case kStep2:
        case kStep3:
          if (std::optional<Notification> n = Fields(in, Other(arg))) Step(*n);
          break;
        case kBatchRaw:
          BatchRaw(in, arg);
          break;
        case kStatus:
          if (std::optional<Notification> n = Fields(in, Other(arg))) core_->PeerStatus(*n);
          break;
        case kTick:
          for (int i = 0; i <= arg; ++i) {
            core_->Tick();
            Take();
          }
          break;
        case kDisconnect:
          core_->PeerDisconnected(Other(arg));
          break;
        case kRestart:
          if (arg & 1) core_->Abandon("fuzz");
          core_->Start(local_);
          break;
      }
      Take();
    }
  }

 private:
  int64_t Other(uint8_t arg) const { return others_[arg % others_.size()]; }

  int64_t Leader(uint8_t b) const {
    switch (b & 7) {
      case 0:
        return self_;
      case 1:
        return voters_[(b >> 3) % voters_.size()];
      case 2:
        return core_->proposal().leader;
      case 3:
        return observer_;
      case 4:
        return 0;
      case 5:
        return -1;
      case 6:
        return core_->decided() ? core_->decision().leader : voters_.back();
      default:
        return b >> 3;
    }
  }

  int64_t ZxidValue(Input& in) {
    const uint8_t b = in.Byte();
    switch (b & 7) {
      case 0:
        return local_.last_zxid;
      case 1:
        return core_->proposal().zxid;
      case 2:
        return WrapAdd(local_.last_zxid, 1);
      case 3:
        return WrapAdd(local_.last_zxid, -1);
      case 4:
        return 0;
      case 5:
        return kMax;
      case 6:
        return kMin;
      default:
        return static_cast<int64_t>(in.U64());
    }
  }

  int64_t RoundValue(Input& in) {
    const uint8_t b = in.Byte();
    const int64_t clock = core_->logical_clock();
    switch (b & 7) {
      case 0:
        return clock;
      case 1:
        return WrapAdd(clock, 1);
      case 2:
        return WrapAdd(clock, -1);
      case 3:
        return WrapAdd(clock, 1 + (b >> 3));
      case 4:
        return 0;
      case 5:
        return kMax;
      case 6:
        return kMin;
      default:
        return static_cast<int64_t>(in.U64());
    }
  }

  int64_t EpochValue(Input& in) {
    const uint8_t b = in.Byte();
    switch (b & 7) {
      case 0:
        return local_.current_epoch;
      case 1:
        return core_->proposal().peer_epoch;
      case 2:
        return local_.current_epoch + 1;
      case 3:
        return local_.current_epoch - 1;
      case 4:
        return 0;
      case 5:
        return kMax;
      case 6:
        return kMin;
      default:
        return static_cast<int64_t>(in.U64());
    }
  }

  // A notification from `from`, through the proto and FromProto as on the wire.
  std::optional<Notification> Fields(Input& in, int64_t from) {
    std::optional<Notification> n = BuildFields(in, from);
    if (n && Tracing()) std::fprintf(stderr, "fle: <- %s\n", election::ToString(*n).c_str());
    return n;
  }

  std::optional<Notification> BuildFields(Input& in, int64_t from) {
    ev1::Notification p;
    p.set_sid(from);
    p.set_leader(Leader(in.Byte()));
    p.set_zxid(ZxidValue(in));
    p.set_election_epoch(RoundValue(in));
    p.set_peer_epoch(EpochValue(in));
    p.set_state(static_cast<ev1::PeerState>(in.Byte() % 6));  // 0 and 5 are invalid
    absl::StatusOr<Notification> n = election::FromProto(p);
    if (!n.ok()) return std::nullopt;  // ElectionService drops the batch
    return *n;
  }

  bool Known(int64_t sid) const {
    for (int64_t other : others_) {
      if (other == sid) return true;
    }
    return false;
  }

  // One Notify batch, checked as ElectionService::Notify does: a sender that is
  // another server of the configuration, at most kMaxNotificationsPerBatch
  // notifications, each (and the status) valid and in the sender's name.
  void BatchRaw(Input& in, uint8_t arg) {
    const std::string_view bytes = in.Bytes(in.U16() & 0x3ff);
    ev1::Notifications batch;
    if (!batch.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return;
    if (arg & 1) {
      const int64_t from = Other(arg >> 1);
      batch.set_sid(from);
      for (auto& n : *batch.mutable_notifications()) n.set_sid(from);
      if (batch.has_status()) batch.mutable_status()->set_sid(from);
    }
    const int64_t from = batch.sid();
    if (!Known(from) || batch.notifications_size() > kMaxNotificationsPerBatch) return;
    std::vector<Notification> notifications;
    for (const auto& p : batch.notifications()) {
      absl::StatusOr<Notification> n = election::FromProto(p);
      if (!n.ok() || n->sid != from) return;
      notifications.push_back(*n);
    }
    std::optional<Notification> status;
    if (batch.has_status()) {
      absl::StatusOr<Notification> s = election::FromProto(batch.status());
      if (!s.ok() || s->sid != from) return;
      status = *s;
    }
    // ElectionDriver::Handle(BatchEvent).
    if (status) core_->PeerStatus(*status);
    for (const Notification& n : notifications) {
      if (Tracing()) std::fprintf(stderr, "fle: <- (batch) %s\n", election::ToString(n).c_str());
      Step(n);
      Take();
    }
  }

  // True if `n` would trigger a known crash class the environment asks to skip:
  // fast_leader_election.cc does `election_epoch + 1` (EnterRound after a
  // FOLLOWING/LEADING notification) and `++logical_clock_` (Start, after
  // adopting a peer's round), both signed overflows for rounds at the top of
  // int64; no honest peer gets anywhere near.
  static bool KnownCrash(const Notification& n) {
    return n.election_epoch > kMax - (int64_t{1} << 20) && SkipKnown("fle-round-overflow");
  }

  void Step(const Notification& n) {
    if (!KnownCrash(n)) core_->Step(n);
  }

  bool IsVoter(int64_t sid) const {
    for (int64_t v : voters_) {
      if (v == sid) return true;
    }
    return false;
  }

  void Take() {
    election::ElectionOutput out = core_->TakeOutput();
    if (Tracing()) {
      for (const auto& line : out.trace) std::fprintf(stderr, "fle: %s\n", line.c_str());
    }
    for (const auto& o : out.notifications) {
      if (o.to == self_ || !(Known(o.to))) {
        Fail(kTarget, absl::StrCat("a notification to ", o.to, ", not another member"));
      }
      if (o.notification.sid != self_) Fail(kTarget, "a notification in another peer's name");
    }
    if (out.decision) {
      const election::Decision& d = *out.decision;
      if (!IsVoter(d.leader))
        Fail(kTarget, absl::StrCat("decided for ", d.leader, ", not a voter"));
      if ((d.state == PeerState::kLeading) != (d.leader == self_)) {
        Fail(kTarget, "LEADING does not match leader == self");
      }
      if ((d.state == PeerState::kObserving) != (self_ == observer_)) {
        Fail(kTarget, "OBSERVING does not match being the observer");
      }
      if (d.state == PeerState::kLooking) Fail(kTarget, "a decision to keep LOOKING");
    }
    if (out.restart_reason) {
      // The shell reads its local state again and starts a new round.
      core_->Start(local_);
      Take();
    }
  }

  std::vector<int64_t> voters_;
  int64_t observer_ = 0;
  std::vector<int64_t> members_;
  std::vector<int64_t> others_;
  int64_t self_ = 0;
  election::LocalState local_;
  std::unique_ptr<FastLeaderElection> core_;
};

}  // namespace
}  // namespace ensemble::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ensemble::fuzz::Input in(data, size);
  const uint8_t setup = in.Byte();
  const uint8_t state = in.Byte();
  ensemble::fuzz::Harness harness(setup, state);
  harness.Run(in);
  return 0;
}

#include "services/election/core/fast_leader_election.h"

#include <algorithm>
#include <limits>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/base/check.h"
#include "common/base/zxid.h"

namespace ensemble::election {

FastLeaderElection::FastLeaderElection(ElectionOptions options)
    : options_(std::move(options)), rng_(options_.seed) {
  ENSEMBLE_CHECK(options_.quorum != nullptr);
  ENSEMBLE_CHECK(options_.finalize_wait_ticks >= 0);
  ENSEMBLE_CHECK(options_.min_notification_interval_ticks >= 1);
  ENSEMBLE_CHECK(options_.min_notification_interval_ticks <=
                 options_.max_notification_interval_ticks);
  ENSEMBLE_CHECK(options_.leader_timeout_ticks >= 0);
}

void FastLeaderElection::Trace(std::string line) { output_.trace.push_back(std::move(line)); }

ElectionOutput FastLeaderElection::TakeOutput() { return std::exchange(output_, {}); }

Proposal FastLeaderElection::InitialProposal() const {
  // getInitId / getInitLastLoggedZxid / getPeerEpoch: an observer's own vote
  // is the lowest possible, so that any voter's vote beats it.
  if (!is_voter()) {
    return {options_.sid, std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::min()};
  }
  return {options_.sid, local_.last_zxid, local_.current_epoch};
}

Notification FastLeaderElection::ProposalNotification() const {
  return {options_.sid,   proposal_.leader,     proposal_.zxid,
          logical_clock_, proposal_.peer_epoch, PeerState::kLooking};
}

Notification FastLeaderElection::DecisionNotification() const {
  return {options_.sid,         decision_.leader,
          decision_.zxid,       decision_.election_epoch,
          decision_.peer_epoch, state_};
}

Notification FastLeaderElection::Status() const {
  return decided() ? DecisionNotification() : ProposalNotification();
}

void FastLeaderElection::Send(int64_t to, const Notification& n) {
  output_.notifications.push_back({to, n});
}

void FastLeaderElection::SendNotifications() {
  const Notification n = ProposalNotification();
  for (int64_t voter : quorum().Voters()) {
    if (voter != options_.sid) Send(voter, n);
  }
}

void FastLeaderElection::ResetResendTimer() {
  const int64_t jitter =
      static_cast<int64_t>(rng_.Uniform(static_cast<uint64_t>(notification_interval_ / 4 + 1)));
  resend_at_ = tick_ + notification_interval_ + jitter;
}

void FastLeaderElection::Start(const LocalState& local) {
  ENSEMBLE_CHECK(local.sid == options_.sid);
  local_ = local;
  started_ = true;
  state_ = PeerState::kLooking;
  ++logical_clock_;
  recvset_.clear();
  outofelection_.clear();
  finalize_at_.reset();
  last_support_tick_.clear();
  round_start_tick_ = tick_;
  proposal_ = InitialProposal();
  notification_interval_ = options_.min_notification_interval_ticks;
  ResetResendTimer();
  Trace(absl::StrCat("round.start clock=", logical_clock_, " zxid=", Zxid::Hex(local.last_zxid),
                     " epoch=", local.current_epoch, " vote=", ToString(proposal_)));
  SendNotifications();
  // Our own vote counts like any other (ZooKeeper sends it to itself).
  RecordOwnVote();
  CheckLookingQuorum();
}

void FastLeaderElection::Abandon(const std::string& reason) {
  if (started_) Trace(absl::StrCat("round.abandon clock=", logical_clock_, " reason=", reason));
  started_ = false;
  state_ = PeerState::kLooking;
  finalize_at_.reset();
}

void FastLeaderElection::UpdateProposal(const Proposal& p) {
  if (!(p == proposal_)) {
    Trace(absl::StrCat("vote.change clock=", logical_clock_, " from=", ToString(proposal_),
                       " to=", ToString(p)));
  }
  proposal_ = p;
  finalize_at_.reset();
}

void FastLeaderElection::Step(const Notification& n) {
  if (!started_ || n.sid == options_.sid) return;
  // Only voters answer notifications (see "Answers" in the header), and an
  // answer is never answered: the exchange ends.
  if (!quorum().IsVoter(n.sid)) {
    // WorkerReceiver: a LOOKING non-voter (an observer) gets our current vote
    // right away; its notification is not a vote. A decided one knows the
    // leader and gets nothing.
    if (is_voter() && n.state == PeerState::kLooking) Send(n.sid, Status());
    return;
  }
  if (!quorum().IsVoter(n.leader)) {
    Trace(absl::StrCat("notification.ignored reason=leader_not_a_voter n=", ToString(n)));
    return;
  }
  if (decided()) {
    // A voter out of the election tells a looking voter whom it follows.
    if (n.state == PeerState::kLooking && is_voter()) Send(n.sid, DecisionNotification());
    return;
  }
  // LOOKING from here on. Any notification from a voter postpones the re-send.
  ResetResendTimer();
  if (n.state == PeerState::kLooking) {
    // The sender takes part in an election now: whatever it said when it was
    // out of one (following or leading) is stale.
    outofelection_.erase(n.sid);
    if (n.election_epoch < logical_clock_ && is_voter()) {
      // The sender lags behind: tell it our round and vote.
      Send(n.sid, ProposalNotification());
    }
  }
  switch (n.state) {
    case PeerState::kLooking:
      HandleLooking(n);
      break;
    case PeerState::kFollowing:
    case PeerState::kLeading:
      HandleOutOfElection(n);
      break;
    case PeerState::kObserving:
      break;
  }
}

void FastLeaderElection::EnterRound(int64_t round, const Notification& n) {
  Trace(absl::StrCat("round.enter clock=", round, " was=", logical_clock_, " from=", n.sid));
  logical_clock_ = round;
  recvset_.clear();
  const Proposal init = InitialProposal();
  UpdateProposal(TotalOrderPredicate(quorum(), n.proposal(), init) ? n.proposal() : init);
  SendNotifications();
  RecordOwnVote();
}

void FastLeaderElection::RecordOwnVote() {
  if (is_voter()) {
    recvset_[options_.sid] = {proposal_.leader, proposal_.zxid, logical_clock_,
                              proposal_.peer_epoch, PeerState::kLooking};
  }
}

void FastLeaderElection::HandleLooking(const Notification& n) {
  if (n.election_epoch > logical_clock_) {
    EnterRound(n.election_epoch, n);
  } else if (n.election_epoch < logical_clock_) {
    return;  // a vote of an old round (answered in Step)
  } else if (TotalOrderPredicate(quorum(), n.proposal(), proposal_)) {
    UpdateProposal(n.proposal());
    SendNotifications();
  }
  recvset_[n.sid] = n.vote();
  RecordOwnVote();
  CheckLookingQuorum();
}

void FastLeaderElection::CheckLookingQuorum() {
  if (decided()) return;
  const Vote mine{proposal_.leader, proposal_.zxid, logical_clock_, proposal_.peer_epoch,
                  PeerState::kLooking};
  if (!GetVoteTracker(quorum(), recvset_, mine).HasAllQuorums()) {
    finalize_at_.reset();
    return;
  }
  if (options_.finalize_wait_ticks == 0) {
    Decide(mine, /*joined=*/false);
    return;
  }
  if (!finalize_at_) {
    finalize_at_ = tick_ + options_.finalize_wait_ticks;
    Trace(absl::StrCat("quorum.reached clock=", logical_clock_, " vote=", ToString(proposal_),
                       " finalize_at=", *finalize_at_));
  }
}

void FastLeaderElection::HandleOutOfElection(const Notification& n) {
  // receivedFollowingNotification / receivedLeadingNotification.
  const Vote v = n.vote();
  if (n.election_epoch == logical_clock_) {
    recvset_[n.sid] = v;
    if (GetVoteTracker(quorum(), recvset_, v).HasAllQuorums() &&
        CheckLeader(recvset_, n.leader, n.election_epoch, options_.sid, logical_clock_)) {
      Decide(v, /*joined=*/true);
      return;
    }
  }
  // Before joining an established ensemble, verify that a quorum follows the
  // same leader, and that the leader says it leads (ZOOKEEPER-1732: votes of
  // this round count here too).
  outofelection_[n.sid] = v;
  if (n.leader == options_.sid) {
    // "Everyone else thinks I'm the leader": only in our own round, and only
    // with votes that agree on our epoch too (ZooKeeper's rule).
    if (GetVoteTracker(quorum(), outofelection_, v).HasAllQuorums() &&
        CheckLeader(outofelection_, n.leader, n.election_epoch, options_.sid, logical_clock_)) {
      Decide(v, /*joined=*/true);
      return;
    }
  } else if (std::optional<Vote> leading = RunningLeader(n.leader)) {
    // Ensemble: the followers' peer epochs and rounds need not agree (see
    // "Joining a running leader" in the header); take the leader's own vote.
    logical_clock_ = leading->election_epoch;
    Decide(*leading, /*joined=*/true);
    return;
  }
  // Ensemble's addition: round n.election_epoch was decided for a leader we do
  // not vote for, so do not decide anything else in it; move past it.
  // (Logical clocks restart at 1 with the process, so a restarted peer would
  // otherwise reuse a round that a running peer decided.) Joining through
  // outofelection above still works from the later round.
  if (n.election_epoch >= logical_clock_ && n.leader != proposal_.leader) {
    EnterRound(n.election_epoch + 1, n);
    CheckLookingQuorum();
  }
}

std::optional<Vote> FastLeaderElection::RunningLeader(int64_t leader) const {
  auto it = outofelection_.find(leader);
  if (it == outofelection_.end() || it->second.state != PeerState::kLeading ||
      it->second.leader != leader) {
    return std::nullopt;
  }
  std::set<int64_t> named;
  for (const auto& [sid, vote] : outofelection_) {
    if (vote.leader == leader) named.insert(sid);
  }
  if (!quorum().ContainsQuorum(named)) return std::nullopt;
  return it->second;
}

void FastLeaderElection::Decide(const Vote& vote, bool joined) {
  PeerState mine = PeerState::kObserving;
  if (vote.leader == options_.sid) {
    mine = PeerState::kLeading;
  } else if (is_voter()) {
    mine = PeerState::kFollowing;
  }
  state_ = mine;
  decision_ = {vote.leader,     vote.zxid, vote.election_epoch,
               vote.peer_epoch, mine,      tick_ - round_start_tick_,
               joined};
  finalize_at_.reset();
  decided_tick_ = tick_;
  last_quorum_tick_ = tick_;
  last_support_tick_.clear();
  output_.decision = decision_;
  Trace(absl::StrCat("decided state=", std::string(PeerStateName(mine)), " leader=", vote.leader,
                     " clock=", vote.election_epoch, " zxid=", Zxid::Hex(vote.zxid), " peer_epoch=",
                     vote.peer_epoch, " ticks=", decision_.ticks, joined ? " joined=true" : ""));
}

void FastLeaderElection::PeerStatus(const Notification& status) {
  if (!started_ || !decided() || status.sid == options_.sid) return;
  if (state_ == PeerState::kLeading) {
    if (quorum().IsVoter(status.sid) && status.leader == options_.sid &&
        (status.state == PeerState::kFollowing || status.state == PeerState::kLeading)) {
      last_support_tick_[status.sid] = tick_;
    }
  } else if (status.sid == decision_.leader && status.leader == decision_.leader &&
             status.state == PeerState::kLeading) {
    last_support_tick_[status.sid] = tick_;
  }
}

void FastLeaderElection::PeerDisconnected(int64_t sid) {
  if (!started_ || !decided() || state_ == PeerState::kLeading) return;
  if (sid == decision_.leader) GiveUp("leader_disconnected");
}

void FastLeaderElection::GiveUp(const std::string& reason) {
  Trace(absl::StrCat("decision.given_up state=", std::string(PeerStateName(state_)), " leader=",
                     decision_.leader, " clock=", decision_.election_epoch, " reason=", reason));
  Abandon(reason);
  output_.restart_reason = reason;
}

void FastLeaderElection::CheckFailureDetector() {
  const int64_t timeout = options_.leader_timeout_ticks;
  if (timeout == 0) return;
  if (state_ == PeerState::kLeading) {
    std::set<int64_t> supporters = {options_.sid};
    for (const auto& [sid, at] : last_support_tick_) {
      if (tick_ - at <= timeout) supporters.insert(sid);
    }
    if (quorum().ContainsQuorum(supporters)) {
      last_quorum_tick_ = tick_;
    } else if (tick_ - last_quorum_tick_ > timeout) {
      GiveUp("lost_quorum");
    }
    return;
  }
  int64_t since = decided_tick_;
  auto it = last_support_tick_.find(decision_.leader);
  if (it != last_support_tick_.end()) since = std::max(since, it->second);
  if (tick_ - since > timeout) GiveUp("leader_silent");
}

void FastLeaderElection::Tick() {
  ++tick_;
  if (!started_) return;
  if (decided()) {
    CheckFailureDetector();
    return;
  }
  if (finalize_at_ && tick_ >= *finalize_at_) {
    // No better vote arrived during the finalize wait.
    const Vote mine{proposal_.leader, proposal_.zxid, logical_clock_, proposal_.peer_epoch,
                    PeerState::kLooking};
    if (GetVoteTracker(quorum(), recvset_, mine).HasAllQuorums()) {
      Decide(mine, /*joined=*/false);
      return;
    }
    finalize_at_.reset();
  }
  if (tick_ >= resend_at_) {
    // Nothing heard for a whole interval: send again, then back off.
    Trace(absl::StrCat("notification.resend clock=", logical_clock_,
                       " interval=", notification_interval_));
    SendNotifications();
    notification_interval_ =
        std::min(notification_interval_ * 2, options_.max_notification_interval_ticks);
    ResetResendTimer();
  }
}

}  // namespace ensemble::election

#pragma once

// ZooKeeper's fast leader election (quorum/FastLeaderElection.java,
// lookForLeader and WorkerReceiver) as a synchronous state machine: the shell
// feeds it notifications (Step), heartbeat statuses (PeerStatus) and clock
// ticks (Tick), and executes what it returns (TakeOutput): notifications to
// send, and the decision once there is one. Pure: no threads, sockets or
// clocks; time is counted in ticks, jitter comes from a seeded Rng.
//
// The rules, as ZooKeeper has them:
//  - Start (lookForLeader): the logical clock (election epoch, "round") goes
//    up by one; the peer votes for itself with its last zxid and current
//    epoch, and sends that vote to every voter.
//  - A LOOKING notification from a voter
//      * of a later round: adopt the round, forget the votes received so far,
//        vote for the better of its vote and our own initial vote
//        (TotalOrderPredicate), send the vote to every voter;
//      * of an earlier round: ignored, but answered with our vote so the
//        sender catches up;
//      * of our round, with a vote that beats ours: adopt it, send it to every
//        voter.
//    Its vote is recorded (one per sender). When a quorum of the recorded
//    votes equals ours, wait finalize_wait_ticks ("finalizeWait") for a
//    better vote; if none comes, decide: LEADING if we voted for ourselves,
//    else FOLLOWING (OBSERVING for an observer). Ensemble's addition: it also
//    erases the sender's FOLLOWING/LEADING vote from `outofelection`, which
//    no longer says what the sender does.
//  - FOLLOWING/LEADING notifications (from peers out of the election) are
//    recorded in the round's votes when of our round, and always in
//    `outofelection`. A quorum of this round's votes agreeing with one that
//    names a leader who itself says LEADING (CheckLeader) decides at once.
//  - Joining a running leader (Ensemble's rule; ZooKeeper's asks the votes in
//    `outofelection` to agree on the leader's peer epoch too): a late or
//    restarted peer follows leader L, adopting L's round, as soon as
//    `outofelection` holds L's own LEADING vote and a quorum of its votes
//    name L, whatever their peer epochs and rounds. Decided peers can name one
//    leader with different peer epochs: one that followed a leader before the
//    leader was re-elected with a newer epoch keeps its old vote, and one that
//    joined picked up the vote the leader had then. Requiring one peer epoch
//    left a restarted peer LOOKING while a quorum served (docs/zab.md). The
//    epoch in a vote is only informational for replication, which agrees on
//    the epoch in discovery. The decision carries L's vote (zxid, round, peer
//    epoch). "Everyone else thinks I'm the leader" keeps ZooKeeper's rule:
//    only in our own round, with votes that agree on the peer epoch.
//  - Ensemble's addition: if such a notification names a round at least ours
//    for a leader we do not vote for (and does not let us join), we move to
//    the round after it, so that a round a running peer decided is not
//    decided again for someone else (logical clocks restart at 1 with the
//    process; ZooKeeper would stay in it).
//  - Notifications from non-voters (observers) are not votes: a voter answers
//    a LOOKING one with its current vote (so observers learn the leader) and
//    ignores the rest. An observer runs the same loop; its own vote never
//    counts.
//  - Votes for non-voters are ignored; a voter of weight 0 is never elected.
//  - A decided voter answers every LOOKING notification from a voter with its
//    decision (state FOLLOWING/LEADING), which is how a restarted peer learns
//    the running leader.
//  - Answers terminate (ZooKeeper's WorkerReceiver lets a decided observer
//    and a LOOKING voter answer each other forever). Only voters answer, with
//    one notification to the sender, in three cases: (a) a LOOKING non-voter
//    gets our Status; non-voters answer nothing, so (a) ends there. (b) A
//    decided voter answers a LOOKING voter with its decision, which is not
//    LOOKING and so is answered by no one. (c) A LOOKING voter answers a
//    LOOKING voter of an earlier round with its vote of its own round; only a
//    peer whose round is later still answers that, so the rounds along a chain
//    of answers strictly increase, and a round past every one in use comes
//    only from Start or from the move past a decided round above (at most
//    one past the largest). Other sends follow a change of our round or vote
//    (both only move forward) or a timer, so without Start and re-sends the
//    exchange of notifications ends; a duplicate adds one bounded chain.
//  - While LOOKING, if no notification arrives from a voter for the current
//    notification interval, the vote is sent again to every voter and the
//    interval doubles, from min_notification_interval_ticks up to
//    max_notification_interval_ticks.
//
// Ensemble's addition (ZooKeeper's Follower/Leader ping timeouts do this job
// there; here replication is another process): a failure detector on the
// decision. A follower or observer gives its decision up at once when the
// leader's stream to it ends (PeerDisconnected). Every peer's shell also sends
// every other server a status (its current vote and state) at least once per
// heartbeat interval: a follower or observer whose leader has not said
// LEADING for leader_timeout_ticks, and a leader whose supporters (voters
// whose status says they follow it, plus itself) have not formed a quorum for
// leader_timeout_ticks, give up the decision too. Giving up: the output
// carries restart_reason, the core stops taking part, and the shell fetches a
// fresh LocalState and calls Start again. The local replication service
// triggers the same through the shell (Reelect).
//
// Thread-compatible: one thread (the driver) owns an instance.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/base/rng.h"
#include "services/election/core/quorum.h"
#include "services/election/core/vote.h"
#include "services/election/core/vote_tracker.h"

namespace ensemble::election {

struct ElectionOptions {
  int64_t sid = 0;  // this peer
  // The configuration's voters, weights and quorums. Required.
  std::shared_ptr<const QuorumVerifier> quorum;
  // ZooKeeper's finalizeWait (200 ms): how long a quorum for our vote must
  // stand without a better vote arriving before we decide.
  int64_t finalize_wait_ticks = 4;
  // Back-off of re-sends while LOOKING (fastleader.min/maxNotificationInterval).
  int64_t min_notification_interval_ticks = 4;
  int64_t max_notification_interval_ticks = 1200;
  // The failure detector's timeout; 0 turns it off.
  int64_t leader_timeout_ticks = 0;
  // Seeds the jitter added to re-send intervals (up to a quarter of one).
  uint64_t seed = 1;
};

// What this peer brings to a round, read from its storage before each Start.
struct LocalState {
  int64_t sid = 0;
  int64_t last_zxid = 0;      // the last logged zxid
  int64_t current_epoch = 0;  // the last epoch this peer accepted a NEWLEADER for
};

struct OutgoingNotification {
  int64_t to = 0;
  Notification notification;
  friend bool operator==(const OutgoingNotification&, const OutgoingNotification&) = default;
};

// The end of an election for this peer.
struct Decision {
  int64_t leader = 0;
  int64_t zxid = 0;                       // the leader's last zxid as voted
  int64_t election_epoch = 0;             // the round the decision belongs to
  int64_t peer_epoch = 0;                 // the leader's epoch as voted
  PeerState state = PeerState::kLooking;  // this peer's role: FOLLOWING, LEADING, OBSERVING
  int64_t ticks = 0;                      // from Start to the decision
  bool joined = false;                    // learned from peers out of the election (outofelection)
};

struct ElectionOutput {
  std::vector<OutgoingNotification> notifications;  // in the order produced
  std::optional<Decision> decision;                 // this peer decided in this batch
  // The failure detector gave the decision up (see above). The core is LOOKING
  // and takes no part until Start.
  std::optional<std::string> restart_reason;
  // One line per event ("round.start clock=2 ..."), for the shell's debug log
  // and the simulator's per-peer trace.
  std::vector<std::string> trace;

  bool empty() const {
    return notifications.empty() && !decision && !restart_reason && trace.empty();
  }
};

class FastLeaderElection {
 public:
  // REQUIRES: options.quorum != nullptr, finalize and interval ticks >= 0,
  // min <= max interval.
  explicit FastLeaderElection(ElectionOptions options);

  // Begins a new round (lookForLeader): logical clock + 1, vote for
  // ourselves, notify every voter. May be called in any state.
  // REQUIRES: local.sid == options.sid.
  void Start(const LocalState& local);

  // Gives up the decision or round: LOOKING, but taking no part (incoming
  // notifications are dropped) until Start. For the shell while it reads the
  // local state for the next round.
  void Abandon(const std::string& reason);

  // One notification received from `n.sid`. Dropped before the first Start.
  void Step(const Notification& n);

  // A status heartbeat from `status.sid` (its current vote and state): feeds
  // the failure detector only; it is not a vote.
  void PeerStatus(const Notification& status);

  // Every stream from `sid` to us has ended (its process stopped or the
  // connection broke). A follower or observer whose leader this is gives up
  // the decision at once, as a ZooKeeper follower does when the leader's
  // socket closes; otherwise nothing changes.
  void PeerDisconnected(int64_t sid);

  // One tick of the logical clock: finalize wait, re-sends, failure detector.
  void Tick();

  // Everything produced since the last call.
  ElectionOutput TakeOutput();

  // --- Introspection ---
  bool started() const { return started_; }
  PeerState state() const { return state_; }
  bool decided() const { return state_ != PeerState::kLooking; }
  int64_t logical_clock() const { return logical_clock_; }
  int64_t tick() const { return tick_; }
  int64_t sid() const { return options_.sid; }
  bool is_voter() const { return quorum().IsVoter(options_.sid); }
  const Proposal& proposal() const { return proposal_; }
  // REQUIRES: decided().
  const Decision& decision() const { return decision_; }
  // What this peer tells others now: its decision when decided, else its
  // proposal in the current round (state LOOKING).
  Notification Status() const;
  const QuorumVerifier& quorum() const { return *options_.quorum; }

 private:
  Proposal InitialProposal() const;
  Notification ProposalNotification() const;
  Notification DecisionNotification() const;
  void Send(int64_t to, const Notification& n);
  void SendNotifications();
  void UpdateProposal(const Proposal& p);
  // Moves to `round`: forget the round's votes, vote for the better of n's
  // vote and our initial vote, tell every voter.
  void EnterRound(int64_t round, const Notification& n);
  void RecordOwnVote();
  void HandleLooking(const Notification& n);
  void HandleOutOfElection(const Notification& n);
  // The LEADING vote of `leader` (not us) if outofelection_ holds one and a
  // quorum of its votes name `leader`, whatever their peer epochs and rounds.
  std::optional<Vote> RunningLeader(int64_t leader) const;
  void CheckLookingQuorum();
  void Decide(const Vote& vote, bool joined);
  void ResetResendTimer();
  void CheckFailureDetector();
  void GiveUp(const std::string& reason);
  void Trace(std::string line);

  const ElectionOptions options_;
  Rng rng_;
  int64_t tick_ = 0;

  bool started_ = false;  // Start was called since construction / Abandon
  PeerState state_ = PeerState::kLooking;
  int64_t logical_clock_ = 0;
  LocalState local_;
  Proposal proposal_;  // this round's vote (LOOKING)
  Decision decision_;  // valid when decided()
  int64_t round_start_tick_ = 0;

  // Votes of this round, by sender (ZooKeeper's recvset), our own included
  // when we vote.
  std::map<int64_t, Vote> recvset_;
  // FOLLOWING/LEADING votes of any round, by sender (ZooKeeper's outofelection).
  std::map<int64_t, Vote> outofelection_;
  // The tick at which we decide if no better vote arrives.
  std::optional<int64_t> finalize_at_;
  int64_t notification_interval_ = 0;
  int64_t resend_at_ = 0;

  // Failure detector (decided state only).
  int64_t decided_tick_ = 0;
  std::map<int64_t, int64_t> last_support_tick_;  // sid -> last status supporting our decision
  int64_t last_quorum_tick_ = 0;                  // leader: last tick with a supporting quorum

  ElectionOutput output_;
};

}  // namespace ensemble::election

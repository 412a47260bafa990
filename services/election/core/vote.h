#pragma once

// The values fast leader election exchanges (ZooKeeper's quorum/Vote.java and
// FastLeaderElection.Notification) and the order on votes
// (FastLeaderElection.totalOrderPredicate). Pure.

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "ensemble/election.pb.h"
#include "services/election/core/quorum.h"

namespace ensemble::election {

// ZooKeeper's QuorumPeer.ServerState; the numbers are election.proto's.
enum class PeerState : uint8_t {
  kLooking = 1,    // taking part in an election
  kFollowing = 2,  // a voter that decided to follow `leader`
  kLeading = 3,    // a voter that decided to lead
  kObserving = 4,  // an observer that learned `leader`
};

// "looking", "following", "leading", "observing".
std::string_view PeerStateName(PeerState state);

// A candidate for leader as ZooKeeper's FastLeaderElection keeps it in
// (proposedLeader, proposedZxid, proposedEpoch).
struct Proposal {
  int64_t leader = 0;      // sid of the proposed leader
  int64_t zxid = 0;        // its last logged zxid
  int64_t peer_epoch = 0;  // its current epoch

  friend bool operator==(const Proposal&, const Proposal&) = default;
};

// ZooKeeper's Vote: a proposal in one round (election epoch), with the state of
// the peer that holds it.
struct Vote {
  int64_t leader = 0;
  int64_t zxid = 0;
  int64_t election_epoch = 0;
  int64_t peer_epoch = 0;
  PeerState state = PeerState::kLooking;

  Proposal proposal() const { return {leader, zxid, peer_epoch}; }
  friend bool operator==(const Vote&, const Vote&) = default;
};

// ZooKeeper's Vote.equals, which decides whether two votes count together:
// when either is LOOKING, leader, zxid, election epoch and peer epoch must all
// match; between votes of peers out of election (FOLLOWING/LEADING) only the
// leader and the peer epoch (zxid and round can differ between peers that
// joined the leader at different times; see ZOOKEEPER-1732).
bool SameVote(const Vote& a, const Vote& b);

// One notification: a peer's vote, as sent to another peer.
struct Notification {
  int64_t sid = 0;  // sender
  int64_t leader = 0;
  int64_t zxid = 0;
  int64_t election_epoch = 0;
  int64_t peer_epoch = 0;
  PeerState state = PeerState::kLooking;

  Vote vote() const { return {leader, zxid, election_epoch, peer_epoch, state}; }
  Proposal proposal() const { return {leader, zxid, peer_epoch}; }
  friend bool operator==(const Notification&, const Notification&) = default;
};

// FastLeaderElection.totalOrderPredicate: does `next` beat `current`?
// True if one of the following holds, and never when `next.leader` has weight
// 0 in `quorum` (it cannot be elected):
//   1. next's peer epoch is higher;
//   2. the peer epochs are equal and next's zxid is higher;
//   3. peer epochs and zxids are equal and next's sid is higher.
bool TotalOrderPredicate(const QuorumVerifier& quorum, const Proposal& next,
                         const Proposal& current);

// "(leader=3 zxid=0x100000002 peer_epoch=1)", for logs and traces.
std::string ToString(const Proposal& p);
std::string ToString(const Notification& n);

// Conversions to and from election.proto. FromProto fails with
// InvalidArgument when the state is missing or unknown.
ensemble::election::v1::Notification ToProto(const Notification& n);
absl::StatusOr<Notification> FromProto(const ensemble::election::v1::Notification& n);
ensemble::election::v1::PeerState ToProto(PeerState state);

}  // namespace ensemble::election

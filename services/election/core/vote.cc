#include "services/election/core/vote.h"

#include "absl/strings/str_cat.h"
#include "common/base/zxid.h"

namespace ensemble::election {

std::string_view PeerStateName(PeerState state) {
  switch (state) {
    case PeerState::kLooking:
      return "looking";
    case PeerState::kFollowing:
      return "following";
    case PeerState::kLeading:
      return "leading";
    case PeerState::kObserving:
      return "observing";
  }
  return "unknown";
}

bool SameVote(const Vote& a, const Vote& b) {
  if (a.state == PeerState::kLooking || b.state == PeerState::kLooking) {
    return a.leader == b.leader && a.zxid == b.zxid && a.election_epoch == b.election_epoch &&
           a.peer_epoch == b.peer_epoch;
  }
  return a.leader == b.leader && a.peer_epoch == b.peer_epoch;
}

bool TotalOrderPredicate(const QuorumVerifier& quorum, const Proposal& next,
                         const Proposal& current) {
  if (quorum.Weight(next.leader) == 0) return false;
  if (next.peer_epoch != current.peer_epoch) return next.peer_epoch > current.peer_epoch;
  if (next.zxid != current.zxid) return next.zxid > current.zxid;
  return next.leader > current.leader;
}

std::string ToString(const Proposal& p) {
  return absl::StrCat("(leader=", p.leader, " zxid=", Zxid::Hex(p.zxid),
                      " peer_epoch=", p.peer_epoch, ")");
}

std::string ToString(const Notification& n) {
  return absl::StrCat("(from=", n.sid, " state=", std::string(PeerStateName(n.state)),
                      " round=", n.election_epoch, " leader=", n.leader,
                      " zxid=", Zxid::Hex(n.zxid), " peer_epoch=", n.peer_epoch, ")");
}

ensemble::election::v1::PeerState ToProto(PeerState state) {
  return static_cast<ensemble::election::v1::PeerState>(static_cast<int>(state));
}

ensemble::election::v1::Notification ToProto(const Notification& n) {
  ensemble::election::v1::Notification out;
  out.set_sid(n.sid);
  out.set_leader(n.leader);
  out.set_zxid(n.zxid);
  out.set_election_epoch(n.election_epoch);
  out.set_peer_epoch(n.peer_epoch);
  out.set_state(ToProto(n.state));
  return out;
}

absl::StatusOr<Notification> FromProto(const ensemble::election::v1::Notification& n) {
  switch (n.state()) {
    case ensemble::election::v1::PEER_STATE_LOOKING:
    case ensemble::election::v1::PEER_STATE_FOLLOWING:
    case ensemble::election::v1::PEER_STATE_LEADING:
    case ensemble::election::v1::PEER_STATE_OBSERVING:
      break;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("notification from sid ", n.sid(), ": bad state ", n.state()));
  }
  Notification out;
  out.sid = n.sid();
  out.leader = n.leader();
  out.zxid = n.zxid();
  out.election_epoch = n.election_epoch();
  out.peer_epoch = n.peer_epoch();
  out.state = static_cast<PeerState>(n.state());
  return out;
}

}  // namespace ensemble::election

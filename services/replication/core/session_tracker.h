#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <vector>

namespace ensemble::zab {

// The leader's session tracker: which sessions are alive and when each
// expires. Gateways report touches (a request or a ping); a session not
// touched for its timeout expires, and the leader then proposes closeSession.
// Pure: time is passed in (milliseconds of a monotonic clock).
// Like ZooKeeper's ExpiryQueue, deadlines are rounded up to a tick boundary so
// sessions expire in batches, once per tick.
class SessionTracker {
 public:
  explicit SessionTracker(int64_t tick_ms) : tick_ms_(tick_ms) {}

  // Starts tracking (or refreshes) a session.
  void Add(int64_t session_id, int32_t timeout_ms, int64_t now_ms);
  // Pushes the deadline out; false if the session is unknown (expired or closed).
  bool Touch(int64_t session_id, int64_t now_ms);
  // Stops tracking (closed, or closing was proposed).
  void Remove(int64_t session_id);
  // Forgets every session (a new leader starts over).
  void Clear() {
    sessions_.clear();
    by_deadline_.clear();
  }
  bool Contains(int64_t session_id) const { return sessions_.count(session_id) > 0; }
  int32_t TimeoutMs(int64_t session_id) const;

  // Sessions whose deadline has passed, oldest deadline first; they are
  // removed from the tracker (the caller proposes their closeSession).
  std::vector<int64_t> TakeExpired(int64_t now_ms);

  size_t size() const { return sessions_.size(); }

 private:
  struct Entry {
    int32_t timeout_ms;
    int64_t deadline_ms;
  };
  int64_t RoundUp(int64_t ms) const { return (ms / tick_ms_ + 1) * tick_ms_; }

  const int64_t tick_ms_;
  std::map<int64_t, Entry> sessions_;
  std::set<std::pair<int64_t, int64_t>> by_deadline_;  // (deadline, session)
};

}  // namespace ensemble::zab

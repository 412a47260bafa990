#include "services/replication/core/session_tracker.h"

namespace ensemble::zab {

void SessionTracker::Add(int64_t session_id, int32_t timeout_ms, int64_t now_ms) {
  Remove(session_id);
  int64_t deadline = RoundUp(now_ms + timeout_ms);
  sessions_[session_id] = Entry{timeout_ms, deadline};
  by_deadline_.emplace(deadline, session_id);
}

bool SessionTracker::Touch(int64_t session_id, int64_t now_ms) {
  auto it = sessions_.find(session_id);
  if (it == sessions_.end()) return false;
  int64_t deadline = RoundUp(now_ms + it->second.timeout_ms);
  if (deadline != it->second.deadline_ms) {
    by_deadline_.erase({it->second.deadline_ms, session_id});
    it->second.deadline_ms = deadline;
    by_deadline_.emplace(deadline, session_id);
  }
  return true;
}

void SessionTracker::Remove(int64_t session_id) {
  auto it = sessions_.find(session_id);
  if (it == sessions_.end()) return;
  by_deadline_.erase({it->second.deadline_ms, session_id});
  sessions_.erase(it);
}

int32_t SessionTracker::TimeoutMs(int64_t session_id) const {
  auto it = sessions_.find(session_id);
  return it == sessions_.end() ? 0 : it->second.timeout_ms;
}

std::vector<int64_t> SessionTracker::TakeExpired(int64_t now_ms) {
  std::vector<int64_t> expired;
  while (!by_deadline_.empty() && by_deadline_.begin()->first <= now_ms) {
    int64_t session_id = by_deadline_.begin()->second;
    by_deadline_.erase(by_deadline_.begin());
    sessions_.erase(session_id);
    expired.push_back(session_id);
  }
  return expired;
}

}  // namespace ensemble::zab

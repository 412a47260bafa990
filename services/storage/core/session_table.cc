#include "services/storage/core/session_table.h"

#include "services/storage/core/hash.h"

namespace ensemble::storage {

uint64_t SessionTable::EntryHash(int64_t session_id, int32_t timeout_ms) {
  uint64_t h = HashCombine(0x53455353ULL, static_cast<uint64_t>(session_id));  // "SESS"
  return Mix64(HashCombine(h, static_cast<uint32_t>(timeout_ms)));
}

void SessionTable::Add(int64_t session_id, int32_t timeout_ms) {
  auto [it, inserted] = sessions_.try_emplace(session_id, timeout_ms);
  if (!inserted) {
    digest_ -= EntryHash(session_id, it->second);
    it->second = timeout_ms;
  }
  digest_ += EntryHash(session_id, timeout_ms);
}

bool SessionTable::Remove(int64_t session_id) {
  auto it = sessions_.find(session_id);
  if (it == sessions_.end()) return false;
  digest_ -= EntryHash(session_id, it->second);
  sessions_.erase(it);
  return true;
}

std::optional<int32_t> SessionTable::Timeout(int64_t session_id) const {
  auto it = sessions_.find(session_id);
  if (it == sessions_.end()) return std::nullopt;
  return it->second;
}

std::vector<SessionEntry> SessionTable::List() const {
  std::vector<SessionEntry> out;
  out.reserve(sessions_.size());
  for (const auto& [id, timeout] : sessions_) out.push_back(SessionEntry{id, timeout});
  return out;
}

}  // namespace ensemble::storage

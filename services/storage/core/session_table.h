#pragma once

// The replicated session table: which sessions are open and their timeouts
// (ZooKeeper's ZKDatabase.sessionsWithTimeouts). createSession adds or
// refreshes an entry; closeSession removes it (the tree deletes the session's
// ephemeral nodes in the same transaction). The ephemeral nodes themselves
// are indexed by the DataTree, which owns them.
//
// Not thread-safe: owned by the storage driver's thread.

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/container/btree_map.h"

namespace ensemble::storage {

struct SessionEntry {
  int64_t session_id = 0;
  int32_t timeout_ms = 0;
};

class SessionTable {
 public:
  // Adds the session, or replaces its timeout if it exists (ZooKeeper's
  // sessionsWithTimeouts.put). The timeout is stored as given.
  void Add(int64_t session_id, int32_t timeout_ms);
  // Removes the session; false if it was not open.
  bool Remove(int64_t session_id);
  bool Contains(int64_t session_id) const { return sessions_.contains(session_id); }
  std::optional<int32_t> Timeout(int64_t session_id) const;
  size_t size() const { return sessions_.size(); }
  // Every session, by id.
  std::vector<SessionEntry> List() const;
  // Order-independent digest over (id, timeout).
  uint64_t Digest() const { return digest_; }

 private:
  static uint64_t EntryHash(int64_t session_id, int32_t timeout_ms);

  absl::btree_map<int64_t, int32_t> sessions_;
  uint64_t digest_ = 0;
};

}  // namespace ensemble::storage

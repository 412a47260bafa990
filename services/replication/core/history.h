#pragma once

// What one peer's transaction log holds, as far as ZAB needs to know it,
// without reading the log: the positions (zxids) and the newest transactions.
//
// Positions: the floor (the zxid the log starts after: 0, a snapshot's zxid
// or the purge point; it is a position too, "everything up to here") and one
// run of consecutive counters per epoch above it. Within an epoch the leader
// assigns consecutive counters and every log is a prefix of its leader's
// history, so runs describe the log exactly. This is what the leader needs to
// choose DIFF, TRUNC or SNAP (ZooKeeper LearnerHandler.syncFollower).
//
// Cache: the newest transactions, a contiguous suffix of the log (all
// uncommitted ones plus a bounded number of committed ones, like ZooKeeper's
// in-memory committedLog), so that most syncs and every INFORM are served from
// memory; older ranges are read from the log by the driver.
//
// Pure and single-threaded.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <vector>

#include "ensemble/types.pb.h"

namespace ensemble::zab {

class History {
 public:
  // `epoch_last_zxids`: for every epoch with entries above `floor_zxid`, the
  // last zxid of that epoch in the log (any order). `last_zxid` >= floor.
  History(int64_t floor_zxid, int64_t last_zxid, const std::vector<int64_t>& epoch_last_zxids);

  int64_t floor() const { return floor_; }
  int64_t last() const { return last_; }

  // True if `zxid` is the floor or a logged entry above it.
  bool Contains(int64_t zxid) const;
  // The largest position strictly below `zxid`, or -1 if there is none (zxid
  // <= floor).
  int64_t LastBefore(int64_t zxid) const;

  // REQUIRES: txn zxid > last().
  void Append(const ensemble::v1::Txn& txn);
  // Drops every entry above `zxid`. REQUIRES: Contains(zxid).
  void TruncateAfter(int64_t zxid);
  // The log was replaced by a snapshot at `zxid` (SNAP).
  void ResetTo(int64_t zxid);
  // Entries up to `zxid` were purged from the log (they stay in the cache).
  void Purged(int64_t zxid);

  // Cache. The cache covers (cache_floor(), last()].
  int64_t cache_floor() const { return cache_floor_; }
  // Transactions with from < zxid <= to. REQUIRES: from >= cache_floor().
  std::vector<ensemble::v1::Txn> CachedRange(int64_t from, int64_t to) const;
  // Drops cached entries <= committed beyond the newest `keep_committed`.
  void TrimCache(int64_t committed_zxid, size_t keep_committed);
  size_t cache_size() const { return cache_.size(); }

  // Epochs with entries (for tests and traces).
  size_t run_count() const { return runs_.size(); }

 private:
  struct Run {
    int64_t first = 0;  // zxid of the first entry of the epoch above the floor
    int64_t last = 0;
  };
  int64_t floor_;
  int64_t last_;
  std::map<int64_t, Run> runs_;  // by epoch
  std::deque<ensemble::v1::Txn> cache_;
  int64_t cache_floor_;
};

}  // namespace ensemble::zab

#pragma once

// Watches (ZooKeeper's WatchManager, one table for data watches and one for
// child watches, as DataTree keeps them).
//
// A watcher is one session on one gateway. Per (path, watcher) a table keeps
// a set of modes (ZOOKEEPER-4466, ZooKeeper 3.9: a one-shot and a persistent
// watch on the same path coexist):
//   standard              one-shot: getData/exists (data table), getChildren
//                         (child table); removed when it fires
//   persistent            addWatch mode 0, in both tables; stays
//   persistent-recursive  addWatch mode 1, data table only; also fires for
//                         every node below the path; stays
// Trigger rules (WatchManager.triggerWatch): every watcher on the event's own
// path fires once, whatever its modes; watchers on an ancestor fire only if
// they are recursive. Since recursive watches live in the data table only,
// NodeChildrenChanged (a child-table event) never reaches them.
//
// Delivery also checks that the watcher's session may READ the node (the
// CVE-2024-23944 fix in ZooKeeper 3.8.4 / Debian's 3.8.0): each watcher keeps
// the identities of its session as last seen on a read.
//
// Not thread-safe: owned by the storage driver's thread.

#include <cstdint>
#include <functional>
#include <string>
#include <tuple>
#include <vector>
#include "absl/strings/string_view.h"

#include "absl/container/btree_map.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "services/storage/core/acl.h"
#include "services/storage/core/data_tree.h"
#include "services/storage/core/zk_codes.h"

namespace ensemble::storage {

// Whom to notify: a session, through the gateway it is attached to.
struct Watcher {
  uint64_t gateway_id = 0;
  int64_t session_id = 0;

  friend bool operator==(const Watcher&, const Watcher&) = default;
  // Ordered by session, then gateway.
  friend bool operator<(const Watcher& a, const Watcher& b) {
    return std::tie(a.session_id, a.gateway_id) < std::tie(b.session_id, b.gateway_id);
  }
  template <typename H>
  friend H AbslHashValue(H h, const Watcher& w) {
    return H::combine(std::move(h), w.gateway_id, w.session_id);
  }
};

class WatchManager {
 public:
  enum Mode : uint8_t {
    kStandard = 1,
    kPersistent = 2,
    kPersistentRecursive = 4,
  };

  // One-shot watches: getData/exists (data), getChildren (child).
  void AddDataWatch(absl::string_view path, const Watcher& w);
  void AddChildWatch(absl::string_view path, const Watcher& w);
  // addWatch: persistent (data and child tables) or persistent-recursive
  // (data table).
  void AddPersistentWatch(absl::string_view path, const Watcher& w, bool recursive);

  // The identities used for the READ check when `w`'s events are delivered.
  // SetAuth applies if `w` has watches; call it after registering.
  void SetAuth(const Watcher& w, const std::vector<Id>& auth);

  struct Fired {
    std::vector<Watcher> notified;   // every watcher the trigger matched
    std::vector<Watcher> delivered;  // minus suppressed and READ-denied, sorted
  };
  // Fires the watches for an event on `path` in one table. `suppress`: skip
  // delivery to these (still consuming their one-shot watches). `acl`: the
  // node's ACL for the READ check (null: no check).
  Fired Trigger(WatchTrigger::Table table, absl::string_view path, const AclRef& acl,
                const std::vector<Watcher>* suppress);

  // checkWatches / removeWatches for a Watcher.WatcherType (1..5). Contains
  // and Remove return false when nothing matches (ZNOWATCHER).
  bool Contains(absl::string_view path, WatcherType type, const Watcher& w) const;
  bool Remove(absl::string_view path, WatcherType type, const Watcher& w);

  // Forget every watch of one watcher / one session on any gateway / every
  // session of one gateway.
  void DropWatcher(const Watcher& w);
  void DropSession(int64_t session_id);
  void DropGateway(uint64_t gateway_id);

  // (path, watcher) registrations over both tables (ZooKeeper's
  // getWatchCount).
  size_t WatchCount() const { return data_.size + child_.size; }
  size_t WatcherCount() const { return watchers_.size(); }

  // Read-only (admin listings): calls `visit` for every (path, watcher)
  // registration of both tables with its Mode bits, in no particular order.
  // A persistent watch shows up once per table. `visit` must not change
  // the manager.
  using WatchVisitor = std::function<void(WatchTrigger::Table table, absl::string_view path,
                                          const Watcher& watcher, uint8_t modes)>;
  void ForEachWatch(const WatchVisitor& visit) const;

 private:
  struct Table {
    absl::flat_hash_map<std::string, absl::flat_hash_map<Watcher, uint8_t>> by_path;
    int64_t recursive_count = 0;
    size_t size = 0;
  };
  struct WatcherState {
    std::vector<Id> auth;
    absl::flat_hash_set<std::string> data_paths;
    absl::flat_hash_set<std::string> child_paths;
  };

  Table& TableOf(WatchTrigger::Table t) { return t == WatchTrigger::Table::kData ? data_ : child_; }
  void Add(WatchTrigger::Table t, absl::string_view path, const Watcher& w, uint8_t mode);
  // Clears `mask` bits of (path, w); true if any was set.
  bool RemoveModes(WatchTrigger::Table t, absl::string_view path, const Watcher& w, uint8_t mask);
  uint8_t ModesOf(const Table& table, absl::string_view path, const Watcher& w) const;
  void ForgetPath(WatchTrigger::Table t, absl::string_view path, const Watcher& w);

  Table data_;
  Table child_;
  absl::btree_map<Watcher, WatcherState> watchers_;
};

}  // namespace ensemble::storage

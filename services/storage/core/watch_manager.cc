#include "services/storage/core/watch_manager.h"

#include <algorithm>

#include "common/base/check.h"

namespace ensemble::storage {

void WatchManager::Add(WatchTrigger::Table t, absl::string_view path, const Watcher& w,
                       uint8_t mode) {
  Table& table = TableOf(t);
  uint8_t& modes = table.by_path[path][w];
  if (modes == 0) {
    ++table.size;
    WatcherState& state = watchers_[w];
    (t == WatchTrigger::Table::kData ? state.data_paths : state.child_paths).emplace(path);
  }
  if ((mode & kPersistentRecursive) != 0 && (modes & kPersistentRecursive) == 0) {
    ++table.recursive_count;
  }
  modes |= mode;
}

void WatchManager::AddDataWatch(absl::string_view path, const Watcher& w) {
  Add(WatchTrigger::Table::kData, path, w, kStandard);
}

void WatchManager::AddChildWatch(absl::string_view path, const Watcher& w) {
  Add(WatchTrigger::Table::kChild, path, w, kStandard);
}

void WatchManager::AddPersistentWatch(absl::string_view path, const Watcher& w, bool recursive) {
  // DataTree.addWatch.
  if (recursive) {
    Add(WatchTrigger::Table::kData, path, w, kPersistentRecursive);
  } else {
    Add(WatchTrigger::Table::kData, path, w, kPersistent);
    Add(WatchTrigger::Table::kChild, path, w, kPersistent);
  }
}

void WatchManager::SetAuth(const Watcher& w, const std::vector<Id>& auth) {
  auto it = watchers_.find(w);
  if (it != watchers_.end() && it->second.auth != auth) it->second.auth = auth;
}

void WatchManager::ForgetPath(WatchTrigger::Table t, absl::string_view path, const Watcher& w) {
  auto it = watchers_.find(w);
  ENSEMBLE_CHECK(it != watchers_.end());
  auto& paths = t == WatchTrigger::Table::kData ? it->second.data_paths : it->second.child_paths;
  paths.erase(path);
  if (it->second.data_paths.empty() && it->second.child_paths.empty()) watchers_.erase(it);
}

WatchManager::Fired WatchManager::Trigger(WatchTrigger::Table t, absl::string_view path,
                                          const AclRef& acl, const std::vector<Watcher>* suppress) {
  Table& table = TableOf(t);
  Fired fired;
  // (path, watcher) pairs whose last mode fired; forgotten after the READ
  // check, which needs the watcher's identities.
  std::vector<std::pair<absl::string_view, Watcher>> emptied;
  // PathParentIterator: the path itself, then its ancestors when some
  // recursive watch exists in this table.
  absl::string_view local = path;
  bool at_parent = false;
  while (true) {
    auto pit = table.by_path.find(local);
    if (pit != table.by_path.end()) {
      auto& watchers = pit->second;
      for (auto it = watchers.begin(); it != watchers.end();) {
        const Watcher w = it->first;
        uint8_t& modes = it->second;
        if (!at_parent) {
          fired.notified.push_back(w);
          if ((modes & kStandard) != 0) {
            modes &= static_cast<uint8_t>(~kStandard);
            if (modes == 0) {
              --table.size;
              emptied.emplace_back(local, w);
              watchers.erase(it++);
              continue;
            }
          }
        } else if ((modes & kPersistentRecursive) != 0) {
          fired.notified.push_back(w);
        }
        ++it;
      }
      if (watchers.empty()) table.by_path.erase(pit);
    }
    if (table.recursive_count == 0 || local == "/" || local.empty()) break;
    const size_t slash = local.rfind('/');
    if (slash == absl::string_view::npos) break;
    local = slash == 0 ? absl::string_view("/") : local.substr(0, slash);
    at_parent = true;
  }

  std::sort(fired.notified.begin(), fired.notified.end());
  fired.notified.erase(std::unique(fired.notified.begin(), fired.notified.end()),
                       fired.notified.end());
  static const std::vector<Id> kNoIdentities;
  for (const Watcher& w : fired.notified) {
    if (suppress != nullptr &&
        std::find(suppress->begin(), suppress->end(), w) != suppress->end()) {
      continue;
    }
    if (acl != nullptr) {
      auto it = watchers_.find(w);
      const std::vector<Id>& auth = it != watchers_.end() ? it->second.auth : kNoIdentities;
      if (CheckAcl(acl->acls, perms::kRead, auth) != ZkError::kOk) continue;
    }
    fired.delivered.push_back(w);
  }
  for (const auto& [p, w] : emptied) ForgetPath(t, p, w);
  return fired;
}

uint8_t WatchManager::ModesOf(const Table& table, absl::string_view path, const Watcher& w) const {
  auto pit = table.by_path.find(path);
  if (pit == table.by_path.end()) return 0;
  auto it = pit->second.find(w);
  return it == pit->second.end() ? 0 : it->second;
}

bool WatchManager::Contains(absl::string_view path, WatcherType type, const Watcher& w) const {
  switch (type) {
    case WatcherType::kChildren:
      return (ModesOf(child_, path, w) & kStandard) != 0;
    case WatcherType::kData:
      return (ModesOf(data_, path, w) & kStandard) != 0;
    case WatcherType::kPersistent:
      return (ModesOf(data_, path, w) & kPersistent) != 0;
    case WatcherType::kPersistentRecursive:
      return (ModesOf(data_, path, w) & kPersistentRecursive) != 0;
    case WatcherType::kAny:
      return ModesOf(child_, path, w) != 0 || ModesOf(data_, path, w) != 0;
  }
  return false;
}

bool WatchManager::RemoveModes(WatchTrigger::Table t, absl::string_view path, const Watcher& w,
                               uint8_t mask) {
  Table& table = TableOf(t);
  auto pit = table.by_path.find(path);
  if (pit == table.by_path.end()) return false;
  auto it = pit->second.find(w);
  if (it == pit->second.end() || (it->second & mask) == 0) return false;
  if ((it->second & mask & kPersistentRecursive) != 0) --table.recursive_count;
  it->second &= static_cast<uint8_t>(~mask);
  if (it->second == 0) {
    --table.size;
    pit->second.erase(it);
    const std::string key = pit->first;
    if (pit->second.empty()) table.by_path.erase(pit);
    ForgetPath(t, key, w);
  }
  return true;
}

bool WatchManager::Remove(absl::string_view path, WatcherType type, const Watcher& w) {
  constexpr uint8_t kAll = kStandard | kPersistent | kPersistentRecursive;
  switch (type) {
    case WatcherType::kChildren:
      return RemoveModes(WatchTrigger::Table::kChild, path, w, kStandard);
    case WatcherType::kData:
      return RemoveModes(WatchTrigger::Table::kData, path, w, kStandard);
    case WatcherType::kPersistent: {
      const bool child = RemoveModes(WatchTrigger::Table::kChild, path, w, kPersistent);
      const bool data = RemoveModes(WatchTrigger::Table::kData, path, w, kPersistent);
      return child || data;
    }
    case WatcherType::kPersistentRecursive:
      return RemoveModes(WatchTrigger::Table::kData, path, w, kPersistentRecursive);
    case WatcherType::kAny: {
      const bool child = RemoveModes(WatchTrigger::Table::kChild, path, w, kAll);
      const bool data = RemoveModes(WatchTrigger::Table::kData, path, w, kAll);
      return child || data;
    }
  }
  return false;
}

void WatchManager::DropWatcher(const Watcher& w) {
  auto it = watchers_.find(w);
  if (it == watchers_.end()) return;
  for (auto [t, paths] : {std::pair{WatchTrigger::Table::kData, &it->second.data_paths},
                          std::pair{WatchTrigger::Table::kChild, &it->second.child_paths}}) {
    Table& table = TableOf(t);
    for (const std::string& path : *paths) {
      auto pit = table.by_path.find(path);
      ENSEMBLE_CHECK(pit != table.by_path.end());
      auto wit = pit->second.find(w);
      ENSEMBLE_CHECK(wit != pit->second.end());
      if ((wit->second & kPersistentRecursive) != 0) --table.recursive_count;
      --table.size;
      pit->second.erase(wit);
      if (pit->second.empty()) table.by_path.erase(pit);
    }
  }
  watchers_.erase(it);
}

void WatchManager::DropSession(int64_t session_id) {
  std::vector<Watcher> doomed;
  for (auto it = watchers_.lower_bound(Watcher{0, session_id});
       it != watchers_.end() && it->first.session_id == session_id; ++it) {
    doomed.push_back(it->first);
  }
  for (const Watcher& w : doomed) DropWatcher(w);
}

void WatchManager::DropGateway(uint64_t gateway_id) {
  std::vector<Watcher> doomed;
  for (const auto& [w, state] : watchers_) {
    if (w.gateway_id == gateway_id) doomed.push_back(w);
  }
  for (const Watcher& w : doomed) DropWatcher(w);
}

void WatchManager::ForEachWatch(const WatchVisitor& visit) const {
  for (auto [t, table] : {std::pair{WatchTrigger::Table::kData, &data_},
                          std::pair{WatchTrigger::Table::kChild, &child_}}) {
    for (const auto& [path, watchers] : table->by_path) {
      for (const auto& [w, modes] : watchers) visit(t, path, w, modes);
    }
  }
}

}  // namespace ensemble::storage

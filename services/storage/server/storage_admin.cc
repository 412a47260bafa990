#include "services/storage/server/storage_admin.h"

#include <filesystem>
#include <map>
#include <set>
#include <string>

#include "absl/strings/match.h"

namespace ensemble::storage {

namespace {

constexpr int32_t kDefaultListLimit = 1000;

}  // namespace

void FillSessions(const StateMachine& state, ensemble::admin::v1::ListSessionsResponse* response) {
  std::map<int64_t, int64_t> watches;  // by session
  state.watches().ForEachWatch([&](WatchTrigger::Table, absl::string_view, const Watcher& w,
                                   uint8_t) { ++watches[w.session_id]; });
  for (const auto& info : state.Sessions()) {
    auto* session = response->add_sessions();
    session->set_session_id(info.session_id());
    session->set_timeout_ms(info.timeout_ms());
    session->set_ephemeral_count(info.ephemeral_count());
    auto it = watches.find(info.session_id());
    session->set_watch_count(it == watches.end() ? 0 : it->second);
  }
}

void FillWatches(const StateMachine& state, const ensemble::admin::v1::WatchesRequest& request,
                 ensemble::admin::v1::WatchesResponse* response) {
  const std::string prefix = request.path_prefix();
  std::map<std::string, std::set<int64_t>> by_path;
  std::map<int64_t, std::set<std::string>> by_session;
  int64_t total = 0, data = 0, child = 0, persistent = 0, recursive = 0;
  state.watches().ForEachWatch(
      [&](WatchTrigger::Table table, absl::string_view path, const Watcher& w, uint8_t modes) {
        if (!absl::StartsWith(path, prefix)) return;
        if (request.data_table_only() && table != WatchTrigger::Table::kData) return;
        ++total;
        const bool data_table = table == WatchTrigger::Table::kData;
        if ((modes & WatchManager::kStandard) != 0) ++(data_table ? data : child);
        // A persistent watch sits in both tables: count it once, from the data table.
        if ((modes & WatchManager::kPersistent) != 0 && data_table) ++persistent;
        if ((modes & WatchManager::kPersistentRecursive) != 0) ++recursive;
        by_path[std::string(path)].insert(w.session_id);
        by_session[w.session_id].insert(std::string(path));
      });
  response->set_total(total);
  response->set_data(data);
  response->set_child(child);
  response->set_persistent(persistent);
  response->set_persistent_recursive(recursive);
  response->set_paths(static_cast<int64_t>(by_path.size()));
  response->set_sessions(static_cast<int64_t>(by_session.size()));
  const size_t limit =
      static_cast<size_t>(request.limit() > 0 ? request.limit() : kDefaultListLimit);
  bool truncated = false;
  if (request.by_path()) {
    for (const auto& [path, sessions] : by_path) {
      if (static_cast<size_t>(response->by_path_size()) >= limit) {
        truncated = true;
        break;
      }
      auto* entry = response->add_by_path();
      entry->set_path(path);
      for (int64_t session : sessions) entry->add_session_ids(session);
    }
  }
  if (request.by_session()) {
    for (const auto& [session, paths] : by_session) {
      if (static_cast<size_t>(response->by_session_size()) >= limit) {
        truncated = true;
        break;
      }
      auto* entry = response->add_by_session();
      entry->set_session_id(session);
      for (const std::string& path : paths) entry->add_paths(path);
    }
  }
  response->set_truncated(truncated);
}

int64_t DirectorySize(const std::string& dir) {
  std::error_code ec;
  int64_t total = 0;
  std::filesystem::recursive_directory_iterator it(
      dir, std::filesystem::directory_options::skip_permission_denied, ec);
  for (; !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code size_ec;
    if (!it->is_regular_file(size_ec) || size_ec) continue;
    const auto size = it->file_size(size_ec);
    if (!size_ec) total += static_cast<int64_t>(size);
  }
  return total;
}

}  // namespace ensemble::storage

// The storage admin listings over a real state machine: sessions with their
// ephemerals and watches, watch totals by kind and the by-path / by-session
// lists.

#include "services/storage/server/storage_admin.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "services/storage/core/test_harness.h"

namespace ensemble::storage {
namespace {

using testing::CreateOp;
using testing::CreateSessionOp;
using testing::Harness;

constexpr int64_t kOther = 2;

void AddWatch(Harness& h, const std::string& path, AddWatchMode mode, int64_t session) {
  ensemble::storage::v1::ReadRequest req;
  req.set_type(ToInt(OpCode::kAddWatch));
  req.set_path(path);
  req.set_mode(ToInt(mode));
  req.set_session_id(session);
  ASSERT_EQ(h.ReadRequest(req).err(), ToInt(ZkError::kOk));
}

// Session 1: a data watch on /a, a recursive watch on /x.
// Session 2: an ephemeral, a child watch on /a, an exists watch on /b, a
// persistent watch on /a (one registration in each table).
void Populate(Harness& h) {
  h.Apply(CreateSessionOp(5000), kOther);
  h.Apply(CreateOp("/a"));
  h.Apply(CreateOp("/a/e", "", /*ephemeral*/ 1), kOther);
  h.Read(ToInt(OpCode::kGetData), "/a", true);
  AddWatch(h, "/x", AddWatchMode::kPersistentRecursive, Harness::kSession);
  h.Read(ToInt(OpCode::kGetChildren), "/a", true, kOther);
  h.Read(ToInt(OpCode::kExists), "/b", true, kOther);
  AddWatch(h, "/a", AddWatchMode::kPersistent, kOther);
}

TEST(StorageAdmin, SessionsWithEphemeralsAndWatches) {
  Harness h;
  Populate(h);
  ensemble::admin::v1::ListSessionsResponse response;
  FillSessions(h.sm(), &response);
  ASSERT_EQ(response.sessions_size(), 2);
  EXPECT_EQ(response.sessions(0).session_id(), Harness::kSession);
  EXPECT_EQ(response.sessions(0).timeout_ms(), 30000);
  EXPECT_EQ(response.sessions(0).ephemeral_count(), 0);
  EXPECT_EQ(response.sessions(0).watch_count(), 2);
  EXPECT_EQ(response.sessions(1).session_id(), kOther);
  EXPECT_EQ(response.sessions(1).timeout_ms(), 5000);
  EXPECT_EQ(response.sessions(1).ephemeral_count(), 1);
  EXPECT_EQ(response.sessions(1).watch_count(), 3);
}

TEST(StorageAdmin, WatchTotalsAndLists) {
  Harness h;
  Populate(h);
  ensemble::admin::v1::WatchesRequest request;
  request.set_by_path(true);
  request.set_by_session(true);
  ensemble::admin::v1::WatchesResponse response;
  FillWatches(h.sm(), request, &response);
  EXPECT_EQ(response.total(), static_cast<int64_t>(h.sm().WatchCount()));
  EXPECT_EQ(response.total(), 5);
  EXPECT_EQ(response.data(), 2);
  EXPECT_EQ(response.child(), 1);
  EXPECT_EQ(response.persistent(), 1);
  EXPECT_EQ(response.persistent_recursive(), 1);
  EXPECT_EQ(response.paths(), 3);
  EXPECT_EQ(response.sessions(), 2);
  EXPECT_FALSE(response.truncated());
  ASSERT_EQ(response.by_path_size(), 3);
  EXPECT_EQ(response.by_path(0).path(), "/a");
  EXPECT_EQ(std::vector<int64_t>(response.by_path(0).session_ids().begin(),
                                 response.by_path(0).session_ids().end()),
            (std::vector<int64_t>{Harness::kSession, kOther}));
  EXPECT_EQ(response.by_path(1).path(), "/b");
  EXPECT_EQ(response.by_path(2).path(), "/x");
  ASSERT_EQ(response.by_session_size(), 2);
  EXPECT_EQ(response.by_session(1).session_id(), kOther);
  EXPECT_EQ(std::vector<std::string>(response.by_session(1).paths().begin(),
                                     response.by_session(1).paths().end()),
            (std::vector<std::string>{"/a", "/b"}));

  // A prefix narrows the totals and the lists; a limit cuts the lists.
  request.set_path_prefix("/a");
  request.set_limit(1);
  response.Clear();
  FillWatches(h.sm(), request, &response);
  EXPECT_EQ(response.total(), 3);
  EXPECT_EQ(response.paths(), 1);
  EXPECT_EQ(response.by_path_size(), 1);
  EXPECT_EQ(response.by_session_size(), 1);
  EXPECT_TRUE(response.truncated());

  // A fired one-shot watch is gone from the listing.
  h.Apply(testing::SetDataOp("/a", "v"));
  response.Clear();
  FillWatches(h.sm(), ensemble::admin::v1::WatchesRequest(), &response);
  EXPECT_EQ(response.data(), 1);  // only the exists watch on /b is left
  EXPECT_EQ(response.by_path_size(), 0);
}

TEST(StorageAdmin, DataTableOnlyAsZooKeepersWatchCommands) {
  Harness h;
  Populate(h);
  ensemble::admin::v1::WatchesRequest request;
  request.set_by_path(true);
  request.set_by_session(true);
  request.set_data_table_only(true);
  ensemble::admin::v1::WatchesResponse response;
  FillWatches(h.sm(), request, &response);
  // The child watch on /a and the child-table half of the persistent one are
  // left out.
  EXPECT_EQ(response.total(), 4);
  EXPECT_EQ(response.child(), 0);
  EXPECT_EQ(response.paths(), 3);
  EXPECT_EQ(response.sessions(), 2);
  ASSERT_EQ(response.by_session_size(), 2);
  EXPECT_EQ(std::vector<std::string>(response.by_session(0).paths().begin(),
                                     response.by_session(0).paths().end()),
            (std::vector<std::string>{"/a", "/x"}));

  // Only child watches: nothing in the data table.
  Harness child_only;
  child_only.Apply(CreateOp("/c"));
  child_only.Read(ToInt(OpCode::kGetChildren), "/c", true);
  response.Clear();
  FillWatches(child_only.sm(), request, &response);
  EXPECT_EQ(response.total(), 0);
  EXPECT_EQ(response.sessions(), 0);
  EXPECT_EQ(response.by_path_size(), 0);
}

TEST(StorageAdmin, DirectorySizeCountsFilesRecursively) {
  const std::string dir = ::testing::TempDir() + "/dirsize_" + std::to_string(getpid());
  std::filesystem::create_directories(dir + "/sub");
  std::ofstream(dir + "/a") << std::string(100, 'x');
  std::ofstream(dir + "/sub/b") << std::string(23, 'y');
  EXPECT_EQ(DirectorySize(dir), 123);
  EXPECT_EQ(DirectorySize(dir + "/missing"), 0);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ensemble::storage

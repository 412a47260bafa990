// Watch semantics (ZooKeeper's WatchManager and DataTree trigger rules),
// through the StateMachine: reads register, writes fire.

#include "services/storage/core/watch_manager.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "services/storage/core/test_harness.h"

namespace ensemble::storage {
namespace {

using testing::CloseSessionOp;
using testing::CreateOp;
using testing::CreateSessionOp;
using testing::DeleteOp;
using testing::Harness;
using testing::MakeAcl;
using testing::MakeId;
using testing::MultiOp;
using testing::SetDataOp;

struct Ev {
  uint64_t gateway;
  int64_t session;
  EventType type;
  std::string path;
  friend bool operator==(const Ev&, const Ev&) = default;
};

std::ostream& operator<<(std::ostream& os, const Ev& e) {
  return os << "{gw=" << e.gateway << " s=" << e.session << " type=" << ToInt(e.type) << " "
            << e.path << "}";
}

std::vector<Ev> Events(Harness& h) {
  std::vector<Ev> out;
  for (const FiredEvent& e : h.TakeEvents()) {
    out.push_back(Ev{e.gateway_id, e.event.session_id(), static_cast<EventType>(e.event.type()),
                     e.event.path()});
  }
  return out;
}

Ev E(EventType type, const std::string& path, int64_t session = Harness::kSession,
     uint64_t gateway = Harness::kGateway) {
  return Ev{gateway, session, type, path};
}

ensemble::storage::v1::ReadResult AddWatch(Harness& h, const std::string& path, int mode,
                                           int64_t session = Harness::kSession,
                                           uint64_t gateway = Harness::kGateway) {
  ensemble::storage::v1::ReadRequest req;
  req.set_type(ToInt(OpCode::kAddWatch));
  req.set_path(path);
  req.set_mode(mode);
  req.set_session_id(session);
  return h.ReadRequest(req, gateway);
}

int32_t WatchOp(Harness& h, OpCode op, const std::string& path, WatcherType type) {
  ensemble::storage::v1::ReadRequest req;
  req.set_type(ToInt(op));
  req.set_path(path);
  req.set_mode(ToInt(type));
  req.set_session_id(Harness::kSession);
  return h.ReadRequest(req).err();
}

TEST(DataWatch, FiresOnceOnSetData) {
  Harness h;
  h.Apply(CreateOp("/a"));
  ASSERT_EQ(h.Read(ToInt(OpCode::kGetData), "/a", /*watch=*/true).err(), 0);
  EXPECT_EQ(h.sm().WatchCount(), 1u);
  auto out = h.Apply(SetDataOp("/a", "1"));
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].event.zxid(), h.zxid());
  EXPECT_EQ(Events(h), (std::vector<Ev>{E(EventType::kNodeDataChanged, "/a")}));
  h.Apply(SetDataOp("/a", "2"));
  EXPECT_TRUE(Events(h).empty());
  EXPECT_EQ(h.sm().WatchCount(), 0u);
}

TEST(DataWatch, NotSetWhenTheReadFails) {
  Harness h;
  EXPECT_EQ(h.Read(ToInt(OpCode::kGetData), "/a", true).err(), ToInt(ZkError::kNoNode));
  EXPECT_EQ(h.Read(ToInt(OpCode::kGetChildren), "/a", true).err(), ToInt(ZkError::kNoNode));
  h.Apply(CreateOp("/a"));
  EXPECT_TRUE(Events(h).empty());
  h.Apply(CreateOp("/s", "", 0, {MakeAcl(perms::kWrite, "world", "anyone")}));
  EXPECT_EQ(h.Read(ToInt(OpCode::kGetData), "/s", true).err(), ToInt(ZkError::kNoAuth));
  h.Apply(SetDataOp("/s", "x"));
  EXPECT_TRUE(Events(h).empty());
}

TEST(ExistsWatch, OnMissingNodeReturnsNoNodeAndFiresNodeCreated) {
  Harness h;
  auto r = h.Read(ToInt(OpCode::kExists), "/a", true);
  EXPECT_EQ(r.err(), ToInt(ZkError::kNoNode));
  h.Apply(CreateOp("/a"));
  EXPECT_EQ(Events(h), (std::vector<Ev>{E(EventType::kNodeCreated, "/a")}));
  h.Apply(SetDataOp("/a", "x"));
  EXPECT_TRUE(Events(h).empty());
}

TEST(ExistsWatch, OnExistingNodeFiresOnDelete) {
  Harness h;
  h.Apply(CreateOp("/a"));
  ASSERT_EQ(h.Read(ToInt(OpCode::kExists), "/a", true).err(), 0);
  h.Apply(DeleteOp("/a"));
  EXPECT_EQ(Events(h), (std::vector<Ev>{E(EventType::kNodeDeleted, "/a")}));
}

TEST(ChildWatch, FiresOnChildCreateAndOnItsOwnDelete) {
  Harness h;
  h.Apply(CreateOp("/p"));
  ASSERT_EQ(h.Read(ToInt(OpCode::kGetChildren2), "/p", true).err(), 0);
  h.Apply(CreateOp("/p/c"));
  EXPECT_EQ(Events(h), (std::vector<Ev>{E(EventType::kNodeChildrenChanged, "/p")}));
  h.Apply(CreateOp("/p/d"));
  EXPECT_TRUE(Events(h).empty());  // one-shot
  // Data changes of the watched node do not fire a child watch.
  ASSERT_EQ(h.Read(ToInt(OpCode::kGetChildren), "/p", true).err(), 0);
  h.Apply(SetDataOp("/p", "x"));
  EXPECT_TRUE(Events(h).empty());
  h.Apply(DeleteOp("/p/c"));
  EXPECT_EQ(Events(h), (std::vector<Ev>{E(EventType::kNodeChildrenChanged, "/p")}));
}

TEST(DeleteWatch, DataAndChildWatchOfOneSessionFireOnce) {
  Harness h;
  h.Apply(CreateOp("/p"));
  h.Apply(CreateOp("/p/a"));
  ASSERT_EQ(h.Read(ToInt(OpCode::kGetData), "/p/a", true).err(), 0);
  ASSERT_EQ(h.Read(ToInt(OpCode::kGetChildren), "/p/a", true).err(), 0);
  // Another session only has a child watch on /p/a, and one on /p.
  ASSERT_EQ(h.Read(ToInt(OpCode::kGetChildren), "/p/a", true, 2, 8).err(), 0);
  ASSERT_EQ(h.Read(ToInt(OpCode::kGetChildren), "/p", true, 2, 8).err(), 0);
  h.Apply(DeleteOp("/p/a"));
  EXPECT_EQ(Events(h), (std::vector<Ev>{E(EventType::kNodeDeleted, "/p/a"),
                                        E(EventType::kNodeDeleted, "/p/a", 2, 8),
                                        E(EventType::kNodeChildrenChanged, "/p", 2, 8)}));
  EXPECT_EQ(h.sm().WatchCount(), 0u);  // the suppressed child watch is consumed too
}

TEST(PersistentWatch, FiresEveryTimeForNodeAndChildrenNotGrandchildren) {
  Harness h;
  h.Apply(CreateOp("/p"));
  ASSERT_EQ(AddWatch(h, "/p", ToInt(AddWatchMode::kPersistent)).err(), 0);
  EXPECT_EQ(h.sm().WatchCount(), 2u);  // data and child tables
  h.Apply(SetDataOp("/p", "1"));
  h.Apply(SetDataOp("/p", "2"));
  h.Apply(CreateOp("/p/c"));
  h.Apply(CreateOp("/p/c/g"));
  h.Apply(DeleteOp("/p/c/g"));
  h.Apply(DeleteOp("/p/c"));
  EXPECT_EQ(Events(h), (std::vector<Ev>{E(EventType::kNodeDataChanged, "/p"),
                                        E(EventType::kNodeDataChanged, "/p"),
                                        E(EventType::kNodeChildrenChanged, "/p"),
                                        E(EventType::kNodeChildrenChanged, "/p")}));
  h.Apply(DeleteOp("/p"));
  EXPECT_EQ(Events(h), (std::vector<Ev>{E(EventType::kNodeDeleted, "/p")}));
  // Still registered: a new /p is seen.
  h.Apply(CreateOp("/p"));
  EXPECT_EQ(Events(h), (std::vector<Ev>{E(EventType::kNodeCreated, "/p")}));
}

TEST(PersistentRecursiveWatch, FiresForDescendantsButNotChildrenChanged) {
  Harness h;
  h.Apply(CreateOp("/r"));
  ASSERT_EQ(AddWatch(h, "/r", ToInt(AddWatchMode::kPersistentRecursive)).err(), 0);
  EXPECT_EQ(h.sm().WatchCount(), 1u);
  h.Apply(CreateOp("/r/a"));
  h.Apply(CreateOp("/r/a/b", "x"));
  h.Apply(SetDataOp("/r/a/b", "y"));
  h.Apply(DeleteOp("/r/a/b"));
  h.Apply(CreateOp("/other"));
  h.Apply(SetDataOp("/r", "z"));
  EXPECT_EQ(Events(h),
            (std::vector<Ev>{
                E(EventType::kNodeCreated, "/r/a"), E(EventType::kNodeCreated, "/r/a/b"),
                E(EventType::kNodeDataChanged, "/r/a/b"), E(EventType::kNodeDeleted, "/r/a/b"),
                E(EventType::kNodeDataChanged, "/r")}));
}

TEST(PersistentRecursiveWatch, OnRootSeesEverythingOncePerChange) {
  Harness h;
  ASSERT_EQ(AddWatch(h, "/", ToInt(AddWatchMode::kPersistentRecursive)).err(), 0);
  ASSERT_EQ(AddWatch(h, "/x", ToInt(AddWatchMode::kPersistentRecursive)).err(), 0);
  h.Apply(CreateOp("/x"));
  h.Apply(CreateOp("/x/y"));
  // Two recursive watches of one session on the path's ancestors: one event.
  EXPECT_EQ(Events(h), (std::vector<Ev>{E(EventType::kNodeCreated, "/x"),
                                        E(EventType::kNodeCreated, "/x/y")}));
}

TEST(Watches, StandardAndPersistentOnOnePathCoexist) {
  Harness h;
  h.Apply(CreateOp("/a"));
  ASSERT_EQ(AddWatch(h, "/a", ToInt(AddWatchMode::kPersistent)).err(), 0);
  ASSERT_EQ(h.Read(ToInt(OpCode::kGetData), "/a", true).err(), 0);
  h.Apply(SetDataOp("/a", "1"));  // one event for the session, both watches matched
  h.Apply(SetDataOp("/a", "2"));  // the persistent one remains
  EXPECT_EQ(Events(h), (std::vector<Ev>{E(EventType::kNodeDataChanged, "/a"),
                                        E(EventType::kNodeDataChanged, "/a")}));
  EXPECT_EQ(WatchOp(h, OpCode::kCheckWatches, "/a", WatcherType::kData),
            ToInt(ZkError::kNoWatcher));
  EXPECT_EQ(WatchOp(h, OpCode::kCheckWatches, "/a", WatcherType::kPersistent), 0);
}

TEST(Watches, EachSessionAndGatewayIsItsOwnWatcher) {
  Harness h;
  h.Apply(CreateOp("/a"));
  h.Read(ToInt(OpCode::kGetData), "/a", true, /*session=*/1, /*gateway=*/7);
  h.Read(ToInt(OpCode::kGetData), "/a", true, /*session=*/2, /*gateway=*/7);
  h.Read(ToInt(OpCode::kGetData), "/a", true, /*session=*/2, /*gateway=*/9);
  h.Read(ToInt(OpCode::kGetData), "/a", true, /*session=*/2, /*gateway=*/9);  // same watch
  EXPECT_EQ(h.sm().WatchCount(), 3u);
  h.Apply(SetDataOp("/a", "1"));
  EXPECT_EQ(Events(h), (std::vector<Ev>{E(EventType::kNodeDataChanged, "/a", 1, 7),
                                        E(EventType::kNodeDataChanged, "/a", 2, 7),
                                        E(EventType::kNodeDataChanged, "/a", 2, 9)}));
}

TEST(RemoveWatches, RemovesByTypeAndReportsNoWatcher) {
  Harness h;
  h.Apply(CreateOp("/a"));
  EXPECT_EQ(WatchOp(h, OpCode::kRemoveWatches, "/a", WatcherType::kData),
            ToInt(ZkError::kNoWatcher));
  ASSERT_EQ(h.Read(ToInt(OpCode::kGetData), "/a", true).err(), 0);
  ASSERT_EQ(h.Read(ToInt(OpCode::kGetChildren), "/a", true).err(), 0);
  EXPECT_EQ(WatchOp(h, OpCode::kCheckWatches, "/a", WatcherType::kChildren), 0);
  EXPECT_EQ(WatchOp(h, OpCode::kCheckWatches, "/a", WatcherType::kAny), 0);
  EXPECT_EQ(WatchOp(h, OpCode::kRemoveWatches, "/a", WatcherType::kData), 0);
  EXPECT_EQ(WatchOp(h, OpCode::kCheckWatches, "/a", WatcherType::kData),
            ToInt(ZkError::kNoWatcher));
  h.Apply(SetDataOp("/a", "1"));
  EXPECT_TRUE(Events(h).empty());
  EXPECT_EQ(WatchOp(h, OpCode::kRemoveWatches, "/a", WatcherType::kAny), 0);
  h.Apply(CreateOp("/a/b"));
  EXPECT_TRUE(Events(h).empty());
  EXPECT_EQ(WatchOp(h, OpCode::kRemoveWatches, "/a", WatcherType::kAny),
            ToInt(ZkError::kNoWatcher));
  EXPECT_EQ(h.sm().WatchCount(), 0u);
  // The events DataWatchRemoved/ChildWatchRemoved are made by the client
  // library itself (ZooKeeper's server sends none).
  EXPECT_TRUE(Events(h).empty());
}

TEST(RemoveWatches, PersistentKinds) {
  Harness h;
  ASSERT_EQ(AddWatch(h, "/a", ToInt(AddWatchMode::kPersistent)).err(), 0);
  ASSERT_EQ(AddWatch(h, "/b", ToInt(AddWatchMode::kPersistentRecursive)).err(), 0);
  EXPECT_EQ(WatchOp(h, OpCode::kRemoveWatches, "/a", WatcherType::kPersistentRecursive),
            ToInt(ZkError::kNoWatcher));
  EXPECT_EQ(WatchOp(h, OpCode::kRemoveWatches, "/a", WatcherType::kPersistent), 0);
  EXPECT_EQ(WatchOp(h, OpCode::kRemoveWatches, "/b", WatcherType::kPersistentRecursive), 0);
  EXPECT_EQ(h.sm().WatchCount(), 0u);
  h.Apply(CreateOp("/b"));
  h.Apply(CreateOp("/b/c"));
  EXPECT_TRUE(Events(h).empty());
  EXPECT_EQ(WatchOp(h, OpCode::kRemoveWatches, "/a", static_cast<WatcherType>(9)),
            ToInt(ZkError::kMarshallingError));
  EXPECT_EQ(AddWatch(h, "/a", 7).err(), ToInt(ZkError::kMarshallingError));
}

ensemble::storage::v1::ReadResult SetWatches(Harness& h, int64_t relative_zxid,
                                             std::vector<std::string> data,
                                             std::vector<std::string> exist,
                                             std::vector<std::string> child,
                                             std::vector<std::string> persistent = {},
                                             std::vector<std::string> recursive = {},
                                             OpCode op = OpCode::kSetWatches2) {
  ensemble::storage::v1::ReadRequest req;
  req.set_type(ToInt(op));
  req.set_session_id(Harness::kSession);
  auto* sw = req.mutable_set_watches();
  sw->set_relative_zxid(relative_zxid);
  for (auto& p : data) sw->add_data(p);
  for (auto& p : exist) sw->add_exist(p);
  for (auto& p : child) sw->add_child(p);
  for (auto& p : persistent) sw->add_persistent(p);
  for (auto& p : recursive) sw->add_persistent_recursive(p);
  return h.ReadRequest(req);
}

TEST(SetWatches, FiresForWhatChangedAfterTheRelativeZxid) {
  Harness h;
  h.Apply(CreateOp("/same"));
  h.Apply(CreateOp("/changed"));
  h.Apply(CreateOp("/kids"));
  h.Apply(CreateOp("/quiet"));
  const int64_t seen = h.zxid();
  h.Apply(SetDataOp("/changed", "x"));
  h.Apply(CreateOp("/kids/k"));
  h.Apply(CreateOp("/born"));
  ASSERT_EQ(SetWatches(h, seen, {"/same", "/changed", "/gone"}, {"/born", "/unborn"},
                       {"/kids", "/quiet", "/gone2"})
                .err(),
            0);
  EXPECT_EQ(Events(h),
            (std::vector<Ev>{
                E(EventType::kNodeDataChanged, "/changed"), E(EventType::kNodeDeleted, "/gone"),
                E(EventType::kNodeCreated, "/born"), E(EventType::kNodeChildrenChanged, "/kids"),
                E(EventType::kNodeDeleted, "/gone2")}));
  // The rest are registered: /same (data), /unborn (exist), /quiet (child).
  EXPECT_EQ(h.sm().WatchCount(), 3u);
  h.Apply(SetDataOp("/same", "1"));
  h.Apply(CreateOp("/unborn"));
  h.Apply(CreateOp("/quiet/q"));
  EXPECT_EQ(Events(h), (std::vector<Ev>{E(EventType::kNodeDataChanged, "/same"),
                                        E(EventType::kNodeCreated, "/unborn"),
                                        E(EventType::kNodeChildrenChanged, "/quiet")}));
}

TEST(SetWatches, ImmediateEventsCarryNoZxid) {
  Harness h;
  h.Apply(CreateOp("/a"));
  std::vector<FiredEvent> events;
  ensemble::storage::v1::ReadRequest req;
  req.set_type(ToInt(OpCode::kSetWatches));
  req.set_session_id(1);
  req.mutable_set_watches()->set_relative_zxid(0);
  req.mutable_set_watches()->add_data("/a");
  h.sm().Read(req, 3, &events);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].gateway_id, 3u);
  EXPECT_EQ(events[0].event.zxid(), kNoZxid);
}

TEST(SetWatches, PersistentListsOnlyWithSetWatches2) {
  Harness h;
  SetWatches(h, 0, {}, {}, {}, {"/p"}, {"/r"}, OpCode::kSetWatches);
  EXPECT_EQ(h.sm().WatchCount(), 0u);
  SetWatches(h, 0, {}, {}, {}, {"/p"}, {"/r"}, OpCode::kSetWatches2);
  EXPECT_EQ(h.sm().WatchCount(), 3u);
  h.Apply(CreateOp("/r"));
  h.Apply(CreateOp("/r/x"));
  h.Apply(CreateOp("/p"));
  EXPECT_EQ(Events(h),
            (std::vector<Ev>{E(EventType::kNodeCreated, "/r"), E(EventType::kNodeCreated, "/r/x"),
                             E(EventType::kNodeCreated, "/p")}));
}

TEST(WatchAcl, EventsNeedReadPermissionOfTheWatcher) {
  Harness h;
  const auto bob = MakeId("digest", DigestId("bob:pw"));
  h.Apply(CreateOp("/s", "", 0, {MakeAcl(31, "digest", bob.id())}));
  // Session 1 (no identity) watches through exists; session 2 is bob.
  h.Read(ToInt(OpCode::kExists), "/s", true, 1, 7);
  h.Read(ToInt(OpCode::kExists), "/s", true, 2, 7, {bob});
  h.Apply(CreateSessionOp(30000), 2);
  h.Apply(SetDataOp("/s", "x"), 2, {bob});
  EXPECT_EQ(Events(h), (std::vector<Ev>{E(EventType::kNodeDataChanged, "/s", 2, 7)}));
  EXPECT_EQ(h.sm().WatchCount(), 0u);  // the denied watch is consumed all the same
}

TEST(DropWatches, BySessionAndByGateway) {
  Harness h;
  h.Apply(CreateOp("/a"));
  h.Read(ToInt(OpCode::kGetData), "/a", true, 1, 7);
  h.Read(ToInt(OpCode::kGetData), "/a", true, 2, 7);
  h.Read(ToInt(OpCode::kGetData), "/a", true, 3, 9);
  AddWatch(h, "/", ToInt(AddWatchMode::kPersistentRecursive), 3, 9);
  h.sm().DropWatches(7, 1);
  EXPECT_EQ(h.sm().WatchCount(), 3u);
  h.sm().DropGateway(9);
  EXPECT_EQ(h.sm().WatchCount(), 1u);
  h.Apply(SetDataOp("/a", "1"));
  EXPECT_EQ(Events(h), (std::vector<Ev>{E(EventType::kNodeDataChanged, "/a", 2, 7)}));
}

TEST(CloseSession, FiresEphemeralDeletesThenDropsTheSessionsWatches) {
  Harness h;
  constexpr int64_t kOther = 5;
  h.Apply(CreateSessionOp(4000), kOther);
  h.Apply(CreateOp("/p"));
  h.Apply(CreateOp("/p/e", "", 1), kOther);
  h.Read(ToInt(OpCode::kExists), "/p/e", true, kOther, 8);
  h.Read(ToInt(OpCode::kGetData), "/p", true, kOther, 8);
  h.Read(ToInt(OpCode::kGetChildren), "/p", true);
  h.Apply(CloseSessionOp(), kOther);
  EXPECT_EQ(Events(h), (std::vector<Ev>{E(EventType::kNodeDeleted, "/p/e", kOther, 8),
                                        E(EventType::kNodeChildrenChanged, "/p")}));
  EXPECT_EQ(h.sm().WatchCount(), 0u);
}

TEST(MultiWatch, FiresOnlyWhenTheMultiCommits) {
  Harness h;
  h.Apply(CreateOp("/a"));
  h.Read(ToInt(OpCode::kGetData), "/a", true);
  h.Read(ToInt(OpCode::kExists), "/b", true);
  h.Apply(MultiOp({SetDataOp("/a", "1"), CreateOp("/b"), CreateOp("/a")}));  // fails
  EXPECT_TRUE(Events(h).empty());
  EXPECT_EQ(h.sm().WatchCount(), 2u);
  h.Apply(MultiOp({SetDataOp("/a", "1"), CreateOp("/b"), SetDataOp("/a", "2")}));
  EXPECT_EQ(Events(h), (std::vector<Ev>{E(EventType::kNodeDataChanged, "/a"),
                                        E(EventType::kNodeCreated, "/b")}));
}

TEST(WatchManagerUnit, TriggerReportsNotifiedAndDelivered) {
  WatchManager wm;
  const Watcher a{1, 10};
  const Watcher b{1, 11};
  wm.AddDataWatch("/x", a);
  wm.AddChildWatch("/x", b);
  auto data = wm.Trigger(WatchTrigger::Table::kData, "/x", nullptr, nullptr);
  EXPECT_EQ(data.notified, std::vector<Watcher>{a});
  auto child = wm.Trigger(WatchTrigger::Table::kChild, "/x", nullptr, &data.notified);
  EXPECT_EQ(child.notified, std::vector<Watcher>{b});
  EXPECT_EQ(child.delivered, std::vector<Watcher>{b});
  EXPECT_EQ(wm.WatchCount(), 0u);
  EXPECT_EQ(wm.WatcherCount(), 0u);
}

}  // namespace
}  // namespace ensemble::storage

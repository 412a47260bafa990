// The storage service over real gRPC on loopback, with a real LevelDB log in a
// temporary folder: appends through the Log stream, reads through the Serve
// stream, log ranges and snapshots streamed out, and a snapshot installed
// into a second, empty peer (the two halves of ZAB's DIFF and SNAP).
#include "services/storage/server/storage_service.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <thread>

#include "common/base/zxid.h"
#include "common/runtime/service_host.h"
#include "prometheus/registry.h"
#include "services/storage/log/leveldb_txn_log.h"
#include "services/storage/snapshot/snapshot_manager.h"

namespace ensemble::storage {
namespace {

namespace fs = std::filesystem;
using ensemble::storage::v1::LogRequest;
using ensemble::storage::v1::LogResponse;

ensemble::v1::Txn Create(int64_t zxid, const std::string& path) {
  ensemble::v1::Txn txn;
  txn.mutable_header()->set_zxid(zxid);
  txn.mutable_header()->set_type(1);
  auto* c = txn.mutable_op()->mutable_create();
  c->set_path(path);
  c->set_data("d");
  auto* acl = c->add_acl();
  acl->set_perms(31);
  acl->mutable_id()->set_scheme("world");
  acl->mutable_id()->set_id("anyone");
  return txn;
}

// One storage peer: log, driver, service and a gRPC server on a free port.
class Peer {
 public:
  explicit Peer(const std::string& name) {
    dir_ = fs::temp_directory_path() / (name + "-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ + "/snapshots");
    log_ = std::move(*LevelDbTxnLog::Open(dir_ + "/log"));
    StorageOptions options;
    options.snapshot_dir = dir_ + "/snapshots";
    options.snap_count = 0;  // snapshots only on demand here
    driver_ = std::move(*StorageDriver::Open(options, log_.get(), registry_));
    service_ = std::make_unique<StorageService>(*driver_, *log_, options.snapshot_dir);
    driver_->Start();
    host_ = std::move(*runtime::ServiceHost::Start({"127.0.0.1:0"}, {service_.get()}));
    stub_ = v1::Storage::NewStub(grpc::CreateChannel("127.0.0.1:" + std::to_string(host_->port()),
                                                     grpc::InsecureChannelCredentials()));
  }
  ~Peer() {
    host_->Shutdown(0);
    driver_->Stop();
    fs::remove_all(dir_);
  }

  v1::StorageState State() {
    grpc::ClientContext ctx;
    v1::StorageState state;
    EXPECT_TRUE(stub_->GetState(&ctx, {}, &state).ok());
    return state;
  }

  // Appends and commits `txns` and waits for the durable acknowledgement.
  LogResponse AppendAndCommit(std::vector<ensemble::v1::Txn> txns) {
    grpc::ClientContext ctx;
    auto stream = stub_->Log(&ctx);
    LogRequest request;
    request.set_id(1);
    request.set_commit_zxid(txns.back().header().zxid());
    for (auto& t : txns) *request.add_append() = std::move(t);
    EXPECT_TRUE(stream->Write(request));
    LogResponse response;
    EXPECT_TRUE(stream->Read(&response));
    stream->WritesDone();
    stream->Finish();
    return response;
  }

  v1::Storage::Stub& stub() { return *stub_; }
  StorageDriver& driver() { return *driver_; }
  const std::string& dir() const { return dir_; }
  prometheus::Registry& registry() { return registry_; }

 private:
  std::string dir_;
  prometheus::Registry registry_;
  std::unique_ptr<LevelDbTxnLog> log_;
  std::unique_ptr<StorageDriver> driver_;
  std::unique_ptr<StorageService> service_;
  std::unique_ptr<runtime::ServiceHost> host_;
  std::unique_ptr<v1::Storage::Stub> stub_;
};

// The summary `name`'s (sample count, sum); (-1, -1) if it is not registered.
std::pair<int64_t, double> SummaryOf(prometheus::Registry& registry, const std::string& name) {
  for (const auto& family : registry.Collect()) {
    if (family.name != name || family.metric.empty()) continue;
    const auto& summary = family.metric[0].summary;
    return {static_cast<int64_t>(summary.sample_count), summary.sample_sum};
  }
  return {-1, -1};
}

// ZooKeeper's storage summaries: the restore at start is observed once, and
// every group commit's fsync time and batch size.
TEST(StorageService, ExportsZooKeepersStorageSummaries) {
  Peer peer("storage-svc-zk-metrics");
  EXPECT_EQ(SummaryOf(peer.registry(), "dbinittime").first, 1);
  EXPECT_EQ(SummaryOf(peer.registry(), "startup_snap_load_time").first, 1);
  EXPECT_EQ(SummaryOf(peer.registry(), "startup_txns_loaded"), (std::pair<int64_t, double>{1, 0}));
  EXPECT_EQ(SummaryOf(peer.registry(), "snapshottime").first, 0);
  std::vector<ensemble::v1::Txn> txns;
  for (int i = 1; i <= 10; ++i) txns.push_back(Create(Zxid::Make(1, i), "/m" + std::to_string(i)));
  peer.AppendAndCommit(std::move(txns));
  auto fsync = SummaryOf(peer.registry(), "fsynctime");
  EXPECT_GE(fsync.first, 1);
  EXPECT_GE(fsync.second, 0.0);
  auto batch = SummaryOf(peer.registry(), "sync_processor_batch_size");
  EXPECT_EQ(batch.second, 10.0);
  EXPECT_EQ(batch.first, fsync.first);
  for (const char* name : {"node_created_watch_count", "node_deleted_watch_count",
                           "node_changed_watch_count", "node_children_watch_count"}) {
    EXPECT_EQ(SummaryOf(peer.registry(), name).first, 0) << name;
  }
}

TEST(StorageService, AppendsDurablyAppliesAndStreamsTheLogRange) {
  Peer peer("storage-svc-log");
  std::vector<ensemble::v1::Txn> txns;
  for (int i = 1; i <= 2500; ++i)
    txns.push_back(Create(Zxid::Make(1, i), "/n" + std::to_string(i)));
  LogResponse response = peer.AppendAndCommit(std::move(txns));
  EXPECT_EQ(response.last_logged_zxid(), Zxid::Make(1, 2500));
  EXPECT_EQ(response.error(), "");
  auto state = peer.State();
  EXPECT_EQ(state.last_applied_zxid(), Zxid::Make(1, 2500));
  EXPECT_EQ(state.znode_count(), 2500 + 4);  // plus /, /zookeeper and its two children

  grpc::ClientContext ctx;
  v1::ReadLogRequest range;
  range.set_from_zxid(Zxid::Make(1, 100));
  auto reader = peer.stub().ReadLog(&ctx, range);
  v1::LogChunk chunk;
  int64_t expected = Zxid::Make(1, 101);
  int chunks = 0;
  while (reader->Read(&chunk)) {
    ++chunks;
    for (const auto& txn : chunk.txns()) EXPECT_EQ(txn.header().zxid(), expected++);
  }
  EXPECT_TRUE(reader->Finish().ok());
  EXPECT_EQ(expected, Zxid::Make(1, 2501));
  EXPECT_GE(chunks, 3);  // streamed in bounded chunks, not one message
}

TEST(StorageService, SnapshotStreamsOutAndInstallsIntoAnEmptyPeer) {
  Peer leader("storage-svc-leader");
  std::vector<ensemble::v1::Txn> txns;
  for (int i = 1; i <= 300; ++i) txns.push_back(Create(Zxid::Make(2, i), "/s" + std::to_string(i)));
  leader.AppendAndCommit(std::move(txns));
  {
    std::promise<void> done;
    leader.driver().Post([&](StorageDriver& d) {
      d.SnapshotNow();
      done.set_value();
    });
    done.get_future().wait();
  }
  // The snapshot is written by a child process; wait for its file.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    auto files = ListSnapshots(leader.dir() + "/snapshots");
    if (files.ok() && !files->empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }

  Peer learner("storage-svc-learner");
  grpc::ClientContext read_ctx;
  auto reader = leader.stub().ReadSnapshot(&read_ctx, {});
  grpc::ClientContext write_ctx;
  v1::InstallSnapshotResponse installed;
  auto writer = learner.stub().InstallSnapshot(&write_ctx, &installed);
  v1::SnapshotChunk chunk;
  int64_t zxid = 0;
  while (reader->Read(&chunk)) {
    if (chunk.zxid() != 0) zxid = chunk.zxid();
    ASSERT_TRUE(writer->Write(chunk));
  }
  ASSERT_TRUE(reader->Finish().ok());
  writer->WritesDone();
  grpc::Status status = writer->Finish();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(zxid, Zxid::Make(2, 300));
  EXPECT_EQ(installed.zxid(), zxid);

  auto a = leader.State(), b = learner.State();
  EXPECT_EQ(b.last_applied_zxid(), zxid);
  EXPECT_EQ(b.znode_count(), a.znode_count());
  EXPECT_EQ(b.tree_digest(), a.tree_digest());
  // The learner's log now starts after the snapshot: it takes the next txn.
  LogResponse next = learner.AppendAndCommit({Create(Zxid::Make(2, 301), "/after")});
  EXPECT_EQ(next.last_applied_zxid(), Zxid::Make(2, 301));
}

TEST(StorageService, InstallRejectsACorruptSnapshot) {
  Peer learner("storage-svc-corrupt");
  grpc::ClientContext ctx;
  v1::InstallSnapshotResponse installed;
  auto writer = learner.stub().InstallSnapshot(&ctx, &installed);
  v1::SnapshotChunk chunk;
  chunk.set_zxid(Zxid::Make(1, 5));
  chunk.set_data(std::string(4096, '\x5a'));
  chunk.set_last(true);
  ASSERT_TRUE(writer->Write(chunk));
  writer->WritesDone();
  grpc::Status status = writer->Finish();
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(learner.State().last_applied_zxid(), 0);
}

}  // namespace
}  // namespace ensemble::storage

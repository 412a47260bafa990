// The election shell with real gRPC on loopback: several election nodes (driver
// + service + server) in one process, each with a fixed local state in place
// of its storage.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <memory>
#include <thread>

#include "common/runtime/service_host.h"
#include "common/runtime/streams.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "services/election/server/election_driver.h"
#include "services/election/server/election_service.h"

namespace ensemble::election {
namespace {

using ensemble::election::v1::LeaderRequest;
using ensemble::election::v1::LeaderResponse;
using ensemble::election::v1::ReelectRequest;
using ensemble::election::v1::ReelectResponse;

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

struct Node {
  int64_t sid;
  std::string address;
  prometheus::Registry registry;
  std::unique_ptr<ElectionDriver> driver;
  std::unique_ptr<ElectionService> service;
  std::unique_ptr<runtime::ServiceHost> host;
};

class Ensemble {
 public:
  explicit Ensemble(int voters) : voters_(voters) {
    std::vector<int64_t> ids;
    for (int64_t sid = 1; sid <= voters; ++sid) {
      ids.push_back(sid);
      addresses_[sid] = "127.0.0.1:" + std::to_string(FreePort());
    }
    quorum_ = std::make_shared<MajorityQuorum>(ids);
  }
  ~Ensemble() {
    for (auto& [sid, node] : nodes_) StopNode(sid);
  }

  void StartNode(int64_t sid, int64_t zxid = 0) {
    auto node = std::make_unique<Node>();
    node->sid = sid;
    node->address = addresses_[sid];
    DriverOptions o;
    o.sid = sid;
    o.quorum = quorum_;
    for (auto& [id, a] : addresses_) {
      if (id != sid) o.peers[id] = a;
    }
    o.tick_ms = 10;
    o.finalize_wait_ms = 50;
    o.min_notification_interval_ms = 50;
    o.max_notification_interval_ms = 400;
    o.leader_timeout_ms = 600;
    o.heartbeat_ms = 50;
    o.seed = static_cast<uint64_t>(sid);
    node->driver = std::make_unique<ElectionDriver>(
        o,
        [sid, zxid](std::function<void(absl::StatusOr<LocalState>)> done) {
          done(LocalState{sid, zxid, 1});
        },
        node->registry);
    std::set<int64_t> known;
    for (auto& [id, a] : addresses_) known.insert(id);
    node->service = std::make_unique<ElectionService>(sid, known, node->driver.get());
    auto host = runtime::ServiceHost::Start({node->address}, {node->service.get()});
    ASSERT_TRUE(host.ok()) << host.status();
    node->host = std::move(*host);
    node->driver->Start();
    nodes_[sid] = std::move(node);
  }

  void StopNode(int64_t sid) {
    auto it = nodes_.find(sid);
    if (it == nodes_.end() || !it->second) return;
    it->second->driver->Stop();
    it->second->host->Shutdown(100);
    it->second.reset();
  }

  ElectionDriver& driver(int64_t sid) { return *nodes_.at(sid)->driver; }
  prometheus::Registry& registry(int64_t sid) { return nodes_.at(sid)->registry; }
  const std::string& address(int64_t sid) { return addresses_.at(sid); }
  bool running(int64_t sid) { return nodes_.contains(sid) && nodes_[sid] != nullptr; }

  // Waits (bounded) until every running node decided on one leader; returns
  // it, or 0.
  int64_t AwaitAgreement(int64_t timeout_ms = 10000, int64_t not_leader = 0) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
      int64_t leader = -1;
      bool agreed = true;
      for (auto& [sid, node] : nodes_) {
        if (!node) continue;
        ElectionView v = node->driver->view();
        if (!v.decision || (leader != -1 && v.decision->leader != leader)) {
          agreed = false;
          break;
        }
        leader = v.decision->leader;
      }
      if (agreed && leader > 0 && leader != not_leader && running(leader) &&
          driver(leader).view().state == PeerState::kLeading) {
        return leader;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return 0;
  }

 private:
  int voters_;
  std::map<int64_t, std::string> addresses_;
  std::shared_ptr<const QuorumVerifier> quorum_;
  std::map<int64_t, std::unique_ptr<Node>> nodes_;
};

// The value of the unlabelled counter `name`; -1 if it is not registered.
double CounterOf(prometheus::Registry& registry, const std::string& name) {
  for (const auto& family : registry.Collect()) {
    if (family.name == name && !family.metric.empty()) return family.metric[0].counter.value;
  }
  return -1;
}

LeaderResponse CallGetLeader(const std::string& address, const LeaderRequest& request) {
  auto stub = ensemble::election::v1::Election::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  LeaderResponse response;
  grpc::Status s = stub->GetLeader(&context, request, &response);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return response;
}

ReelectResponse CallReelect(const std::string& address, const ReelectRequest& request) {
  auto stub = ensemble::election::v1::Election::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  ReelectResponse response;
  grpc::Status s = stub->Reelect(&context, request, &response);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return response;
}

TEST(ElectionServer, ThreeNodesElectTheBestVoteOverGrpc) {
  Ensemble e(3);
  e.StartNode(1, 0x100000007);  // the best data
  e.StartNode(2, 0x100000003);
  // GetLeader waits for the decision when told the caller knows "looking".
  LeaderRequest wait;
  wait.set_wait_ms(10000);
  wait.set_known_state(ensemble::election::v1::PEER_STATE_LOOKING);
  std::thread late([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    e.StartNode(3, 0x100000005);
  });
  LeaderResponse r = CallGetLeader(e.address(2), wait);
  late.join();
  EXPECT_EQ(r.leader(), 1);
  EXPECT_EQ(r.state(), ensemble::election::v1::PEER_STATE_FOLLOWING);
  EXPECT_EQ(r.leader_zxid(), 0x100000007);
  EXPECT_EQ(r.header().server_id(), 2);
  EXPECT_EQ(e.AwaitAgreement(), 1);
}

TEST(ElectionServer, LeaderLossLeadsToANewLeaderAndTheOldOneRejoins) {
  Ensemble e(3);
  for (int64_t sid = 1; sid <= 3; ++sid) e.StartNode(sid);
  ASSERT_EQ(e.AwaitAgreement(), 3);
  const int64_t first_round = e.driver(1).view().decision->election_epoch;
  e.StopNode(3);
  // The followers hear no LEADING status for leader_timeout_ms and elect 2.
  ASSERT_EQ(e.AwaitAgreement(10000, /*not_leader=*/3), 2);
  EXPECT_GT(e.driver(1).view().decision->election_epoch, first_round);
  // ZooKeeper's looking_count: node 1 went LOOKING at start and again.
  const double looking = CounterOf(e.registry(1), "looking_count");
  EXPECT_GE(looking, 2);
  EXPECT_EQ(looking, CounterOf(e.registry(1), "ensemble_election_rounds_total"));
  // Node 3 comes back (a fresh process) and follows 2 rather than taking over.
  e.StartNode(3);
  ASSERT_EQ(e.AwaitAgreement(), 2);
  EXPECT_EQ(e.driver(3).view().state, PeerState::kFollowing);
  EXPECT_TRUE(e.driver(3).view().decision->joined);
}

TEST(ElectionServer, ReelectHonoursItsGuard) {
  Ensemble e(3);
  for (int64_t sid = 1; sid <= 3; ++sid) e.StartNode(sid);
  ASSERT_EQ(e.AwaitAgreement(), 3);
  ReelectRequest stale;
  stale.set_leader(2);  // not the current leader
  stale.set_reason("test");
  EXPECT_FALSE(CallReelect(e.address(1), stale).restarted());
  ReelectRequest current;
  current.set_leader(3);
  current.set_reason("test: lost the leader");
  ReelectResponse r = CallReelect(e.address(1), current);
  EXPECT_TRUE(r.restarted());
  EXPECT_EQ(r.current().state(), ensemble::election::v1::PEER_STATE_LOOKING);
  // Alone in a new round, node 1 rejoins the running leader.
  ASSERT_EQ(e.AwaitAgreement(), 3);
  EXPECT_GE(e.driver(1).view().rounds, 2);
}

TEST(ElectionServer, MalformedBatchEndsOnlyThatStream) {
  Ensemble e(3);
  e.StartNode(1);
  auto stub = ensemble::election::v1::Election::NewStub(
      grpc::CreateChannel(e.address(1), grpc::InsecureChannelCredentials()));
  std::promise<grpc::Status> ended;
  using Stream = runtime::ClientStream<ensemble::election::v1::Notifications,
                                       ensemble::election::v1::Notifications>;
  auto stream = Stream::Open(
      [&](grpc::ClientContext* c,
          grpc::ClientBidiReactor<ensemble::election::v1::Notifications,
                                  ensemble::election::v1::Notifications>* r) {
        stub->async()->Notify(c, r);
      },
      [](ensemble::election::v1::Notifications&&) {},
      [&](const grpc::Status& s) { ended.set_value(s); });
  ensemble::election::v1::Notifications batch;
  batch.set_sid(7);  // not a server of the configuration
  stream->Send(batch);
  auto future = ended.get_future();
  ASSERT_EQ(future.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_EQ(future.get().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  // The node still answers.
  LeaderRequest now;
  EXPECT_EQ(CallGetLeader(e.address(1), now).state(), ensemble::election::v1::PEER_STATE_LOOKING);
}

TEST(ElectionServer, StandaloneLeadsAtOnce) {
  ElectionService service(4, {}, nullptr);
  const std::string address = "127.0.0.1:" + std::to_string(FreePort());
  auto host = runtime::ServiceHost::Start({address}, {&service});
  ASSERT_TRUE(host.ok());
  LeaderResponse r = CallGetLeader(address, LeaderRequest());
  EXPECT_EQ(r.leader(), 4);
  EXPECT_EQ(r.state(), ensemble::election::v1::PEER_STATE_LEADING);
  ReelectRequest any;
  EXPECT_FALSE(CallReelect(address, any).restarted());
  (*host)->Shutdown(100);
}

}  // namespace
}  // namespace ensemble::election

// The gateway's shell end to end: a real GatewayServer on a loopback port, a real
// client socket speaking jute, and small in-process Storage and Replication gRPC
// services that answer like the real ones (the gateway is what is under test).

#include "services/gateway/server/gateway_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "common/jute/request.h"
#include "common/jute/zoo_defs.h"
#include "common/runtime/admin_service.h"
#include "common/runtime/service_host.h"
#include "common/runtime/streams.h"

namespace ensemble::gateway {
namespace {

using ensemble::replication::v1::SubmitRequest;
using ensemble::replication::v1::SubmitResponse;
using ensemble::storage::v1::GatewayMessage;
using ensemble::storage::v1::StorageMessage;
using jute::OpCode;

constexpr int64_t kSession = 0x77;
constexpr int64_t kApplied = 0x500;

// Storage and replication in one: answers reads, creates sessions, applies writes
// by echoing results on the gateway's Serve stream, completes syncs.
class FakeUpstream final : public ensemble::storage::v1::Storage::CallbackService,
                           public ensemble::replication::v1::Replication::CallbackService {
 public:
  using ServeStream = runtime::ServerStream<GatewayMessage, StorageMessage>;
  using SubmitStream = runtime::ServerStream<SubmitRequest, SubmitResponse>;

  grpc::ServerBidiReactor<GatewayMessage, StorageMessage>* Serve(
      grpc::CallbackServerContext* context) override {
    return ServeStream::Start(
        context,
        [this](const std::shared_ptr<ServeStream>& stream, GatewayMessage&& message) {
          std::lock_guard<std::mutex> lock(mu_);
          StorageMessage out;
          out.set_applied_zxid(kApplied);
          if (message.gateway_id() != 0) {
            gateway_id_ = message.gateway_id();
            serve_ = stream;
            ++serve_streams_;
          }
          for (int64_t s : message.detach_sessions()) detached_.push_back(s);
          for (const auto& read : message.reads()) {
            auto* result = out.add_items()->mutable_read();
            result->set_id(read.id());
            result->set_zxid(kApplied);
            if (read.type() == -10) {
              if (read.session_id() == kSession) {
                result->set_number(9000);
              } else {
                result->set_err(-112);
              }
            } else {
              result->set_data("data:" + read.path());
              result->mutable_stat()->set_version(3);
            }
          }
          stream->Send(std::move(out));
          cv_.notify_all();
        },
        [this](const std::shared_ptr<ServeStream>&) {
          std::lock_guard<std::mutex> lock(mu_);
          serve_.reset();
        });
  }

  grpc::ServerBidiReactor<SubmitRequest, SubmitResponse>* Submit(
      grpc::CallbackServerContext* context) override {
    return SubmitStream::Start(
        context,
        [this](const std::shared_ptr<SubmitStream>& stream, SubmitRequest&& request) {
          std::lock_guard<std::mutex> lock(mu_);
          for (int64_t s : request.touch_sessions()) touched_.push_back(s);
          StorageMessage results;
          results.set_applied_zxid(kApplied + 1);
          for (const auto& txn : request.txns()) {
            txns_.push_back(txn);
            auto* r = results.add_items()->mutable_write();
            r->set_cxid(txn.header().cxid());
            r->set_type(txn.header().type());
            r->set_zxid(kApplied + 1);
            if (txn.header().type() == -10) {
              r->set_session_id(kSession);
              r->set_session_timeout_ms(txn.op().create_session().timeout_ms());
            } else {
              r->set_session_id(txn.header().session_id());
              r->mutable_result()->set_path(txn.op().has_create() ? txn.op().create().path() : "");
            }
          }
          if (results.items_size() > 0 && serve_) serve_->Send(std::move(results));
          SubmitResponse response;
          for (const auto& sync : request.syncs()) {
            auto* done = response.add_syncs();
            done->set_id(sync.id());
            done->set_zxid(kApplied);
          }
          if (response.syncs_size() > 0) stream->Send(std::move(response));
          cv_.notify_all();
        },
        nullptr);
  }

  // The replicated session table: only kSession is open.
  grpc::ServerUnaryReactor* ListSessions(
      grpc::CallbackServerContext* context, const ensemble::storage::v1::ListSessionsRequest*,
      ensemble::storage::v1::ListSessionsResponse* response) override {
    auto* session = response->add_sessions();
    session->set_session_id(kSession);
    session->set_timeout_ms(30000);
    auto* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  // Pushes a watch event on the gateway's stream.
  void Fire(int64_t session, int32_t type, const std::string& path) {
    std::lock_guard<std::mutex> lock(mu_);
    StorageMessage out;
    out.set_applied_zxid(kApplied);
    auto* event = out.add_items()->mutable_event();
    event->set_session_id(session);
    event->set_type(type);
    event->set_path(path);
    if (serve_) serve_->Send(std::move(out));
  }

  // Ends the gateway's Serve stream, as a storage restart would.
  void DropServe() {
    std::lock_guard<std::mutex> lock(mu_);
    if (serve_) serve_->Close(grpc::Status(grpc::StatusCode::UNAVAILABLE, "storage restarting"));
  }

  template <typename Pred>
  bool WaitFor(Pred pred, int ms = 5000) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::milliseconds(ms), [&] { return pred(); });
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::shared_ptr<ServeStream> serve_;
  uint64_t gateway_id_ = 0;
  int serve_streams_ = 0;
  std::vector<ensemble::v1::Txn> txns_;
  std::vector<int64_t> touched_;
  std::vector<int64_t> detached_;
};

// A blocking jute client on a POSIX socket.
class Client {
 public:
  explicit Client(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    timeval tv{5, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
  ~Client() { close(fd_); }

  bool connected() const { return connected_; }
  void Send(const std::string& bytes) {
    ASSERT_EQ(write(fd_, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  }

  // The next frame's payload; nullopt when the server closed the connection.
  std::optional<std::string> Next() {
    while (true) {
      auto next = decoder_.Next();
      if (!next.ok()) return std::nullopt;
      if (next->has_value()) return std::string(**next);
      char buf[4096];
      ssize_t n = read(fd_, buf, sizeof(buf));
      if (n <= 0) return std::nullopt;
      decoder_.Feed(std::string_view(buf, static_cast<size_t>(n)));
    }
  }

  // Everything until the server closes (four-letter words).
  std::string ReadAll() {
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = read(fd_, buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
    return out;
  }

  bool ClosedByServer() { return !Next().has_value(); }

  // Handshake for a new session (or a re-attach); returns the response.
  std::optional<jute::ConnectResponse> Connect(int64_t session = 0, std::string passwd = "") {
    jute::ConnectRequest req;
    req.timeout_ms = 30000;
    req.session_id = session;
    req.passwd = passwd.empty() ? std::string(16, '\0') : passwd;
    Send(jute::EncodeConnectRequest(req));
    auto frame = Next();
    if (!frame) return std::nullopt;
    auto response = jute::DecodeConnectResponse(*frame);
    if (!response.ok()) return std::nullopt;
    return *response;
  }

  void Request(int32_t xid, OpCode op, const jute::RequestBody& body) {
    Send(jute::EncodeRequest(jute::RequestHeader{xid, static_cast<int32_t>(op)}, body));
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
  jute::FrameDecoder decoder_{1 << 24};
};

class GatewayServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    admin_ = std::make_unique<runtime::AdminService>(
        "replication", std::map<std::string, std::string>{},
        [](ensemble::admin::v1::StatusResponse* r) { r->set_role("standalone"); });
    auto host = runtime::ServiceHost::Start(
        {"127.0.0.1:0"},
        {static_cast<ensemble::storage::v1::Storage::CallbackService*>(&upstream_),
         static_cast<ensemble::replication::v1::Replication::CallbackService*>(&upstream_),
         admin_.get()});
    ASSERT_TRUE(host.ok()) << host.status();
    host_ = std::move(*host);
    const std::string address = "127.0.0.1:" + std::to_string(host_->port());
    options_.client_address = "127.0.0.1";
    options_.client_port = 0;
    options_.storage_address = address;
    options_.replication_address = address;
    options_.tick_ms = 300;
    options_.four_letter_word_enabled = [](std::string_view w) { return w != "mntr"; };
    options_.gateway_id = 0xabc;
  }

  void StartGateway() {
    auto server = GatewayServer::Start(options_, registry_);
    ASSERT_TRUE(server.ok()) << server.status();
    gateway_ = std::move(*server);
    for (int i = 0; i < 500 && !Serving(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_TRUE(Serving());
  }

  bool Serving() {
    auto s = gateway_->GetStatus();
    return s.storage_up && s.replication_up;
  }

  // Runs an admin call and waits (bounded) for its status.
  grpc::Status Admin(const std::function<void(GatewayServer::AdminDone)>& call) {
    auto promise = std::make_shared<std::promise<grpc::Status>>();
    auto future = promise->get_future();
    call([promise](grpc::Status status) { promise->set_value(std::move(status)); });
    if (future.wait_for(std::chrono::seconds(15)) != std::future_status::ready) {
      return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "the admin call never finished");
    }
    return future.get();
  }

  ensemble::admin::v1::ListConnectionsResponse Connections() {
    ensemble::admin::v1::ListConnectionsResponse response;
    grpc::Status status =
        Admin([&](auto done) { gateway_->ListConnections(&response, std::move(done)); });
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  void TearDown() override {
    if (gateway_) gateway_->Stop();
    if (host_) host_->Shutdown(0);
  }

  FakeUpstream upstream_;
  std::unique_ptr<runtime::AdminService> admin_;
  std::unique_ptr<runtime::ServiceHost> host_;
  prometheus::Registry registry_;
  GatewayOptions options_;
  std::unique_ptr<GatewayServer> gateway_;
};

TEST_F(GatewayServerTest, SessionReadWriteAndWatchEventEndToEnd) {
  StartGateway();
  EXPECT_EQ(upstream_.gateway_id_, 0xabcu);
  Client client(gateway_->port());
  ASSERT_TRUE(client.connected());
  auto response = client.Connect();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->session_id, kSession);
  EXPECT_EQ(response->timeout_ms, 30000);
  EXPECT_EQ(response->passwd, SessionPassword(kDefaultSessionSecret, kSession));

  client.Request(1, OpCode::kCreate, jute::CreateRequest{"/a", "x", {}, 0});
  client.Request(2, OpCode::kGetData, jute::GetDataRequest{"/a", true});
  auto created = client.Next();
  ASSERT_TRUE(created.has_value());
  auto create = jute::DecodeResponse(*created, OpCode::kCreate);
  ASSERT_TRUE(create.ok()) << create.status();
  EXPECT_EQ(create->header.xid, 1);
  EXPECT_EQ(std::get<jute::CreateResponse>(create->body).path, "/a");
  auto read = client.Next();
  ASSERT_TRUE(read.has_value());
  auto data = jute::DecodeResponse(*read, OpCode::kGetData);
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_EQ(data->header.xid, 2);
  EXPECT_EQ(data->header.zxid, kApplied);
  EXPECT_EQ(std::get<jute::GetDataResponse>(data->body).data, "data:/a");

  {
    std::lock_guard<std::mutex> lock(upstream_.mu_);
    ASSERT_EQ(upstream_.txns_.size(), 2u);  // createSession, create
    EXPECT_EQ(upstream_.txns_[1].header().origin(), 0xabcu);
    EXPECT_EQ(upstream_.txns_[1].header().session_id(), kSession);
    ASSERT_GE(upstream_.txns_[1].header().auth_size(), 1);
    EXPECT_EQ(upstream_.txns_[1].header().auth(0).id(), "127.0.0.1");
  }

  upstream_.Fire(kSession, 3, "/a");
  auto note = client.Next();
  ASSERT_TRUE(note.has_value());
  auto event = jute::DecodeResponse(*note, OpCode::kNotification);
  ASSERT_TRUE(event.ok());
  EXPECT_EQ(std::get<jute::WatcherEvent>(event->body).path, "/a");

  // The session is touched on replication within a tick.
  EXPECT_TRUE(upstream_.WaitFor([&] {
    return std::find(upstream_.touched_.begin(), upstream_.touched_.end(), kSession) !=
           upstream_.touched_.end();
  }));
}

TEST_F(GatewayServerTest, SyncRoundTrip) {
  StartGateway();
  Client client(gateway_->port());
  ASSERT_TRUE(client.Connect().has_value());
  client.Request(5, OpCode::kSync, jute::SyncRequest{"/s"});
  auto frame = client.Next();
  ASSERT_TRUE(frame.has_value());
  auto sync = jute::DecodeResponse(*frame, OpCode::kSync);
  ASSERT_TRUE(sync.ok()) << sync.status();
  EXPECT_EQ(std::get<jute::SyncResponse>(sync->body).path, "/s");
}

TEST_F(GatewayServerTest, ReattachAndExpiredSession) {
  StartGateway();
  Client good(gateway_->port());
  auto response = good.Connect(kSession, SessionPassword(kDefaultSessionSecret, kSession));
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->session_id, kSession);
  EXPECT_EQ(response->timeout_ms, 9000);  // the session's own timeout, from storage

  Client expired(gateway_->port());
  response = expired.Connect(0x99, SessionPassword(kDefaultSessionSecret, 0x99));
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->timeout_ms, 0);
  EXPECT_TRUE(expired.ClosedByServer());

  // A second connection re-attaching the same session closes the first.
  Client again(gateway_->port());
  ASSERT_TRUE(again.Connect(kSession, SessionPassword(kDefaultSessionSecret, kSession)));
  EXPECT_TRUE(good.ClosedByServer());
}

TEST_F(GatewayServerTest, ClosedConnectionDetachesItsSession) {
  StartGateway();
  {
    Client client(gateway_->port());
    ASSERT_TRUE(client.Connect().has_value());
  }
  EXPECT_TRUE(upstream_.WaitFor([&] { return !upstream_.detached_.empty(); }));
  std::lock_guard<std::mutex> lock(upstream_.mu_);
  EXPECT_EQ(upstream_.detached_[0], kSession);
}

TEST_F(GatewayServerTest, FourLetterWordsFollowTheWhitelist) {
  StartGateway();
  Client ruok(gateway_->port());
  ruok.Send("ruok");
  EXPECT_EQ(ruok.ReadAll(), "imok");
  Client mntr(gateway_->port());
  mntr.Send("mntr");
  EXPECT_EQ(mntr.ReadAll(), "mntr is not executed because it is not in the whitelist.\n");
  Client srvr(gateway_->port());
  srvr.Send("srvr");
  std::string out = srvr.ReadAll();
  EXPECT_NE(out.find("Zxid: 0x500\n"), std::string::npos) << out;
  EXPECT_NE(out.find("Mode: standalone\n"), std::string::npos) << out;
}

TEST_F(GatewayServerTest, BadInputClosesOnlyThatConnection) {
  StartGateway();
  Client healthy(gateway_->port());
  ASSERT_TRUE(healthy.Connect().has_value());
  Client bad(gateway_->port());
  bad.Send(std::string("\x7f\xff\xff\xff", 4));  // a length far above jute.maxbuffer
  EXPECT_TRUE(bad.ClosedByServer());
  healthy.Request(jute::kPingXid, OpCode::kPing, jute::EmptyRecord{});
  auto pong = healthy.Next();
  ASSERT_TRUE(pong.has_value());
  EXPECT_EQ(jute::DecodeReplyHeader(*pong)->xid, jute::kPingXid);
}

TEST_F(GatewayServerTest, MaxClientCnxnsPerAddress) {
  options_.max_client_cnxns = 1;
  StartGateway();
  Client first(gateway_->port());
  ASSERT_TRUE(first.Connect().has_value());
  Client second(gateway_->port());
  EXPECT_TRUE(second.ClosedByServer());
}

TEST_F(GatewayServerTest, StorageDropClosesClientsThenReconnects) {
  StartGateway();
  Client client(gateway_->port());
  ASSERT_TRUE(client.Connect().has_value());
  upstream_.DropServe();
  EXPECT_TRUE(client.ClosedByServer());
  // The gateway opens a new stream with the same id and serves again.
  EXPECT_TRUE(upstream_.WaitFor([&] { return upstream_.serve_streams_ >= 2; }));
  for (int i = 0; i < 500 && !Serving(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(Serving());
  Client later(gateway_->port());
  auto response = later.Connect(kSession, SessionPassword(kDefaultSessionSecret, kSession));
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->session_id, kSession);
}

TEST_F(GatewayServerTest, AdminListsAndDropsConnections) {
  StartGateway();
  Client attached(gateway_->port());
  ASSERT_TRUE(attached.Connect().has_value());
  Client bare(gateway_->port());  // no handshake yet
  ASSERT_TRUE(bare.connected());
  ensemble::admin::v1::ListConnectionsResponse listed;
  for (int i = 0; i < 200; ++i) {  // the second accept may trail
    listed = Connections();
    if (listed.connections_size() == 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(listed.connections_size(), 2);
  const ensemble::admin::v1::Connection* with_session = nullptr;
  const ensemble::admin::v1::Connection* without = nullptr;
  for (const auto& c : listed.connections()) {
    EXPECT_EQ(c.remote().rfind("/127.0.0.1:", 0), 0u) << c.remote();
    EXPECT_EQ(c.outstanding(), 0);
    EXPECT_GE(c.idle_ms(), 0);
    EXPECT_LT(c.idle_ms(), 10000);
    (c.session_id() != 0 ? with_session : without) = &c;
  }
  ASSERT_NE(with_session, nullptr);
  ASSERT_NE(without, nullptr);
  EXPECT_EQ(with_session->session_id(), kSession);
  EXPECT_EQ(with_session->timeout_ms(), 30000);
  EXPECT_GE(with_session->packets_received(), 1);
  EXPECT_EQ(without->timeout_ms(), 0);

  // By session: the connection closes and its session is detached (it lives on).
  ensemble::admin::v1::DropConnectionRequest by_session;
  by_session.set_session_id(kSession);
  ensemble::admin::v1::DropConnectionResponse dropped;
  grpc::Status status =
      Admin([&](auto done) { gateway_->DropConnection(by_session, &dropped, std::move(done)); });
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(dropped.dropped_size(), 1);
  EXPECT_EQ(dropped.dropped(0).session_id(), kSession);
  EXPECT_TRUE(attached.ClosedByServer());
  EXPECT_TRUE(upstream_.WaitFor([&] { return !upstream_.detached_.empty(); }));
  dropped.Clear();
  status =
      Admin([&](auto done) { gateway_->DropConnection(by_session, &dropped, std::move(done)); });
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << status.error_message();

  // By remote address, written with or without Java's leading slash.
  ensemble::admin::v1::DropConnectionRequest by_remote;
  by_remote.set_remote(without->remote().substr(1));
  dropped.Clear();
  status =
      Admin([&](auto done) { gateway_->DropConnection(by_remote, &dropped, std::move(done)); });
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(dropped.dropped_size(), 1);
  EXPECT_TRUE(bare.ClosedByServer());
  EXPECT_EQ(Connections().connections_size(), 0);

  ensemble::admin::v1::DropConnectionRequest nothing;
  status = Admin([&](auto done) { gateway_->DropConnection(nothing, &dropped, std::move(done)); });
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(GatewayServerTest, AdminKillSessionSubmitsAnExpiryLikeCloseSession) {
  StartGateway();
  Client client(gateway_->port());
  ASSERT_TRUE(client.Connect().has_value());
  ensemble::admin::v1::KillSessionResponse killed;
  grpc::Status status =
      Admin([&](auto done) { gateway_->KillSession(kSession, &killed, std::move(done)); });
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(killed.zxid(), kApplied + 1);
  {
    std::lock_guard<std::mutex> lock(upstream_.mu_);
    ASSERT_FALSE(upstream_.txns_.empty());
    const auto& close = upstream_.txns_.back();
    EXPECT_EQ(close.header().type(), static_cast<int32_t>(OpCode::kCloseSession));
    EXPECT_EQ(close.header().session_id(), kSession);
    EXPECT_EQ(close.header().origin(), 0u);  // as an expiry: every gateway hears of it
    EXPECT_TRUE(close.op().has_close_session());
  }
  // The connection holding the session learns it is gone.
  EXPECT_TRUE(client.ClosedByServer());

  // A session the home storage does not know.
  status = Admin([&](auto done) { gateway_->KillSession(0x99, &killed, std::move(done)); });
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << status.error_message();
}

}  // namespace
}  // namespace ensemble::gateway

#include "common/runtime/service_host.h"

#include <gtest/gtest.h>

#include <thread>

#include "common/runtime/admin_service.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"

namespace ensemble::runtime {
namespace {

// Starts a real server on a loopback port and checks health and admin over a
// real channel.
TEST(ServiceHost, ServesHealthAndAdminOverLoopback) {
  AdminService admin("test", {{"tickTime", "2000"}},
                     [](ensemble::admin::v1::StatusResponse* r) { r->set_role("standalone"); });
  auto host = ServiceHost::Start({"127.0.0.1:0"}, {&admin});
  ASSERT_TRUE(host.ok()) << host.status();
  int port = (*host)->port();
  ASSERT_GT(port, 0);
  auto channel =
      grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials());

  auto stub = ensemble::admin::v1::Admin::NewStub(channel);
  grpc::ClientContext ctx;
  ensemble::admin::v1::StatusResponse status;
  ASSERT_TRUE(stub->Status(&ctx, {}, &status).ok());
  EXPECT_EQ(status.process(), "test");
  EXPECT_EQ(status.role(), "standalone");

  grpc::ClientContext cctx;
  ensemble::admin::v1::GetConfigResponse config;
  ASSERT_TRUE(stub->GetConfig(&cctx, {}, &config).ok());
  EXPECT_EQ(config.settings().at("tickTime"), "2000");
  auto health = grpc::health::v1::Health::NewStub(channel);
  grpc::health::v1::HealthCheckResponse reply;
  grpc::ClientContext hctx;
  ASSERT_TRUE(health->Check(&hctx, {}, &reply).ok());
  EXPECT_EQ(reply.status(), grpc::health::v1::HealthCheckResponse::NOT_SERVING);
  (*host)->SetServing(true);
  grpc::ClientContext hctx2;
  ASSERT_TRUE(health->Check(&hctx2, {}, &reply).ok());
  EXPECT_EQ(reply.status(), grpc::health::v1::HealthCheckResponse::SERVING);
  (*host)->Shutdown();
}

// An operator call the process serves answers through its handler (here from
// another thread, as a driver would); one it does not serve is UNIMPLEMENTED.
TEST(ServiceHost, AdminHandlersAnswerLaterOrUnimplemented) {
  AdminService::Actions actions;
  std::thread worker;
  actions.list_sessions = [&worker](const ensemble::admin::v1::ListSessionsRequest&,
                                    ensemble::admin::v1::ListSessionsResponse* response,
                                    std::function<void(grpc::Status)> done) {
    worker = std::thread([response, done] {
      response->add_sessions()->set_session_id(0x42);
      done(grpc::Status::OK);
    });
  };
  AdminService admin("storage", {}, nullptr, actions);
  auto host = ServiceHost::Start({"127.0.0.1:0"}, {&admin});
  ASSERT_TRUE(host.ok()) << host.status();
  auto stub = ensemble::admin::v1::Admin::NewStub(grpc::CreateChannel(
      "127.0.0.1:" + std::to_string((*host)->port()), grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ensemble::admin::v1::ListSessionsResponse sessions;
  ASSERT_TRUE(stub->ListSessions(&ctx, {}, &sessions).ok());
  ASSERT_EQ(sessions.sessions_size(), 1);
  EXPECT_EQ(sessions.sessions(0).session_id(), 0x42);
  grpc::ClientContext kctx;
  ensemble::admin::v1::KillSessionResponse killed;
  grpc::Status status = stub->KillSession(&kctx, {}, &killed);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  (*host)->Shutdown();
  if (worker.joinable()) worker.join();
}

}  // namespace
}  // namespace ensemble::runtime

#include "common/runtime/service_host.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace ensemble::runtime

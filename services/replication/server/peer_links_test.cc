#include "services/replication/server/peer_links.h"

#include <string>

#include "gtest/gtest.h"

namespace ensemble::zab {
namespace {

using ensemble::replication::v1::PeerMessage;

PeerMessage Snap(size_t bytes) {
  PeerMessage m;
  m.set_type(ensemble::replication::v1::PEER_MESSAGE_TYPE_SNAP);
  m.set_sid(3);
  m.set_conn(77);
  m.set_zxid(0x500000007);
  m.add_known_sessions()->set_session_id(9);
  std::string data(bytes, '\0');
  for (size_t i = 0; i < bytes; ++i) data[i] = static_cast<char>(i * 131 % 251);
  m.set_snapshot(data);
  return m;
}

TEST(ChunkForTransportTest, SmallMessagesPassUnchanged) {
  PeerMessage ping;
  ping.set_type(ensemble::replication::v1::PEER_MESSAGE_TYPE_PING);
  ping.set_zxid(5);
  auto parts = ChunkForTransport(ping, 16);
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0].SerializeAsString(), ping.SerializeAsString());
  auto snap = Snap(16);
  parts = ChunkForTransport(snap, 16);
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_FALSE(parts[0].snapshot_more());
}

TEST(ChunkForTransportTest, LargeSnapIsCutAndJoinedBackExactly) {
  for (size_t bytes : {17u, 32u, 33u, 1000u}) {
    PeerMessage snap = Snap(bytes);
    auto parts = ChunkForTransport(snap, 16);
    ASSERT_EQ(parts.size(), (bytes + 15) / 16) << bytes;
    SnapshotAssembler assembler;
    std::optional<PeerMessage> whole;
    for (size_t i = 0; i < parts.size(); ++i) {
      EXPECT_EQ(parts[i].snapshot_more(), i + 1 < parts.size());
      whole = assembler.Add(parts[i]);
      EXPECT_EQ(whole.has_value(), i + 1 == parts.size());
    }
    ASSERT_TRUE(whole.has_value());
    EXPECT_EQ(whole->SerializeAsString(), snap.SerializeAsString()) << bytes;
  }
}

TEST(SnapshotAssemblerTest, AnotherMessageDropsAPartialSnapshot) {
  auto parts = ChunkForTransport(Snap(100), 16);
  SnapshotAssembler assembler;
  EXPECT_FALSE(assembler.Add(parts[0]).has_value());
  PeerMessage ping;
  ping.set_type(ensemble::replication::v1::PEER_MESSAGE_TYPE_PING);
  auto out = assembler.Add(ping);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->type(), ensemble::replication::v1::PEER_MESSAGE_TYPE_PING);
  // The rest of the cut-off snapshot does not complete anything by itself
  // into a wrong message: a fresh SNAP afterwards assembles correctly.
  PeerMessage snap = Snap(40);
  auto fresh = ChunkForTransport(snap, 16);
  std::optional<PeerMessage> whole;
  for (auto& p : fresh) whole = assembler.Add(p);
  ASSERT_TRUE(whole.has_value());
  EXPECT_EQ(whole->SerializeAsString(), snap.SerializeAsString());
}

}  // namespace
}  // namespace ensemble::zab

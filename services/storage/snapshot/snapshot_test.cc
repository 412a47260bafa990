#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "services/storage/core/test_harness.h"
#include "services/storage/snapshot/snapshot_codec.h"
#include "services/storage/snapshot/snapshot_format.h"
#include "services/storage/snapshot/snapshot_reader.h"
#include "services/storage/snapshot/snapshot_writer.h"
#include "zlib.h"

namespace ensemble::storage {
namespace {

// A state machine after `n` random transactions.
std::unique_ptr<StateMachine> RandomState(uint64_t seed, int n) {
  auto sm = std::make_unique<StateMachine>();
  testing::RandomTxns gen(seed);
  for (int64_t zxid = 1; zxid <= n; ++zxid) sm->Apply(gen.Next(zxid));
  return sm;
}

std::string Serialize(const StateMachine& sm, size_t chunk_bytes = 1 << 20) {
  std::string out;
  SnapshotWriter writer(
      [&](absl::string_view b) {
        out.append(b.data(), b.size());
        return absl::OkStatus();
      },
      chunk_bytes);
  EXPECT_TRUE(writer.Write(sm).ok());
  EXPECT_EQ(writer.bytes_written(), out.size());
  return out;
}

// Every node, with its full persisted state, in preorder.
std::string Dump(const StateMachine& sm) {
  std::string out;
  sm.tree().ForEachPreorder([&](absl::string_view path, const Node& n) {
    out += std::string(path) + "|" + n.data + "|" + std::to_string(static_cast<int>(n.kind)) + "|" +
           std::to_string(n.stat.czxid) + "," + std::to_string(n.stat.mzxid) + "," +
           std::to_string(n.stat.pzxid) + "," + std::to_string(n.stat.cversion) + "," +
           std::to_string(n.stat.version) + "," + std::to_string(n.stat.aversion) + "," +
           std::to_string(n.stat.ephemeral_owner) + "|";
    for (const Acl& a : n.acl->acls) out += std::to_string(a.perms) + a.id.scheme + a.id.id + ";";
    out += "\n";
  });
  for (const SessionEntry& s : sm.sessions().List()) {
    out += "session " + std::to_string(s.session_id) + " " + std::to_string(s.timeout_ms) + "\n";
  }
  return out;
}

TEST(Snapshot, RoundTripKeepsEverything) {
  auto sm = RandomState(7, 2000);
  const std::string bytes = Serialize(*sm);
  auto loaded = ReadSnapshot(bytes);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ((*loaded)->Digest(), sm->Digest());
  EXPECT_EQ((*loaded)->last_applied_zxid(), 2000);
  EXPECT_EQ((*loaded)->ZnodeCount(), sm->ZnodeCount());
  EXPECT_EQ((*loaded)->EphemeralCount(), sm->EphemeralCount());
  EXPECT_EQ((*loaded)->ApproximateDataSize(), sm->ApproximateDataSize());
  EXPECT_EQ(Dump(**loaded), Dump(*sm));
  EXPECT_EQ((*loaded)->tree().Containers(), sm->tree().Containers());
  EXPECT_EQ((*loaded)->tree().Ttls(), sm->tree().Ttls());
  // Same state, same bytes.
  EXPECT_EQ(Serialize(**loaded), bytes);
}

TEST(Snapshot, LoadedStateKeepsApplyingIdentically) {
  auto sm = RandomState(11, 1500);
  auto loaded = ReadSnapshot(Serialize(*sm));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  testing::RandomTxns gen(99);
  for (int64_t zxid = 1501; zxid <= 2500; ++zxid) {
    const auto txn = gen.Next(zxid);
    const auto a = sm->Apply(txn);
    const auto b = (*loaded)->Apply(txn);
    ASSERT_EQ(a.result.SerializeAsString(), b.result.SerializeAsString()) << zxid;
  }
  EXPECT_EQ((*loaded)->Digest(), sm->Digest());
}

TEST(Snapshot, QuotasSurviveALoad) {
  testing::Harness h;
  h.Apply(testing::CreateOp("/q"));
  h.Apply(testing::CreateOp("/zookeeper/quota/q"));
  h.Apply(testing::CreateOp("/zookeeper/quota/q/zookeeper_limits", "count=5,bytes=-1"));
  h.Apply(testing::CreateOp("/zookeeper/quota/q/zookeeper_stats", ""));
  auto loaded = ReadSnapshot(Serialize(h.sm()));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ensemble::v1::Txn txn;
  txn.mutable_header()->set_zxid(h.zxid() + 1);
  *txn.mutable_op() = testing::CreateOp("/q/x", "abc");
  (*loaded)->Apply(txn);
  EXPECT_EQ((*loaded)->tree().Find("/zookeeper/quota/q/zookeeper_stats")->data, "count=2,bytes=3");
}

TEST(Snapshot, StreamsInAnyPieces) {
  auto sm = RandomState(3, 800);
  const std::string bytes = Serialize(*sm, /*chunk_bytes=*/64);  // many chunks
  for (size_t piece : {1u, 7u, 4096u}) {
    SnapshotReader reader;
    for (size_t i = 0; i < bytes.size(); i += piece) {
      ASSERT_TRUE(reader.Feed(absl::string_view(bytes).substr(i, piece)).ok());
    }
    auto loaded = reader.Finish();
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    EXPECT_EQ((*loaded)->Digest(), sm->Digest());
    EXPECT_EQ(reader.zxid(), 800);
  }
}

TEST(Snapshot, InitialTreeRoundTrips) {
  StateMachine sm;
  auto loaded = ReadSnapshot(Serialize(sm));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ((*loaded)->Digest(), sm.Digest());
  EXPECT_EQ((*loaded)->ZnodeCount(), 4u);
}

TEST(Snapshot, EveryFlippedByteIsDataLoss) {
  testing::Harness h;
  h.Apply(testing::CreateOp("/a", "data"));
  h.Apply(testing::CreateOp("/a/e", "", 1));
  const std::string bytes = Serialize(h.sm(), 32);
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string bad = bytes;
    bad[i] ^= 0x20;
    auto loaded = ReadSnapshot(bad);
    ASSERT_FALSE(loaded.ok()) << "byte " << i;
    EXPECT_EQ(loaded.status().code(), absl::StatusCode::kDataLoss)
        << "byte " << i << ": " << loaded.status();
  }
}

TEST(Snapshot, EveryTruncationIsDataLoss) {
  auto sm = RandomState(5, 200);
  const std::string bytes = Serialize(*sm, 256);
  for (size_t len = 0; len < bytes.size(); len += (len < 200 ? 1 : 37)) {
    auto loaded = ReadSnapshot(absl::string_view(bytes).substr(0, len));
    ASSERT_FALSE(loaded.ok()) << len;
    EXPECT_EQ(loaded.status().code(), absl::StatusCode::kDataLoss) << len;
  }
}

TEST(Snapshot, BytesAfterTheTrailerAreDataLoss) {
  StateMachine sm;
  auto loaded = ReadSnapshot(Serialize(sm) + "x");
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kDataLoss);
}

TEST(Snapshot, HugeLengthIsRejectedBeforeAllocating) {
  StateMachine sm;
  std::string bytes = Serialize(sm);
  // The first chunk's length field sits right after the header.
  std::string len;
  snapshot::PutU32(&len, 0xFFFFFFF0u);
  bytes.replace(snapshot::kHeaderSize + 4, 4, len);
  SnapshotReader reader;
  absl::Status s = reader.Feed(bytes);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("impossible chunk length"), std::string::npos) << s;
}

TEST(Snapshot, UnknownVersionIsFailedPrecondition) {
  StateMachine sm;
  std::string bytes = Serialize(sm);
  std::string v;
  snapshot::PutU32(&v, snapshot::kVersion + 1);
  bytes.replace(8, 4, v);
  std::string crc;
  snapshot::PutU32(&crc,
                   static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(bytes.data()),
                                               static_cast<uInt>(snapshot::kHeaderCrcOffset))));
  bytes.replace(snapshot::kHeaderCrcOffset, 4, crc);
  EXPECT_EQ(ReadSnapshot(bytes).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(Snapshot, SinkErrorsStopTheWriter) {
  StateMachine sm;
  int calls = 0;
  SnapshotWriter writer([&](absl::string_view) {
    ++calls;
    return absl::UnavailableError("peer gone");
  });
  EXPECT_EQ(writer.Write(sm).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(calls, 1);
}

TEST(Snapshot, CloneCanBeWrittenWhileTheOriginalMovesOn) {
  auto sm = RandomState(13, 500);
  auto copy = sm->Clone();
  const uint64_t digest = copy->Digest();
  testing::RandomTxns gen(14);
  for (int64_t zxid = 501; zxid <= 700; ++zxid) sm->Apply(gen.Next(zxid));
  auto loaded = ReadSnapshot(Serialize(*copy));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ((*loaded)->Digest(), digest);
  EXPECT_EQ((*loaded)->last_applied_zxid(), 500);
}

}  // namespace
}  // namespace ensemble::storage

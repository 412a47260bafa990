#include "services/storage/snapshot/snapshot_manager.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "gtest/gtest.h"
#include "services/storage/core/test_harness.h"

namespace ensemble::storage {
namespace {

class SnapshotDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ensemble-snap-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }

  bool FileExists(const std::string& name) {
    struct stat st;
    return ::stat((dir_ + "/" + name).c_str(), &st) == 0;
  }

  // Flips one byte in the middle of a file.
  void Corrupt(const std::string& path) {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(0, std::ios::end);
    const auto size = static_cast<std::streamoff>(f.tellg());
    f.seekg(size / 2);
    char c;
    f.get(c);
    f.seekp(size / 2);
    f.put(static_cast<char>(c ^ 0x01));
  }

  std::string dir_;
};

TEST(SnapshotFileName, ZooKeeperStyleHex) {
  EXPECT_EQ(SnapshotFileName(0x300000012), "snapshot.300000012");
  EXPECT_EQ(SnapshotFileName(0), "snapshot.0");
  EXPECT_EQ(ParseSnapshotFileName("snapshot.300000012").value(), 0x300000012);
  EXPECT_EQ(ParseSnapshotFileName("snapshot.ABC").value(), 0xabc);
  EXPECT_FALSE(ParseSnapshotFileName("snapshot.12.tmp").has_value());
  EXPECT_FALSE(ParseSnapshotFileName("snapshot.12.broken").has_value());
  EXPECT_FALSE(ParseSnapshotFileName("snapshot.").has_value());
  EXPECT_FALSE(ParseSnapshotFileName("log.12").has_value());
}

TEST_F(SnapshotDirTest, WriteListAndRead) {
  testing::Harness h;
  h.Apply(testing::CreateOp("/a", "x"));
  auto path = WriteSnapshotFile(dir_, h.sm());
  ASSERT_TRUE(path.ok()) << path.status();
  EXPECT_EQ(*path, dir_ + "/" + SnapshotFileName(h.zxid()));
  EXPECT_FALSE(FileExists(SnapshotFileName(h.zxid()) + ".tmp"));
  auto files = ListSnapshots(dir_);
  ASSERT_TRUE(files.ok());
  ASSERT_EQ(files->size(), 1u);
  EXPECT_EQ((*files)[0].zxid, h.zxid());
  auto sm = ReadSnapshotFile(*path);
  ASSERT_TRUE(sm.ok()) << sm.status();
  EXPECT_EQ((*sm)->Digest(), h.sm().Digest());
}

TEST_F(SnapshotDirTest, LoadNewestValidFallsBackAndSetsTheBrokenOneAside) {
  testing::Harness h;
  h.Apply(testing::CreateOp("/a", "x"));
  ASSERT_TRUE(WriteSnapshotFile(dir_, h.sm()).ok());
  const int64_t good_zxid = h.zxid();
  const uint64_t good_digest = h.sm().Digest();
  h.Apply(testing::CreateOp("/b", std::string(5000, 'b')));
  auto newest = WriteSnapshotFile(dir_, h.sm());
  ASSERT_TRUE(newest.ok());
  Corrupt(*newest);

  auto loaded = LoadNewestValid(dir_);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->file.zxid, good_zxid);
  EXPECT_EQ(loaded->state->Digest(), good_digest);
  ASSERT_EQ(loaded->set_aside.size(), 1u);
  EXPECT_EQ(loaded->set_aside[0], *newest + ".broken");
  EXPECT_TRUE(FileExists(SnapshotFileName(h.zxid()) + ".broken"));
  EXPECT_FALSE(FileExists(SnapshotFileName(h.zxid())));
  auto files = ListSnapshots(dir_);
  ASSERT_EQ(files->size(), 1u);
}

TEST_F(SnapshotDirTest, LoadNewestValidOnEmptyOrAllBrokenIsNotFound) {
  EXPECT_EQ(LoadNewestValid(dir_).status().code(), absl::StatusCode::kNotFound);
  testing::Harness h;
  auto path = WriteSnapshotFile(dir_, h.sm());
  ASSERT_TRUE(path.ok());
  ASSERT_EQ(::truncate(path->c_str(), 30), 0);  // torn
  EXPECT_EQ(LoadNewestValid(dir_).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(FileExists(SnapshotFileName(h.zxid()) + ".broken"));
}

TEST_F(SnapshotDirTest, NameThatDisagreesWithContentIsBroken) {
  testing::Harness h;
  auto path = WriteSnapshotFile(dir_, h.sm());
  ASSERT_TRUE(path.ok());
  ASSERT_EQ(::rename(path->c_str(), (dir_ + "/snapshot.ffff").c_str()), 0);
  EXPECT_EQ(LoadNewestValid(dir_).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(FileExists("snapshot.ffff.broken"));
}

TEST_F(SnapshotDirTest, PurgeKeepsTheNewest) {
  testing::Harness h;
  for (int i = 0; i < 5; ++i) {
    h.Apply(testing::CreateOp("/n" + std::to_string(i)));
    ASSERT_TRUE(WriteSnapshotFile(dir_, h.sm()).ok());
  }
  EXPECT_EQ(PurgeSnapshots(dir_, 0).status().code(), absl::StatusCode::kInvalidArgument);
  auto deleted = PurgeSnapshots(dir_, 3);
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(deleted->size(), 2u);
  auto files = ListSnapshots(dir_);
  ASSERT_EQ(files->size(), 3u);
  EXPECT_EQ((*files)[0].zxid, h.zxid());
  EXPECT_EQ((*files)[2].zxid, h.zxid() - 2);
}

TEST_F(SnapshotDirTest, RemoveTempSnapshots) {
  std::ofstream(dir_ + "/snapshot.5.tmp") << "partial";
  std::ofstream(dir_ + "/other.tmp") << "not ours";
  ASSERT_TRUE(RemoveTempSnapshots(dir_).ok());
  EXPECT_FALSE(FileExists("snapshot.5.tmp"));
  EXPECT_TRUE(FileExists("other.tmp"));
}

TEST_F(SnapshotDirTest, MissingDirectoryIsAnError) {
  EXPECT_FALSE(ListSnapshots(dir_ + "/nope").ok());
  testing::Harness h;
  EXPECT_FALSE(WriteSnapshotFile(dir_ + "/nope", h.sm()).ok());
}

}  // namespace
}  // namespace ensemble::storage

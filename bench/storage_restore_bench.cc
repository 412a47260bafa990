// storage_restore_bench: what a storage peer pays for its tree of N znodes.
//
//   storage_restore_bench [--znodes 1000000] [--data-bytes 100] [--log-txns 100000]
//                         [--dir /tmp/...]
//
// Builds a tree of N znodes (each `data-bytes` long, 1,000 per parent) by
// applying create transactions, then measures: apply rate, snapshot write
// (Clone + file with fsync), snapshot read, log append with group commit
// (`log-txns` setData transactions in batches of 256, one fsync each), and a
// full restore (newest snapshot + replay of the log after it) — the work
// ensemble-storage does at start. Prints one line per figure. Not a test:
// nothing is asserted.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "common/base/zxid.h"
#include "services/storage/core/state_machine.h"
#include "services/storage/log/leveldb_txn_log.h"
#include "services/storage/snapshot/snapshot_manager.h"

namespace {

using Clock = std::chrono::steady_clock;
using ensemble::Zxid;
namespace storage = ensemble::storage;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

ensemble::v1::Txn MakeCreate(int64_t zxid, const std::string& path, const std::string& data) {
  ensemble::v1::Txn txn;
  auto* h = txn.mutable_header();
  h->set_zxid(zxid);
  h->set_time_ms(1700000000000 + zxid);
  h->set_type(1);
  auto* c = txn.mutable_op()->mutable_create();
  c->set_path(path);
  c->set_data(data);
  auto* acl = c->add_acl();
  acl->set_perms(31);
  acl->mutable_id()->set_scheme("world");
  acl->mutable_id()->set_id("anyone");
  return txn;
}

ensemble::v1::Txn MakeSet(int64_t zxid, const std::string& path, const std::string& data) {
  ensemble::v1::Txn txn;
  auto* h = txn.mutable_header();
  h->set_zxid(zxid);
  h->set_time_ms(1700000000000 + zxid);
  h->set_type(5);
  auto* s = txn.mutable_op()->mutable_set_data();
  s->set_path(path);
  s->set_data(data);
  s->set_version(-1);
  return txn;
}

long RssKb() {
  FILE* f = std::fopen("/proc/self/status", "r");
  if (!f) return 0;
  char line[256];
  long kb = 0;
  while (std::fgets(line, sizeof line, f)) {
    if (std::sscanf(line, "VmRSS: %ld kB", &kb) == 1) break;
  }
  std::fclose(f);
  return kb;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t znodes = 1000000, data_bytes = 100, log_txns = 100000;
  std::string dir;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--znodes")
      znodes = std::atoll(argv[i + 1]);
    else if (flag == "--data-bytes")
      data_bytes = std::atoll(argv[i + 1]);
    else if (flag == "--log-txns")
      log_txns = std::atoll(argv[i + 1]);
    else if (flag == "--dir")
      dir = argv[i + 1];
    else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  if (dir.empty()) dir = std::filesystem::temp_directory_path() / "storage_restore_bench";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir + "/snapshots");
  const std::string data(static_cast<size_t>(data_bytes), 'x');
  const int64_t epoch = 1;
  int64_t counter = 0;

  // Build the tree.
  storage::StateMachine sm;
  long rss_before = RssKb();
  auto t = Clock::now();
  const int64_t parents = std::max<int64_t>(1, znodes / 1000);
  for (int64_t p = 0; p < parents; ++p) {
    sm.Apply(MakeCreate(Zxid::Make(epoch, ++counter), "/p" + std::to_string(p), ""));
  }
  for (int64_t i = 0; i < znodes - parents; ++i) {
    std::string path = "/p" + std::to_string(i % parents) + "/n" + std::to_string(i);
    auto out = sm.Apply(MakeCreate(Zxid::Make(epoch, ++counter), path, data));
    if (out.result.err() != 0) {
      std::fprintf(stderr, "create %s failed: %d\n", path.c_str(), out.result.err());
      return 1;
    }
  }
  double apply_s = Seconds(t);
  std::printf("tree: %lld znodes of %lld bytes, apply %.2f s (%.0f txns/s), rss +%ld MiB\n",
              static_cast<long long>(sm.ZnodeCount()), static_cast<long long>(data_bytes), apply_s,
              static_cast<double>(znodes) / apply_s, (RssKb() - rss_before) / 1024);

  // Snapshot: the clone the driver takes, then the file.
  t = Clock::now();
  auto copy = sm.Clone();
  double clone_s = Seconds(t);
  t = Clock::now();
  auto path = storage::WriteSnapshotFile(dir + "/snapshots", *copy);
  if (!path.ok()) {
    std::fprintf(stderr, "snapshot: %s\n", path.status().ToString().c_str());
    return 1;
  }
  double write_s = Seconds(t);
  std::printf("snapshot: clone %.2f s, write+fsync %.2f s, %.1f MiB\n", clone_s, write_s,
              static_cast<double>(std::filesystem::file_size(*path)) / (1 << 20));
  copy.reset();

  // The log after the snapshot: setData transactions, group-committed.
  auto log = storage::LevelDbTxnLog::Open(dir + "/log");
  if (!log.ok()) {
    std::fprintf(stderr, "log: %s\n", log.status().ToString().c_str());
    return 1;
  }
  t = Clock::now();
  int64_t syncs = 0;
  for (int64_t i = 0; i < log_txns;) {
    std::vector<ensemble::v1::Txn> batch;
    for (int j = 0; j < 256 && i < log_txns; ++j, ++i) {
      batch.push_back(
          MakeSet(Zxid::Make(epoch, ++counter),
                  "/p" + std::to_string(i % parents) + "/n" + std::to_string(i % znodes), data));
    }
    absl::Status s = (*log)->Append(std::move(batch));
    ++syncs;
    if (!s.ok()) {
      std::fprintf(stderr, "append: %s\n", s.ToString().c_str());
      return 1;
    }
  }
  double append_s = Seconds(t);
  std::printf("log: %lld txns in %lld synced batches, %.2f s (%.0f txns/s, %.2f ms per fsync)\n",
              static_cast<long long>(log_txns), static_cast<long long>(syncs), append_s,
              static_cast<double>(log_txns) / append_s, 1000.0 * append_s / syncs);

  // Restore as ensemble-storage does at start.
  t = Clock::now();
  auto loaded = storage::LoadNewestValid(dir + "/snapshots");
  if (!loaded.ok()) {
    std::fprintf(stderr, "load: %s\n", loaded.status().ToString().c_str());
    return 1;
  }
  double load_s = Seconds(t);
  auto& restored = *loaded->state;
  int64_t replayed = 0;
  auto t2 = Clock::now();
  absl::Status s = (*log)->Read(restored.last_applied_zxid(), storage::TxnLog::kToEnd,
                                [&](ensemble::v1::Txn txn) {
                                  restored.Apply(txn);
                                  ++replayed;
                                  return absl::OkStatus();
                                });
  if (!s.ok()) {
    std::fprintf(stderr, "replay: %s\n", s.ToString().c_str());
    return 1;
  }
  double replay_s = Seconds(t2);
  std::printf("restore: snapshot load %.2f s + replay %lld txns %.2f s = %.2f s (%lld znodes)\n",
              load_s, static_cast<long long>(replayed), replay_s, Seconds(t),
              static_cast<long long>(restored.ZnodeCount()));
  std::filesystem::remove_all(dir);
  return 0;
}

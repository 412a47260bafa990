// Transaction log throughput on a real disk: group commit with 1, 4, 16 and
// 64 concurrent producers (each waits for its txn to be durable before the
// next, like a synchronous client), against one fsync per txn without group
// commit. Prints txns/s, fsync (TxnLog::Append) latency p50/p99, commit
// latency p50/p99 and the mean group size. Each configuration stops after
// --txns transactions or --seconds seconds, whichever comes first.
//
//   txn_log_bench [--dir=PATH] [--txns=N] [--seconds=S] [--payload=BYTES]
//
// --dir is the folder to write in (default: a new folder under $TMPDIR or
// /tmp, removed afterwards). Use the disk you care about: tmpfs has no fsync.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "services/storage/log/group_committer.h"
#include "services/storage/log/leveldb_txn_log.h"

namespace ensemble::storage {
namespace {

using Clock = std::chrono::steady_clock;

struct Flags {
  std::string dir;
  int64_t txns = 20000;
  double seconds = 5.0;
  size_t payload = 200;
};

struct Result {
  int64_t txns = 0;
  double seconds = 0;
  std::vector<double> sync_us;    // per TxnLog::Append
  std::vector<double> commit_us;  // per txn: submit to durable callback
  int64_t writes = 0;
  double TxnsPerSecond() const { return seconds > 0 ? txns / seconds : 0; }
};

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = std::min(v.size() - 1, static_cast<size_t>(p * (v.size() - 1) + 0.5));
  return v[i];
}

ensemble::v1::Txn MakeTxn(int64_t zxid, size_t payload) {
  ensemble::v1::Txn txn;
  txn.mutable_header()->set_zxid(zxid);
  txn.mutable_header()->set_session_id(0x100000001);
  txn.mutable_header()->set_cxid(static_cast<int32_t>(zxid));
  txn.mutable_header()->set_time_ms(1700000000000);
  txn.mutable_header()->set_type(5);
  auto* op = txn.mutable_op()->mutable_set_data();
  op->set_path("/bench/node-" + std::to_string(zxid % 1000));
  op->set_data(std::string(payload, 'x'));
  op->set_version(-1);
  return txn;
}

std::unique_ptr<LevelDbTxnLog> OpenFresh(const std::string& dir) {
  std::filesystem::remove_all(dir);
  auto log = LevelDbTxnLog::Open(dir);
  if (!log.ok()) {
    std::fprintf(stderr, "open %s: %s\n", dir.c_str(), log.status().ToString().c_str());
    std::exit(1);
  }
  return std::move(*log);
}

Result RunGroupCommit(const Flags& flags, const std::string& dir, int producers) {
  std::unique_ptr<LevelDbTxnLog> log = OpenFresh(dir);
  Result result;
  std::mutex stats_mu;  // guards result.sync_us, result.writes, result.commit_us
  GroupCommitterOptions options;
  options.on_group_commit = [&](const GroupCommitStats& s) {
    std::lock_guard<std::mutex> lock(stats_mu);
    result.sync_us.push_back(std::chrono::duration<double, std::micro>(s.sync_duration).count());
    ++result.writes;
  };
  GroupCommitter committer(log.get(), options);

  std::mutex order_mu;  // admission in zxid order
  int64_t next_zxid = 1;
  std::atomic<bool> failed{false};
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration<double>(flags.seconds);
  std::vector<std::thread> threads;
  for (int t = 0; t < producers; ++t) {
    threads.emplace_back([&] {
      for (;;) {
        std::promise<absl::Status> durable;
        auto submitted_at = Clock::now();
        {
          std::lock_guard<std::mutex> lock(order_mu);
          if (next_zxid > flags.txns || submitted_at >= deadline) return;
          int64_t zxid = next_zxid++;
          absl::Status s = committer.Submit({MakeTxn(zxid, flags.payload)},
                                            [&](absl::Status s) { durable.set_value(s); });
          if (!s.ok()) {
            failed = true;
            return;
          }
        }
        absl::Status s = durable.get_future().get();
        if (!s.ok()) {
          std::fprintf(stderr, "append: %s\n", s.ToString().c_str());
          failed = true;
          return;
        }
        double us = std::chrono::duration<double, std::micro>(Clock::now() - submitted_at).count();
        std::lock_guard<std::mutex> lock(stats_mu);
        result.commit_us.push_back(us);
      }
    });
  }
  for (auto& t : threads) t.join();
  committer.Stop();
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  result.txns = log->LastZxid();
  if (failed) std::exit(1);
  return result;
}

Result RunOneSyncPerTxn(const Flags& flags, const std::string& dir) {
  std::unique_ptr<LevelDbTxnLog> log = OpenFresh(dir);
  Result result;
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration<double>(flags.seconds);
  for (int64_t zxid = 1; zxid <= flags.txns && Clock::now() < deadline; ++zxid) {
    auto t0 = Clock::now();
    absl::Status s = log->Append({MakeTxn(zxid, flags.payload)});
    double us = std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
    if (!s.ok()) {
      std::fprintf(stderr, "append: %s\n", s.ToString().c_str());
      std::exit(1);
    }
    result.sync_us.push_back(us);
    result.commit_us.push_back(us);
    ++result.writes;
  }
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  result.txns = log->LastZxid();
  return result;
}

void PrintRow(const char* name, const Result& r, double baseline_tps) {
  std::printf("%-22s %8lld %10.0f %9.1f %9.1f %9.1f %9.1f %7.1f %7.2fx\n", name,
              static_cast<long long>(r.txns), r.TxnsPerSecond(), Percentile(r.sync_us, 0.5),
              Percentile(r.sync_us, 0.99), Percentile(r.commit_us, 0.5),
              Percentile(r.commit_us, 0.99),
              r.writes > 0 ? static_cast<double>(r.txns) / r.writes : 0.0,
              baseline_tps > 0 ? r.TxnsPerSecond() / baseline_tps : 0.0);
  std::fflush(stdout);
}

bool ParseFlag(std::string_view arg, std::string_view name, std::string* value) {
  std::string prefix = "--" + std::string(name) + "=";
  if (arg.substr(0, prefix.size()) != prefix) return false;
  *value = std::string(arg.substr(prefix.size()));
  return true;
}

int Main(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    std::string v;
    if (ParseFlag(argv[i], "dir", &v)) {
      flags.dir = v;
    } else if (ParseFlag(argv[i], "txns", &v)) {
      flags.txns = std::max<int64_t>(1, std::atoll(v.c_str()));
    } else if (ParseFlag(argv[i], "seconds", &v)) {
      flags.seconds = std::max(0.1, std::atof(v.c_str()));
    } else if (ParseFlag(argv[i], "payload", &v)) {
      flags.payload = static_cast<size_t>(std::max(0LL, std::atoll(v.c_str())));
    } else {
      std::fprintf(stderr, "usage: %s [--dir=PATH] [--txns=N] [--seconds=S] [--payload=BYTES]\n",
                   argv[0]);
      return 2;
    }
  }
  bool own_dir = flags.dir.empty();
  if (own_dir) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "txn_log_bench.XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) {
      std::perror("mkdtemp");
      return 1;
    }
    flags.dir = tmpl;
  }
  std::printf("txn log bench: dir=%s max %lld txns or %.1f s per run, %zu-byte payload\n",
              flags.dir.c_str(), static_cast<long long>(flags.txns), flags.seconds, flags.payload);
  std::printf("%-22s %8s %10s %9s %9s %9s %9s %7s %8s\n", "run", "txns", "txns/s", "sync_p50",
              "sync_p99", "commit50", "commit99", "txn/wr", "vs_1/wr");
  std::printf("%-22s %8s %10s %9s %9s %9s %9s %7s %8s\n", "", "", "", "(us)", "(us)", "(us)",
              "(us)", "", "");

  Result baseline = RunOneSyncPerTxn(flags, flags.dir + "/no_group");
  PrintRow("one fsync per txn", baseline, baseline.TxnsPerSecond());
  for (int producers : {1, 4, 16, 64}) {
    Result r = RunGroupCommit(flags, flags.dir + "/group_" + std::to_string(producers), producers);
    std::string name = "group commit, " + std::to_string(producers) + " prod";
    PrintRow(name.c_str(), r, baseline.TxnsPerSecond());
  }
  if (own_dir) std::filesystem::remove_all(flags.dir);
  return 0;
}

}  // namespace
}  // namespace ensemble::storage

int main(int argc, char** argv) { return ensemble::storage::Main(argc, argv); }

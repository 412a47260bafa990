// Crash test on a real disk: a child process appends to a LevelDbTxnLog and
// reports every acknowledged append through a pipe; the parent SIGKILLs it at
// a random moment, reopens the log and checks that every acknowledged entry is
// there and that every entry present decodes. 30 rounds on one log, half of
// them through a GroupCommitter with several producer threads.
//
// The child is this binary re-executed (fork + execve) running the disabled
// test TxnLogCrashChild.DISABLED_AppendUntilKilled, so it starts with fresh
// LevelDB state instead of a forked copy of the parent's threads and locks.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/base/rng.h"
#include "gtest/gtest.h"
#include "services/storage/log/group_committer.h"
#include "services/storage/log/leveldb_txn_log.h"
#include "services/storage/log/testing/test_txns.h"

extern char** environ;

namespace ensemble::storage {
namespace {

using testing::IsMadeTxn;
using testing::MakeTxns;

constexpr char kChildEnv[] = "ENSEMBLE_TXN_LOG_CRASH_CHILD";  // "<dir>:<fd>:<round>"
constexpr int kRounds = 30;
constexpr int kMaxAppendsPerRound = 3000;
// No new round starts after this; normally all 30 take a few seconds.
constexpr std::chrono::seconds kTimeBudget(25);

// One report from the child; 16 bytes, so each write(2) to the pipe is atomic.
struct Report {
  enum Tag : int64_t { kAcked = 1, kEpoch = 2, kError = 3 };
  int64_t tag;
  int64_t value;  // kAcked: last zxid of the acknowledged batch; kEpoch: epoch
};

void SendReport(int fd, Report::Tag tag, int64_t value) {
  Report r{tag, value};
  if (write(fd, &r, sizeof r) != static_cast<ssize_t>(sizeof r)) _exit(3);
}

// Batch sizes and payloads that vary, with now and then a batch bigger than a
// LevelDB WAL block (32 KiB) so that a kill can fall between its fragments.
std::vector<ensemble::v1::Txn> RandomBatch(Rng& rng, int64_t first) {
  int64_t count = 1 + static_cast<int64_t>(rng.Uniform(8));
  size_t data_bytes = rng.OneIn(10) ? 20000 + rng.Uniform(20000) : rng.Uniform(2000);
  return MakeTxns(first, count, data_bytes);
}

[[noreturn]] void RunChild(const std::string& dir, int fd, int round) {
  auto opened = LevelDbTxnLog::Open(dir);
  if (!opened.ok()) {
    std::fprintf(stderr, "child: %s\n", opened.status().ToString().c_str());
    SendReport(fd, Report::kError, 0);
    _exit(2);
  }
  std::unique_ptr<LevelDbTxnLog> log = std::move(*opened);
  if (!log->SetAcceptedEpoch(round + 1).ok()) {
    SendReport(fd, Report::kError, 0);
    _exit(2);
  }
  SendReport(fd, Report::kEpoch, round + 1);
  Rng rng(0xc0ffee + static_cast<uint64_t>(round));
  int64_t next = log->LastZxid() + 1;

  if (round % 2 == 0) {
    // Direct appends: one fsync each.
    for (int i = 0; i < kMaxAppendsPerRound; ++i) {
      std::vector<ensemble::v1::Txn> batch = RandomBatch(rng, next);
      int64_t last = batch.back().header().zxid();
      absl::Status s = log->Append(std::move(batch));
      if (!s.ok()) {
        std::fprintf(stderr, "child: %s\n", s.ToString().c_str());
        SendReport(fd, Report::kError, 0);
        _exit(2);
      }
      SendReport(fd, Report::kAcked, last);
      next = last + 1;
    }
  } else {
    // Four producers through the group committer; acks from its callbacks.
    GroupCommitter committer(log.get());
    std::mutex mu;  // guards rng, next, submitted: admission in zxid order
    int submitted = 0;
    std::vector<std::thread> producers;
    for (int t = 0; t < 4; ++t) {
      producers.emplace_back([&] {
        for (;;) {
          std::lock_guard<std::mutex> lock(mu);
          if (submitted++ >= kMaxAppendsPerRound) return;
          std::vector<ensemble::v1::Txn> batch = RandomBatch(rng, next);
          int64_t last = batch.back().header().zxid();
          next = last + 1;
          absl::Status s = committer.Submit(std::move(batch), [fd, last](absl::Status s) {
            if (!s.ok()) {
              std::fprintf(stderr, "child: %s\n", s.ToString().c_str());
              SendReport(fd, Report::kError, 0);
              _exit(2);
            }
            SendReport(fd, Report::kAcked, last);
          });
          if (!s.ok()) _exit(2);
        }
      });
    }
    for (auto& p : producers) p.join();
  }
  _exit(0);  // finished before the parent killed it: fine, but unusual
}

TEST(TxnLogCrashChild, DISABLED_AppendUntilKilled) {
  const char* spec = std::getenv(kChildEnv);
  ASSERT_NE(spec, nullptr) << "run only by TxnLogCrash as its child process";
  std::vector<std::string> parts = absl::StrSplit(spec, ':');
  int fd = 0, round = 0;
  ASSERT_EQ(parts.size(), 3u);
  ASSERT_TRUE(absl::SimpleAtoi(parts[1], &fd));
  ASSERT_TRUE(absl::SimpleAtoi(parts[2], &round));
  RunChild(parts[0], fd, round);
}

// What the parent learned from one child before and after killing it.
struct RoundReports {
  int64_t max_acked = 0;
  int64_t acks = 0;
  int64_t epoch = 0;
  bool error = false;
};

// Reads whole reports from `fd` into *out; false at EOF.
bool DrainReports(int fd, RoundReports* out) {
  Report r;
  ssize_t n = read(fd, &r, sizeof r);
  if (n <= 0) return false;
  EXPECT_EQ(n, static_cast<ssize_t>(sizeof r));
  switch (r.tag) {
    case Report::kAcked:
      EXPECT_GT(r.value, out->max_acked) << "acks must increase";
      out->max_acked = r.value;
      ++out->acks;
      break;
    case Report::kEpoch:
      out->epoch = r.value;
      break;
    default:
      out->error = true;
  }
  return true;
}

class TxnLogCrash : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "txn_log_crash.XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Starts the child for `round`, kills it once it has acknowledged
  // `kill_after_acks` appends (plus up to 2 ms), returns what it reported.
  RoundReports RunRound(int round, int64_t kill_after_acks, std::chrono::microseconds extra) {
    RoundReports reports;
    int fds[2];
    EXPECT_EQ(pipe(fds), 0);
    // Everything the child needs is built before fork: after it only
    // async-signal-safe calls.
    std::string log_dir = (std::filesystem::path(dir_) / "log").string();
    std::vector<std::string> env_strings;
    for (char** e = environ; *e != nullptr; ++e) {
      if (std::strncmp(*e, kChildEnv, std::strlen(kChildEnv)) != 0) env_strings.push_back(*e);
    }
    env_strings.push_back(absl::StrCat(kChildEnv, "=", log_dir, ":", fds[1], ":", round));
    std::vector<char*> envp;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::string arg0 = "txn_log_crash_child";
    std::string filter = "--gtest_filter=TxnLogCrashChild.DISABLED_AppendUntilKilled";
    std::string also = "--gtest_also_run_disabled_tests";
    char* argv[] = {arg0.data(), filter.data(), also.data(), nullptr};

    pid_t pid = fork();
    if (pid == 0) {
      close(fds[0]);
      int devnull = open("/dev/null", O_WRONLY);
      if (devnull >= 0) dup2(devnull, STDOUT_FILENO);
      execve("/proc/self/exe", argv, envp.data());
      _exit(127);
    }
    close(fds[1]);
    EXPECT_GT(pid, 0);

    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    bool eof = false;
    while (!eof && reports.acks < kill_after_acks && !reports.error &&
           std::chrono::steady_clock::now() < deadline) {
      pollfd p{fds[0], POLLIN, 0};
      if (poll(&p, 1, 100) > 0) eof = !DrainReports(fds[0], &reports);
    }
    if (extra.count() > 0) std::this_thread::sleep_for(extra);
    kill(pid, SIGKILL);
    int wstatus = 0;
    waitpid(pid, &wstatus, 0);
    // Reports written before the kill are still in the pipe.
    while (DrainReports(fds[0], &reports)) {
    }
    close(fds[0]);
    EXPECT_FALSE(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) != 0)
        << "child failed with exit code " << WEXITSTATUS(wstatus);
    return reports;
  }

  std::string dir_;
};

TEST_F(TxnLogCrash, AcknowledgedAppendsSurviveSigkillAtRandomMoments) {
  const auto start = std::chrono::steady_clock::now();
  Rng rng(20240601);
  const std::string log_dir = (std::filesystem::path(dir_) / "log").string();
  int64_t total_acks = 0;
  int rounds_with_unacked_tail = 0;  // killed between a write and its ack
  int rounds_done = 0;
  for (int round = 0; round < kRounds; ++round) {
    // Some rounds die within 30 ms of starting: during exec, or during
    // LevelDB's recovery of the last crash. The others after 1-60 acks.
    bool early = rng.OneIn(6);
    int64_t kill_after = early ? 0 : 1 + static_cast<int64_t>(rng.Uniform(60));
    auto extra = std::chrono::microseconds(rng.Uniform(early ? 30000 : 2000));
    RoundReports reports = RunRound(round, kill_after, extra);
    ASSERT_FALSE(reports.error) << "round " << round << ": the child failed (see stderr)";
    total_acks += reports.acks;

    auto opened = LevelDbTxnLog::Open(log_dir);
    ASSERT_TRUE(opened.ok()) << "round " << round << ": " << opened.status();
    std::unique_ptr<LevelDbTxnLog> log = std::move(*opened);
    EXPECT_GE(log->LastZxid(), reports.max_acked) << "round " << round << " lost an ack";
    EXPECT_GE(log->AcceptedEpoch(), reports.epoch) << "round " << round;
    EXPECT_LE(log->AcceptedEpoch(), round + 1) << "round " << round;
    int64_t expect = 1;
    absl::Status s = log->Read(0, TxnLog::kToEnd, [&](ensemble::v1::Txn txn) {
      if (txn.header().zxid() != expect) {
        return absl::InternalError(
            absl::StrCat("gap: found ", txn.header().zxid(), " want ", expect));
      }
      if (!IsMadeTxn(txn)) return absl::InternalError(absl::StrCat("bad txn ", expect));
      ++expect;
      return absl::OkStatus();
    });
    ASSERT_TRUE(s.ok()) << "round " << round << ": " << s;
    EXPECT_EQ(expect - 1, log->LastZxid()) << "round " << round;
    if (log->LastZxid() > reports.max_acked) ++rounds_with_unacked_tail;
    ++rounds_done;
    if (std::chrono::steady_clock::now() - start > kTimeBudget) break;  // a loaded machine
  }
  EXPECT_GE(rounds_done, 5) << "too slow to crash the log often enough";
  // The test must actually have acknowledged appends to check.
  EXPECT_GT(total_acks, rounds_done);
  std::printf("crash rounds=%d acks=%lld rounds_with_unacked_tail=%d\n", rounds_done,
              static_cast<long long>(total_acks), rounds_with_unacked_tail);
}

TEST_F(TxnLogCrash, SecondOpenOfTheSameFolderFails) {
  // LevelDB's LOCK file keeps a second process (or a second open) off a log.
  auto first = LevelDbTxnLog::Open(dir_ + "/log");
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = LevelDbTxnLog::Open(dir_ + "/log");
  EXPECT_FALSE(second.ok());
}

}  // namespace
}  // namespace ensemble::storage

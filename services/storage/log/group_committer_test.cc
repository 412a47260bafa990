#include "services/storage/log/group_committer.h"

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "leveldb/helpers/memenv.h"
#include "services/storage/log/leveldb_txn_log.h"
#include "services/storage/log/testing/fault_injection_env.h"
#include "services/storage/log/testing/test_txns.h"

namespace ensemble::storage {
namespace {

using testing::IsMadeTxn;
using testing::MakeTxns;

// Records what the committer reports, from its writer thread.
struct Recorder {
  std::mutex mu;
  std::vector<GroupCommitStats> groups;
  std::vector<std::pair<std::string, absl::Status>> callbacks;  // (name, status), in run order

  std::function<void(const GroupCommitStats&)> Observer() {
    return [this](const GroupCommitStats& s) {
      std::lock_guard<std::mutex> lock(mu);
      groups.push_back(s);
    };
  }
  GroupCommitter::Callback Done(std::string name) {
    return [this, name](absl::Status s) {
      std::lock_guard<std::mutex> lock(mu);
      callbacks.emplace_back(name, s);
    };
  }
  absl::Status StatusOf(const std::string& name) {
    std::lock_guard<std::mutex> lock(mu);
    for (auto& [n, s] : callbacks) {
      if (n == name) return s;
    }
    return absl::UnknownError("callback " + name + " never ran");
  }
  std::vector<std::string> Order() {
    std::lock_guard<std::mutex> lock(mu);
    std::vector<std::string> out;
    for (auto& [n, s] : callbacks) out.push_back(n);
    return out;
  }
};

class GroupCommitterTest : public ::testing::Test {
 protected:
  GroupCommitterTest()
      : mem_env_(leveldb::NewMemEnv(leveldb::Env::Default())), env_(mem_env_.get()) {
    LevelDbTxnLogOptions options;
    options.env = &env_;
    auto log = LevelDbTxnLog::Open("/txnlog", options);
    EXPECT_TRUE(log.ok()) << log.status();
    log_ = std::move(*log);
  }

  std::unique_ptr<GroupCommitter> MakeCommitter(size_t max_queued_txns = 1 << 20) {
    GroupCommitterOptions options;
    options.max_queued_txns = max_queued_txns;
    options.on_group_commit = recorder_.Observer();
    return std::make_unique<GroupCommitter>(log_.get(), options);
  }

  // Waits until `n` syncs are blocked by HoldSyncs (the writer is mid-write).
  void WaitForHeldSyncs(int n) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (env_.held_syncs() < n) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "writer never reached its sync";
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }

  std::vector<int64_t> LoggedZxids() {
    std::vector<int64_t> zxids;
    absl::Status s = log_->Read(0, TxnLog::kToEnd, [&](ensemble::v1::Txn txn) {
      EXPECT_TRUE(IsMadeTxn(txn));
      zxids.push_back(txn.header().zxid());
      return absl::OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s;
    return zxids;
  }

  std::unique_ptr<leveldb::Env> mem_env_;
  testing::FaultInjectionEnv env_;
  std::unique_ptr<LevelDbTxnLog> log_;
  Recorder recorder_;
};

TEST_F(GroupCommitterTest, ManyProducersShareFsyncsAndKeepZxidOrder) {
  constexpr int kThreads = 16;
  constexpr int kBatchesPerThread = 40;
  env_.SetSyncDelay(std::chrono::microseconds(2000));  // a slow disk: batches pile up
  const int64_t wal_syncs_before = env_.wal_syncs();
  auto committer = MakeCommitter();

  // Producers take zxids and submit under one lock, as the storage driver's
  // single stream would: admission order is zxid order. Each then waits for
  // its batch to be durable before the next, like a synchronous client.
  std::mutex order_mu;
  int64_t next_zxid = 1;
  std::atomic<int> ok_callbacks{0};
  std::atomic<int> bad_callbacks{0};
  std::atomic<int64_t> last_done_zxid{0};
  std::atomic<int> out_of_order{0};
  std::vector<std::thread> producers;
  for (int t = 0; t < kThreads; ++t) {
    producers.emplace_back([&, t] {
      for (int i = 0; i < kBatchesPerThread; ++i) {
        std::promise<void> durable;
        {
          std::lock_guard<std::mutex> lock(order_mu);
          int64_t count = 1 + (t + i) % 3;
          int64_t first = next_zxid;
          next_zxid += count;
          absl::Status s = committer->Submit(MakeTxns(first, count), [&, first](absl::Status s) {
            (s.ok() ? ok_callbacks : bad_callbacks).fetch_add(1);
            // Callbacks run in admission order, so their zxids increase.
            if (first <= last_done_zxid.exchange(first)) out_of_order.fetch_add(1);
            durable.set_value();
          });
          ASSERT_TRUE(s.ok()) << s;
        }
        durable.get_future().wait();
      }
    });
  }
  for (auto& p : producers) p.join();
  committer->Stop();

  const int kBatches = kThreads * kBatchesPerThread;
  EXPECT_EQ(ok_callbacks.load(), kBatches);
  EXPECT_EQ(bad_callbacks.load(), 0);
  EXPECT_EQ(out_of_order.load(), 0);
  size_t batches = 0, txns = 0;
  for (const auto& g : recorder_.groups) {
    EXPECT_TRUE(g.ok);
    batches += g.batches;
    txns += g.txns;
  }
  EXPECT_EQ(batches, static_cast<size_t>(kBatches));
  EXPECT_EQ(txns, static_cast<size_t>(next_zxid - 1));
  // The point of group commit: fewer fsyncs than batches...
  EXPECT_LT(recorder_.groups.size(), static_cast<size_t>(kBatches));
  // ...and exactly one WAL fsync per group write.
  EXPECT_EQ(env_.wal_syncs() - wal_syncs_before, static_cast<int64_t>(recorder_.groups.size()));
  std::vector<int64_t> logged = LoggedZxids();
  ASSERT_EQ(logged.size(), static_cast<size_t>(next_zxid - 1));
  for (size_t i = 0; i < logged.size(); ++i) ASSERT_EQ(logged[i], static_cast<int64_t>(i + 1));
}

TEST_F(GroupCommitterTest, BatchesQueuedDuringASyncGoIntoOneWrite) {
  auto committer = MakeCommitter();
  env_.HoldSyncs();
  ASSERT_TRUE(committer->Submit(MakeTxns(1, 1), recorder_.Done("a")).ok());
  WaitForHeldSyncs(1);
  ASSERT_TRUE(committer->Submit(MakeTxns(2, 2), recorder_.Done("b")).ok());
  ASSERT_TRUE(committer->Submit(MakeTxns(4, 1), recorder_.Done("c")).ok());
  ASSERT_TRUE(committer->Submit(MakeTxns(5, 3), recorder_.Done("d")).ok());
  EXPECT_EQ(committer->queued_txns(), 6u);
  env_.ReleaseSyncs();
  committer->Stop();

  ASSERT_EQ(recorder_.groups.size(), 2u);
  EXPECT_EQ(recorder_.groups[0].batches, 1u);
  EXPECT_EQ(recorder_.groups[1].batches, 3u);
  EXPECT_EQ(recorder_.groups[1].txns, 6u);
  EXPECT_EQ(recorder_.Order(), (std::vector<std::string>{"a", "b", "c", "d"}));
  for (const char* name : {"a", "b", "c", "d"}) EXPECT_TRUE(recorder_.StatusOf(name).ok());
  EXPECT_EQ(log_->LastZxid(), 7);
}

TEST_F(GroupCommitterTest, TrySubmitWhenFullIsResourceExhausted) {
  auto committer = MakeCommitter(/*max_queued_txns=*/4);
  env_.HoldSyncs();
  ASSERT_TRUE(committer->TrySubmit(MakeTxns(1, 1), recorder_.Done("writing")).ok());
  WaitForHeldSyncs(1);  // that batch no longer counts as waiting
  ASSERT_TRUE(committer->TrySubmit(MakeTxns(2, 4), recorder_.Done("queued")).ok());
  absl::Status s = committer->TrySubmit(MakeTxns(6, 1), recorder_.Done("refused"));
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
  env_.ReleaseSyncs();
  committer->Stop();
  EXPECT_TRUE(recorder_.StatusOf("queued").ok());
  EXPECT_EQ(recorder_.StatusOf("refused").code(), absl::StatusCode::kUnknown);  // never ran
  EXPECT_EQ(log_->LastZxid(), 5);
}

TEST_F(GroupCommitterTest, SubmitBlocksWhileFullAndResumesWhenTheWriterDrains) {
  auto committer = MakeCommitter(/*max_queued_txns=*/2);
  env_.HoldSyncs();
  ASSERT_TRUE(committer->Submit(MakeTxns(1, 1), recorder_.Done("a")).ok());
  WaitForHeldSyncs(1);
  ASSERT_TRUE(committer->Submit(MakeTxns(2, 2), recorder_.Done("b")).ok());
  std::atomic<bool> returned{false};
  std::thread blocked([&] {
    EXPECT_TRUE(committer->Submit(MakeTxns(4, 1), recorder_.Done("c")).ok());
    returned.store(true);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(returned.load()) << "Submit returned although 2 txns already waited";
  env_.ReleaseSyncs();
  blocked.join();
  EXPECT_TRUE(returned.load());
  committer->Stop();
  EXPECT_TRUE(recorder_.StatusOf("c").ok());
  EXPECT_EQ(log_->LastZxid(), 4);
}

TEST_F(GroupCommitterTest, BatchLargerThanTheBoundIsAdmittedWhenNothingWaits) {
  auto committer = MakeCommitter(/*max_queued_txns=*/2);
  ASSERT_TRUE(committer->TrySubmit(MakeTxns(1, 5), recorder_.Done("big")).ok());
  committer->Stop();
  EXPECT_TRUE(recorder_.StatusOf("big").ok());
  EXPECT_EQ(log_->LastZxid(), 5);
}

TEST_F(GroupCommitterTest, OutOfOrderBatchFailsAloneInItsGroup) {
  auto committer = MakeCommitter();
  env_.HoldSyncs();
  ASSERT_TRUE(committer->Submit(MakeTxns(1, 1), recorder_.Done("a")).ok());
  WaitForHeldSyncs(1);
  ASSERT_TRUE(committer->Submit(MakeTxns(2, 2), recorder_.Done("b")).ok());
  ASSERT_TRUE(committer->Submit(MakeTxns(3, 1), recorder_.Done("stale")).ok());
  ASSERT_TRUE(committer->Submit(MakeTxns(4, 1), recorder_.Done("c")).ok());
  env_.ReleaseSyncs();
  committer->Stop();
  EXPECT_TRUE(recorder_.StatusOf("b").ok());
  EXPECT_EQ(recorder_.StatusOf("stale").code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(recorder_.StatusOf("c").ok());
  EXPECT_EQ(LoggedZxids(), (std::vector<int64_t>{1, 2, 3, 4}));
  EXPECT_EQ(recorder_.Order(), (std::vector<std::string>{"a", "b", "stale", "c"}));
}

TEST_F(GroupCommitterTest, BatchBelowTheLogsLastZxidFailsAlone) {
  ASSERT_TRUE(log_->Append(MakeTxns(1, 3)).ok());
  auto committer = MakeCommitter();
  ASSERT_TRUE(committer->Submit(MakeTxns(2, 1), recorder_.Done("stale")).ok());
  committer->Stop();
  EXPECT_EQ(recorder_.StatusOf("stale").code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(log_->write_error().ok());
}

TEST_F(GroupCommitterTest, EmptyBatchCompletesAfterEarlierBatchesAreDurable) {
  auto committer = MakeCommitter();
  env_.HoldSyncs();
  ASSERT_TRUE(committer->Submit(MakeTxns(1, 1), recorder_.Done("a")).ok());
  WaitForHeldSyncs(1);
  ASSERT_TRUE(committer->Submit({}, recorder_.Done("barrier")).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_TRUE(recorder_.Order().empty());  // nothing is durable yet
  env_.ReleaseSyncs();
  committer->Stop();
  EXPECT_EQ(recorder_.Order(), (std::vector<std::string>{"a", "barrier"}));
  EXPECT_TRUE(recorder_.StatusOf("barrier").ok());
  EXPECT_EQ(recorder_.groups.size(), 1u);  // the barrier cost no write
}

TEST_F(GroupCommitterTest, WriteFailureFailsThatGroupAndEveryLaterBatch) {
  auto committer = MakeCommitter();
  ASSERT_TRUE(committer->Submit(MakeTxns(1, 1), recorder_.Done("ok")).ok());
  ASSERT_TRUE(committer->Submit({}, recorder_.Done("ok-barrier")).ok());
  // Wait for the first write so that the fault hits the next one only.
  while (recorder_.Order().size() < 2) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  env_.SetFailSyncs(true);
  ASSERT_TRUE(committer->Submit(MakeTxns(2, 1), recorder_.Done("failed")).ok());
  while (recorder_.Order().size() < 3) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  env_.SetFailSyncs(false);
  ASSERT_TRUE(committer->Submit(MakeTxns(3, 1), recorder_.Done("after")).ok());
  ASSERT_TRUE(committer->Submit({}, recorder_.Done("barrier")).ok());
  committer->Stop();

  absl::Status failed = recorder_.StatusOf("failed");
  EXPECT_FALSE(failed.ok());
  EXPECT_NE(failed.message().find("injected fault: sync"), std::string::npos) << failed;
  EXPECT_EQ(recorder_.StatusOf("after"), failed);
  EXPECT_EQ(recorder_.StatusOf("barrier"), failed);
  ASSERT_EQ(recorder_.groups.size(), 2u);  // nothing was tried after the failure
  EXPECT_TRUE(recorder_.groups[0].ok);
  EXPECT_FALSE(recorder_.groups[1].ok);
  EXPECT_EQ(log_->LastZxid(), 1);
}

TEST_F(GroupCommitterTest, StopWritesWhatIsQueuedAndRefusesNewBatches) {
  auto committer = MakeCommitter();
  env_.HoldSyncs();
  ASSERT_TRUE(committer->Submit(MakeTxns(1, 1), recorder_.Done("a")).ok());
  WaitForHeldSyncs(1);
  ASSERT_TRUE(committer->Submit(MakeTxns(2, 1), recorder_.Done("queued")).ok());
  std::thread stopper([&] { committer->Stop(); });
  // Once Stop has begun, submissions are refused.
  absl::Status s;
  for (int i = 0; i < 10000; ++i) {
    s = committer->TrySubmit({}, [](absl::Status) {});
    if (!s.ok()) break;
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  env_.ReleaseSyncs();
  stopper.join();
  EXPECT_TRUE(recorder_.StatusOf("queued").ok());
  EXPECT_EQ(log_->LastZxid(), 2);
}

}  // namespace
}  // namespace ensemble::storage

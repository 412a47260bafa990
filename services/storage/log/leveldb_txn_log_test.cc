#include "services/storage/log/leveldb_txn_log.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/base/zxid.h"
#include "gtest/gtest.h"
#include "leveldb/db.h"
#include "leveldb/helpers/memenv.h"
#include "services/storage/log/testing/fault_injection_env.h"
#include "services/storage/log/testing/test_txns.h"
#include "services/storage/log/txn_log_codec.h"
#include "services/storage/log/txn_log_format.h"

namespace ensemble::storage {
namespace {

using testing::IsMadeTxn;
using testing::MakeTxn;
using testing::MakeTxns;

constexpr char kDir[] = "/txnlog";

// Every log opened here lives on an in-memory Env behind a fault injector.
class LevelDbTxnLogTest : public ::testing::Test {
 protected:
  LevelDbTxnLogTest()
      : mem_env_(leveldb::NewMemEnv(leveldb::Env::Default())), env_(mem_env_.get()) {}

  void SetUp() override { log_ = OpenOrDie(); }

  LevelDbTxnLogOptions Options() {
    LevelDbTxnLogOptions options;
    options.env = &env_;
    return options;
  }

  std::unique_ptr<LevelDbTxnLog> OpenOrDie(LevelDbTxnLogOptions options) {
    auto log = LevelDbTxnLog::Open(kDir, options);
    EXPECT_TRUE(log.ok()) << log.status();
    return log.ok() ? std::move(*log) : nullptr;
  }
  std::unique_ptr<LevelDbTxnLog> OpenOrDie() { return OpenOrDie(Options()); }

  void Reopen() {
    log_.reset();
    log_ = OpenOrDie();
    ASSERT_NE(log_, nullptr);
  }

  // Runs `fn` on the raw LevelDB database of the (closed) log.
  template <typename Fn>
  void WithRawDb(Fn fn) {
    log_.reset();
    leveldb::Options options;
    options.env = &env_;
    leveldb::DB* raw = nullptr;
    ASSERT_TRUE(leveldb::DB::Open(options, kDir, &raw).ok());
    std::unique_ptr<leveldb::DB> db(raw);
    fn(db.get());
  }

  // The zxids Read(from, to) visits; the status in *status.
  std::vector<int64_t> ReadZxids(int64_t from, int64_t to = TxnLog::kToEnd,
                                 absl::Status* status = nullptr) {
    std::vector<int64_t> zxids;
    absl::Status s = log_->Read(from, to, [&](ensemble::v1::Txn txn) {
      EXPECT_TRUE(IsMadeTxn(txn)) << txn.ShortDebugString();
      zxids.push_back(txn.header().zxid());
      return absl::OkStatus();
    });
    if (status != nullptr) {
      *status = s;
    } else {
      EXPECT_TRUE(s.ok()) << s;
    }
    return zxids;
  }

  static std::vector<int64_t> Range(int64_t first, int64_t last) {
    std::vector<int64_t> out;
    for (int64_t z = first; z <= last; ++z) out.push_back(z);
    return out;
  }

  std::unique_ptr<leveldb::Env> mem_env_;
  testing::FaultInjectionEnv env_;
  std::unique_ptr<LevelDbTxnLog> log_;
};

TEST_F(LevelDbTxnLogTest, NewLogIsEmpty) {
  EXPECT_EQ(log_->LastZxid(), 0);
  EXPECT_EQ(log_->FirstZxid(), 0);
  EXPECT_EQ(log_->PurgedZxid(), 0);
  EXPECT_EQ(log_->AcceptedEpoch(), 0);
  EXPECT_EQ(log_->CurrentEpoch(), 0);
  EXPECT_TRUE(ReadZxids(0).empty());
}

TEST_F(LevelDbTxnLogTest, AppendThenReadReturnsEveryEntryInOrder) {
  ASSERT_TRUE(log_->Append(MakeTxns(1, 3)).ok());
  ASSERT_TRUE(log_->Append(MakeTxns(4, 5, 300)).ok());
  EXPECT_EQ(log_->FirstZxid(), 1);
  EXPECT_EQ(log_->LastZxid(), 8);
  EXPECT_EQ(ReadZxids(0), Range(1, 8));
}

TEST_F(LevelDbTxnLogTest, ReadIsExclusiveFromAndInclusiveTo) {
  ASSERT_TRUE(log_->Append(MakeTxns(1, 10)).ok());
  EXPECT_EQ(ReadZxids(3, 6), Range(4, 6));
  EXPECT_EQ(ReadZxids(9), Range(10, 10));
  EXPECT_TRUE(ReadZxids(10).empty());
  EXPECT_TRUE(ReadZxids(6, 6).empty());
  EXPECT_TRUE(ReadZxids(6, 2).empty());
}

TEST_F(LevelDbTxnLogTest, ReadSpansEpochBoundaries) {
  std::vector<ensemble::v1::Txn> batch = {MakeTxn(Zxid::Make(1, 0xfe)),
                                          MakeTxn(Zxid::Make(1, 0xff)),
                                          MakeTxn(Zxid::Make(1, 0x100)), MakeTxn(Zxid::Make(2, 1))};
  ASSERT_TRUE(log_->Append(batch).ok());
  EXPECT_EQ(ReadZxids(Zxid::Make(1, 0xff)),
            (std::vector<int64_t>{Zxid::Make(1, 0x100), Zxid::Make(2, 1)}));
}

TEST_F(LevelDbTxnLogTest, EpochLastZxidsNamesTheEndOfEachEpochsRun) {
  auto empty = log_->EpochLastZxids();
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_TRUE(empty->empty());
  std::vector<ensemble::v1::Txn> batch = {
      MakeTxn(Zxid::Make(1, 1)),   MakeTxn(Zxid::Make(1, 2)),          MakeTxn(Zxid::Make(3, 1)),
      MakeTxn(Zxid::Make(3, 0x7)), MakeTxn(Zxid::Make(4, 0xffffffff)), MakeTxn(Zxid::Make(5, 1))};
  ASSERT_TRUE(log_->Append(batch).ok());
  const std::vector<int64_t> expected = {Zxid::Make(1, 2), Zxid::Make(3, 7),
                                         Zxid::Make(4, 0xffffffff), Zxid::Make(5, 1)};
  auto lasts = log_->EpochLastZxids();
  ASSERT_TRUE(lasts.ok()) << lasts.status();
  EXPECT_EQ(*lasts, expected);
  // The interface's default (a full read) agrees with the seeks.
  auto by_read = log_->TxnLog::EpochLastZxids();
  ASSERT_TRUE(by_read.ok());
  EXPECT_EQ(*by_read, expected);
  ASSERT_TRUE(log_->TruncateAfter(Zxid::Make(3, 7)).ok());
  lasts = log_->EpochLastZxids();
  ASSERT_TRUE(lasts.ok());
  EXPECT_EQ(*lasts, (std::vector<int64_t>{Zxid::Make(1, 2), Zxid::Make(3, 7)}));
}

TEST_F(LevelDbTxnLogTest, VisitorErrorStopsReadAndIsReturned) {
  ASSERT_TRUE(log_->Append(MakeTxns(1, 5)).ok());
  int visited = 0;
  absl::Status s = log_->Read(0, TxnLog::kToEnd, [&](ensemble::v1::Txn) {
    return ++visited == 2 ? absl::CancelledError("enough") : absl::OkStatus();
  });
  EXPECT_EQ(s, absl::CancelledError("enough"));
  EXPECT_EQ(visited, 2);
}

TEST_F(LevelDbTxnLogTest, ReadFromNegativeZxidIsInvalidArgument) {
  absl::Status s;
  ReadZxids(-1, TxnLog::kToEnd, &s);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(LevelDbTxnLogTest, EmptyAppendIsNoOp) {
  ASSERT_TRUE(log_->Append({}).ok());
  EXPECT_EQ(log_->LastZxid(), 0);
}

TEST_F(LevelDbTxnLogTest, AppendNotAboveLastZxidIsFailedPrecondition) {
  ASSERT_TRUE(log_->Append(MakeTxns(5, 2)).ok());
  absl::Status s = log_->Append(MakeTxns(6, 1));
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_EQ(log_->LastZxid(), 6);
  EXPECT_TRUE(log_->Append(MakeTxns(7, 1)).ok());
}

TEST_F(LevelDbTxnLogTest, AppendDecreasingWithinBatchWritesNothing) {
  std::vector<ensemble::v1::Txn> batch = {MakeTxn(1), MakeTxn(3), MakeTxn(2)};
  EXPECT_EQ(log_->Append(batch).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(log_->LastZxid(), 0);
  EXPECT_TRUE(ReadZxids(0).empty());
}

TEST_F(LevelDbTxnLogTest, AppendDuplicateWithinBatchIsFailedPrecondition) {
  std::vector<ensemble::v1::Txn> batch = {MakeTxn(1), MakeTxn(1)};
  EXPECT_EQ(log_->Append(batch).code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(LevelDbTxnLogTest, AppendZeroZxidIsInvalidArgument) {
  EXPECT_EQ(log_->Append({MakeTxn(0)}).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(LevelDbTxnLogTest, RejectedAppendIsNotSticky) {
  ASSERT_FALSE(log_->Append({MakeTxn(0)}).ok());
  EXPECT_TRUE(log_->write_error().ok());
  EXPECT_TRUE(log_->Append({MakeTxn(1)}).ok());
}

TEST_F(LevelDbTxnLogTest, TruncateAfterDropsNewerEntries) {
  ASSERT_TRUE(log_->Append(MakeTxns(1, 10)).ok());
  ASSERT_TRUE(log_->TruncateAfter(6).ok());
  EXPECT_EQ(log_->LastZxid(), 6);
  EXPECT_EQ(log_->FirstZxid(), 1);
  EXPECT_EQ(ReadZxids(0), Range(1, 6));
}

TEST_F(LevelDbTxnLogTest, TruncateAfterAllowsAppendingTheDroppedZxidsAgain) {
  ASSERT_TRUE(log_->Append(MakeTxns(1, 10)).ok());
  ASSERT_TRUE(log_->TruncateAfter(6).ok());
  ASSERT_TRUE(log_->Append(MakeTxns(7, 2, 99)).ok());
  EXPECT_EQ(ReadZxids(0), Range(1, 8));
}

TEST_F(LevelDbTxnLogTest, TruncateAfterBetweenEntriesSetsLastToOlderEntry) {
  ASSERT_TRUE(log_->Append({MakeTxn(10), MakeTxn(20), MakeTxn(30)}).ok());
  ASSERT_TRUE(log_->TruncateAfter(25).ok());
  EXPECT_EQ(log_->LastZxid(), 20);
}

TEST_F(LevelDbTxnLogTest, TruncateAfterZeroEmptiesTheLog) {
  ASSERT_TRUE(log_->Append(MakeTxns(1, 10)).ok());
  ASSERT_TRUE(log_->TruncateAfter(0).ok());
  EXPECT_EQ(log_->LastZxid(), 0);
  EXPECT_EQ(log_->FirstZxid(), 0);
  EXPECT_TRUE(ReadZxids(0).empty());
}

TEST_F(LevelDbTxnLogTest, TruncateAfterLastZxidChangesNothing) {
  ASSERT_TRUE(log_->Append(MakeTxns(1, 3)).ok());
  ASSERT_TRUE(log_->TruncateAfter(3).ok());
  ASSERT_TRUE(log_->TruncateAfter(100).ok());
  EXPECT_EQ(ReadZxids(0), Range(1, 3));
}

TEST_F(LevelDbTxnLogTest, TruncateAfterNegativeIsInvalidArgument) {
  EXPECT_EQ(log_->TruncateAfter(-1).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(LevelDbTxnLogTest, PurgeBeforeDropsEntriesUpToZxid) {
  ASSERT_TRUE(log_->Append(MakeTxns(1, 10)).ok());
  ASSERT_TRUE(log_->PurgeBefore(4).ok());
  EXPECT_EQ(log_->FirstZxid(), 5);
  EXPECT_EQ(log_->LastZxid(), 10);
  EXPECT_EQ(log_->PurgedZxid(), 4);
  EXPECT_EQ(ReadZxids(4), Range(5, 10));
}

TEST_F(LevelDbTxnLogTest, ReadFromBelowPurgedZxidIsOutOfRange) {
  ASSERT_TRUE(log_->Append(MakeTxns(1, 10)).ok());
  ASSERT_TRUE(log_->PurgeBefore(4).ok());
  absl::Status s;
  EXPECT_TRUE(ReadZxids(3, TxnLog::kToEnd, &s).empty());
  EXPECT_EQ(s.code(), absl::StatusCode::kOutOfRange) << s;
  EXPECT_NE(s.message().find("0x4"), std::string::npos) << s;
}

TEST_F(LevelDbTxnLogTest, PurgeBeforeNeverLowersPurgedZxid) {
  ASSERT_TRUE(log_->Append(MakeTxns(1, 10)).ok());
  ASSERT_TRUE(log_->PurgeBefore(6).ok());
  ASSERT_TRUE(log_->PurgeBefore(2).ok());
  EXPECT_EQ(log_->PurgedZxid(), 6);
  EXPECT_EQ(log_->FirstZxid(), 7);
}

TEST_F(LevelDbTxnLogTest, PurgeEverythingThenAppendMustExceedPurgedZxid) {
  ASSERT_TRUE(log_->Append(MakeTxns(1, 5)).ok());
  ASSERT_TRUE(log_->PurgeBefore(100).ok());
  EXPECT_EQ(log_->FirstZxid(), 0);
  EXPECT_EQ(log_->LastZxid(), 0);
  EXPECT_EQ(log_->Append({MakeTxn(50)}).code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(log_->Append({MakeTxn(101)}).ok());
  EXPECT_EQ(ReadZxids(100), Range(101, 101));
}

TEST_F(LevelDbTxnLogTest, TruncateBelowPurgedZxidLowersIt) {
  // A peer told to TRUNC below its purge point (then sent a SNAP) must be
  // able to log again from there.
  ASSERT_TRUE(log_->Append(MakeTxns(1, 10)).ok());
  ASSERT_TRUE(log_->PurgeBefore(8).ok());
  ASSERT_TRUE(log_->TruncateAfter(5).ok());
  EXPECT_EQ(log_->PurgedZxid(), 5);
  EXPECT_EQ(log_->LastZxid(), 0);
  ASSERT_TRUE(log_->Append(MakeTxns(6, 2)).ok());
  EXPECT_EQ(ReadZxids(5), Range(6, 7));
}

TEST_F(LevelDbTxnLogTest, PurgeOfManyEntriesCompactsAndKeepsTheRest) {
  LevelDbTxnLogOptions options = Options();
  options.write_buffer_size = 64 << 10;  // several level-0 tables
  log_.reset();
  log_ = OpenOrDie(options);
  for (int64_t z = 1; z <= 3000; z += 100) ASSERT_TRUE(log_->Append(MakeTxns(z, 100, 200)).ok());
  ASSERT_TRUE(log_->PurgeBefore(2500).ok());
  EXPECT_EQ(log_->FirstZxid(), 2501);
  EXPECT_EQ(ReadZxids(2500), Range(2501, 3000));
}

TEST_F(LevelDbTxnLogTest, CommitMarkRidesWithAppendsAndSurvivesReopen) {
  EXPECT_EQ(log_->CommittedMark(), 0);
  ASSERT_TRUE(log_->Append(MakeTxns(1, 5)).ok());
  log_->NoteCommitted(3);
  EXPECT_EQ(log_->CommittedMark(), 3);
  log_->NoteCommitted(2);  // never moves back
  EXPECT_EQ(log_->CommittedMark(), 3);
  Reopen();
  // Noted but not yet written with an append: the restart sees the older mark.
  EXPECT_EQ(log_->CommittedMark(), 0);
  log_->NoteCommitted(4);
  ASSERT_TRUE(log_->Append(MakeTxns(6, 2)).ok());
  Reopen();
  EXPECT_EQ(log_->CommittedMark(), 4);
  EXPECT_EQ(log_->LastZxid(), 7);
  // A truncation below the mark lowers it: the mark never runs ahead.
  ASSERT_TRUE(log_->TruncateAfter(2).ok());
  EXPECT_EQ(log_->CommittedMark(), 2);
  Reopen();
  EXPECT_EQ(log_->CommittedMark(), 2);
}

TEST_F(LevelDbTxnLogTest, ALogWithoutACommitMarkCountsEverythingCommitted) {
  ASSERT_TRUE(log_->Append(MakeTxns(1, 4)).ok());
  // A log written before the mark existed.
  WithRawDb([](leveldb::DB* db) {
    ASSERT_TRUE(db->Delete(leveldb::WriteOptions(), "m/committed_zxid").ok());
  });
  log_ = OpenOrDie();
  ASSERT_NE(log_, nullptr);
  EXPECT_EQ(log_->CommittedMark(), 4);
}

TEST_F(LevelDbTxnLogTest, EpochsPersistAcrossReopen) {
  ASSERT_TRUE(log_->SetAcceptedEpoch(7).ok());
  ASSERT_TRUE(log_->SetCurrentEpoch(6).ok());
  EXPECT_EQ(log_->AcceptedEpoch(), 7);
  EXPECT_EQ(log_->CurrentEpoch(), 6);
  Reopen();
  EXPECT_EQ(log_->AcceptedEpoch(), 7);
  EXPECT_EQ(log_->CurrentEpoch(), 6);
}

TEST_F(LevelDbTxnLogTest, NegativeEpochIsInvalidArgument) {
  EXPECT_EQ(log_->SetAcceptedEpoch(-1).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(log_->SetCurrentEpoch(-1).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(LevelDbTxnLogTest, ReopenRecoversEntriesAndEdges) {
  ASSERT_TRUE(log_->Append(MakeTxns(1, 20)).ok());
  ASSERT_TRUE(log_->PurgeBefore(3).ok());
  ASSERT_TRUE(log_->TruncateAfter(17).ok());
  Reopen();
  EXPECT_EQ(log_->FirstZxid(), 4);
  EXPECT_EQ(log_->LastZxid(), 17);
  EXPECT_EQ(log_->PurgedZxid(), 3);
  EXPECT_EQ(ReadZxids(3), Range(4, 17));
  EXPECT_EQ(log_->Append({MakeTxn(17)}).code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(LevelDbTxnLogTest, ReopenAfterManyTablesReadsEverything) {
  LevelDbTxnLogOptions options = Options();
  options.write_buffer_size = 64 << 10;
  log_.reset();
  log_ = OpenOrDie(options);
  for (int64_t z = 1; z <= 5000; z += 50) ASSERT_TRUE(log_->Append(MakeTxns(z, 50, 120)).ok());
  log_.reset();
  log_ = OpenOrDie(options);
  EXPECT_EQ(log_->LastZxid(), 5000);
  EXPECT_EQ(ReadZxids(0), Range(1, 5000));
}

TEST_F(LevelDbTxnLogTest, SyncedWritesSurviveDroppingUnsyncedData) {
  ASSERT_TRUE(log_->Append(MakeTxns(1, 5)).ok());
  ASSERT_TRUE(log_->SetAcceptedEpoch(3).ok());
  ASSERT_TRUE(log_->Append(MakeTxns(6, 5)).ok());
  log_.reset();
  ASSERT_TRUE(env_.DropUnsyncedData().ok());
  log_ = OpenOrDie();
  ASSERT_NE(log_, nullptr);
  EXPECT_EQ(ReadZxids(0), Range(1, 10));
  EXPECT_EQ(log_->AcceptedEpoch(), 3);
}

TEST_F(LevelDbTxnLogTest, FaultEnvReallyDropsUnsyncedWrites) {
  // Checks the harness the test above relies on: a write without sync=true
  // does not survive DropUnsyncedData.
  ASSERT_TRUE(log_->Append(MakeTxns(1, 2)).ok());
  WithRawDb([](leveldb::DB* db) {
    ASSERT_TRUE(
        db->Put(leveldb::WriteOptions(), EncodeTxnKey(3), *EncodeTxnValue(MakeTxn(3))).ok());
  });
  ASSERT_TRUE(env_.DropUnsyncedData().ok());
  log_ = OpenOrDie();
  ASSERT_NE(log_, nullptr);
  EXPECT_EQ(ReadZxids(0), Range(1, 2));
}

TEST_F(LevelDbTxnLogTest, FailedAppendMakesEveryLaterWriteFailWithTheSameError) {
  ASSERT_TRUE(log_->Append(MakeTxns(1, 2)).ok());
  env_.SetFailAppends(true);
  absl::Status first = log_->Append(MakeTxns(3, 1));
  ASSERT_FALSE(first.ok());
  EXPECT_NE(first.message().find("injected fault"), std::string::npos) << first;
  env_.SetFailAppends(false);
  // LevelDB itself would accept these again (a failed WAL append is not a
  // LevelDB background error); the log must not.
  EXPECT_EQ(log_->Append(MakeTxns(3, 1)), first);
  EXPECT_EQ(log_->TruncateAfter(1), first);
  EXPECT_EQ(log_->PurgeBefore(1), first);
  EXPECT_EQ(log_->SetAcceptedEpoch(1), first);
  EXPECT_EQ(log_->SetCurrentEpoch(1), first);
  EXPECT_EQ(log_->write_error(), first);
  EXPECT_EQ(log_->LastZxid(), 2);
  EXPECT_EQ(ReadZxids(0), Range(1, 2));  // reads still work
}

TEST_F(LevelDbTxnLogTest, FailedSyncMakesEveryLaterWriteFailWithTheSameError) {
  ASSERT_TRUE(log_->Append(MakeTxns(1, 2)).ok());
  env_.SetFailSyncs(true);
  absl::Status first = log_->SetCurrentEpoch(4);
  ASSERT_FALSE(first.ok());
  EXPECT_NE(first.message().find("injected fault: sync"), std::string::npos) << first;
  env_.SetFailSyncs(false);
  EXPECT_EQ(log_->Append(MakeTxns(3, 1)), first);
  EXPECT_EQ(log_->SetCurrentEpoch(4), first);
  EXPECT_EQ(log_->CurrentEpoch(), 0);
}

TEST_F(LevelDbTxnLogTest, RestartAfterWriteFailureKeepsAcknowledgedEntries) {
  ASSERT_TRUE(log_->Append(MakeTxns(1, 4)).ok());
  env_.SetFailSyncs(true);
  ASSERT_FALSE(log_->Append(MakeTxns(5, 1)).ok());
  env_.SetFailSyncs(false);
  log_.reset();
  ASSERT_TRUE(env_.DropUnsyncedData().ok());
  log_ = OpenOrDie();
  ASSERT_NE(log_, nullptr);
  EXPECT_TRUE(log_->write_error().ok());
  EXPECT_EQ(ReadZxids(0), Range(1, 4));
  EXPECT_TRUE(log_->Append(MakeTxns(5, 1)).ok());
}

TEST_F(LevelDbTxnLogTest, GarbageValueMakesReadReturnDataLossNamingTheZxid) {
  ASSERT_TRUE(log_->Append(MakeTxns(1, 10)).ok());
  WithRawDb([](leveldb::DB* db) {
    leveldb::WriteOptions sync;
    sync.sync = true;
    ASSERT_TRUE(db->Put(sync, EncodeTxnKey(5), "\x01garbage, not a txn").ok());
  });
  log_ = OpenOrDie();  // the first and last entries are intact
  ASSERT_NE(log_, nullptr);
  absl::Status s;
  EXPECT_EQ(ReadZxids(0, TxnLog::kToEnd, &s), Range(1, 4));
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_NE(s.message().find("0x5"), std::string::npos) << s;
  // The entries after it are still readable.
  EXPECT_EQ(ReadZxids(5), Range(6, 10));
}

TEST_F(LevelDbTxnLogTest, ValueUnderAnotherZxidsKeyIsDataLoss) {
  ASSERT_TRUE(log_->Append(MakeTxns(1, 10)).ok());
  WithRawDb([](leveldb::DB* db) {
    leveldb::WriteOptions sync;
    sync.sync = true;
    ASSERT_TRUE(db->Put(sync, EncodeTxnKey(7), *EncodeTxnValue(MakeTxn(3))).ok());
  });
  log_ = OpenOrDie();
  ASSERT_NE(log_, nullptr);
  absl::Status s;
  ReadZxids(6, TxnLog::kToEnd, &s);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_NE(s.message().find("0x7"), std::string::npos) << s;
}

TEST_F(LevelDbTxnLogTest, GarbageLastEntryFailsOpenWithDataLoss) {
  ASSERT_TRUE(log_->Append(MakeTxns(1, 3)).ok());
  WithRawDb([](leveldb::DB* db) {
    ASSERT_TRUE(db->Put(leveldb::WriteOptions(), EncodeTxnKey(3), "junk").ok());
  });
  auto log = LevelDbTxnLog::Open(kDir, Options());
  EXPECT_EQ(log.status().code(), absl::StatusCode::kDataLoss) << log.status();
  EXPECT_NE(log.status().message().find("0x3"), std::string::npos) << log.status();
}

TEST_F(LevelDbTxnLogTest, OpenMissingLogWithoutCreateIsNotFound) {
  LevelDbTxnLogOptions options = Options();
  options.create_if_missing = false;
  auto log = LevelDbTxnLog::Open("/elsewhere", options);
  EXPECT_EQ(log.status().code(), absl::StatusCode::kNotFound) << log.status();
}

TEST_F(LevelDbTxnLogTest, OpenForeignLevelDbIsFailedPrecondition) {
  leveldb::Options options;
  options.env = &env_;
  options.create_if_missing = true;
  leveldb::DB* raw = nullptr;
  ASSERT_TRUE(leveldb::DB::Open(options, "/foreign", &raw).ok());
  ASSERT_TRUE(raw->Put(leveldb::WriteOptions(), "hello", "world").ok());
  delete raw;
  auto log = LevelDbTxnLog::Open("/foreign", Options());
  EXPECT_EQ(log.status().code(), absl::StatusCode::kFailedPrecondition) << log.status();
}

TEST_F(LevelDbTxnLogTest, OpenOtherFormatVersionIsFailedPrecondition) {
  WithRawDb([](leveldb::DB* db) {
    ASSERT_TRUE(db->Put(leveldb::WriteOptions(), std::string(txn_log_format::kFormatVersionKey),
                        EncodeFormatVersion(txn_log_format::kFormatVersion + 1))
                    .ok());
  });
  auto log = LevelDbTxnLog::Open(kDir, Options());
  EXPECT_EQ(log.status().code(), absl::StatusCode::kFailedPrecondition) << log.status();
}

TEST_F(LevelDbTxnLogTest, ConcurrentReadsSeeAContiguousPrefix) {
  constexpr int64_t kLast = 2000;
  std::atomic<bool> done{false};
  std::atomic<int> bad_reads{0};
  std::thread reader([&] {
    while (!done.load()) {
      int64_t expect = 1;
      absl::Status s = log_->Read(0, TxnLog::kToEnd, [&](ensemble::v1::Txn txn) {
        if (txn.header().zxid() != expect++ || !IsMadeTxn(txn)) bad_reads.fetch_add(1);
        return absl::OkStatus();
      });
      if (!s.ok()) bad_reads.fetch_add(1);
    }
  });
  for (int64_t z = 1; z <= kLast; z += 10) ASSERT_TRUE(log_->Append(MakeTxns(z, 10)).ok());
  done.store(true);
  reader.join();
  EXPECT_EQ(bad_reads.load(), 0);
  EXPECT_EQ(log_->LastZxid(), kLast);
}

}  // namespace
}  // namespace ensemble::storage

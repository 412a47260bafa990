#include "services/storage/log/leveldb_txn_log.h"

#include <algorithm>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/base/status.h"
#include "common/base/zxid.h"
#include "leveldb/iterator.h"
#include "leveldb/write_batch.h"
#include "services/storage/log/txn_log_codec.h"
#include "services/storage/log/txn_log_format.h"

namespace ensemble::storage {
namespace {

namespace fmt = txn_log_format;

// absl 20220623 on Debian has its own absl::string_view (not std's).
absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }

absl::Status FromLevelDb(const leveldb::Status& s, std::string_view what) {
  if (s.ok()) return absl::OkStatus();
  std::string msg = absl::StrCat("txn log: ", Sv(what), ": ", s.ToString());
  if (s.IsNotFound()) return absl::NotFoundError(msg);
  if (s.IsCorruption()) return absl::DataLossError(msg);
  if (s.IsInvalidArgument()) return absl::InvalidArgumentError(msg);
  if (s.IsNotSupportedError()) return absl::UnimplementedError(msg);
  return absl::InternalError(msg);  // IOError and anything new
}

leveldb::ReadOptions CheckedRead(const leveldb::Snapshot* snapshot = nullptr) {
  leveldb::ReadOptions ro;
  ro.verify_checksums = true;
  ro.snapshot = snapshot;
  return ro;
}

std::string_view View(const leveldb::Slice& s) { return std::string_view(s.data(), s.size()); }
leveldb::Slice MetaKey(std::string_view key) { return leveldb::Slice(key.data(), key.size()); }

// The smallest key above every transaction key.
std::string TxnKeyRangeEnd() { return std::string(1, static_cast<char>(fmt::kTxnKeyPrefix + 1)); }

// Reads a metadata integer; 0 if absent.
absl::StatusOr<int64_t> GetMetaInt64(leveldb::DB* db, const leveldb::ReadOptions& ro,
                                     std::string_view key) {
  std::string value;
  leveldb::Status s = db->Get(ro, MetaKey(key), &value);
  if (s.IsNotFound()) return 0;
  ENSEMBLE_RETURN_IF_ERROR(FromLevelDb(s, absl::StrCat("reading ", Sv(key))));
  return DecodeMetaInt64(key, value);
}

// Releases a LevelDB snapshot when the scope ends.
class ScopedSnapshot {
 public:
  explicit ScopedSnapshot(leveldb::DB* db) : db_(db), snapshot_(db->GetSnapshot()) {}
  ~ScopedSnapshot() { db_->ReleaseSnapshot(snapshot_); }
  ScopedSnapshot(const ScopedSnapshot&) = delete;
  ScopedSnapshot& operator=(const ScopedSnapshot&) = delete;
  const leveldb::Snapshot* get() const { return snapshot_; }

 private:
  leveldb::DB* db_;
  const leveldb::Snapshot* snapshot_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<LevelDbTxnLog>> LevelDbTxnLog::Open(
    const std::string& dir, const LevelDbTxnLogOptions& options) {
  leveldb::Options lo;
  lo.env = options.env != nullptr ? options.env : leveldb::Env::Default();
  lo.create_if_missing = options.create_if_missing;
  lo.paranoid_checks = true;
  lo.write_buffer_size = options.write_buffer_size;
  leveldb::DB* raw = nullptr;
  leveldb::Status s = leveldb::DB::Open(lo, dir, &raw);
  if (!s.ok()) {
    if (!options.create_if_missing && s.IsInvalidArgument()) {
      return absl::NotFoundError(absl::StrCat("txn log: no log in ", dir, ": ", s.ToString()));
    }
    return FromLevelDb(s, absl::StrCat("opening ", dir));
  }
  std::unique_ptr<LevelDbTxnLog> log(new LevelDbTxnLog(std::unique_ptr<leveldb::DB>(raw), options));
  absl::Status loaded = log->LoadState();
  if (!loaded.ok()) {
    return absl::Status(loaded.code(), absl::StrCat(loaded.message(), " (log in ", dir, ")"));
  }
  return log;
}

LevelDbTxnLog::LevelDbTxnLog(std::unique_ptr<leveldb::DB> db, LevelDbTxnLogOptions options)
    : db_(std::move(db)), options_(std::move(options)) {}

LevelDbTxnLog::~LevelDbTxnLog() = default;

absl::Status LevelDbTxnLog::LoadState() {
  std::lock_guard<std::mutex> lock(mu_);
  const leveldb::ReadOptions ro = CheckedRead();

  std::string version_value;
  leveldb::Status s = db_->Get(ro, MetaKey(fmt::kFormatVersionKey), &version_value);
  if (s.IsNotFound()) {
    std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(ro));
    it->SeekToFirst();
    ENSEMBLE_RETURN_IF_ERROR(FromLevelDb(it->status(), "scanning a new log"));
    if (it->Valid()) {
      return absl::FailedPreconditionError(
          "txn log: the folder holds a LevelDB database without a txn log format version");
    }
    leveldb::WriteBatch batch;
    batch.Put(MetaKey(fmt::kFormatVersionKey), EncodeFormatVersion(fmt::kFormatVersion));
    // A new log has a commit mark from the start (see kCommittedZxidKey).
    batch.Put(MetaKey(fmt::kCommittedZxidKey), EncodeMetaInt64(0));
    ENSEMBLE_RETURN_IF_ERROR(WriteLocked(&batch));
  } else {
    ENSEMBLE_RETURN_IF_ERROR(FromLevelDb(s, "reading the format version"));
    ENSEMBLE_ASSIGN_OR_RETURN(uint32_t version, DecodeFormatVersion(version_value));
    if (version != fmt::kFormatVersion) {
      return absl::FailedPreconditionError(absl::StrCat(
          "txn log: format version ", version, ", this build reads ", fmt::kFormatVersion));
    }
  }

  ENSEMBLE_ASSIGN_OR_RETURN(int64_t accepted, GetMetaInt64(db_.get(), ro, fmt::kAcceptedEpochKey));
  ENSEMBLE_ASSIGN_OR_RETURN(int64_t current, GetMetaInt64(db_.get(), ro, fmt::kCurrentEpochKey));
  ENSEMBLE_ASSIGN_OR_RETURN(int64_t purged, GetMetaInt64(db_.get(), ro, fmt::kPurgedZxidKey));

  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(ro));
  ENSEMBLE_ASSIGN_OR_RETURN(int64_t first, EdgeZxid(it.get(), /*newest=*/false));
  ENSEMBLE_ASSIGN_OR_RETURN(int64_t last, EdgeZxid(it.get(), /*newest=*/true));

  std::string mark_value;
  leveldb::Status mark_status = db_->Get(ro, MetaKey(fmt::kCommittedZxidKey), &mark_value);
  int64_t mark = last;  // a log from before the mark existed: all committed
  if (!mark_status.IsNotFound()) {
    ENSEMBLE_RETURN_IF_ERROR(FromLevelDb(mark_status, "reading the commit mark"));
    ENSEMBLE_ASSIGN_OR_RETURN(mark, DecodeMetaInt64(fmt::kCommittedZxidKey, mark_value));
  }
  mark = std::min(mark, last);
  committed_mark_.store(mark, std::memory_order_release);
  committed_mark_written_ = mark;

  accepted_epoch_.store(accepted, std::memory_order_release);
  current_epoch_.store(current, std::memory_order_release);
  purged_zxid_.store(purged, std::memory_order_release);
  first_zxid_.store(first, std::memory_order_release);
  last_zxid_.store(last, std::memory_order_release);
  return absl::OkStatus();
}

absl::StatusOr<int64_t> LevelDbTxnLog::EdgeZxid(leveldb::Iterator* it, bool newest) const {
  if (newest) {
    it->Seek(TxnKeyRangeEnd());
    if (it->Valid()) {
      it->Prev();
    } else {
      it->SeekToLast();
    }
  } else {
    it->Seek(EncodeTxnKey(0));
  }
  ENSEMBLE_RETURN_IF_ERROR(FromLevelDb(it->status(), "finding the log's ends"));
  if (!it->Valid() || !IsTxnKey(View(it->key()))) return 0;
  ENSEMBLE_ASSIGN_OR_RETURN(int64_t zxid, DecodeTxnKey(View(it->key())));
  ensemble::v1::Txn txn;
  ENSEMBLE_RETURN_IF_ERROR(DecodeTxnValue(zxid, View(it->value()), &txn));
  return zxid;
}

absl::Status LevelDbTxnLog::WriteLocked(leveldb::WriteBatch* batch) {
  leveldb::WriteOptions wo;
  wo.sync = true;
  absl::Status s = FromLevelDb(db_->Write(wo, batch), "write");
  if (!s.ok()) write_error_ = s;
  return s;
}

absl::Status LevelDbTxnLog::write_error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return write_error_;
}

absl::Status LevelDbTxnLog::Append(std::vector<ensemble::v1::Txn> batch) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!write_error_.ok()) return write_error_;
  if (batch.empty()) return absl::OkStatus();

  int64_t prev = std::max(LastZxid(), PurgedZxid());
  for (const ensemble::v1::Txn& txn : batch) {
    int64_t zxid = txn.header().zxid();
    if (zxid <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("txn log: append of zxid ", Zxid::Hex(zxid), " (zxids are > 0)"));
    }
    if (zxid <= prev) {
      return absl::FailedPreconditionError(absl::StrCat("txn log: append of ", Zxid::Hex(zxid),
                                                        " after ", Zxid::Hex(prev),
                                                        " (zxids must increase)"));
    }
    prev = zxid;
  }
  leveldb::WriteBatch wb;
  for (const ensemble::v1::Txn& txn : batch) {
    ENSEMBLE_ASSIGN_OR_RETURN(std::string value, EncodeTxnValue(txn));
    wb.Put(EncodeTxnKey(txn.header().zxid()), value);
  }
  // The commit mark rides along (no write of its own on the hot path).
  const int64_t mark = committed_mark_.load(std::memory_order_acquire);
  if (mark > committed_mark_written_) {
    wb.Put(MetaKey(fmt::kCommittedZxidKey), EncodeMetaInt64(mark));
  }
  ENSEMBLE_RETURN_IF_ERROR(WriteLocked(&wb));
  committed_mark_written_ = std::max(committed_mark_written_, mark);
  if (FirstZxid() == 0) first_zxid_.store(batch.front().header().zxid(), std::memory_order_release);
  last_zxid_.store(prev, std::memory_order_release);
  return absl::OkStatus();
}

absl::Status LevelDbTxnLog::Read(int64_t from_zxid_exclusive, int64_t to_zxid_inclusive,
                                 TxnVisitor visitor) const {
  if (from_zxid_exclusive < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("txn log: read from a negative zxid ", from_zxid_exclusive));
  }
  if (to_zxid_inclusive <= from_zxid_exclusive) return absl::OkStatus();

  // One snapshot for the purge mark and the entries, so a purge that commits
  // meanwhile cannot open an unreported gap.
  ScopedSnapshot snapshot(db_.get());
  const leveldb::ReadOptions ro = CheckedRead(snapshot.get());
  ENSEMBLE_ASSIGN_OR_RETURN(int64_t purged, GetMetaInt64(db_.get(), ro, fmt::kPurgedZxidKey));
  if (from_zxid_exclusive < purged) {
    return absl::OutOfRangeError(absl::StrCat("txn log: entries up to ", Zxid::Hex(purged),
                                              " were purged; cannot read after ",
                                              Zxid::Hex(from_zxid_exclusive)));
  }

  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(ro));
  for (it->Seek(EncodeTxnKey(from_zxid_exclusive + 1)); it->Valid() && IsTxnKey(View(it->key()));
       it->Next()) {
    ENSEMBLE_ASSIGN_OR_RETURN(int64_t zxid, DecodeTxnKey(View(it->key())));
    if (zxid > to_zxid_inclusive) break;
    ensemble::v1::Txn txn;
    ENSEMBLE_RETURN_IF_ERROR(DecodeTxnValue(zxid, View(it->value()), &txn));
    ENSEMBLE_RETURN_IF_ERROR(visitor(std::move(txn)));
  }
  return FromLevelDb(it->status(), absl::StrCat("reading after ", Zxid::Hex(from_zxid_exclusive)));
}

// One seek per epoch: from an epoch's first entry, the entry before the next
// epoch's first key is that epoch's last.
absl::StatusOr<std::vector<int64_t>> LevelDbTxnLog::EpochLastZxids() const {
  ScopedSnapshot snapshot(db_.get());
  const leveldb::ReadOptions ro = CheckedRead(snapshot.get());
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(ro));
  std::vector<int64_t> lasts;
  it->Seek(EncodeTxnKey(0));
  while (it->Valid() && IsTxnKey(View(it->key()))) {
    ENSEMBLE_ASSIGN_OR_RETURN(int64_t first, DecodeTxnKey(View(it->key())));
    const int64_t epoch = Zxid::Epoch(first);
    it->Seek(EncodeTxnKey(Zxid::Make(epoch + 1, 0)));
    if (it->Valid()) {
      it->Prev();
    } else {
      it->SeekToLast();
    }
    if (!it->Valid() || !IsTxnKey(View(it->key()))) break;
    ENSEMBLE_ASSIGN_OR_RETURN(int64_t last, DecodeTxnKey(View(it->key())));
    lasts.push_back(last);
    it->Next();
  }
  ENSEMBLE_RETURN_IF_ERROR(FromLevelDb(it->status(), "listing the log's epochs"));
  return lasts;
}

void LevelDbTxnLog::NoteCommitted(int64_t zxid) {
  int64_t current = committed_mark_.load(std::memory_order_acquire);
  while (zxid > current &&
         !committed_mark_.compare_exchange_weak(current, zxid, std::memory_order_acq_rel)) {
  }
}

absl::Status LevelDbTxnLog::TruncateAfter(int64_t zxid) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!write_error_.ok()) return write_error_;
  if (zxid < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("txn log: truncate after a negative zxid ", zxid));
  }
  leveldb::WriteBatch wb;
  int64_t new_last = 0;
  size_t dropped = 0;
  {
    std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(CheckedRead()));
    if (zxid < TxnLog::kToEnd) {
      for (it->Seek(EncodeTxnKey(zxid + 1)); it->Valid() && IsTxnKey(View(it->key())); it->Next()) {
        wb.Delete(it->key());
        ++dropped;
      }
      ENSEMBLE_RETURN_IF_ERROR(FromLevelDb(it->status(), "scanning the entries to truncate"));
      // The newest entry that stays: the one before the first dropped key.
      it->Seek(EncodeTxnKey(zxid + 1));
      if (it->Valid()) {
        it->Prev();
      } else {
        it->SeekToLast();
      }
    } else {
      it->SeekToLast();
    }
    ENSEMBLE_RETURN_IF_ERROR(FromLevelDb(it->status(), "scanning the entries to truncate"));
    if (it->Valid() && IsTxnKey(View(it->key()))) {
      ENSEMBLE_ASSIGN_OR_RETURN(new_last, DecodeTxnKey(View(it->key())));
    }
  }
  const int64_t new_purged = std::min(PurgedZxid(), zxid);
  if (new_purged != PurgedZxid()) wb.Put(MetaKey(fmt::kPurgedZxidKey), EncodeMetaInt64(new_purged));
  // The mark never runs ahead of the log.
  const bool lower_mark = committed_mark_written_ > zxid;
  if (lower_mark) wb.Put(MetaKey(fmt::kCommittedZxidKey), EncodeMetaInt64(zxid));
  if (committed_mark_.load(std::memory_order_acquire) > zxid) {
    committed_mark_.store(zxid, std::memory_order_release);
  }
  if (dropped == 0 && new_purged == PurgedZxid() && !lower_mark) return absl::OkStatus();

  ENSEMBLE_RETURN_IF_ERROR(WriteLocked(&wb));
  if (lower_mark) committed_mark_written_ = zxid;
  purged_zxid_.store(new_purged, std::memory_order_release);
  last_zxid_.store(new_last, std::memory_order_release);
  if (new_last == 0) first_zxid_.store(0, std::memory_order_release);
  return absl::OkStatus();
}

absl::Status LevelDbTxnLog::PurgeBefore(int64_t zxid) {
  bool compact = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!write_error_.ok()) return write_error_;
    if (zxid < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("txn log: purge before a negative zxid ", zxid));
    }
    leveldb::WriteBatch wb;
    int64_t new_first = 0;
    size_t dropped = 0;
    {
      std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(CheckedRead()));
      for (it->Seek(EncodeTxnKey(0)); it->Valid() && IsTxnKey(View(it->key())); it->Next()) {
        ENSEMBLE_ASSIGN_OR_RETURN(int64_t key_zxid, DecodeTxnKey(View(it->key())));
        if (key_zxid > zxid) {
          new_first = key_zxid;
          break;
        }
        wb.Delete(it->key());
        ++dropped;
      }
      ENSEMBLE_RETURN_IF_ERROR(FromLevelDb(it->status(), "scanning the entries to purge"));
    }
    const int64_t new_purged = std::max(PurgedZxid(), zxid);
    if (new_purged != PurgedZxid()) {
      wb.Put(MetaKey(fmt::kPurgedZxidKey), EncodeMetaInt64(new_purged));
    }
    if (dropped == 0 && new_purged == PurgedZxid()) return absl::OkStatus();

    ENSEMBLE_RETURN_IF_ERROR(WriteLocked(&wb));
    purged_zxid_.store(new_purged, std::memory_order_release);
    first_zxid_.store(new_first, std::memory_order_release);
    if (new_first == 0) last_zxid_.store(0, std::memory_order_release);
    compact = options_.compact_after_purge && dropped > 0;
  }
  // Outside the lock: appends go on while LevelDB compacts.
  if (compact) {
    std::string begin = EncodeTxnKey(0);
    std::string end = EncodeTxnKey(zxid);
    leveldb::Slice b(begin), e(end);
    db_->CompactRange(&b, &e);
  }
  return absl::OkStatus();
}

absl::Status LevelDbTxnLog::SetEpochLocked(std::string_view key, int64_t epoch,
                                           std::atomic<int64_t>* cache) {
  if (!write_error_.ok()) return write_error_;
  if (epoch < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("txn log: negative epoch ", epoch, " for ", Sv(key)));
  }
  leveldb::WriteBatch wb;
  wb.Put(MetaKey(key), EncodeMetaInt64(epoch));
  ENSEMBLE_RETURN_IF_ERROR(WriteLocked(&wb));
  cache->store(epoch, std::memory_order_release);
  return absl::OkStatus();
}

absl::Status LevelDbTxnLog::SetAcceptedEpoch(int64_t epoch) {
  std::lock_guard<std::mutex> lock(mu_);
  return SetEpochLocked(fmt::kAcceptedEpochKey, epoch, &accepted_epoch_);
}

absl::Status LevelDbTxnLog::SetCurrentEpoch(int64_t epoch) {
  std::lock_guard<std::mutex> lock(mu_);
  return SetEpochLocked(fmt::kCurrentEpochKey, epoch, &current_epoch_);
}

}  // namespace ensemble::storage

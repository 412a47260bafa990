#include "services/replication/core/history.h"

#include <algorithm>

#include "common/base/check.h"
#include "common/base/zxid.h"

namespace ensemble::zab {

namespace {

// The first zxid of `epoch` above `floor`.
int64_t FirstOfEpoch(int64_t epoch, int64_t floor) {
  if (epoch == Zxid::Epoch(floor)) return floor + 1;
  return Zxid::Make(epoch, 1);
}

struct ZxidLess {
  bool operator()(const ensemble::v1::Txn& txn, int64_t zxid) const {
    return txn.header().zxid() < zxid;
  }
};

}  // namespace

History::History(int64_t floor_zxid, int64_t last_zxid,
                 const std::vector<int64_t>& epoch_last_zxids)
    : floor_(floor_zxid), last_(std::max(floor_zxid, last_zxid)), cache_floor_(last_) {
  ENSEMBLE_CHECK(floor_zxid >= 0);
  for (int64_t zxid : epoch_last_zxids) {
    if (zxid <= floor_) continue;
    ENSEMBLE_CHECK(zxid <= last_);
    int64_t epoch = Zxid::Epoch(zxid);
    runs_[epoch] = Run{FirstOfEpoch(epoch, floor_), zxid};
  }
  if (last_ > floor_) {
    // The last entry's epoch always has a run, even if the caller left it out.
    int64_t epoch = Zxid::Epoch(last_);
    auto it = runs_.find(epoch);
    if (it == runs_.end()) runs_[epoch] = Run{FirstOfEpoch(epoch, floor_), last_};
  }
}

bool History::Contains(int64_t zxid) const {
  if (zxid == floor_) return true;
  if (zxid < floor_ || zxid > last_) return false;
  auto it = runs_.find(Zxid::Epoch(zxid));
  return it != runs_.end() && zxid >= it->second.first && zxid <= it->second.last;
}

int64_t History::LastBefore(int64_t zxid) const {
  if (zxid <= floor_) return -1;
  if (zxid > last_) return last_;
  int64_t epoch = Zxid::Epoch(zxid);
  auto it = runs_.find(epoch);
  if (it != runs_.end() && zxid > it->second.first) return std::min(zxid - 1, it->second.last);
  // The last entry of the newest epoch below, or the floor.
  auto below = runs_.lower_bound(epoch);
  if (below == runs_.begin()) return floor_;
  --below;
  return below->second.last;
}

void History::Append(const ensemble::v1::Txn& txn) {
  int64_t zxid = txn.header().zxid();
  ENSEMBLE_CHECK(zxid > last_);
  int64_t epoch = Zxid::Epoch(zxid);
  auto it = runs_.find(epoch);
  if (it == runs_.end()) {
    runs_[epoch] = Run{zxid, zxid};
  } else {
    it->second.last = zxid;
  }
  last_ = zxid;
  cache_.push_back(txn);
}

void History::TruncateAfter(int64_t zxid) {
  ENSEMBLE_CHECK(Contains(zxid));
  int64_t epoch = Zxid::Epoch(zxid);
  runs_.erase(runs_.upper_bound(epoch), runs_.end());
  auto it = runs_.find(epoch);
  if (it != runs_.end()) {
    if (zxid < it->second.first) {
      runs_.erase(it);
    } else {
      it->second.last = std::min(it->second.last, zxid);
    }
  }
  last_ = zxid;
  while (!cache_.empty() && cache_.back().header().zxid() > zxid) cache_.pop_back();
  if (cache_.empty()) cache_floor_ = zxid;
}

void History::ResetTo(int64_t zxid) {
  floor_ = zxid;
  last_ = zxid;
  runs_.clear();
  cache_.clear();
  cache_floor_ = zxid;
}

void History::Purged(int64_t zxid) {
  if (zxid <= floor_) return;
  ENSEMBLE_CHECK(zxid <= last_);
  int64_t epoch = Zxid::Epoch(zxid);
  runs_.erase(runs_.begin(), runs_.lower_bound(epoch));
  auto it = runs_.find(epoch);
  if (it != runs_.end()) {
    if (zxid >= it->second.last) {
      runs_.erase(it);
    } else {
      it->second.first = std::max(it->second.first, zxid + 1);
    }
  }
  floor_ = zxid;
}

std::vector<ensemble::v1::Txn> History::CachedRange(int64_t from, int64_t to) const {
  ENSEMBLE_CHECK(from >= cache_floor_);
  std::vector<ensemble::v1::Txn> out;
  auto it = std::lower_bound(cache_.begin(), cache_.end(), from + 1, ZxidLess());
  for (; it != cache_.end() && it->header().zxid() <= to; ++it) out.push_back(*it);
  return out;
}

void History::TrimCache(int64_t committed_zxid, size_t keep_committed) {
  auto first_uncommitted =
      std::lower_bound(cache_.begin(), cache_.end(), committed_zxid + 1, ZxidLess());
  size_t committed = static_cast<size_t>(first_uncommitted - cache_.begin());
  while (committed > keep_committed) {
    cache_floor_ = cache_.front().header().zxid();
    cache_.pop_front();
    --committed;
  }
}

}  // namespace ensemble::zab

#include "services/storage/log/txn_log.h"

#include "common/base/zxid.h"

namespace ensemble::storage {

absl::StatusOr<std::vector<int64_t>> TxnLog::EpochLastZxids() const {
  std::vector<int64_t> lasts;
  absl::Status status = Read(PurgedZxid(), kToEnd, [&](ensemble::v1::Txn txn) {
    const int64_t zxid = txn.header().zxid();
    if (!lasts.empty() && Zxid::Epoch(lasts.back()) == Zxid::Epoch(zxid)) {
      lasts.back() = zxid;
    } else {
      lasts.push_back(zxid);
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return lasts;
}

}  // namespace ensemble::storage

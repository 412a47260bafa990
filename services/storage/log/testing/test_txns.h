#pragma once

// Test helpers: deterministic transactions whose content follows from the zxid,
// so a reader can check an entry without remembering what was written.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ensemble/types.pb.h"

namespace ensemble::storage::testing {

// A setData txn at `zxid` with `data_bytes` bytes of data derived from the zxid.
inline ensemble::v1::Txn MakeTxn(int64_t zxid, size_t data_bytes = 16) {
  ensemble::v1::Txn txn;
  txn.mutable_header()->set_zxid(zxid);
  txn.mutable_header()->set_session_id(0x1000 + (zxid & 0xff));
  txn.mutable_header()->set_cxid(static_cast<int32_t>(zxid & 0x7fffffff));
  txn.mutable_header()->set_time_ms(1700000000000 + zxid);
  txn.mutable_header()->set_type(5);  // setData
  auto* op = txn.mutable_op()->mutable_set_data();
  op->set_path(absl::StrCat("/n/", zxid));
  std::string data(data_bytes, '\0');
  for (size_t i = 0; i < data_bytes; ++i) data[i] = static_cast<char>((zxid * 31 + i) & 0xff);
  op->set_data(std::move(data));
  op->set_version(-1);
  return txn;
}

// Txns with zxids first, first+1, ..., first+count-1.
inline std::vector<ensemble::v1::Txn> MakeTxns(int64_t first, int64_t count,
                                               size_t data_bytes = 16) {
  std::vector<ensemble::v1::Txn> out;
  for (int64_t i = 0; i < count; ++i) out.push_back(MakeTxn(first + i, data_bytes));
  return out;
}

// True if `txn` is exactly what MakeTxn(txn.header().zxid(), data_bytes) builds
// for some data_bytes.
inline bool IsMadeTxn(const ensemble::v1::Txn& txn) {
  ensemble::v1::Txn want = MakeTxn(txn.header().zxid(), txn.op().set_data().data().size());
  return txn.SerializeAsString() == want.SerializeAsString();
}

}  // namespace ensemble::storage::testing

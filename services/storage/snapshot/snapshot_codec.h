#pragma once

// Little-endian fixed-width encoding and a bounds-checked decoder, shared by
// the snapshot writer and reader. Internal to services/storage/snapshot.

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace ensemble::storage::snapshot {

inline void PutU8(std::string* out, uint8_t v) { out->push_back(static_cast<char>(v)); }

inline void PutU32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

inline void PutU64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

inline void PutI32(std::string* out, int32_t v) { PutU32(out, static_cast<uint32_t>(v)); }
inline void PutI64(std::string* out, int64_t v) { PutU64(out, static_cast<uint64_t>(v)); }

// u32 length, then the bytes. REQUIRES: s.size() < 2^32.
inline void PutBytes(std::string* out, absl::string_view s) {
  PutU32(out, static_cast<uint32_t>(s.size()));
  out->append(s.data(), s.size());
}

inline uint32_t LoadU32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

inline uint64_t LoadU64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

// Reads from a byte range; every read checks the remaining length first, so
// no length field is ever trusted. After a failed read the cursor stays
// failed.
class Cursor {
 public:
  explicit Cursor(absl::string_view data) : data_(data) {}

  bool U8(uint8_t* v) {
    if (!Need(1)) return false;
    *v = static_cast<uint8_t>(data_[pos_]);
    pos_ += 1;
    return true;
  }
  bool U32(uint32_t* v) {
    if (!Need(4)) return false;
    *v = LoadU32(data_.data() + pos_);
    pos_ += 4;
    return true;
  }
  bool U64(uint64_t* v) {
    if (!Need(8)) return false;
    *v = LoadU64(data_.data() + pos_);
    pos_ += 8;
    return true;
  }
  bool I32(int32_t* v) {
    uint32_t u;
    if (!U32(&u)) return false;
    *v = static_cast<int32_t>(u);
    return true;
  }
  bool I64(int64_t* v) {
    uint64_t u;
    if (!U64(&u)) return false;
    *v = static_cast<int64_t>(u);
    return true;
  }
  bool Bytes(std::string* v) {
    uint32_t len;
    if (!U32(&len) || !Need(len)) return false;
    v->assign(data_.data() + pos_, len);
    pos_ += len;
    return true;
  }

  bool done() const { return ok_ && pos_ == data_.size(); }
  bool ok() const { return ok_; }
  size_t remaining() const { return data_.size() - pos_; }

 private:
  bool Need(size_t n) {
    if (!ok_ || data_.size() - pos_ < n) {
      ok_ = false;
      return false;
    }
    return true;
  }

  absl::string_view data_;
  size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace ensemble::storage::snapshot

#pragma once

// Jute binary archive: the byte encoding ZooKeeper's BinaryInputArchive and
// BinaryOutputArchive use on the client port.
//
//   int      4 bytes, big-endian two's complement
//   long     8 bytes, big-endian two's complement
//   boolean  1 byte; written as 0 or 1, any non-zero byte reads as true (as Java's
//            DataInput.readBoolean does)
//   buffer   int length, then that many bytes; length -1 means null
//   ustring  the same as buffer (UTF-8 bytes, not validated here)
//   vector   int count, then count elements; count -1 means null
//   record   its fields in declaration order, nothing around them
//
// Reader is bounds-checked: every read that would run past the end, every negative
// length other than -1, and every length above the configured maximum returns an
// error status naming the field. Nothing here throws or aborts on bad input.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace ensemble::jute {

// Default bound on any length-prefixed field and on any frame: 1 MiB + 1 KiB.
// ZooKeeper's own default jute.maxbuffer is 0xfffff (1048575) for frames and
// jute.maxbuffer + zookeeper.jute.maxbuffer.extrasize for fields; the gateway sets
// the real value from zoo.cfg.
inline constexpr int32_t kDefaultMaxBuffer = 1024 * 1024 + 1024;

// Reads jute values from a byte span it does not own.
//
// The span must outlive the Reader. Not thread-safe. After an error the position is
// unspecified; callers stop decoding.
class Reader {
 public:
  explicit Reader(std::string_view data, int32_t max_length = kDefaultMaxBuffer)
      : data_(data), max_length_(max_length) {}

  // The Reader only views its input: refuse temporaries that would dangle.
  explicit Reader(std::string&& data, int32_t max_length = kDefaultMaxBuffer) = delete;
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  // `field` names what is being read ("CreateRequest.path"); it appears in errors.
  // Errors: InvalidArgument (truncated input, negative length, vector count larger
  // than the bytes left), ResourceExhausted (length above max_length).
  [[nodiscard]] absl::Status ReadInt(std::string_view field, int32_t* out);
  [[nodiscard]] absl::Status ReadLong(std::string_view field, int64_t* out);
  [[nodiscard]] absl::Status ReadBool(std::string_view field, bool* out);

  // A buffer or ustring where null (-1) reads as empty.
  [[nodiscard]] absl::Status ReadBuffer(std::string_view field, std::string* out);
  [[nodiscard]] absl::Status ReadString(std::string_view field, std::string* out) {
    return ReadBuffer(field, out);
  }
  // A buffer or ustring where null (-1) is kept as std::nullopt.
  [[nodiscard]] absl::Status ReadNullableBuffer(std::string_view field,
                                                std::optional<std::string>* out);
  [[nodiscard]] absl::Status ReadNullableString(std::string_view field,
                                                std::optional<std::string>* out) {
    return ReadNullableBuffer(field, out);
  }

  // A vector count: -1 (null) reads as 0. Errors as above; a count is also rejected
  // when count * min_element_size exceeds the bytes left, so a hostile count cannot
  // make the caller allocate.
  [[nodiscard]] absl::Status ReadVectorCount(std::string_view field, size_t min_element_size,
                                             int32_t* count);

  // vector<ustring>; null reads as empty.
  [[nodiscard]] absl::Status ReadStringVector(std::string_view field,
                                              std::vector<std::string>* out);

  // vector<Record>: T has `absl::Status Read(Reader&)` and `kMinWireSize`.
  template <typename T>
  [[nodiscard]] absl::Status ReadRecordVector(std::string_view field, std::vector<T>* out);

  // Fails with InvalidArgument naming `what` unless every byte was consumed.
  [[nodiscard]] absl::Status ExpectEnd(std::string_view what) const;

  size_t position() const { return pos_; }
  size_t remaining() const { return data_.size() - pos_; }
  bool AtEnd() const { return pos_ == data_.size(); }
  int32_t max_length() const { return max_length_; }
  // The bytes not read yet.
  std::string_view Rest() const { return data_.substr(pos_); }

 private:
  absl::Status Need(std::string_view field, size_t n) const;
  absl::Status ReadLength(std::string_view field, int32_t* len);

  std::string_view data_;
  size_t pos_ = 0;
  int32_t max_length_;
};

// Appends jute values to a std::string.
//
// Writing never fails: the values come from our own code. A buffer, string or
// vector longer than INT32_MAX is a programmer error (ENSEMBLE_CHECK).
class Writer {
 public:
  // Writes into an internal string (see data() / Release()).
  Writer() : out_(&own_) {}
  // Appends to *out, which must outlive the Writer.
  explicit Writer(std::string* out) : out_(out) {}

  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  void WriteInt(int32_t v);
  void WriteLong(int64_t v);
  void WriteBool(bool v);
  void WriteBuffer(std::string_view v);
  void WriteString(std::string_view v) { WriteBuffer(v); }
  // Writes -1 for std::nullopt.
  void WriteNullableBuffer(const std::optional<std::string>& v);
  void WriteNullableString(const std::optional<std::string>& v) { WriteNullableBuffer(v); }
  void WriteVectorCount(size_t count);
  void WriteStringVector(const std::vector<std::string>& v);
  // vector<Record>: T has `void Write(Writer&) const`.
  template <typename T>
  void WriteRecordVector(const std::vector<T>& v) {
    WriteVectorCount(v.size());
    for (const T& e : v) e.Write(*this);
  }

  // Overwrites 4 bytes at `offset` (already written) with a big-endian int.
  void PatchInt(size_t offset, int32_t v);

  const std::string& data() const { return *out_; }
  size_t size() const { return out_->size(); }
  // Moves the internal string out; only for a Writer() without a target.
  std::string Release();

 private:
  std::string own_;
  std::string* out_;
};

// Prefixes a decoding error with where it happened ("CreateRequest.acl[2]: ...").
absl::Status Annotate(const absl::Status& status, std::string_view where);

// Debian's Abseil has its own absl::string_view, not an alias of std::string_view;
// this converts for absl::StrCat and friends.
inline absl::string_view AbslView(std::string_view s) { return {s.data(), s.size()}; }

template <typename T>
absl::Status Reader::ReadRecordVector(std::string_view field, std::vector<T>* out) {
  int32_t count = 0;
  absl::Status s = ReadVectorCount(field, T::kMinWireSize, &count);
  if (!s.ok()) return s;
  out->clear();
  out->reserve(static_cast<size_t>(count));
  for (int32_t i = 0; i < count; ++i) {
    T element;
    s = element.Read(*this);
    if (!s.ok()) return Annotate(s, absl::StrCat(AbslView(field), "[", i, "]"));
    out->push_back(std::move(element));
  }
  return absl::OkStatus();
}

}  // namespace ensemble::jute

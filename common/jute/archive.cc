#include "common/jute/archive.h"

#include <cstring>
#include <limits>

#include "common/base/check.h"

namespace ensemble::jute {
namespace {

uint32_t LoadBig32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return (uint32_t{u[0]} << 24) | (uint32_t{u[1]} << 16) | (uint32_t{u[2]} << 8) | uint32_t{u[3]};
}

void AppendBig32(std::string* out, uint32_t v) {
  char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
               static_cast<char>(v)};
  out->append(b, 4);
}

}  // namespace

absl::Status Annotate(const absl::Status& status, std::string_view where) {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat(AbslView(where), ": ", status.message()));
}

absl::Status Reader::Need(std::string_view field, size_t n) const {
  if (remaining() >= n) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(AbslView(field), ": truncated: needs ", n,
                                                 " bytes at offset ", pos_, ", ", remaining(),
                                                 " left"));
}

absl::Status Reader::ReadInt(std::string_view field, int32_t* out) {
  absl::Status s = Need(field, 4);
  if (!s.ok()) return s;
  *out = static_cast<int32_t>(LoadBig32(data_.data() + pos_));
  pos_ += 4;
  return absl::OkStatus();
}

absl::Status Reader::ReadLong(std::string_view field, int64_t* out) {
  absl::Status s = Need(field, 8);
  if (!s.ok()) return s;
  uint64_t hi = LoadBig32(data_.data() + pos_);
  uint64_t lo = LoadBig32(data_.data() + pos_ + 4);
  *out = static_cast<int64_t>((hi << 32) | lo);
  pos_ += 8;
  return absl::OkStatus();
}

absl::Status Reader::ReadBool(std::string_view field, bool* out) {
  absl::Status s = Need(field, 1);
  if (!s.ok()) return s;
  *out = data_[pos_] != 0;
  pos_ += 1;
  return absl::OkStatus();
}

// Reads a length prefix: -1 stays -1 (null); any other negative value, or one above
// the maximum, is an error; otherwise the bytes must be there.
absl::Status Reader::ReadLength(std::string_view field, int32_t* len) {
  absl::Status s = ReadInt(field, len);
  if (!s.ok()) return s;
  if (*len == -1) return absl::OkStatus();
  if (*len < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(AbslView(field), ": negative length ", *len, " at offset ", pos_ - 4));
  }
  if (*len > max_length_) {
    return absl::ResourceExhaustedError(
        absl::StrCat(AbslView(field), ": length ", *len, " exceeds jute.maxbuffer ", max_length_));
  }
  return Need(field, static_cast<size_t>(*len));
}

absl::Status Reader::ReadBuffer(std::string_view field, std::string* out) {
  int32_t len = 0;
  absl::Status s = ReadLength(field, &len);
  if (!s.ok()) return s;
  if (len == -1) {
    out->clear();
    return absl::OkStatus();
  }
  out->assign(data_.data() + pos_, static_cast<size_t>(len));
  pos_ += static_cast<size_t>(len);
  return absl::OkStatus();
}

absl::Status Reader::ReadNullableBuffer(std::string_view field, std::optional<std::string>* out) {
  int32_t len = 0;
  absl::Status s = ReadLength(field, &len);
  if (!s.ok()) return s;
  if (len == -1) {
    out->reset();
    return absl::OkStatus();
  }
  out->emplace(data_.data() + pos_, static_cast<size_t>(len));
  pos_ += static_cast<size_t>(len);
  return absl::OkStatus();
}

absl::Status Reader::ReadVectorCount(std::string_view field, size_t min_element_size,
                                     int32_t* count) {
  absl::Status s = ReadInt(field, count);
  if (!s.ok()) return s;
  if (*count == -1) {
    *count = 0;
    return absl::OkStatus();
  }
  if (*count < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(AbslView(field), ": negative vector count ", *count, " at offset ", pos_ - 4));
  }
  if (*count > max_length_) {
    return absl::ResourceExhaustedError(absl::StrCat(AbslView(field), ": vector count ", *count,
                                                     " exceeds jute.maxbuffer ", max_length_));
  }
  const size_t min_bytes =
      static_cast<size_t>(*count) * (min_element_size == 0 ? 1 : min_element_size);
  if (min_bytes > remaining()) {
    return absl::InvalidArgumentError(absl::StrCat(AbslView(field), ": vector count ", *count,
                                                   " needs at least ", min_bytes, " bytes, ",
                                                   remaining(), " left"));
  }
  return absl::OkStatus();
}

absl::Status Reader::ReadStringVector(std::string_view field, std::vector<std::string>* out) {
  int32_t count = 0;
  absl::Status s = ReadVectorCount(field, 4, &count);
  if (!s.ok()) return s;
  out->clear();
  out->reserve(static_cast<size_t>(count));
  for (int32_t i = 0; i < count; ++i) {
    std::string e;
    s = ReadString(field, &e);
    if (!s.ok()) {
      // Messages start with the field name; insert the element index after it.
      absl::string_view rest = s.message().substr(field.size());
      return absl::Status(s.code(), absl::StrCat(AbslView(field), "[", i, "]", rest));
    }
    out->push_back(std::move(e));
  }
  return absl::OkStatus();
}

absl::Status Reader::ExpectEnd(std::string_view what) const {
  if (AtEnd()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(AbslView(what), ": ", remaining(),
                                                 " unexpected trailing bytes at offset ", pos_));
}

void Writer::WriteInt(int32_t v) { AppendBig32(out_, static_cast<uint32_t>(v)); }

void Writer::WriteLong(int64_t v) {
  const auto u = static_cast<uint64_t>(v);
  AppendBig32(out_, static_cast<uint32_t>(u >> 32));
  AppendBig32(out_, static_cast<uint32_t>(u));
}

void Writer::WriteBool(bool v) { out_->push_back(v ? '\1' : '\0'); }

void Writer::WriteBuffer(std::string_view v) {
  ENSEMBLE_CHECK(v.size() <= static_cast<size_t>(std::numeric_limits<int32_t>::max()));
  WriteInt(static_cast<int32_t>(v.size()));
  out_->append(v.data(), v.size());
}

void Writer::WriteNullableBuffer(const std::optional<std::string>& v) {
  if (!v.has_value()) {
    WriteInt(-1);
    return;
  }
  WriteBuffer(*v);
}

void Writer::WriteVectorCount(size_t count) {
  ENSEMBLE_CHECK(count <= static_cast<size_t>(std::numeric_limits<int32_t>::max()));
  WriteInt(static_cast<int32_t>(count));
}

void Writer::WriteStringVector(const std::vector<std::string>& v) {
  WriteVectorCount(v.size());
  for (const std::string& e : v) WriteString(e);
}

void Writer::PatchInt(size_t offset, int32_t v) {
  ENSEMBLE_CHECK(offset + 4 <= out_->size());
  const auto u = static_cast<uint32_t>(v);
  (*out_)[offset] = static_cast<char>(u >> 24);
  (*out_)[offset + 1] = static_cast<char>(u >> 16);
  (*out_)[offset + 2] = static_cast<char>(u >> 8);
  (*out_)[offset + 3] = static_cast<char>(u);
}

std::string Writer::Release() {
  ENSEMBLE_CHECK(out_ == &own_);
  std::string result = std::move(own_);
  own_.clear();
  return result;
}

}  // namespace ensemble::jute

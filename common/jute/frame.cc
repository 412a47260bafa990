#include "common/jute/frame.h"

#include <limits>

#include "absl/strings/str_cat.h"
#include "common/base/check.h"

namespace ensemble::jute {

void FrameDecoder::Feed(std::string_view bytes) {
  if (failed()) return;
  // Drop what was already returned before growing the buffer, so it never holds
  // more than one partial frame plus the new bytes.
  if (start_ > 0) {
    buffer_.erase(0, start_);
    start_ = 0;
  }
  buffer_.append(bytes.data(), bytes.size());
}

absl::StatusOr<std::optional<std::string_view>> FrameDecoder::Next() {
  if (failed()) return status_;
  if (buffered() < kFrameHeaderSize) return std::nullopt;
  Reader header(std::string_view(buffer_).substr(start_, kFrameHeaderSize));
  int32_t len = 0;
  ENSEMBLE_CHECK(header.ReadInt("frame length", &len).ok());
  if (len < 0) {
    status_ = absl::InvalidArgumentError(absl::StrCat("frame: negative length ", len));
    return status_;
  }
  if (len > max_frame_length_) {
    status_ = absl::ResourceExhaustedError(
        absl::StrCat("frame: length ", len, " exceeds jute.maxbuffer ", max_frame_length_));
    return status_;
  }
  const size_t total = kFrameHeaderSize + static_cast<size_t>(len);
  if (buffered() < total) return std::nullopt;
  std::string_view frame = std::string_view(buffer_).substr(start_ + kFrameHeaderSize, len);
  start_ += total;
  return frame;
}

size_t BeginFrame(std::string* out) {
  const size_t begin = out->size();
  out->append(kFrameHeaderSize, '\0');
  return begin;
}

void EndFrame(std::string* out, size_t begin) {
  const size_t payload = out->size() - begin - kFrameHeaderSize;
  ENSEMBLE_CHECK(payload <= static_cast<size_t>(std::numeric_limits<int32_t>::max()));
  Writer w(out);
  w.PatchInt(begin, static_cast<int32_t>(payload));
}

std::string EncodeFrame(std::string_view payload) {
  std::string out;
  out.reserve(kFrameHeaderSize + payload.size());
  const size_t begin = BeginFrame(&out);
  out.append(payload.data(), payload.size());
  EndFrame(&out, begin);
  return out;
}

}  // namespace ensemble::jute

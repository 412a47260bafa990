#pragma once

// Framing of the client port: every packet, both ways, is a 4-byte big-endian
// length followed by that many bytes (ZooKeeper's NIOServerCnxn / ClientCnxnSocket).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/jute/archive.h"

namespace ensemble::jute {

inline constexpr size_t kFrameHeaderSize = 4;

// Splits a byte stream into frames.
//
// Feed it whatever the socket delivered, then call Next() until it yields nullopt.
// A negative length or one above max_frame_length is an error after which the
// decoder stays failed: the connection must be closed, since the stream can no
// longer be resynchronised. A zero length yields an empty frame.
//
// Note: a four-letter-word command ("ruok", "stat", ...) reads as a huge length;
// the gateway must look at the first 4 bytes of a connection before feeding them.
//
// Not thread-safe.
class FrameDecoder {
 public:
  explicit FrameDecoder(int32_t max_frame_length = kDefaultMaxBuffer)
      : max_frame_length_(max_frame_length) {}

  FrameDecoder(const FrameDecoder&) = delete;
  FrameDecoder& operator=(const FrameDecoder&) = delete;

  // Appends bytes from the stream. Ignored once the decoder has failed.
  void Feed(std::string_view bytes);

  // The next complete frame's payload (without the length prefix), nullopt if more
  // bytes are needed, or an error: InvalidArgument for a negative length,
  // ResourceExhausted for one above the maximum. The view stays valid until the next
  // call to Feed() or Next().
  absl::StatusOr<std::optional<std::string_view>> Next();

  // Bytes received but not yet returned as frames.
  size_t buffered() const { return buffer_.size() - start_; }
  bool failed() const { return !status_.ok(); }
  const absl::Status& status() const { return status_; }
  int32_t max_frame_length() const { return max_frame_length_; }

 private:
  int32_t max_frame_length_;
  std::string buffer_;
  size_t start_ = 0;  // first byte not yet returned
  absl::Status status_;
};

// The frame holding `payload`: its length, then the payload.
std::string EncodeFrame(std::string_view payload);

// Writes a frame in place: BeginFrame reserves the length and returns its offset;
// write the payload to the same string; EndFrame fills in the length.
size_t BeginFrame(std::string* out);
void EndFrame(std::string* out, size_t begin);

}  // namespace ensemble::jute

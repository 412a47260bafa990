// libFuzzer target for the jute codec: whatever a client (or a server, for the
// client-side decoders) sends must give either a decoded record or an error status
// -- never a crash, an overread, a huge allocation or a hang.
//
// Each input is used twice:
//   1. as a byte stream, cut into chunks whose sizes come from the input itself and
//      fed to FrameDecoder; the first frame goes to DecodeConnectRequest, later
//      ones to DecodeRequest and DecodeResponse (as if a connection were open);
//   2. as one frame payload, given to every decoder directly.
// Every successful decode is re-encoded and decoded again, and must give the same
// value (decode . encode . decode == decode).

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/jute/archive.h"
#include "common/jute/frame.h"
#include "common/jute/request.h"

namespace ensemble::jute {
namespace {

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "jute fuzz: %s\n", what);
  std::abort();
}

// Payload of a frame produced by our encoder (which must be exactly one frame).
std::string_view UnframeOrDie(const std::string& frame) {
  if (frame.size() < kFrameHeaderSize) Fail("encoded frame shorter than its length");
  Reader r(std::string_view(frame).substr(0, kFrameHeaderSize));
  int32_t len = 0;
  if (!r.ReadInt("len", &len).ok() || static_cast<size_t>(len) != frame.size() - kFrameHeaderSize) {
    Fail("encoded frame length does not match its payload");
  }
  return std::string_view(frame).substr(kFrameHeaderSize);
}

const DecodeOptions kStrict{};
const DecodeOptions kLenientSmall{.max_length = 64, .allow_trailing_bytes = true};

void CheckConnect(std::string_view payload, const DecodeOptions& options) {
  absl::StatusOr<ConnectRequest> request = DecodeConnectRequest(payload, options);
  if (request.ok()) {
    absl::StatusOr<ConnectRequest> again =
        DecodeConnectRequest(UnframeOrDie(EncodeConnectRequest(*request)), options);
    if (!again.ok() || !(*again == *request)) Fail("ConnectRequest does not round-trip");
  }
  absl::StatusOr<ConnectResponse> response = DecodeConnectResponse(payload, options);
  if (response.ok()) {
    absl::StatusOr<ConnectResponse> again =
        DecodeConnectResponse(UnframeOrDie(EncodeConnectResponse(*response)), options);
    if (!again.ok() || !(*again == *response)) Fail("ConnectResponse does not round-trip");
  }
}

void CheckRequest(std::string_view payload, const DecodeOptions& options) {
  absl::StatusOr<RequestHeader> header = DecodeRequestHeader(payload);
  absl::StatusOr<Request> request = DecodeRequest(payload, options);
  if (request.ok() && (!header.ok() || !(*header == request->header))) {
    Fail("DecodeRequestHeader disagrees with DecodeRequest");
  }
  if (!request.ok()) return;
  absl::StatusOr<Request> again =
      DecodeRequest(UnframeOrDie(EncodeRequest(request->header, request->body)), options);
  if (!again.ok() || !(*again == *request)) Fail("Request does not round-trip");
}

constexpr OpCode kReplyOps[] = {
    OpCode::kCreate,
    OpCode::kCreate2,
    OpCode::kDelete,
    OpCode::kExists,
    OpCode::kGetData,
    OpCode::kSetData,
    OpCode::kGetAcl,
    OpCode::kSetAcl,
    OpCode::kGetChildren,
    OpCode::kGetChildren2,
    OpCode::kSync,
    OpCode::kCheck,
    OpCode::kMulti,
    OpCode::kReconfig,
    OpCode::kSasl,
    OpCode::kGetEphemerals,
    OpCode::kGetAllChildrenNumber,
    OpCode::kAddWatch,
    OpCode::kWhoAmI,
    OpCode::kCreateSession,
};

void CheckResponse(std::string_view payload, OpCode op, const DecodeOptions& options) {
  absl::StatusOr<Response> response = DecodeResponse(payload, op, options);
  if (!response.ok()) return;
  absl::StatusOr<Response> again =
      DecodeResponse(UnframeOrDie(EncodeResponse(response->header, response->body)), op, options);
  if (!again.ok() || !(*again == *response)) Fail("Response does not round-trip");
}

void CheckPayload(std::string_view payload) {
  for (const DecodeOptions* options : {&kStrict, &kLenientSmall}) {
    CheckConnect(payload, *options);
    CheckRequest(payload, *options);
    for (OpCode op : kReplyOps) CheckResponse(payload, op, *options);
  }
}

void CheckStream(std::string_view data) {
  // Chunk sizes: 1 + (byte & 31) taken from the input, so frames straddle chunks.
  FrameDecoder decoder(/*max_frame_length=*/4096);
  bool first = true;
  size_t i = 0;
  size_t frames = 0;
  while (i < data.size()) {
    const size_t chunk = 1 + (static_cast<unsigned char>(data[i]) & 31);
    decoder.Feed(data.substr(i, chunk));
    i += chunk;
    for (;;) {
      absl::StatusOr<std::optional<std::string_view>> frame = decoder.Next();
      if (!frame.ok()) {
        if (!decoder.failed()) Fail("FrameDecoder error without failed()");
        return;  // the connection would be closed here
      }
      if (!frame->has_value()) break;
      if ((*frame)->size() > 4096) Fail("FrameDecoder returned a frame above its maximum");
      ++frames;
      // Copy: the view dies at the next Feed/Next, and decoders must not rely on it.
      const std::string payload(**frame);
      if (first) {
        CheckConnect(payload, kStrict);
        first = false;
      } else {
        CheckRequest(payload, kStrict);
        CheckResponse(payload, OpCode::kGetData, kStrict);
      }
    }
  }
  if (decoder.buffered() > data.size()) Fail("FrameDecoder buffered more than it was fed");
  (void)frames;
}

}  // namespace
}  // namespace ensemble::jute

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  ensemble::jute::CheckStream(input);
  ensemble::jute::CheckPayload(input);
  return 0;
}

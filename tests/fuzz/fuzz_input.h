#pragma once

// Shared by the libFuzzer harnesses (tests/fuzz/*_fuzz.cc) and the seed
// generator (fuzz_seed_gen.cc): a reader for a fuzz input used as a script of
// commands, the writer the generator uses to produce such scripts, and the
// command codes of the scripted targets, so a seed and the harness that reads
// it cannot drift apart. README.md describes each target's input format.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace ensemble::fuzz {

// A fuzz finding that is not a crash of the code itself (a broken property the
// harness checks): report it and abort, so libFuzzer saves the input.
[[noreturn]] inline void Fail(const char* target, const std::string& what) {
  std::fprintf(stderr, "%s: %s\n", target, what.c_str());
  std::abort();
}

// ENSEMBLE_FUZZ_TRACE=1 in the environment makes the scripted harnesses print
// what the code under test reports (events, traces, close reasons) to stderr:
// for reading a crash or a seed, never while fuzzing.
inline bool Tracing() {
  static const bool on = [] {
    const char* v = std::getenv("ENSEMBLE_FUZZ_TRACE");
    return v != nullptr && v[0] != '\0' && v[0] != '0';
  }();
  return on;
}

// Known crash classes (README.md, "Known crashes"): bugs of the code under test
// that a fuzzer found and that are reported but not fixed yet. With
// ENSEMBLE_FUZZ_SKIP_KNOWN=<name>[,<name>...] (or "all") in the environment, a
// harness drops the one input step that would trigger a listed class, so a
// bounded run (the ctest entry) can still look for new ones. Unset, every class
// stays reachable: long runs and reproduction see them.
inline bool SkipKnown(std::string_view name) {
  static const std::string list = [] {
    const char* v = std::getenv("ENSEMBLE_FUZZ_SKIP_KNOWN");
    return std::string(v == nullptr ? "" : v);
  }();
  if (list == "all") return true;
  std::string_view rest = list;
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    if (rest.substr(0, comma) == name) return true;
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return false;
}

// a + b with two's complement wrap-around: the harnesses compute values near
// the state of the code under test, which a fuzz input can push to the limits;
// the harness itself must not be the one with a signed overflow.
inline int64_t WrapAdd(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}

// Reads an input front to back. Past the end every read yields zeros / an empty
// view, so a truncated script still runs (and then stops: see empty()).
class Input {
 public:
  Input(const uint8_t* data, size_t size)
      : data_(reinterpret_cast<const char*>(data)), size_(size) {}
  explicit Input(std::string_view bytes) : data_(bytes.data()), size_(bytes.size()) {}

  bool empty() const { return pos_ >= size_; }
  size_t remaining() const { return size_ - pos_; }

  uint8_t Byte() { return pos_ < size_ ? static_cast<uint8_t>(data_[pos_++]) : 0; }
  // Little-endian.
  uint16_t U16() { return static_cast<uint16_t>(Byte() | (Byte() << 8)); }
  uint32_t U32() { return U16() | (static_cast<uint32_t>(U16()) << 16); }
  uint64_t U64() { return U32() | (static_cast<uint64_t>(U32()) << 32); }
  // Up to `n` bytes (fewer at the end of the input).
  std::string_view Bytes(size_t n) {
    if (n > remaining()) n = remaining();
    std::string_view out(data_ + pos_, n);
    pos_ += n;
    return out;
  }
  std::string_view Rest() { return Bytes(remaining()); }

 private:
  const char* data_;
  size_t size_;
  size_t pos_ = 0;
};

// Builds inputs for Input (the generator).
class Script {
 public:
  Script& Byte(uint8_t b) {
    out_.push_back(static_cast<char>(b));
    return *this;
  }
  Script& U16(uint16_t v) { return Byte(v & 0xff).Byte(v >> 8); }
  Script& U32(uint32_t v) { return U16(v & 0xffff).U16(v >> 16); }
  Script& U64(uint64_t v) {
    return U32(static_cast<uint32_t>(v)).U32(static_cast<uint32_t>(v >> 32));
  }
  Script& Bytes(std::string_view b) {
    out_.append(b.data(), b.size());
    return *this;
  }
  const std::string& str() const { return out_; }

 private:
  std::string out_;
};

// ---- gateway_frames_fuzz ----
// input := flags:u8 command*;  command := op:u8 args (kind = op & 7, arg = op >> 3)
namespace gateway_cmd {
inline constexpr uint8_t kFlagSmallOutstanding = 1 << 0;  // max_outstanding = 2
inline constexpr uint8_t kFlagSmallFrames = 1 << 1;       // max_frame_bytes = 96
inline constexpr uint8_t kFlagReconfig = 1 << 2;          // reconfigEnabled
inline constexpr uint8_t kFlagSuperDigest = 1 << 3;       // superDigest = super:secret
inline constexpr uint8_t kFlagReplicationDown = 1 << 4;   // replication starts down
inline constexpr uint8_t kFlagStorageDown = 1 << 5;       // storage starts down
enum Kind : uint8_t {
  kData = 0,         // len:u16 (& 0x1fff) bytes: client bytes into the socket buffer
  kDeliverAll = 1,   // upstream answers everything pending, repeatedly, until quiet
  kDeliverOne = 2,   // arg % 3: the oldest read / write / sync barrier is answered
  kReject = 3,       // arg % 8: replication refuses the oldest write with that error
  kTick = 4,         // n:u8: the clock moves (n + 1) * 100 ms, then OnTick
  kUpstream = 5,     // arg % 4: storage lost / replication lost / session moved / all up
  kExpire = 6,       // the leader expires the session (closeSession, origin 0)
  kEndOfStream = 7,  // the client closes its side
};
}  // namespace gateway_cmd

// The session that exists in the gateway harness's storage from the start, so
// re-attach seeds can present its id and password (SessionPassword with the
// default secret).
inline constexpr int64_t kGatewayPresetSession = 0x0100000000000001LL;
inline constexpr uint64_t kGatewayConnectionId = 7;

// ---- zab_peer_fuzz ----
// input := setup:u8 command*;  command := op:u8 args (kind = op & 15, arg = op >> 4)
namespace zab_cmd {
// setup & 3: the scenario.
inline constexpr uint8_t kScenarioLeader = 0;       // sid 1 leads (voters 1,2,3; observer 4)
inline constexpr uint8_t kScenarioFollower = 1;     // sid 1 follows 2
inline constexpr uint8_t kScenarioObserver = 2;     // sid 4 observes 2
inline constexpr uint8_t kScenarioFollowerOf3 = 3;  // sid 1 follows 3
// (setup >> 2) & 3: the disk the peer starts from (see DiskFor in the harness).
inline constexpr uint8_t kSetupSmallCache = 1 << 4;  // log_cache_txns = 2
inline constexpr uint8_t kSetupFewWaiting = 1 << 5;  // max_waiting_txns = 4
inline constexpr uint8_t kSetupRollover = 1 << 6;    // counter starts near 2^32
inline constexpr uint8_t kSetupLazyDisk = 1 << 7;    // persists and applies wait for commands
enum Kind : uint8_t {
  kStepRaw = 0,      // arg: peer (bits 0-1), keep conn (bit 2); len:u16 (& 0x3ff) PeerMessage bytes
  kStepRaw2 = 1,     // same
  kStepFields = 2,   // arg: peer (bits 0-1), conn from the input (bit 2); fields (see harness)
  kTick = 5,         // arg + 1 ticks
  kPersist = 6,      // arg + 1 pending persists complete (15: all)
  kApply = 7,        // storage applies what is committed and durable
  kSubmit = 8,       // arg % 4: createSession / create / setData / closeSession; session:u8
  kLocal = 9,        // arg % 3: Touch / SyncRequest / LogPurged(applied)
  kDisconnect = 10,  // arg: peer
  kElection = 11,    // if LOOKING: ElectionFinished(leader chosen by arg)
  // 3, 4, 12..15: kStepFields as well (structured messages are the most productive).
};
// Selector values for the harness's integer fields (Value()).
enum ValueSel : uint8_t {
  kZero = 0,
  kLast = 1,  // the peer's last zxid
  kLastPlus1 = 2,
  kLastMinus1 = 3,
  kCommitted = 4,
  kCommittedMinus1 = 5,
  kEpochZxid = 6,      // Zxid(epoch(), small:u8)
  kNextEpochZxid = 7,  // Zxid(accepted_epoch() + 1, 1)
  kEpoch = 8,
  kAcceptedEpoch = 9,
  kAcceptedEpochPlus1 = 10,
  kCurrentEpoch = 11,
  kMinusOne = 12,
  kMax = 13,
  kMin = 14,
  kRaw = 15,  // u64 follows
};
}  // namespace zab_cmd
inline constexpr uint64_t kZabConnBase = 1000;

// ---- fle_fuzz ----
// input := setup:u8 state:u8 command*;  command := op:u8 args (kind = op & 7, arg = op >> 3)
namespace fle_cmd {
enum Kind : uint8_t {
  kStep = 0,        // arg: sender; fields (see harness)
  kStep2 = 1,       // same
  kStep3 = 2,       // same
  kBatchRaw = 3,    // arg bit 0: force the batch's sids to the sender; len:u16 (& 0x3ff) bytes
  kStatus = 4,      // arg: sender; fields: a status heartbeat (PeerStatus)
  kTick = 5,        // arg + 1 ticks
  kDisconnect = 6,  // arg: the peer whose stream ended
  kRestart = 7,     // arg & 1: Abandon first; then Start (the shell's re-election)
};
}  // namespace fle_cmd

}  // namespace ensemble::fuzz

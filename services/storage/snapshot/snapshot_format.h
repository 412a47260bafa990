#pragma once

// Constants of the snapshot format. The format itself is described in
// docs/formats/snapshot.md; keep the two in step.
//
// All integers are little-endian. A file is
//   header (kHeaderSize bytes, CRC32 over its first 48 bytes)
//   chunk*  (type u32, payload length u32, payload, CRC32 over type+length+payload)
// with the chunks in this order: ACL, node, session chunks, then one trailer
// chunk and nothing after it.

#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"

namespace ensemble::storage::snapshot {

// "ENSSNAP" and a newline: a text-mode transfer or a wrong file shows at once.
inline constexpr char kMagic[8] = {'E', 'N', 'S', 'S', 'N', 'A', 'P', '\n'};

// Format version, bumped on any incompatible change.
//   1: first version (ACL table, preorder nodes, sessions, trailer).
inline constexpr uint32_t kVersion = 1;

// magic 8, version 4, flags 4, zxid 8, digest 8, node count 8,
// session count 8, header CRC 4.
inline constexpr size_t kHeaderSize = 52;
inline constexpr size_t kHeaderCrcOffset = 48;

// Chunk framing: type u32 + length u32 before the payload, CRC32 after it.
inline constexpr size_t kChunkHeaderSize = 8;
inline constexpr size_t kChunkCrcSize = 4;

// Chunk types.
enum class ChunkType : uint32_t {
  // ACL lists; the i-th list in the file is ACL index i.
  kAcls = 1,
  // Znodes, parent before child, the root first.
  kNodes = 2,
  // Open sessions.
  kSessions = 3,
  // The last chunk: counts and zxid/digest again, then the end of the file.
  kTrailer = 0x21444E45,  // "END!"
};

// Writers aim for this much payload per chunk; one record never spans two
// chunks, so a larger record gets a chunk of its own.
inline constexpr size_t kTargetChunkPayload = 1 << 20;
// A reader refuses a chunk longer than this before allocating for it.
inline constexpr uint32_t kMaxChunkPayload = 128u << 20;

// Node kinds in node records (services/storage/core/ephemeral_type.h).
inline constexpr uint8_t kMaxNodeKind = 3;

// Trailer payload: node count, session count, ACL count, zxid, digest.
inline constexpr size_t kTrailerPayloadSize = 40;

// File names: "snapshot.<zxid in lowercase hex>" (ZooKeeper's naming); a
// file being written carries kTempSuffix, a corrupt one set aside
// kBrokenSuffix.
inline constexpr absl::string_view kFilePrefix = "snapshot.";
inline constexpr absl::string_view kTempSuffix = ".tmp";
inline constexpr absl::string_view kBrokenSuffix = ".broken";

}  // namespace ensemble::storage::snapshot

#pragma once

// ZooKeeper's encoding of special node kinds in StatPersisted.ephemeralOwner
// (EphemeralType.java, with zookeeper.extendedTypesEnabled=true):
//   0                          persistent ("VOID")
//   0x8000000000000000         container (CONTAINER_EPHEMERAL_OWNER)
//   0xff0000xxxxxxxxxx         TTL node, the low 40 bits hold the TTL in ms
//   anything else              the owning session of an ephemeral node
// Session ids whose high byte is 0xff would read as TTL nodes, which is why
// ZooKeeper caps server ids at 254 when extended types are on; the storage
// core keeps the node kind explicitly and never decodes it from the owner.

#include <cstdint>

namespace ensemble::storage {

enum class NodeKind : uint8_t {
  kPersistent = 0,
  kEphemeral = 1,
  kContainer = 2,
  kTtl = 3,
};

inline constexpr int64_t kContainerEphemeralOwner = INT64_MIN;
inline constexpr uint64_t kExtendedMask = 0xff00000000000000ULL;
inline constexpr uint64_t kExtendedBitTtl = 0x0000;
// EphemeralType.TTL.maxValue(): ~(EXTENDED_MASK | RESERVED_BITS_MASK).
inline constexpr int64_t kMaxTtlMs = 0x000000ffffffffffLL;

// EphemeralType.TTL.toEphemeralOwner. REQUIRES: 0 < ttl_ms <= kMaxTtlMs.
constexpr int64_t TtlToEphemeralOwner(int64_t ttl_ms) {
  return static_cast<int64_t>(kExtendedMask | kExtendedBitTtl | static_cast<uint64_t>(ttl_ms));
}

// EphemeralType.TTL.getValue.
constexpr int64_t TtlFromEphemeralOwner(int64_t owner) {
  return static_cast<int64_t>(static_cast<uint64_t>(owner) & static_cast<uint64_t>(kMaxTtlMs));
}

// The ephemeralOwner a client sees (DataNode.getClientEphemeralOwner): only
// real ephemerals show their session; containers and TTL nodes show 0.
constexpr int64_t ClientEphemeralOwner(NodeKind kind, int64_t owner) {
  return kind == NodeKind::kEphemeral ? owner : 0;
}

}  // namespace ensemble::storage

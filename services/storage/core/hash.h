#pragma once

// Portable 64-bit hashing for the tree digest. absl::Hash is seeded per
// process, so it cannot be used for anything compared across peers; these
// functions give the same value on every machine, compiler and run.

#include <cstdint>
#include "absl/strings/string_view.h"

namespace ensemble::storage {

// A 64-bit finaliser (SplitMix64's).
constexpr uint64_t Mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

// Folds `value` into the running hash `h`.
constexpr uint64_t HashCombine(uint64_t h, uint64_t value) {
  return Mix64(h ^ (value + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2)));
}

// A byte-string hash (multiply-rotate over little-endian 8-byte words).
uint64_t HashBytes(absl::string_view bytes, uint64_t seed);

}  // namespace ensemble::storage

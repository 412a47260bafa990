#pragma once

#include <cstdint>

namespace ensemble {

// A seeded, portable PRNG (SplitMix64). Same seed, same sequence, on every
// compiler and standard library; std::uniform_int_distribution is not, so the
// simulator and randomized tests use this.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}

  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  // A value in [0, n). REQUIRES: n > 0.
  uint64_t Uniform(uint64_t n) { return Next() % n; }

  // True with probability 1/n.
  bool OneIn(uint64_t n) { return Uniform(n) == 0; }

  // A seed for a subsystem, derived from this generator.
  uint64_t Derive() { return Next(); }

 private:
  uint64_t state_;
};

}  // namespace ensemble

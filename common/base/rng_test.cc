#include "common/base/rng.h"

#include <gtest/gtest.h>

namespace ensemble {
namespace {

TEST(Rng, SameSeedSameSequence) {
  Rng a(42), b(42);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(a.Next(), b.Next());
}

TEST(Rng, DifferentSeedsDiffer) {
  Rng a(1), b(2);
  EXPECT_NE(a.Next(), b.Next());
}

TEST(Rng, UniformStaysInRange) {
  Rng r(7);
  for (int i = 0; i < 1000; ++i) EXPECT_LT(r.Uniform(13), 13u);
}

TEST(Rng, KnownFirstValueForSeedZero) {
  // SplitMix64's published first output for seed 0.
  Rng r(0);
  EXPECT_EQ(r.Next(), 0xe220a8397b1dcdafULL);
}

}  // namespace
}  // namespace ensemble

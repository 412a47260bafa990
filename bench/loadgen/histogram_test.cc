#include "bench/loadgen/histogram.h"

#include <cstdint>
#include <vector>

#include "common/base/rng.h"
#include "gtest/gtest.h"

namespace ensemble::bench {
namespace {

TEST(HistogramTest, EmptyReportsZeros) {
  Histogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.mean(), 0.0);
  EXPECT_EQ(h.Percentile(0.5), 0u);
  EXPECT_EQ(h.Percentile(0.999), 0u);
}

TEST(HistogramTest, SmallValuesAreExact) {
  Histogram h;
  for (uint64_t v = 0; v < 256; ++v) h.Record(v);
  EXPECT_EQ(h.count(), 256u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.max(), 255u);
  // ceil(0.5 * 256) = 128th smallest = 127.
  EXPECT_EQ(h.Percentile(0.5), 127u);
  EXPECT_EQ(h.Percentile(0.99), 253u);  // ceil(253.44) = 254th = 253
  EXPECT_EQ(h.Percentile(1.0), 255u);
  EXPECT_EQ(h.Percentile(0.0), 0u);
  EXPECT_DOUBLE_EQ(h.mean(), 127.5);
}

TEST(HistogramTest, BucketsAreContiguousAndNarrow) {
  // Every bucket starts right after the previous one ends, and its width is at
  // most 1/128 of its lower edge beyond the exact range.
  for (size_t i = 1; i < Histogram::kBucketCount; ++i) {
    ASSERT_EQ(Histogram::BucketLow(i), Histogram::BucketHigh(i - 1) + 1) << i;
    uint64_t low = Histogram::BucketLow(i), high = Histogram::BucketHigh(i);
    ASSERT_LE(high, UINT64_MAX);
    if (i >= 256) {
      ASSERT_LE(high - low + 1, low / 128 + 1) << i;
    }
  }
  EXPECT_EQ(Histogram::BucketHigh(Histogram::kBucketCount - 1), UINT64_MAX);
}

TEST(HistogramTest, BucketIndexRoundTrips) {
  Rng rng(42);
  for (int i = 0; i < 100000; ++i) {
    uint64_t v = rng.Next() >> rng.Uniform(64);
    size_t index = Histogram::BucketIndex(v);
    ASSERT_LT(index, Histogram::kBucketCount);
    ASSERT_LE(Histogram::BucketLow(index), v);
    ASSERT_GE(Histogram::BucketHigh(index), v);
  }
  EXPECT_EQ(Histogram::BucketIndex(UINT64_MAX), Histogram::kBucketCount - 1);
}

TEST(HistogramTest, PercentilesOfUniformValuesWithinPrecision) {
  // 1..100000 microseconds in nanoseconds: the q-quantile is q * 1e5 us.
  Histogram h;
  for (uint64_t us = 1; us <= 100000; ++us) h.Record(us * 1000);
  for (double q : {0.5, 0.9, 0.99, 0.999}) {
    double want = q * 100000 * 1000;
    double got = static_cast<double>(h.Percentile(q));
    EXPECT_GE(got, want) << q;  // never below the true value
    EXPECT_LE(got, want * (1 + 1.0 / 128)) << q;
  }
  EXPECT_EQ(h.max(), 100000u * 1000);
  EXPECT_EQ(h.min(), 1000u);
  EXPECT_NEAR(h.mean(), 50000.5 * 1000, 1e-3);
}

TEST(HistogramTest, PercentileNeverExceedsMax) {
  Histogram h;
  h.Record(1000001);  // bucket edge above, capped by the exact maximum
  EXPECT_EQ(h.Percentile(0.5), 1000001u);
  EXPECT_EQ(h.Percentile(0.999), 1000001u);
}

TEST(HistogramTest, TailPercentilesSeeOutliers) {
  // 998 fast replies and 2 slow ones: p99 is fast, p99.9 catches a slow one.
  Histogram h;
  h.RecordN(100000, 998);
  h.RecordN(50000000, 2);
  EXPECT_LE(h.Percentile(0.99), 100000u * 129 / 128);
  EXPECT_GE(h.Percentile(0.999), 50000000u);
  EXPECT_EQ(h.max(), 50000000u);
}

TEST(HistogramTest, MergeEqualsRecordingEverything) {
  Histogram a, b, all;
  Rng rng(7);
  for (int i = 0; i < 5000; ++i) {
    uint64_t v = rng.Uniform(10000000);
    (i % 3 ? a : b).Record(v);
    all.Record(v);
  }
  a.Merge(b);
  EXPECT_EQ(a.count(), all.count());
  EXPECT_EQ(a.min(), all.min());
  EXPECT_EQ(a.max(), all.max());
  for (double q : {0.1, 0.5, 0.99, 0.999}) EXPECT_EQ(a.Percentile(q), all.Percentile(q)) << q;
  Histogram empty;
  a.Merge(empty);
  EXPECT_EQ(a.count(), all.count());
  empty.Merge(all);
  EXPECT_EQ(empty.Percentile(0.5), all.Percentile(0.5));
}

TEST(HistogramTest, ClearForgetsEverything) {
  Histogram h;
  h.Record(5);
  h.Clear();
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.Percentile(0.5), 0u);
  h.Record(9);
  EXPECT_EQ(h.min(), 9u);
}

}  // namespace
}  // namespace ensemble::bench

#pragma once

// A log-linear latency histogram (HdrHistogram's bucketing with 7 sub-bucket
// bits): values 0..255 are exact, larger values fall in buckets whose width is
// 1/128 of their magnitude, so any reported percentile is within 0.8% of the true
// value (above the true value, never below: a percentile is the upper edge of its
// bucket, capped by the exact maximum). Fixed size (about 60 KB), no allocation
// while recording, mergeable. Pure: no clocks; the unit is the caller's (ns here).

#include <array>
#include <cstddef>
#include <cstdint>

namespace ensemble::bench {

class Histogram {
 public:
  static constexpr int kSubBucketBits = 7;
  static constexpr uint64_t kSubBucketCount = uint64_t{1} << kSubBucketBits;  // 128
  // Indices 0..255 hold values 0..255; each further power of two adds 128 buckets.
  static constexpr size_t kBucketCount = (64 - kSubBucketBits + 1) * kSubBucketCount;

  void Record(uint64_t value) { RecordN(value, 1); }
  void RecordN(uint64_t value, uint64_t n);
  void Merge(const Histogram& other);
  void Clear();

  uint64_t count() const { return count_; }
  // Exact extremes and mean of what was recorded; 0 when empty.
  uint64_t min() const { return count_ ? min_ : 0; }
  uint64_t max() const { return max_; }
  double mean() const;

  // The smallest value v such that at least q of the recorded values are <= v
  // (to the bucket's precision). q is clamped to [0, 1]; q = 0 gives min(), q = 1
  // gives max(). 0 when empty.
  uint64_t Percentile(double q) const;

  // Bucket arithmetic, public for tests.
  static size_t BucketIndex(uint64_t value);
  static uint64_t BucketLow(size_t index);
  static uint64_t BucketHigh(size_t index);

 private:
  std::array<uint64_t, kBucketCount> buckets_{};
  uint64_t count_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
  long double sum_ = 0;
};

}  // namespace ensemble::bench

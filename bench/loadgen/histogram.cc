#include "bench/loadgen/histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

#include "common/base/check.h"

namespace ensemble::bench {

size_t Histogram::BucketIndex(uint64_t value) {
  if (value < 2 * kSubBucketCount) return static_cast<size_t>(value);
  const int msb = 63 - std::countl_zero(value);  // >= 8
  const int shift = msb - kSubBucketBits;        // >= 1
  const uint64_t mantissa = value >> shift;      // in [128, 255]
  return static_cast<size_t>(shift) * kSubBucketCount + static_cast<size_t>(mantissa);
}

uint64_t Histogram::BucketLow(size_t index) {
  if (index < 2 * kSubBucketCount) return index;
  const size_t shift = index / kSubBucketCount - 1;
  const uint64_t mantissa = index - shift * kSubBucketCount;
  return mantissa << shift;
}

uint64_t Histogram::BucketHigh(size_t index) {
  if (index < 2 * kSubBucketCount) return index;
  const size_t shift = index / kSubBucketCount - 1;
  const uint64_t mantissa = index - shift * kSubBucketCount;
  // The last bucket ends at UINT64_MAX; ((mantissa + 1) << shift) would wrap to 0.
  return ((mantissa + 1) << shift) - 1;
}

void Histogram::RecordN(uint64_t value, uint64_t n) {
  if (n == 0) return;
  const size_t index = BucketIndex(value);
  ENSEMBLE_CHECK(index < kBucketCount);
  buckets_[index] += n;
  count_ += n;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
  sum_ += static_cast<long double>(value) * n;
}

void Histogram::Merge(const Histogram& other) {
  if (other.count_ == 0) return;
  for (size_t i = 0; i < kBucketCount; ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  sum_ += other.sum_;
}

void Histogram::Clear() { *this = Histogram(); }

double Histogram::mean() const {
  return count_ ? static_cast<double>(sum_ / static_cast<long double>(count_)) : 0.0;
}

uint64_t Histogram::Percentile(double q) const {
  if (count_ == 0) return 0;
  if (!(q > 0)) return min_;  // also NaN
  if (q >= 1) return max_;
  // The rank of the wanted value, 1-based: ceil(q * count), at least 1.
  uint64_t rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_)));
  rank = std::clamp<uint64_t>(rank, 1, count_);
  uint64_t seen = 0;
  for (size_t i = 0; i < kBucketCount; ++i) {
    seen += buckets_[i];
    if (seen >= rank) return std::clamp(BucketHigh(i), min_, max_);
  }
  return max_;  // unreachable: the buckets add up to count_
}

}  // namespace ensemble::bench

// backoff_delay: full jitter in [0, min(cap, base * 2^retry)], the cap, the Retry-After floor.
#include "core/engine/backoff.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <random>
#include <set>

namespace replicator::engine {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;

std::int64_t ceiling_of(const BackoffPolicy& p, int retry) {
  std::int64_t c = p.base.count();
  for (int i = 0; i < retry && c < p.cap.count(); ++i) c *= 2;
  return std::min(c, p.cap.count());
}

TEST(Backoff, DefaultsAreSensible) {
  BackoffPolicy p;
  EXPECT_EQ(p.base, 1000ms);
  EXPECT_EQ(p.cap, 30s);
  EXPECT_EQ(p.max_attempts, 5);
}

TEST(Backoff, DelayStaysWithinTheExponentialCeiling) {
  BackoffPolicy p{.base = 100ms, .cap = 30s};
  std::mt19937_64 rng(7);
  for (int retry = 0; retry <= 20; ++retry) {
    const std::int64_t ceiling = ceiling_of(p, retry);
    EXPECT_EQ(ceiling, std::min<std::int64_t>(100LL << std::min(retry, 30), 30'000)) << retry;
    std::int64_t lo = std::numeric_limits<std::int64_t>::max(), hi = -1;
    for (int i = 0; i < 5000; ++i) {
      const auto d = backoff_delay(p, retry, rng).count();
      ASSERT_GE(d, 0) << "retry " << retry;
      ASSERT_LE(d, ceiling) << "retry " << retry;
      lo = std::min(lo, d);
      hi = std::max(hi, d);
    }
    // Full jitter: the whole range is used.
    EXPECT_LE(lo, ceiling / 20) << "retry " << retry;
    EXPECT_GE(hi, ceiling - ceiling / 20) << "retry " << retry;
  }
}

TEST(Backoff, CapIsRespectedForHugeRetryCounts) {
  BackoffPolicy p{.base = 1s, .cap = 30s};
  std::mt19937 rng(1);
  for (int retry : {5, 6, 30, 63, 64, 1000, std::numeric_limits<int>::max()}) {
    for (int i = 0; i < 200; ++i) {
      const auto d = backoff_delay(p, retry, rng);
      ASSERT_GE(d.count(), 0);
      ASSERT_LE(d, 30s) << "retry " << retry;
    }
  }
}

TEST(Backoff, BaseAboveCapIsCapped) {
  BackoffPolicy p{.base = 10s, .cap = 2s};
  std::mt19937 rng(2);
  for (int i = 0; i < 500; ++i) ASSERT_LE(backoff_delay(p, 0, rng), 2s);
}

TEST(Backoff, FirstRetryUsesTheBase) {
  BackoffPolicy p{.base = 250ms, .cap = 30s};
  std::mt19937 rng(3);
  std::int64_t hi = 0;
  for (int i = 0; i < 5000; ++i) hi = std::max<std::int64_t>(hi, backoff_delay(p, 0, rng).count());
  EXPECT_LE(hi, 250);
  EXPECT_GE(hi, 240);
}

TEST(Backoff, RetryAfterIsAFloor) {
  BackoffPolicy p{.base = 100ms, .cap = 30s};
  std::mt19937 rng(4);
  for (int retry = 0; retry < 10; ++retry) {
    for (int i = 0; i < 500; ++i) {
      const auto d = backoff_delay(p, retry, rng, 5s);
      ASSERT_GE(d, 5s);
      ASSERT_LE(d.count(), std::max<std::int64_t>(5000, ceiling_of(p, retry)));
    }
  }
  // A Retry-After beyond the cap is still honoured: the server said so.
  for (int i = 0; i < 100; ++i) EXPECT_EQ(backoff_delay(p, 3, rng, 2min), 2min);
}

TEST(Backoff, DistributionIsNotConstantAndCentred) {
  BackoffPolicy p{.base = 1s, .cap = 30s};
  std::mt19937 rng(5);
  std::set<std::int64_t> seen;
  double sum = 0;
  const int n = 20'000;
  for (int i = 0; i < n; ++i) {
    const auto d = backoff_delay(p, 3, rng).count();  // ceiling 8 s
    seen.insert(d);
    sum += static_cast<double>(d);
  }
  EXPECT_GT(seen.size(), 1000u);
  EXPECT_NEAR(sum / n, 4000.0, 200.0);  // uniform on [0, 8000]
  // Two generators with different seeds do not move in lockstep.
  std::mt19937 a(11), b(12);
  int equal = 0;
  for (int i = 0; i < 100; ++i) equal += backoff_delay(p, 5, a) == backoff_delay(p, 5, b);
  EXPECT_LT(equal, 5);
}

TEST(Backoff, SameSeedSameSequence) {
  BackoffPolicy p;
  std::mt19937 a(42), b(42);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(backoff_delay(p, i % 8, a), backoff_delay(p, i % 8, b));
}

TEST(Backoff, ZeroCapMeansNoDelayUnlessTheServerAsks) {
  BackoffPolicy p{.base = 0ms, .cap = 0ms};
  std::mt19937 rng(6);
  EXPECT_EQ(backoff_delay(p, 4, rng), 0ms);
  EXPECT_EQ(backoff_delay(p, 4, rng, 3s), 3s);
}

}  // namespace
}  // namespace replicator::engine

// Capped exponential backoff with full jitter (house style rule 14).
#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace replicator::engine {

struct BackoffPolicy {
  std::chrono::milliseconds base{1000};
  std::chrono::milliseconds cap{30'000};
  int max_attempts = 5;  // attempts in total, the first one included
};

// The delay before retry number `retry` (0 for the first retry): uniform in
// [0, min(cap, base * 2^retry)], and never less than `at_least` (a server's Retry-After).
template <class Rng>
std::chrono::milliseconds backoff_delay(const BackoffPolicy& p, int retry, Rng& rng,
                                        std::chrono::milliseconds at_least = {}) {
  const std::int64_t cap = p.cap.count();
  std::int64_t ceiling = p.base.count();
  for (int i = 0; i < retry && ceiling < cap; ++i) ceiling *= 2;
  if (ceiling > cap) ceiling = cap;
  std::uniform_int_distribution<std::int64_t> dist(0, ceiling);
  std::chrono::milliseconds d{dist(rng)};
  return d < at_least ? at_least : d;
}

}  // namespace replicator::engine

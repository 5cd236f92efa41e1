// The licence limits of contract 2.5 as modelled by A09: an in-flight counter with an immediate
// 429 above max_concurrent, and a sliding window that delays (never rejects) calls above
// calls_per_minute while they keep their concurrency slot.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>

#include "tests/actito_sim/sim_options.hpp"

namespace replicator::actito_sim {

// Thread-safe; shared by every connection of one simulator (the licence scope).
class RequestLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  explicit RequestLimiter(LimitOptions options) : options_(options) {}

  // Counts the request as in flight. Returns false when the concurrency limit is exceeded: the
  // request is then answered 429 at once, is not counted in flight nor in the window.
  bool try_enter();
  void leave();
  // Reserves this request's place in the sliding window and returns when it may proceed: now,
  // or when the oldest admitted call leaves the window.
  Clock::time_point admit();

  // Replaces the limits; the per-minute window starts empty.
  void set_options(const LimitOptions& options);
  LimitOptions options() const;
  std::int64_t in_flight() const;
  std::int64_t max_in_flight() const;
  void reset_max_in_flight();

 private:
  mutable std::mutex mutex_;  // guards everything below
  LimitOptions options_;
  std::int64_t in_flight_ = 0;
  std::int64_t max_in_flight_ = 0;
  std::deque<Clock::time_point> admissions_;  // non-decreasing; may hold future reservations
};

}  // namespace replicator::actito_sim

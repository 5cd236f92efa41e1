#include "tests/actito_sim/request_limiter.hpp"

#include <algorithm>

namespace replicator::actito_sim {

bool RequestLimiter::try_enter() {
  std::lock_guard lock(mutex_);
  if (options_.max_concurrent > 0 && in_flight_ >= options_.max_concurrent) return false;
  ++in_flight_;
  max_in_flight_ = std::max(max_in_flight_, in_flight_);
  return true;
}

void RequestLimiter::leave() {
  std::lock_guard lock(mutex_);
  --in_flight_;
}

RequestLimiter::Clock::time_point RequestLimiter::admit() {
  const auto now = Clock::now();
  std::lock_guard lock(mutex_);
  if (options_.calls_per_minute <= 0) return now;
  while (!admissions_.empty() && admissions_.front() <= now - options_.window) {
    admissions_.pop_front();
  }
  const auto limit = static_cast<std::size_t>(options_.calls_per_minute);
  auto at = now;
  if (admissions_.size() >= limit) {
    // The (size - limit + 1)-th newest reservation must leave the window first.
    at = std::max(now, admissions_[admissions_.size() - limit] + options_.window);
  }
  admissions_.push_back(at);
  return at;
}

void RequestLimiter::set_options(const LimitOptions& options) {
  std::lock_guard lock(mutex_);
  options_ = options;
  admissions_.clear();  // new limits start with an empty window
}

LimitOptions RequestLimiter::options() const {
  std::lock_guard lock(mutex_);
  return options_;
}

std::int64_t RequestLimiter::in_flight() const {
  std::lock_guard lock(mutex_);
  return in_flight_;
}

std::int64_t RequestLimiter::max_in_flight() const {
  std::lock_guard lock(mutex_);
  return max_in_flight_;
}

void RequestLimiter::reset_max_in_flight() {
  std::lock_guard lock(mutex_);
  max_in_flight_ = in_flight_;
}

}  // namespace replicator::actito_sim

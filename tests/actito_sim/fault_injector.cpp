#include "tests/actito_sim/fault_injector.hpp"

#include "tests/actito_sim/data_generation.hpp"

namespace replicator::actito_sim {

FaultInjector::Decision FaultInjector::decide(std::string_view path) {
  std::lock_guard lock(mutex_);
  Decision d;
  d.delay = spec_.latency;
  if (spec_.latency_jitter.count() > 0) {
    jitter_state_ = mix64(jitter_state_);
    d.delay += std::chrono::milliseconds(static_cast<std::int64_t>(
        jitter_state_ % static_cast<std::uint64_t>(spec_.latency_jitter.count() + 1)));
  }
  if (!path.starts_with(spec_.route_prefix)) return d;
  if (spec_.close_next > 0) {
    --spec_.close_next;
    d.close = true;
    return d;
  }
  bool fail = false;
  if (spec_.fail_next > 0) {
    --spec_.fail_next;
    fail = true;
  } else if (spec_.fail_every > 0 && ++every_counter_ % spec_.fail_every == 0) {
    fail = true;
  }
  if (fail) {
    d.fail_status = spec_.fail_status;
    d.retry_after_s = spec_.retry_after_s;
  }
  return d;
}

void FaultInjector::set(FaultSpec spec) {
  std::lock_guard lock(mutex_);
  spec_ = std::move(spec);
  every_counter_ = 0;
}

FaultSpec FaultInjector::get() const {
  std::lock_guard lock(mutex_);
  return spec_;
}

}  // namespace replicator::actito_sim

// Fault injection: latency, failing or dropping selected requests (flags, API, /_sim/faults).
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string_view>

#include "tests/actito_sim/sim_options.hpp"

namespace replicator::actito_sim {

// Decides which injected fault hits a request. Thread-safe.
class FaultInjector {
 public:
  struct Decision {
    std::chrono::milliseconds delay{0};
    bool close = false;   // drop the connection without answering
    int fail_status = 0;  // 0 = no injected failure
    std::int64_t retry_after_s = -1;
  };

  explicit FaultInjector(FaultSpec spec) : spec_(std::move(spec)) {}
  Decision decide(std::string_view path);
  void set(FaultSpec spec);
  FaultSpec get() const;

 private:
  mutable std::mutex mutex_;  // guards everything below
  FaultSpec spec_;
  std::int64_t every_counter_ = 0;
  std::uint64_t jitter_state_ = 0x5EED;
};

}  // namespace replicator::actito_sim

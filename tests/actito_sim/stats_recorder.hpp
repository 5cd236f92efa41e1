// Call statistics of one simulator: per route template, per status, token calls, 429s, delays.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include <boost/json/object.hpp>

namespace replicator::actito_sim {

struct StatsSnapshot {
  std::int64_t total_calls = 0;                // contract requests answered (or dropped by a fault)
  std::int64_t token_calls = 0;                // GET /auth/token
  std::int64_t too_many_requests = 0;          // every 429 (concurrency and injected)
  std::int64_t concurrency_rejections = 0;     // 429 CONCURRENCY_LIMIT from the in-flight limit
  std::int64_t delayed_calls = 0;              // held by the per-minute window
  std::int64_t delayed_ms_total = 0;           // total time requests were held by the window
  std::int64_t injected_faults = 0;            // injected failures and dropped connections
  std::int64_t max_in_flight = 0;              // highest concurrency seen
  std::map<std::string, std::int64_t> routes;  // "GET /profiles/v5/entities/{entity}/..." -> calls
  std::map<int, std::int64_t> statuses;        // HTTP status -> calls

  std::int64_t route(const std::string& route_template) const;  // 0 when never called
  std::int64_t status(int code) const;
  boost::json::object to_json() const;
};

// Thread-safe recorder.
class StatsRecorder {
 public:
  void record(const std::string& route, int status, bool token_call);
  void record_rejection();  // a 429 CONCURRENCY_LIMIT (also recorded by record())
  void record_delay(std::int64_t ms);
  void record_fault();
  StatsSnapshot snapshot() const;  // max_in_flight is filled by the caller
  void reset();

 private:
  mutable std::mutex mutex_;  // guards data_
  StatsSnapshot data_;
};

}  // namespace replicator::actito_sim

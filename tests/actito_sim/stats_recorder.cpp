#include "tests/actito_sim/stats_recorder.hpp"

#include <string>

namespace replicator::actito_sim {

std::int64_t StatsSnapshot::route(const std::string& route_template) const {
  const auto it = routes.find(route_template);
  return it == routes.end() ? 0 : it->second;
}

std::int64_t StatsSnapshot::status(int code) const {
  const auto it = statuses.find(code);
  return it == statuses.end() ? 0 : it->second;
}

boost::json::object StatsSnapshot::to_json() const {
  boost::json::object out;
  out["total_calls"] = total_calls;
  out["token_calls"] = token_calls;
  out["too_many_requests"] = too_many_requests;
  out["concurrency_rejections"] = concurrency_rejections;
  out["delayed_calls"] = delayed_calls;
  out["delayed_ms_total"] = delayed_ms_total;
  out["injected_faults"] = injected_faults;
  out["max_in_flight"] = max_in_flight;
  boost::json::object route_counts;
  for (const auto& [route, count] : routes) route_counts[route] = count;
  out["routes"] = std::move(route_counts);
  boost::json::object status_counts;
  for (const auto& [code, count] : statuses) status_counts[std::to_string(code)] = count;
  out["statuses"] = std::move(status_counts);
  return out;
}

void StatsRecorder::record(const std::string& route, int status, bool token_call) {
  std::lock_guard lock(mutex_);
  ++data_.total_calls;
  if (token_call) ++data_.token_calls;
  if (status == 429) ++data_.too_many_requests;
  ++data_.routes[route];
  ++data_.statuses[status];
}

void StatsRecorder::record_rejection() {
  std::lock_guard lock(mutex_);
  ++data_.concurrency_rejections;
}

void StatsRecorder::record_delay(std::int64_t ms) {
  std::lock_guard lock(mutex_);
  ++data_.delayed_calls;
  data_.delayed_ms_total += ms;
}

void StatsRecorder::record_fault() {
  std::lock_guard lock(mutex_);
  ++data_.injected_faults;
}

StatsSnapshot StatsRecorder::snapshot() const {
  std::lock_guard lock(mutex_);
  return data_;
}

void StatsRecorder::reset() {
  std::lock_guard lock(mutex_);
  data_ = StatsSnapshot{};
}

}  // namespace replicator::actito_sim

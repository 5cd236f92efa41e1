#include "tests/actito_sim/call_log.hpp"

#include <algorithm>

#include "tests/actito_sim/timestamp.hpp"

namespace replicator::actito_sim {

namespace json = boost::json;

std::string CallRecord::param(std::string_view name) const {
  for (const auto& [key, value] : query) {
    if (key == name) return value;
  }
  return {};
}

std::vector<std::string> CallRecord::param_values(std::string_view name) const {
  std::vector<std::string> values;
  for (const auto& [key, value] : query) {
    if (key == name) values.push_back(value);
  }
  return values;
}

bool CallRecord::has_param(std::string_view name) const {
  return std::any_of(query.begin(), query.end(), [&](const auto& p) { return p.first == name; });
}

json::object CallRecord::to_json() const {
  json::array pairs;
  json::object params;
  for (const auto& [key, value] : query) {
    pairs.push_back(json::array{json::value(key), json::value(value)});
    json::value& slot = params[key];
    if (!slot.is_array()) slot = json::array{};
    slot.as_array().emplace_back(value);
  }
  return json::object{{"seq", seq},
                      {"time", format_iso_utc(time_ms)},
                      {"method", method},
                      {"path", path},
                      {"route", route},
                      {"status", status},
                      {"query", std::move(pairs)},
                      {"params", std::move(params)}};
}

void CallLog::record(CallRecord call) {
  std::lock_guard lock(mutex_);
  call.seq = next_seq_++;
  if (capacity_ == 0) return;
  if (ring_.size() == capacity_) {
    ring_.pop_front();
    ++dropped_;
  }
  ring_.push_back(std::move(call));
}

std::vector<CallRecord> CallLog::calls(std::int64_t after_seq) const {
  std::lock_guard lock(mutex_);
  std::vector<CallRecord> out;
  for (const auto& call : ring_) {
    if (call.seq > after_seq) out.push_back(call);
  }
  return out;
}

void CallLog::clear() {
  std::lock_guard lock(mutex_);
  ring_.clear();
  dropped_ = 0;
}

std::int64_t CallLog::last_seq() const {
  std::lock_guard lock(mutex_);
  return next_seq_ - 1;
}

std::int64_t CallLog::dropped() const {
  std::lock_guard lock(mutex_);
  return dropped_;
}

}  // namespace replicator::actito_sim

// The simulator's call log: every contract call (method, path, decoded query, status) in a
// bounded ring, so that tests can prove what a client sent (e.g. which `search` went to the API).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/object.hpp>

namespace replicator::actito_sim {

// One answered (or dropped) contract call.
struct CallRecord {
  std::int64_t seq = 0;      // 1, 2, ... in answer order; never reused (not even after clear())
  std::int64_t time_ms = 0;  // server clock (epoch ms) when the answer was ready
  std::string method;        // "GET", "POST"... ("?" for a request that did not parse)
  std::string path;          // percent-decoded path, e.g. /email-campaigns/v5/entities/acme/...
  std::string route;         // the catalog template, "GET (unmatched)" or "(unparsed request)"
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in request order
  int status = 0;                                          // 0 = connection dropped by a fault

  // The first value of a query parameter, or "" when absent.
  std::string param(std::string_view name) const;
  // Every value of a (repeatable) parameter, e.g. param_values("sort").
  std::vector<std::string> param_values(std::string_view name) const;
  bool has_param(std::string_view name) const;
  boost::json::object to_json() const;
};

// Thread-safe ring of the last `capacity` calls (0 = record nothing).
class CallLog {
 public:
  explicit CallLog(std::size_t capacity) : capacity_(capacity) {}

  void record(CallRecord call);  // assigns seq
  // Oldest first; only calls with seq > after_seq.
  std::vector<CallRecord> calls(std::int64_t after_seq = 0) const;
  void clear();
  std::int64_t last_seq() const;
  std::int64_t dropped() const;  // calls pushed out of the ring since the last clear()

 private:
  mutable std::mutex mutex_;  // guards the members below
  std::size_t capacity_;
  std::deque<CallRecord> ring_;
  std::int64_t next_seq_ = 1;
  std::int64_t dropped_ = 0;
};

}  // namespace replicator::actito_sim

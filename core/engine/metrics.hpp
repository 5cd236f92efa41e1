// Every metric family of the daemon, declared in one place (interface.md section 5, house style
// rule 22). Components get a reference to this object and use its typed handles.
#pragma once

#include <string>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace replicator::engine {

// Thread-safety: prometheus-cpp metrics are thread-safe; the families are created once in the
// constructor. Owned by the application; outlives every component that uses it.
class Metrics {
 public:
  Metrics(prometheus::Registry& registry, const std::string& version);

  prometheus::Family<prometheus::Counter>& rows;                  // job, stream, op
  prometheus::Family<prometheus::Counter>& api_requests;          // connection, object, code
  prometheus::Family<prometheus::Histogram>& api_request_duration;  // connection
  prometheus::Family<prometheus::Counter>& api_throttled_seconds; // connection
  prometheus::Family<prometheus::Counter>& api_retries;           // connection, reason
  prometheus::Family<prometheus::Counter>& token_refreshes;       // connection
  prometheus::Family<prometheus::Counter>& extended_requests;     // connection, object
  prometheus::Family<prometheus::Counter>& rows_filtered;         // job, stream
  prometheus::Family<prometheus::Histogram>& cycle_duration;      // job, stream
  prometheus::Family<prometheus::Counter>& cycles;                // job, stream, result
  prometheus::Family<prometheus::Gauge>& watermark;               // job, stream
  prometheus::Family<prometheus::Gauge>& last_success;            // job, stream
  prometheus::Family<prometheus::Gauge>& lag;                     // job, stream
  prometheus::Family<prometheus::Gauge>& job_active;              // job
  prometheus::Family<prometheus::Gauge>& schedule_interval;       // job
  prometheus::Family<prometheus::Gauge>& up;                      // version
  prometheus::Family<prometheus::Gauge>& build_info;              // version

  static const prometheus::Histogram::BucketBoundaries& api_buckets();
  static const prometheus::Histogram::BucketBoundaries& cycle_buckets();
};

}  // namespace replicator::engine

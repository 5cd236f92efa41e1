#include "core/engine/metrics.hpp"

namespace replicator::engine {

using namespace prometheus;

Metrics::Metrics(Registry& registry, const std::string& version)
    : rows(BuildCounter()
               .Name("actito_replicator_rows_total")
               .Help("Rows written to the destination: upsert = inserted or changed, delete = marked deleted")
               .Register(registry)),
      api_requests(BuildCounter()
                       .Name("actito_replicator_api_requests_total")
                       .Help("Actito API requests, by object and HTTP status code")
                       .Register(registry)),
      api_request_duration(BuildHistogram()
                               .Name("actito_replicator_api_request_duration_seconds")
                               .Help("Duration of Actito API requests, local pacing excluded")
                               .Register(registry)),
      api_throttled_seconds(BuildCounter()
                                .Name("actito_replicator_api_throttled_seconds_total")
                                .Help("Time requests waited for the per-minute call budget")
                                .Register(registry)),
      api_retries(BuildCounter()
                      .Name("actito_replicator_api_retries_total")
                      .Help("Actito API requests retried, by reason")
                      .Register(registry)),
      token_refreshes(BuildCounter()
                          .Name("actito_replicator_token_refreshes_total")
                          .Help("Access tokens obtained from /auth/token")
                          .Register(registry)),
      extended_requests(BuildCounter()
                            .Name("actito_replicator_extended_requests_total")
                            .Help("Single-record GETs made for extended fields (one per new or changed row)")
                            .Register(registry)),
      rows_filtered(BuildCounter()
                        .Name("actito_replicator_rows_filtered_total")
                        .Help("Rows read from Actito and left out by the locally applied part of `where`")
                        .Register(registry)),
      cycle_duration(BuildHistogram()
                         .Name("actito_replicator_cycle_duration_seconds")
                         .Help("Duration of replication cycles per stream")
                         .Register(registry)),
      cycles(BuildCounter()
                 .Name("actito_replicator_cycles_total")
                 .Help("Replication cycles per stream, by result")
                 .Register(registry)),
      watermark(BuildGauge()
                    .Name("actito_replicator_watermark_timestamp_seconds")
                    .Help("Cursor value up to which the stream is replicated (Unix time)")
                    .Register(registry)),
      last_success(BuildGauge()
                       .Name("actito_replicator_last_success_timestamp_seconds")
                       .Help("End of the last successful cycle (Unix time)")
                       .Register(registry)),
      lag(BuildGauge()
              .Name("actito_replicator_lag_seconds")
              .Help("Now minus the stream's watermark")
              .Register(registry)),
      job_active(BuildGauge()
                     .Name("actito_replicator_job_active")
                     .Help("1 while this instance holds the job's lease and runs it, 0 while another "
                           "instance does (high availability)")
                     .Register(registry)),
      schedule_interval(BuildGauge()
                            .Name("actito_replicator_schedule_interval_seconds")
                            .Help("Time between two scheduled cycles of the job (for a cron schedule, "
                                  "the longest gap between its runs over the coming week), exported "
                                  "by the instance running it")
                            .Register(registry)),
      up(BuildGauge().Name("actito_replicator_up").Help("1 while the daemon runs").Register(registry)),
      build_info(BuildGauge()
                     .Name("actito_replicator_build_info")
                     .Help("Build information; the value is always 1")
                     .Register(registry)) {
  up.Add({{"version", version}}).Set(1);
  build_info.Add({{"version", version}}).Set(1);
}

const Histogram::BucketBoundaries& Metrics::api_buckets() {
  static const Histogram::BucketBoundaries kBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                       0.5,   1,    2.5,   5,    10,  30, 60};
  return kBuckets;
}

const Histogram::BucketBoundaries& Metrics::cycle_buckets() {
  static const Histogram::BucketBoundaries kBuckets = {0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 14400};
  return kBuckets;
}

}  // namespace replicator::engine

// What every job and stream is doing, for /status, /metrics (lag), `once` summaries and logs.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/model/value.hpp"

namespace replicator::engine {

struct StreamStatus {
  std::string job;
  std::string stream;
  std::string mode;               // incremental | append | full
  std::string state = "idle";     // idle | running | failed | stopped | standby
  std::string held_by;            // standby: the instance that runs the job (its PG session)
  std::optional<model::Timestamp> last_run_started;
  std::optional<model::Timestamp> last_run_finished;
  std::optional<model::Timestamp> last_success;
  std::optional<model::Timestamp> watermark;
  std::optional<model::Timestamp> next_run;
  std::string last_error;
  std::int64_t rows_total = 0;       // rows written since the first sync (from the state table)
  std::int64_t last_rows_written = 0;
  std::int64_t last_rows_read = 0;
  std::int64_t last_api_calls = 0;
  double last_duration_seconds = 0;
  std::int64_t progress_rows = 0;    // while running: rows read so far
  std::int64_t progress_total = -1;  // rows the cycle will read, when known
  std::int64_t progress_pages = 0;
  std::int64_t progress_written = 0;
};

struct JobStatus {
  std::string job;
  std::string connection;   // names from the job file
  std::string destination;
  std::string schedule;     // as written: "every 15m", "cron 0 * * * *"
  std::optional<bool> active;  // this instance holds the job's lease; unknown while the destination does not answer
  std::string held_by;         // not active: the instance that runs it ("" when nobody can tell)
};

// Thread-safety: every method locks; readers get copies. Owned by the application.
class StatusBoard {
 public:
  void update(const std::string& job, const std::string& stream, const std::function<void(StreamStatus&)>& fn);
  std::vector<StreamStatus> snapshot() const;
  void update_job(const std::string& job, const std::function<void(JobStatus&)>& fn);
  std::vector<JobStatus> jobs() const;  // in name order
  void clear();

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, std::string>, StreamStatus> streams_;
  std::map<std::string, JobStatus> jobs_;
};

}  // namespace replicator::engine

// Progress of a running cycle, in words: what the periodic progress log lines and the live line
// of `once` on a terminal say.
#pragma once

#include <cstdint>
#include <string>

namespace replicator::engine {

struct ProgressSnapshot {
  std::int64_t rows_read = 0;
  std::int64_t rows_written = 0;
  std::int64_t pages = 0;
  std::int64_t total = -1;  // rows the cycle will read when known (totalElements), else -1
  double elapsed_seconds = 0;
};

// "12,345 of 1,000,000 rows (1.2%), 8,400 rows/s, 13 pages, 12,000 written, ETA 1 m 57 s".
// The share and the ETA appear only when `total` is known and not yet passed; the rate once some
// time has elapsed. The ETA assumes the average rate so far holds.
std::string describe_progress(const ProgressSnapshot& p);

// 1234567 -> "1,234,567".
std::string group_digits(std::int64_t n);

// Seconds as "45 s", "3 m 05 s", "2 h 07 m", "3 d 04 h" (rounded down to the unit shown).
std::string format_eta(double seconds);

}  // namespace replicator::engine

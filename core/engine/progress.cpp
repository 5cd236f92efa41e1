#include "core/engine/progress.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace replicator::engine {

std::string group_digits(std::int64_t n) {
  const bool negative = n < 0;
  const std::uint64_t magnitude = negative ? 0 - static_cast<std::uint64_t>(n) : static_cast<std::uint64_t>(n);
  const std::string digits = std::to_string(magnitude);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i != 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return negative ? "-" + out : out;
}

std::string format_eta(double seconds) {
  if (!(seconds >= 0)) seconds = 0;  // also NaN
  const auto s = static_cast<std::int64_t>(std::floor(std::min(seconds, 1e12)));
  char buf[48];
  if (s < 60) {
    std::snprintf(buf, sizeof buf, "%lld s", static_cast<long long>(s));
  } else if (s < 3600) {
    std::snprintf(buf, sizeof buf, "%lld m %02lld s", static_cast<long long>(s / 60), static_cast<long long>(s % 60));
  } else if (s < 86400) {
    std::snprintf(buf, sizeof buf, "%lld h %02lld m", static_cast<long long>(s / 3600),
                  static_cast<long long>(s % 3600 / 60));
  } else {
    std::snprintf(buf, sizeof buf, "%lld d %02lld h", static_cast<long long>(s / 86400),
                  static_cast<long long>(s % 86400 / 3600));
  }
  return buf;
}

std::string describe_progress(const ProgressSnapshot& p) {
  std::string out = group_digits(p.rows_read);
  const bool known = p.total >= 0 && p.total >= p.rows_read;
  if (known) {
    char pct[32];
    const double share = p.total > 0 ? 100.0 * static_cast<double>(p.rows_read) / static_cast<double>(p.total) : 100.0;
    std::snprintf(pct, sizeof pct, "%.1f%%", share);
    out += " of " + group_digits(p.total) + " rows (" + pct + ")";
  } else {
    out += " rows";
  }
  const double rate = p.elapsed_seconds > 0 ? static_cast<double>(p.rows_read) / p.elapsed_seconds : 0;
  if (p.elapsed_seconds > 0) out += ", " + group_digits(static_cast<std::int64_t>(std::llround(rate))) + " rows/s";
  out += ", " + group_digits(p.pages) + (p.pages == 1 ? " page" : " pages");
  out += ", " + group_digits(p.rows_written) + " written";
  if (known && rate > 0 && p.total > p.rows_read) {
    out += ", ETA " + format_eta(static_cast<double>(p.total - p.rows_read) / rate);
  }
  return out;
}

}  // namespace replicator::engine

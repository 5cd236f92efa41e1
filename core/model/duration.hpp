// Durations as written in the job file: 500ms, 30s, 5m, 2h, 1d.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace replicator::model {

using Duration = std::chrono::milliseconds;

// Returns nullopt when the text is not a positive-or-zero integer followed by ms, s, m, h or d.
std::optional<Duration> parse_duration(std::string_view text);
// The shortest exact form: 90000ms -> "90s", 3600000 -> "1h".
std::string format_duration(Duration d);

}  // namespace replicator::model

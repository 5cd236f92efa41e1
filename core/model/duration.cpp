#include "core/model/duration.hpp"

#include <charconv>
#include <cstdint>
#include <limits>

namespace replicator::model {

std::optional<Duration> parse_duration(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
  if (i == 0 || i > 12) return std::nullopt;
  std::int64_t n = 0;
  std::from_chars(text.data(), text.data() + i, n);
  std::string_view unit = text.substr(i);
  std::int64_t mult;
  if (unit == "ms") mult = 1;
  else if (unit == "s") mult = 1000;
  else if (unit == "m") mult = 60'000;
  else if (unit == "h") mult = 3'600'000;
  else if (unit == "d") mult = 86'400'000;
  else return std::nullopt;
  if (n > std::numeric_limits<std::int64_t>::max() / mult) return std::nullopt;  // would overflow
  return Duration(n * mult);
}

std::string format_duration(Duration d) {
  std::int64_t ms = d.count();
  struct Unit {
    std::int64_t size;
    const char* name;
  };
  static constexpr Unit kUnits[] = {{86'400'000, "d"}, {3'600'000, "h"}, {60'000, "m"}, {1000, "s"}};
  if (ms != 0) {
    for (const auto& u : kUnits) {
      if (ms % u.size == 0) return std::to_string(ms / u.size) + u.name;
    }
  }
  return std::to_string(ms) + "ms";
}

}  // namespace replicator::model

#include "config/schedule.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <optional>
#include <vector>

#include "core/model/error.hpp"

namespace replicator::config {
namespace {

using model::ErrorKind;
using model::Timestamp;

constexpr std::int64_t kMsPerMinute = 60'000;
constexpr std::int64_t kMsPerDay = 86'400'000;
// Every valid expression matches within 28 years (the Gregorian weekday cycle repeats; a
// 29 February needs at most 8 years). The search stops there.
constexpr std::int64_t kSearchDays = 28 * 366;

struct FieldSpec {
  const char* name;
  int min;
  int max;
  const std::array<std::string_view, 13>* names;  // index = value; nullptr when no names
  int names_base;
};

constexpr std::array<std::string_view, 13> kMonthNames = {
    "", "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr std::array<std::string_view, 13> kDayNames = {
    "SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", "", "", "", "", "", ""};

const FieldSpec kFields[5] = {
    {"minute", 0, 59, nullptr, 0},        {"hour", 0, 23, nullptr, 0},
    {"day-of-month", 1, 31, nullptr, 0},  {"month", 1, 12, &kMonthNames, 1},
    {"day-of-week", 0, 7, &kDayNames, 0},
};

[[noreturn]] void bad(std::string_view text, const std::string& why) {
  model::fail(ErrorKind::kConfig, fmt::format("bad cron expression \"{}\": {}", text, why));
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// One value of a field: a number or (month, day-of-week) a three-letter name.
int parse_value(std::string_view expr, const FieldSpec& f, std::string_view token) {
  if (token.empty()) bad(expr, fmt::format("{} field: a value is missing", f.name));
  if (std::isdigit(static_cast<unsigned char>(token[0]))) {
    int v = 0;
    auto [p, ec] = std::from_chars(token.data(), token.data() + token.size(), v);
    if (ec != std::errc() || p != token.data() + token.size()) {
      bad(expr, fmt::format("{} field: \"{}\" is not a number", f.name, token));
    }
    if (v < f.min || v > f.max) {
      bad(expr, fmt::format("{} field: {} is out of range {}-{}", f.name, v, f.min, f.max));
    }
    return v;
  }
  if (f.names) {
    std::string u = upper(token);
    for (std::size_t i = 0; i < f.names->size(); ++i) {
      if (!(*f.names)[i].empty() && (*f.names)[i] == u) return static_cast<int>(i);
    }
    bad(expr, fmt::format("{} field: unknown name \"{}\" (expected {}-{}, or {})", f.name, token,
                          f.min, f.max, f.names == &kMonthNames ? "JAN-DEC" : "SUN-SAT"));
  }
  if (token == "?") bad(expr, fmt::format("{} field: '?' is not standard cron; use '*'", f.name));
  bad(expr, fmt::format("{} field: \"{}\" is not a number in {}-{}", f.name, token, f.min, f.max));
}

// Parses one field into a bit per value. Returns whether the field starts with '*' (Vixie cron's
// rule for the day fields).
template <std::size_t N>
bool parse_field(std::string_view expr, const FieldSpec& f, std::string_view text,
                 std::bitset<N>& bits) {
  std::size_t start = 0;
  while (true) {
    std::size_t comma = text.find(',', start);
    std::string_view item =
        text.substr(start, comma == std::string_view::npos ? text.npos : comma - start);
    if (item.empty()) bad(expr, fmt::format("{} field: empty list item in \"{}\"", f.name, text));
    std::string_view range = item;
    int step = 1;
    if (auto slash = item.find('/'); slash != std::string_view::npos) {
      range = item.substr(0, slash);
      std::string_view s = item.substr(slash + 1);
      auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), step);
      if (s.empty() || ec != std::errc() || p != s.data() + s.size() || step < 1) {
        bad(expr, fmt::format("{} field: step \"{}\" must be a positive number", f.name, s));
      }
      if (step > f.max) {
        bad(expr, fmt::format("{} field: step {} is larger than the field's range {}-{}", f.name,
                              step, f.min, f.max));
      }
    }
    int lo, hi;
    if (range == "*") {
      lo = f.min;
      hi = f.max;
    } else if (auto dash = range.find('-'); dash != std::string_view::npos) {
      lo = parse_value(expr, f, range.substr(0, dash));
      hi = parse_value(expr, f, range.substr(dash + 1));
      if (lo > hi) {
        bad(expr,
            fmt::format("{} field: range {} runs backwards ({} > {})", f.name, range, lo, hi));
      }
    } else {
      lo = parse_value(expr, f, range);
      // "A/S" means A-max/S.
      hi = range.size() < item.size() ? f.max : lo;
    }
    for (int v = lo; v <= hi; v += step) bits.set(static_cast<std::size_t>(v));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return !text.empty() && text[0] == '*';
}

unsigned days_in_month(int y, unsigned m) {
  static constexpr std::array<unsigned, 12> kDays = {31, 28, 31, 30, 31, 30,
                                                     31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}

}  // namespace

CronExpression CronExpression::parse(std::string_view text) {
  std::string_view trimmed = text;
  while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.front()))) {
    trimmed.remove_prefix(1);
  }
  while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.back()))) {
    trimmed.remove_suffix(1);
  }
  std::string expanded(trimmed);
  if (!trimmed.empty() && trimmed[0] == '@') {
    static constexpr std::pair<std::string_view, std::string_view> kAliases[] = {
        {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
        {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
        {"@hourly", "0 * * * *"}};
    auto it = std::find_if(std::begin(kAliases), std::end(kAliases),
                           [&](const auto& a) { return a.first == trimmed; });
    if (it == std::end(kAliases)) {
      bad(text,
          "unknown alias (expected @yearly, @annually, @monthly, @weekly, @daily, "
          "@midnight or @hourly)");
    }
    expanded = it->second;
  }
  std::vector<std::string_view> fields;
  std::string_view rest = expanded;
  while (true) {
    while (!rest.empty() && std::isspace(static_cast<unsigned char>(rest.front()))) {
      rest.remove_prefix(1);
    }
    if (rest.empty()) break;
    std::size_t end = 0;
    while (end < rest.size() && !std::isspace(static_cast<unsigned char>(rest[end]))) ++end;
    fields.push_back(rest.substr(0, end));
    rest.remove_prefix(end);
  }
  if (fields.size() != 5) {
    bad(text, fmt::format("expected 5 fields (minute hour day-of-month month day-of-week), got {}",
                          fields.size()));
  }
  CronExpression c;
  c.text_ = std::string(text);
  parse_field(text, kFields[0], fields[0], c.minutes_);
  parse_field(text, kFields[1], fields[1], c.hours_);
  c.dom_restricted_ = !parse_field(text, kFields[2], fields[2], c.days_);
  parse_field(text, kFields[3], fields[3], c.months_);
  std::bitset<8> dow;
  c.dow_restricted_ = !parse_field(text, kFields[4], fields[4], dow);
  for (std::size_t d = 0; d < 7; ++d) c.weekdays_[d] = dow[d];
  if (dow[7]) c.weekdays_[0] = true;  // 7 is Sunday too

  // A day-of-month that no selected month has ("31 in April", "30 February") never fires.
  if (c.dom_restricted_ && !c.dow_restricted_) {
    bool possible = false;
    for (unsigned m = 1; m <= 12 && !possible; ++m) {
      if (!c.months_[m]) continue;
      for (unsigned d = 1; d <= days_in_month(2000, m) && !possible; ++d) possible = c.days_[d];
    }
    if (!possible) bad(text, "the day-of-month never occurs in the selected months");
  }
  return c;
}

bool CronExpression::day_matches(int year, unsigned month, unsigned day,
                                 int weekday) const noexcept {
  if (!months_[month] || day > days_in_month(year, month)) return false;
  bool dom = days_[day];
  bool dow = weekdays_[static_cast<std::size_t>(weekday)];
  if (dom_restricted_ && dow_restricted_) return dom || dow;
  return dom && dow;
}

Timestamp CronExpression::next_after(Timestamp t, const model::TimeZone& zone) const {
  // Candidates are local wall-clock minutes L (milliseconds since the epoch, read as if UTC), in
  // increasing order; each fires at zone.resolve_local(L). Offsets of one zone differ by far less
  // than a day, so the offsets a day around an instant bound every offset that matters near it.
  auto offset_ms = [&](std::int64_t ms) {
    return static_cast<std::int64_t>(zone.offset_at(Timestamp{ms})) * 1000;
  };
  auto min_offset =
      std::min({offset_ms(t.ms - kMsPerDay), offset_ms(t.ms), offset_ms(t.ms + kMsPerDay)});
  std::int64_t local = floor_div(t.ms + min_offset, kMsPerMinute) * kMsPerMinute;
  std::optional<std::int64_t> best;
  std::int64_t best_max_offset = 0;
  std::int64_t day = floor_div(local, kMsPerDay);
  const std::int64_t last_day = day + kSearchDays;
  int minute_of_day = static_cast<int>((local - day * kMsPerDay) / kMsPerMinute);
  for (; day <= last_day; ++day, minute_of_day = 0) {
    if (best && day * kMsPerDay - best_max_offset >= *best) break;
    int y;
    unsigned m, d;
    model::civil_from_days(day, y, m, d);
    int weekday = static_cast<int>(((day % 7) + 7 + 4) % 7);  // 1970-01-01 was a Thursday
    if (!day_matches(y, m, d, weekday)) continue;
    for (int hm = minute_of_day; hm < 24 * 60; ++hm) {
      if (!hours_[static_cast<std::size_t>(hm / 60)]) {
        hm = (hm / 60) * 60 + 59;  // skip the rest of this hour
        continue;
      }
      if (!minutes_[static_cast<std::size_t>(hm % 60)]) continue;
      std::int64_t candidate = day * kMsPerDay + hm * kMsPerMinute;
      // No later local minute can fire before `best` once it is this far ahead.
      if (best && candidate - best_max_offset >= *best) return Timestamp{*best};
      std::int64_t instant = zone.resolve_local(candidate).ms;
      if (instant > t.ms && (!best || instant < *best)) {
        best = instant;
        best_max_offset = std::max(
            {offset_ms(instant - kMsPerDay), offset_ms(instant), offset_ms(instant + kMsPerDay)});
      }
    }
  }
  if (best) return Timestamp{*best};
  model::fail(ErrorKind::kConfig,
              fmt::format("cron expression \"{}\" does not fire within 28 years", text_));
}

Schedule Schedule::every(model::Duration interval) {
  if (interval < std::chrono::seconds(1)) {
    model::fail(ErrorKind::kConfig,
                fmt::format("an every: schedule needs an interval of at least 1s, got {}",
                            model::format_duration(interval)));
  }
  return Schedule(interval);
}

Timestamp Schedule::next_after(Timestamp t, const model::TimeZone& zone) const {
  if (is_every()) return Timestamp{t.ms + interval().count()};
  return cron_expression().next_after(t, zone);
}

model::Duration Schedule::longest_gap(Timestamp from, model::Duration horizon, const model::TimeZone& zone) const {
  if (is_every()) return interval();
  const std::int64_t end = from.ms + horizon.count();
  Timestamp run = next_after(from, zone);
  model::Duration longest{0};
  // At least one gap, at most a run a minute over the horizon (11,520 for 8 days).
  do {
    const Timestamp next = next_after(run, zone);
    longest = std::max(longest, model::Duration(next.ms - run.ms));
    run = next;
  } while (run.ms <= end);
  return longest;
}

std::string Schedule::to_string() const {
  if (is_every()) return "every " + model::format_duration(interval());
  return "cron " + cron_expression().text();
}

}  // namespace replicator::config

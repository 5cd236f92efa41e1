#include "tests/actito_sim/timestamp.hpp"

#include <chrono>
#include <stdexcept>

#include <fmt/format.h>

namespace replicator::actito_sim {
namespace {

constexpr std::int64_t kMsPerSecond = 1000;
constexpr std::int64_t kMsPerDay = 86'400'000;

// Weekday of a day count, 0 = Sunday.
unsigned weekday(std::int64_t days) noexcept {
  return static_cast<unsigned>(days >= -4 ? (days + 4) % 7 : (days + 5) % 7 + 6);
}

std::int64_t last_sunday(std::int64_t year, unsigned month) noexcept {
  const std::int64_t last = days_from_civil(year, month, days_in_month(year, month));
  return last - weekday(last);
}

void append_digits(std::string& out, std::int64_t value, int width) {
  char buffer[20];
  for (int i = width - 1; i >= 0; --i) {
    buffer[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  out.append(buffer, static_cast<std::size_t>(width));
}

struct Split {
  CivilDate date;
  std::int64_t hour, minute, second, millis;
};

Split split(std::int64_t ms) noexcept {
  const std::int64_t days = floor_div(ms, kMsPerDay);
  std::int64_t rest = ms - days * kMsPerDay;
  Split s{civil_from_days(days), 0, 0, 0, 0};
  s.millis = rest % 1000;
  rest /= 1000;
  s.second = rest % 60;
  rest /= 60;
  s.minute = rest % 60;
  s.hour = rest / 60;
  return s;
}

void append_date_part(std::string& out, const CivilDate& d) {
  append_digits(out, d.year, 4);
  out.push_back('-');
  append_digits(out, d.month, 2);
  out.push_back('-');
  append_digits(out, d.day, 2);
}

// A cursor over the text being parsed, with error reporting that names the input.
class Scanner {
 public:
  Scanner(std::string_view text, const char* what) : text_(text), what_(what) {}

  bool done() const { return pos_ >= text_.size(); }
  char peek() const { return done() ? '\0' : text_[pos_]; }
  bool accept(char c) {
    if (peek() != c) return false;
    ++pos_;
    return true;
  }
  void expect(char c) {
    if (!accept(c)) fail(fmt::format("expected '{}' at position {}", c, pos_ + 1));
  }
  std::int64_t digits(int count) {
    std::int64_t value = 0;
    for (int i = 0; i < count; ++i) {
      const char c = peek();
      if (c < '0' || c > '9') fail(fmt::format("expected a digit at position {}", pos_ + 1));
      value = value * 10 + (c - '0');
      ++pos_;
    }
    return value;
  }
  [[noreturn]] void fail(const std::string& why) const {
    throw std::invalid_argument(fmt::format("'{}' is not a valid {}: {}", text_, what_, why));
  }

 private:
  std::string_view text_;
  const char* what_;
  std::size_t pos_ = 0;
};

std::int64_t parse_date_part(Scanner& s) {
  const std::int64_t year = s.digits(4);
  s.expect('-');
  const auto month = static_cast<unsigned>(s.digits(2));
  s.expect('-');
  const auto day = static_cast<unsigned>(s.digits(2));
  if (month < 1 || month > 12) s.fail("month out of range");
  if (day < 1 || day > days_in_month(year, month)) s.fail("day out of range");
  return days_from_civil(year, month, day);
}

}  // namespace

std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

CivilDate civil_from_days(std::int64_t z) noexcept {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return CivilDate{y + (m <= 2 ? 1 : 0), m, d};
}

unsigned days_in_month(std::int64_t year, unsigned month) noexcept {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month == 2) {
    const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return leap ? 29 : 28;
  }
  return kDays[(month - 1) % 12];
}

std::int64_t brussels_offset_seconds(std::int64_t utc_ms) noexcept {
  const std::int64_t year = civil_from_days(floor_div(utc_ms, kMsPerDay)).year;
  const std::int64_t dst_start = last_sunday(year, 3) * kMsPerDay + 3'600'000;  // 01:00 UTC
  const std::int64_t dst_end = last_sunday(year, 10) * kMsPerDay + 3'600'000;
  return utc_ms >= dst_start && utc_ms < dst_end ? 7200 : 3600;
}

std::int64_t brussels_local_to_utc_ms(std::int64_t local_ms) noexcept {
  const std::int64_t summer = local_ms - 7'200'000;  // candidate with +02:00
  const std::int64_t winter = local_ms - 3'600'000;  // candidate with +01:00
  const bool summer_valid = brussels_offset_seconds(summer) == 7200;
  const bool winter_valid = brussels_offset_seconds(winter) == 3600;
  if (summer_valid) return summer;  // also the overlap: the earlier offset (+02:00) wins
  if (winter_valid) return winter;
  // Gap: java.time shifts the wall time forward by the gap length (1 h) and applies the later
  // offset (+02:00): local + 1 h - 2 h == local - 1 h.
  return winter;
}

void append_iso_utc(std::string& out, std::int64_t utc_ms) {
  const Split s = split(utc_ms);
  append_date_part(out, s.date);
  out.push_back('T');
  append_digits(out, s.hour, 2);
  out.push_back(':');
  append_digits(out, s.minute, 2);
  out.push_back(':');
  append_digits(out, s.second, 2);
  out.push_back('.');
  append_digits(out, s.millis, 3);
  out.push_back('Z');
}

std::string format_iso_utc(std::int64_t utc_ms) {
  std::string out;
  append_iso_utc(out, utc_ms);
  return out;
}

void append_naive_brussels(std::string& out, std::int64_t utc_ms) {
  const Split s = split(utc_ms + brussels_offset_seconds(utc_ms) * kMsPerSecond);
  append_date_part(out, s.date);
  out.push_back(' ');
  append_digits(out, s.hour, 2);
  out.push_back(':');
  append_digits(out, s.minute, 2);
  out.push_back(':');
  append_digits(out, s.second, 2);
}

void append_timestamp(std::string& out, std::int64_t utc_ms, TimestampStyle style) {
  if (style == TimestampStyle::kNaiveBrussels) {
    append_naive_brussels(out, utc_ms);
  } else {
    append_iso_utc(out, utc_ms);
  }
}

std::string format_timestamp(std::int64_t utc_ms, TimestampStyle style) {
  std::string out;
  append_timestamp(out, utc_ms, style);
  return out;
}

std::int64_t parse_timestamp(std::string_view text) {
  Scanner s(text, "timestamp");
  const std::int64_t days = parse_date_part(s);
  if (!s.accept('T') && !s.accept(' ')) s.fail("expected 'T' or a space after the date");
  const std::int64_t hour = s.digits(2);
  s.expect(':');
  const std::int64_t minute = s.digits(2);
  s.expect(':');
  const std::int64_t second = s.digits(2);
  if (hour > 23 || minute > 59 || second > 59) s.fail("time of day out of range");
  std::int64_t millis = 0;
  if (s.accept('.')) {
    int count = 0;
    while (s.peek() >= '0' && s.peek() <= '9') {
      const std::int64_t digit = s.digits(1);
      if (count < 3) millis = millis * 10 + digit;  // truncated, never rounded (contract 4.2)
      ++count;
    }
    if (count == 0 || count > 9) s.fail("expected 1 to 9 fraction digits");
    for (int i = count; i < 3; ++i) millis *= 10;
  }
  const std::int64_t local =
      days * kMsPerDay + ((hour * 60 + minute) * 60 + second) * kMsPerSecond + millis;
  if (s.done()) return brussels_local_to_utc_ms(local);  // naive: Europe/Brussels
  if (s.accept('Z')) {
    if (!s.done()) s.fail("unexpected text after 'Z'");
    return local;
  }
  int sign = 0;
  if (s.accept('+')) {
    sign = 1;
  } else if (s.accept('-')) {
    sign = -1;
  } else {
    s.fail("expected 'Z', an offset or the end of the value after the time");
  }
  const std::int64_t offset_hours = s.digits(2);
  std::int64_t offset_minutes = 0;
  if (s.accept(':')) {
    offset_minutes = s.digits(2);
  } else if (!s.done()) {
    offset_minutes = s.digits(2);
  }
  if (!s.done()) s.fail("unexpected text after the offset");
  if (offset_hours > 18 || offset_minutes > 59) s.fail("offset out of range");
  return local - sign * (offset_hours * 60 + offset_minutes) * 60 * kMsPerSecond;
}

std::int64_t parse_date(std::string_view text) {
  Scanner s(text, "date (yyyy-MM-dd)");
  const std::int64_t days = parse_date_part(s);
  if (!s.done()) s.fail("unexpected text after the date");
  return days;
}

void append_date(std::string& out, std::int64_t days) {
  append_date_part(out, civil_from_days(days));
}

std::string format_date(std::int64_t days) {
  std::string out;
  append_date(out, days);
  return out;
}

std::string http_date(std::int64_t utc_ms) {
  static constexpr const char* kWeekdays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const Split s = split(utc_ms);
  const std::int64_t days = floor_div(utc_ms, kMsPerDay);
  return fmt::format("{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT", kWeekdays[weekday(days)],
                     s.date.day, kMonths[s.date.month - 1], s.date.year, s.hour, s.minute,
                     s.second);
}

std::int64_t system_now_ms() noexcept {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace replicator::actito_sim

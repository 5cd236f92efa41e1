#include "core/model/timestamp.hpp"

#include <array>
#include <charconv>
#include <cstdio>

#include "core/model/error.hpp"
#include "core/model/zone_rules.hpp"

namespace replicator::model {
namespace {

constexpr std::int64_t kMsPerDay = 86'400'000;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly n digits at pos; returns -1 on failure.
int read_digits(std::string_view s, std::size_t pos, std::size_t n) {
  if (pos + n > s.size()) return -1;
  int v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (!is_digit(c)) return -1;
    v = v * 10 + (c - '0');
  }
  return v;
}

unsigned days_in_month(int y, unsigned m) {
  static constexpr std::array<unsigned, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

// Last Sunday of the month, as days since the epoch.
std::int64_t last_sunday(int y, unsigned m) {
  std::int64_t last = days_from_civil(y, m, days_in_month(y, m));
  // 1970-01-01 was a Thursday (weekday 4 with Sunday = 0).
  std::int64_t weekday = ((last % 7) + 7 + 4) % 7;
  return last - weekday;
}

[[noreturn]] void bad_timestamp(std::string_view text, std::string_view why) {
  fail(ErrorKind::kPermanent,
       "unparseable timestamp \"" + std::string(text.substr(0, 64)) + "\": " + std::string(why));
}

}  // namespace

std::int64_t days_from_civil(int y, unsigned m, unsigned d) noexcept {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civil_from_days(std::int64_t z, int& y, unsigned& m, unsigned& d) noexcept {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<int>(static_cast<std::int64_t>(yoe) + era * 400) + (m <= 2);
}

TimeZone TimeZone::from_name(std::string_view name) {
  if (name == "UTC" || name == "Etc/UTC" || name == "Z") return utc();
  // Fixed offset: +HH:MM or -HH:MM.
  if (name.size() == 6 && (name[0] == '+' || name[0] == '-') && name[3] == ':') {
    int h = read_digits(name, 1, 2);
    int m = read_digits(name, 4, 2);
    if (h >= 0 && m >= 0 && h <= 18 && m < 60) {
      int off = (h * 3600 + m * 60) * (name[0] == '-' ? -1 : 1);
      return TimeZone(Kind::kFixed, off, std::string(name));
    }
  }
  const std::string forms =
      ": use UTC, a fixed offset such as +01:00, or a zone of the time zone database such as "
      "Europe/Brussels or Europe/London";
  std::shared_ptr<const ZoneRules> rules;
  if (!name.empty() && name[0] != '+' && name[0] != '-') {
    try {
      rules = load_zone_rules(name);
    } catch (const Error& e) {
      fail(ErrorKind::kConfig, "unsupported timestamp_zone \"" + std::string(name) + "\" (" + e.what() + ")" + forms);
    }
  }
  if (rules) return TimeZone(Kind::kRules, 0, std::string(name), std::move(rules));
  // Without tzdata: the EU rule for the Central European zones.
  static constexpr std::array<std::string_view, 17> kEuCentral = {
      "Europe/Brussels", "Europe/Paris",     "Europe/Amsterdam", "Europe/Luxembourg",
      "Europe/Berlin",   "Europe/Madrid",    "Europe/Rome",      "Europe/Vienna",
      "Europe/Zurich",   "Europe/Stockholm", "Europe/Oslo",      "Europe/Copenhagen",
      "Europe/Prague",   "Europe/Warsaw",    "Europe/Budapest",  "Europe/Monaco",
      "CET"};
  for (auto z : kEuCentral) {
    if (z == name) return TimeZone(Kind::kEuCentral, 3600, std::string(name));
  }
  fail(ErrorKind::kConfig, "unsupported timestamp_zone \"" + std::string(name) +
                               "\": not in the time zone database (tzdata, /usr/share/zoneinfo)" + forms);
}

TimeZone TimeZone::eu_central_rule(std::string name) { return TimeZone(Kind::kEuCentral, 3600, std::move(name)); }

int TimeZone::offset_at(Timestamp t) const noexcept {
  if (kind_ == Kind::kFixed) return fixed_offset_s_;
  if (kind_ == Kind::kRules) {
    const std::int64_t s = t.ms >= 0 ? t.ms / 1000 : (t.ms - 999) / 1000;
    return rules_->offset_at(s);
  }
  // EU rule: summer time from the last Sunday of March 01:00 UTC to the last Sunday of October
  // 01:00 UTC.
  std::int64_t day = t.ms >= 0 ? t.ms / kMsPerDay : (t.ms - kMsPerDay + 1) / kMsPerDay;
  int y;
  unsigned m, d;
  civil_from_days(day, y, m, d);
  std::int64_t start = last_sunday(y, 3) * kMsPerDay + 3'600'000;
  std::int64_t end = last_sunday(y, 10) * kMsPerDay + 3'600'000;
  bool summer = t.ms >= start && t.ms < end;
  return fixed_offset_s_ + (summer ? 3600 : 0);
}

Timestamp TimeZone::resolve_local(std::int64_t local_ms) const noexcept {
  if (kind_ == Kind::kFixed) return Timestamp{local_ms - fixed_offset_s_ * 1000LL};
  // The offsets in force a day before and a day after: at most one change lies between them
  // (zones change their offset at most a few times a year).
  const std::int64_t before = offset_at(Timestamp{local_ms - kMsPerDay}) * 1000LL;
  const std::int64_t after = offset_at(Timestamp{local_ms + kMsPerDay}) * 1000LL;
  const Timestamp as_before{local_ms - before};
  if (before == after) return as_before;
  const Timestamp as_after{local_ms - after};
  const bool before_ok = offset_at(as_before) * 1000LL == before;
  const bool after_ok = offset_at(as_after) * 1000LL == after;
  if (before_ok) return as_before;  // also an overlap: the earlier offset wins, as in java.time
  if (after_ok) return as_after;
  // A gap: shift forward by the gap, i.e. read the wall time with the offset before the gap.
  return as_before;
}

Timestamp parse_timestamp(std::string_view s, const TimeZone& zone) {
  // yyyy-MM-dd[T ]HH:mm:ss[.f{0,9}][Z|±HH[:?MM]]
  if (s.size() < 19) bad_timestamp(s, "too short");
  int y = read_digits(s, 0, 4);
  int mo = read_digits(s, 5, 2);
  int d = read_digits(s, 8, 2);
  int h = read_digits(s, 11, 2);
  int mi = read_digits(s, 14, 2);
  int se = read_digits(s, 17, 2);
  if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || se < 0 || s[4] != '-' || s[7] != '-' ||
      (s[10] != 'T' && s[10] != ' ') || s[13] != ':' || s[16] != ':') {
    bad_timestamp(s, "expected yyyy-MM-ddTHH:mm:ss");
  }
  if (mo < 1 || mo > 12 || d < 1 || static_cast<unsigned>(d) > days_in_month(y, mo) || h > 23 ||
      mi > 59 || se > 60) {
    bad_timestamp(s, "field out of range");
  }
  std::size_t pos = 19;
  int ms = 0;
  if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
    ++pos;
    std::size_t digits = 0;
    while (pos < s.size() && is_digit(s[pos])) {
      if (digits < 3) ms = ms * 10 + (s[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0 || digits > 9) bad_timestamp(s, "1 to 9 fraction digits expected");
    for (std::size_t i = digits; i < 3; ++i) ms *= 10;
  }
  if (se == 60) se = 59;  // leap second: clamp (java.time does the same for parsing lenient input)
  std::int64_t local = days_from_civil(y, mo, d) * kMsPerDay +
                       (h * 3600LL + mi * 60LL + se) * 1000LL + ms;
  if (pos == s.size()) return zone.resolve_local(local);
  if (s[pos] == 'Z' && pos + 1 == s.size()) return Timestamp{local};
  if (s[pos] != '+' && s[pos] != '-') bad_timestamp(s, "unexpected characters after the time");
  int sign = s[pos] == '-' ? -1 : 1;
  std::string_view off = s.substr(pos + 1);
  int oh = -1, om = 0;
  if (off.size() == 2) {
    oh = read_digits(off, 0, 2);
  } else if (off.size() == 4) {
    oh = read_digits(off, 0, 2);
    om = read_digits(off, 2, 2);
  } else if (off.size() == 5 && off[2] == ':') {
    oh = read_digits(off, 0, 2);
    om = read_digits(off, 3, 2);
  }
  if (oh < 0 || om < 0 || oh > 18 || om > 59) bad_timestamp(s, "bad UTC offset");
  return Timestamp{local - sign * (oh * 3600LL + om * 60LL) * 1000LL};
}

std::string format_timestamp(Timestamp t) {
  std::int64_t day = t.ms >= 0 ? t.ms / kMsPerDay : (t.ms - kMsPerDay + 1) / kMsPerDay;
  std::int64_t rem = t.ms - day * kMsPerDay;
  int y;
  unsigned m, d;
  civil_from_days(day, y, m, d);
  char buf[32];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", y, m, d,
                        static_cast<int>(rem / 3'600'000), static_cast<int>(rem / 60'000 % 60),
                        static_cast<int>(rem / 1000 % 60), static_cast<int>(rem % 1000));
  return std::string(buf, static_cast<std::size_t>(n));
}

void append_pg_timestamp(std::string& out, Timestamp t) {
  std::string iso = format_timestamp(t);  // 2025-11-28T10:15:30.123Z
  iso[10] = ' ';
  iso.pop_back();
  out += iso;
  out += "+00";
}

void validate_date(std::string_view s) {
  int y = s.size() == 10 ? read_digits(s, 0, 4) : -1;
  int m = y >= 0 ? read_digits(s, 5, 2) : -1;
  int d = m >= 0 ? read_digits(s, 8, 2) : -1;
  if (y < 0 || m < 1 || m > 12 || d < 1 || s[4] != '-' || s[7] != '-' ||
      static_cast<unsigned>(d) > days_in_month(y, m)) {
    fail(ErrorKind::kPermanent,
         "invalid date \"" + std::string(s.substr(0, 32)) + "\": expected yyyy-MM-dd");
  }
}

}  // namespace replicator::model

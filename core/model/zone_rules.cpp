#include "core/model/zone_rules.hpp"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include "core/model/error.hpp"
#include "core/model/timestamp.hpp"

namespace replicator::model {
namespace {

constexpr std::int64_t kSecondsPerDay = 86'400;

std::int64_t floor_div(std::int64_t a, std::int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// ---- POSIX TZ ------------------------------------------------------------------------------------

class PosixReader {
 public:
  explicit PosixReader(std::string_view s) : s_(s) {}
  bool done() const { return i_ == s_.size(); }
  bool peek(char c) const { return i_ < s_.size() && s_[i_] == c; }
  bool eat(char c) {
    if (!peek(c)) return false;
    ++i_;
    return true;
  }
  // "CET" or "<+03>".
  bool name() {
    if (eat('<')) {
      const auto close = s_.find('>', i_);
      if (close == std::string_view::npos || close == i_) return false;
      i_ = close + 1;
      return true;
    }
    const std::size_t start = i_;
    while (i_ < s_.size() && ((s_[i_] >= 'A' && s_[i_] <= 'Z') || (s_[i_] >= 'a' && s_[i_] <= 'z'))) ++i_;
    return i_ - start >= 3;
  }
  std::optional<int> number(int max) {
    const std::size_t start = i_;
    int v = 0;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9' && i_ - start < 3) v = v * 10 + (s_[i_++] - '0');
    if (i_ == start || v > max) return std::nullopt;
    return v;
  }
  // [+-]hh[:mm[:ss]] in seconds; `max_hours` 24 for offsets, 167 for change times.
  std::optional<int> hms(int max_hours) {
    int sign = 1;
    if (eat('-')) sign = -1;
    else eat('+');
    auto h = number(max_hours);
    if (!h) return std::nullopt;
    int v = *h * 3600;
    if (eat(':')) {
      auto m = number(59);
      if (!m) return std::nullopt;
      v += *m * 60;
      if (eat(':')) {
        auto sec = number(59);
        if (!sec) return std::nullopt;
        v += *sec;
      }
    }
    return sign * v;
  }
  // Mm.w.d[/time]
  std::optional<PosixRule::Change> change() {
    PosixRule::Change c;
    if (!eat('M')) return std::nullopt;
    auto m = number(12);
    if (!m || *m < 1 || !eat('.')) return std::nullopt;
    auto w = number(5);
    if (!w || *w < 1 || !eat('.')) return std::nullopt;
    auto d = number(6);
    if (!d) return std::nullopt;
    c.month = *m;
    c.week = *w;
    c.weekday = *d;
    if (eat('/')) {
      auto t = hms(167);
      if (!t) return std::nullopt;
      c.time_s = *t;
    }
    return c;
  }

 private:
  std::string_view s_;
  std::size_t i_ = 0;
};

// The day (since the epoch) of change `c` in `year`.
std::int64_t change_day(const PosixRule::Change& c, int year) {
  const std::int64_t first = days_from_civil(year, static_cast<unsigned>(c.month), 1);
  const std::int64_t first_weekday = ((first % 7) + 7 + 4) % 7;  // 1970-01-01 was a Thursday
  std::int64_t day = first + ((c.weekday - first_weekday) % 7 + 7) % 7 + (c.week - 1) * 7;
  const unsigned next_month = c.month == 12 ? 1 : static_cast<unsigned>(c.month) + 1;
  const std::int64_t end = days_from_civil(c.month == 12 ? year + 1 : year, next_month, 1);
  while (day >= end) day -= 7;  // week 5: the last such weekday
  return day;
}

std::uint32_t be32(std::string_view d, std::size_t at) {
  return (static_cast<std::uint32_t>(static_cast<unsigned char>(d[at])) << 24) |
         (static_cast<std::uint32_t>(static_cast<unsigned char>(d[at + 1])) << 16) |
         (static_cast<std::uint32_t>(static_cast<unsigned char>(d[at + 2])) << 8) |
         static_cast<std::uint32_t>(static_cast<unsigned char>(d[at + 3]));
}

std::int64_t be64(std::string_view d, std::size_t at) {
  return static_cast<std::int64_t>((static_cast<std::uint64_t>(be32(d, at)) << 32) | be32(d, at + 4));
}

}  // namespace

std::optional<PosixRule> parse_posix_rule(std::string_view text) {
  PosixReader r(text);
  PosixRule rule;
  if (!r.name()) return std::nullopt;
  auto std_off = r.hms(24);
  if (!std_off) return std::nullopt;
  rule.std_offset_s = -*std_off;  // POSIX counts west of UTC
  if (r.done()) return rule;
  if (!r.name()) return std::nullopt;
  rule.dst_offset_s = rule.std_offset_s + 3600;
  if (!r.peek(',')) {
    auto dst_off = r.hms(24);
    if (!dst_off) return std::nullopt;
    rule.dst_offset_s = -*dst_off;
  }
  if (!r.eat(',')) return std::nullopt;  // no rule given: unsupported (tzdata always gives one)
  auto start = r.change();
  if (!start || !r.eat(',')) return std::nullopt;
  auto end = r.change();
  if (!end || !r.done()) return std::nullopt;
  rule.start = *start;
  rule.end = *end;
  return rule;
}

int PosixRule::offset_at(std::int64_t utc_s) const noexcept {
  if (!dst_offset_s) return std_offset_s;
  int y;
  unsigned m, d;
  civil_from_days(floor_div(utc_s + std_offset_s, kSecondsPerDay), y, m, d);
  // Changes are in local time: the start in standard time, the end in daylight time.
  const std::int64_t begins = change_day(start, y) * kSecondsPerDay + start.time_s - std_offset_s;
  const std::int64_t ends = change_day(end, y) * kSecondsPerDay + end.time_s - *dst_offset_s;
  const bool dst = begins < ends ? (utc_s >= begins && utc_s < ends) : (utc_s >= begins || utc_s < ends);
  return dst ? *dst_offset_s : std_offset_s;
}

int ZoneRules::offset_at(std::int64_t utc_s) const noexcept {
  if (transitions_s.empty() || utc_s < transitions_s.front()) {
    return transitions_s.empty() && footer ? footer->offset_at(utc_s) : initial_offset_s;
  }
  if (utc_s >= transitions_s.back() && footer) return footer->offset_at(utc_s);
  const auto it = std::upper_bound(transitions_s.begin(), transitions_s.end(), utc_s);
  return offsets_s[static_cast<std::size_t>(it - transitions_s.begin()) - 1];
}

ZoneRules parse_tzif(std::string_view data, std::string_view what) {
  auto bad = [&](const std::string& why) -> ZoneRules {
    fail(ErrorKind::kConfig, "time zone file " + std::string(what) + " is not valid TZif: " + why);
  };
  auto header = [&](std::size_t at, std::array<std::uint32_t, 6>& counts) {
    if (data.size() < at + 44 || data.substr(at, 4) != "TZif") bad("no TZif header");
    for (std::size_t k = 0; k < 6; ++k) counts[k] = be32(data, at + 20 + 4 * k);
  };
  // counts: isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
  std::array<std::uint32_t, 6> c{};
  header(0, c);
  const char version = data[4];
  auto block_size = [](const std::array<std::uint32_t, 6>& n, std::size_t time_size) {
    return n[3] * time_size + n[3] + n[4] * 6 + n[5] + n[2] * (time_size + 4) + n[1] + n[0];
  };
  std::size_t at = 44;
  std::size_t time_size = 4;
  if (version >= '2') {
    at += block_size(c, 4);
    header(at, c);
    at += 44;
    time_size = 8;
  }
  if (c[4] == 0 || c[4] > 256 || c[3] > 100'000 || data.size() < at + block_size(c, time_size)) {
    bad("counts out of range or data cut short");
  }
  ZoneRules z;
  const std::size_t times = at, indices = times + c[3] * time_size, types = indices + c[3];
  std::vector<int> type_offsets;
  for (std::uint32_t k = 0; k < c[4]; ++k) {
    type_offsets.push_back(static_cast<std::int32_t>(be32(data, types + 6 * k)));
  }
  z.initial_offset_s = type_offsets[0];
  for (std::uint32_t k = 0; k < c[3]; ++k) {
    const std::int64_t t = time_size == 8 ? be64(data, times + 8 * k)
                                          : static_cast<std::int32_t>(be32(data, times + 4 * k));
    const auto type = static_cast<unsigned char>(data[indices + k]);
    if (type >= c[4]) bad("a transition names a missing type");
    if (!z.transitions_s.empty() && t <= z.transitions_s.back()) bad("transitions out of order");
    z.transitions_s.push_back(t);
    z.offsets_s.push_back(type_offsets[type]);
  }
  if (version >= '2') {
    const std::size_t footer = at + block_size(c, time_size);
    if (footer < data.size() && data[footer] == '\n') {
      const auto close = data.find('\n', footer + 1);
      if (close != std::string_view::npos && close > footer + 1) {
        z.footer = parse_posix_rule(data.substr(footer + 1, close - footer - 1));
      }
    }
  }
  return z;
}

std::shared_ptr<const ZoneRules> load_zone_rules(std::string_view name) {
  const auto valid_char = [](char ch) {
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' ||
           ch == '+' || ch == '-' || ch == '/';
  };
  if (name.empty() || name.front() == '/' || name.find("..") != std::string_view::npos ||
      !std::all_of(name.begin(), name.end(), valid_char)) {
    fail(ErrorKind::kConfig, "\"" + std::string(name) + "\" is not a time zone name");
  }
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<const ZoneRules>, std::less<>> cache;
  std::lock_guard lock(mutex);
  if (auto it = cache.find(name); it != cache.end()) return it->second;
  const char* dir = std::getenv("TZDIR");
  const std::string path = std::string(dir && *dir ? dir : "/usr/share/zoneinfo") + "/" + std::string(name);
  std::ifstream in(path, std::ios::binary);
  std::shared_ptr<const ZoneRules> rules;
  if (in) {
    std::ostringstream bytes;
    bytes << in.rdbuf();
    rules = std::make_shared<const ZoneRules>(parse_tzif(bytes.str(), path));
  }
  cache.emplace(std::string(name), rules);
  return rules;
}

}  // namespace replicator::model

// Calendar arithmetic, Europe/Brussels time and the contract's timestamp forms (contract 4, A10).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace replicator::actito_sim {

// How TIMESTAMP values are emitted: contract 4.1 (default) or the naive local-time switch of 4.3.
enum class TimestampStyle { kIsoUtc, kNaiveBrussels };

struct CivilDate {
  std::int64_t year = 1970;
  unsigned month = 1;  // 1..12
  unsigned day = 1;    // 1..31
};

// Days since 1970-01-01 of a proleptic Gregorian date, and back (H. Hinnant's algorithms).
std::int64_t days_from_civil(std::int64_t year, unsigned month, unsigned day) noexcept;
CivilDate civil_from_days(std::int64_t days) noexcept;
unsigned days_in_month(std::int64_t year, unsigned month) noexcept;

// Floor division for instants before 1970.
constexpr std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0);
}

// UTC offset of Europe/Brussels at an instant, in seconds: +3600, or +7200 from the last Sunday
// of March 01:00 UTC to the last Sunday of October 01:00 UTC. The EU rule (in force since 1996) is
// applied to every year; the simulator only deals with recent moments. Contract A10.
std::int64_t brussels_offset_seconds(std::int64_t utc_ms) noexcept;

// Resolves a Brussels wall-clock time (milliseconds of the local date-time counted as if it were
// UTC) to an instant the way java.time does (contract 4.2): in the autumn overlap the earlier
// offset (+02:00) wins; in the spring gap the time is shifted forward by the length of the gap.
std::int64_t brussels_local_to_utc_ms(std::int64_t local_ms) noexcept;

// yyyy-MM-dd'T'HH:mm:ss.SSS'Z' (contract 4.1).
void append_iso_utc(std::string& out, std::int64_t utc_ms);
std::string format_iso_utc(std::int64_t utc_ms);
// yyyy-MM-dd HH:mm:ss in Brussels local time (contract 4.3 `naive-brussels` switch).
void append_naive_brussels(std::string& out, std::int64_t utc_ms);
void append_timestamp(std::string& out, std::int64_t utc_ms, TimestampStyle style);
std::string format_timestamp(std::int64_t utc_ms, TimestampStyle style);

// Parses every form of the contract 4.2 table except epoch numbers (that is, what a server must
// accept in `search`, 4.3): ISO-8601 with Z or an offset and 0-9 fraction digits, naive with a
// space or a 'T' (read as Europe/Brussels). Extra fraction digits are truncated. Returns epoch
// milliseconds; throws std::invalid_argument naming the problem.
std::int64_t parse_timestamp(std::string_view text);

// yyyy-MM-dd -> days since 1970-01-01; throws std::invalid_argument.
std::int64_t parse_date(std::string_view text);
void append_date(std::string& out, std::int64_t days);
std::string format_date(std::int64_t days);

// RFC 9110 IMF-fixdate for the `Date` header, e.g. "Sun, 06 Nov 1994 08:49:37 GMT".
std::string http_date(std::int64_t utc_ms);

// The server clock: real system time at millisecond precision.
std::int64_t system_now_ms() noexcept;

}  // namespace replicator::actito_sim

// Timestamp parsing and formatting per the wire contract section 4, and the zone used for naive
// local times (timestamp_zone, default Europe/Brussels).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/model/value.hpp"

namespace replicator::model {

struct ZoneRules;  // core/model/zone_rules.hpp

// A zone for naive timestamps: UTC, a fixed offset ("+02:00"), or an IANA zone name
// ("Europe/Brussels", "Europe/London", "America/New_York") with its whole history, read from the
// system's time zone database (tzdata). Without that database, the Central European zones fall
// back to the EU summer-time rule (exact from 1996 on). Immutable and cheap to copy.
class TimeZone {
 public:
  // Throws Error(kConfig) for a name it cannot honour, naming the supported forms.
  static TimeZone from_name(std::string_view name);
  static TimeZone utc() { return TimeZone(Kind::kFixed, 0, "UTC"); }
  // The EU summer-time rule alone (what named Central European zones fall back to without
  // tzdata); for tests comparing it with the database.
  static TimeZone eu_central_rule(std::string name);

  // Offset from UTC in seconds at the given instant.
  int offset_at(Timestamp t) const noexcept;
  // Local wall-clock milliseconds (as if UTC) to an instant, resolved as java.time does: in an
  // overlap the earlier offset is used, in a gap the time is shifted forward by the gap.
  Timestamp resolve_local(std::int64_t local_ms) const noexcept;
  const std::string& name() const noexcept { return name_; }

 private:
  enum class Kind { kFixed, kEuCentral, kRules };
  TimeZone(Kind kind, int fixed_offset_s, std::string name,
           std::shared_ptr<const ZoneRules> rules = nullptr)
      : kind_(kind), fixed_offset_s_(fixed_offset_s), name_(std::move(name)), rules_(std::move(rules)) {}
  Kind kind_;
  int fixed_offset_s_;
  std::string name_;
  std::shared_ptr<const ZoneRules> rules_;
};

// Parses every form of contract 4.2: ISO-8601 with Z or offset and 0-9 fraction digits, naive
// "yyyy-MM-dd HH:mm:ss[.f]" or "yyyy-MM-ddTHH:mm:ss[.f]" in `zone`. Extra digits are truncated to
// milliseconds. Throws Error(kPermanent) naming the text when it does not parse.
Timestamp parse_timestamp(std::string_view text, const TimeZone& zone);
// Epoch milliseconds (a JSON number on the wire).
inline Timestamp timestamp_from_epoch_ms(std::int64_t ms) { return Timestamp{ms}; }

// yyyy-MM-ddTHH:mm:ss.SSSZ (contract 4.1), the form sent in `search`.
std::string format_timestamp(Timestamp t);
// ISO form accepted by PostgreSQL timestamptz input ("2025-11-28 10:15:30.123+00").
void append_pg_timestamp(std::string& out, Timestamp t);

// Validates yyyy-MM-dd (a real calendar date). Throws Error(kPermanent) otherwise.
void validate_date(std::string_view text);

// Days since 1970-01-01 for a civil date, and back (proleptic Gregorian).
std::int64_t days_from_civil(int y, unsigned m, unsigned d) noexcept;
void civil_from_days(std::int64_t z, int& y, unsigned& m, unsigned& d) noexcept;

}  // namespace replicator::model

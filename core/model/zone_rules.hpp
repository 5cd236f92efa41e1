// The offsets of an IANA time zone, read from the system's time zone database (TZif files, RFC
// 8536, as /usr/share/zoneinfo holds them): every historical transition, and the POSIX TZ rule
// of the file's footer for the instants after the last one. What TimeZone uses for named zones.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace replicator::model {

// A POSIX TZ rule with daylight saving time ("CET-1CEST,M3.5.0,M10.5.0/3"), only the Mm.w.d
// form of the change dates (what tzdata writes).
struct PosixRule {
  int std_offset_s = 0;  // east of UTC, seconds
  std::optional<int> dst_offset_s;
  struct Change {
    int month = 0;    // 1..12
    int week = 0;     // 1..5, 5 = the last
    int weekday = 0;  // 0 = Sunday
    int time_s = 7200;  // local time of the change, may be negative or past 24 h
  };
  Change start, end;

  int offset_at(std::int64_t utc_s) const noexcept;
};

// Parses a POSIX TZ string. nullopt when it is not in a form this reader knows.
std::optional<PosixRule> parse_posix_rule(std::string_view text);

struct ZoneRules {
  std::vector<std::int64_t> transitions_s;  // UTC seconds, increasing
  std::vector<int> offsets_s;               // the offset from each transition on
  int initial_offset_s = 0;                 // before the first transition
  std::optional<PosixRule> footer;          // after the last transition

  int offset_at(std::int64_t utc_s) const noexcept;
};

// Parses TZif data (versions 1 to 4). Throws model::Error(kConfig) naming `what` when it is not
// valid TZif.
ZoneRules parse_tzif(std::string_view data, std::string_view what);

// The rules of zone `name` from $TZDIR or /usr/share/zoneinfo; nullptr when the database has no
// such zone (or is not installed). Throws model::Error(kConfig) for a name that is not a zone
// name (".." components, an absolute path, characters outside A-Z a-z 0-9 _ + - /) and for a
// file that is not TZif. Loaded files are cached for the life of the process.
std::shared_ptr<const ZoneRules> load_zone_rules(std::string_view name);

}  // namespace replicator::model

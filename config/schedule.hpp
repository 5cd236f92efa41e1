// When a job runs: `{ every: DURATION }` or `{ cron: "m h dom mon dow" }` (interface.md §2).
#pragma once

#include <bitset>
#include <chrono>
#include <string>
#include <string_view>
#include <variant>

#include "core/model/duration.hpp"
#include "core/model/timestamp.hpp"
#include "core/model/value.hpp"

namespace replicator::config {

// A standard 5-field cron expression: minute (0-59), hour (0-23), day of month (1-31), month
// (1-12 or JAN-DEC), day of week (0-7 or SUN-SAT; 0 and 7 are Sunday). Each field is `*` or a
// comma-separated list of `N`, `A-B`, `*/S`, `A-B/S` or `A/S` (= A-max/S); names are
// case-insensitive. Aliases: @yearly (@annually), @monthly, @weekly, @daily (@midnight), @hourly.
// Day matching follows Vixie cron: when both day fields are restricted (neither starts with `*`),
// a day matches if EITHER matches; otherwise both must match.
// Thread safety: immutable after parse; safe to share.
class CronExpression {
 public:
  // Throws model::Error(kConfig) saying which field is wrong and what is expected. The message
  // has no location: the config parser prefixes the file:line:column of the expression.
  static CronExpression parse(std::string_view text);

  // The first instant strictly after `t` whose wall-clock time in `zone` matches, to the minute.
  // Local times that a DST change skips fire at the instant they are shifted to (02:30 on the
  // spring-forward day fires at 03:30 summer time); local times that occur twice fire once, at
  // their first occurrence (java.time resolution, as model::TimeZone::resolve_local).
  model::Timestamp next_after(model::Timestamp t, const model::TimeZone& zone) const;

  const std::string& text() const noexcept { return text_; }

 private:
  CronExpression() = default;
  bool day_matches(int year, unsigned month, unsigned day, int weekday) const noexcept;

  std::string text_;
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_;     // 1..31
  std::bitset<13> months_;   // 1..12
  std::bitset<7> weekdays_;  // 0 = Sunday
  bool dom_restricted_ = false;
  bool dow_restricted_ = false;
};

// A job's schedule. Default: every 15 minutes.
// Thread safety: immutable value; safe to share.
class Schedule {
 public:
  Schedule() = default;
  // Throws model::Error(kConfig) when the interval is shorter than one second.
  static Schedule every(model::Duration interval);
  static Schedule cron(CronExpression expression) { return Schedule(std::move(expression)); }

  bool is_every() const noexcept { return std::holds_alternative<model::Duration>(rule_); }
  bool is_cron() const noexcept { return !is_every(); }
  // Precondition: is_every().
  model::Duration interval() const { return std::get<model::Duration>(rule_); }
  // Precondition: is_cron().
  const CronExpression& cron_expression() const { return std::get<CronExpression>(rule_); }

  // The next run strictly after `t`: t + interval, or the next cron match. Cron expressions are
  // evaluated in `zone`, UTC unless the caller passes one.
  model::Timestamp next_after(model::Timestamp t,
                              const model::TimeZone& zone = model::TimeZone::utc()) const;
  // The longest time between two consecutive runs after `from` within `horizon` (the interval
  // itself for `every`): what "no run for N intervals" is measured against, so that a cron that
  // skips nights or weekends is not taken for one that runs every hour.
  model::Duration longest_gap(model::Timestamp from, model::Duration horizon = std::chrono::hours(24 * 8),
                              const model::TimeZone& zone = model::TimeZone::utc()) const;
  // "every 15m" or "cron */15 * * * *".
  std::string to_string() const;

 private:
  explicit Schedule(model::Duration d) : rule_(d) {}
  explicit Schedule(CronExpression c) : rule_(std::move(c)) {}
  std::variant<model::Duration, CronExpression> rule_ = model::Duration(std::chrono::minutes(15));
};

}  // namespace replicator::config

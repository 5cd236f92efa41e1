// Schedules: `every` intervals and 5-field cron expressions (parsing, next_after in UTC and in a
// zone with DST, month and day edge cases, errors).
#include "config/schedule.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "core/model/timestamp.hpp"
#include "tests/unit/config/test_support.hpp"

namespace replicator::config {
namespace {

using namespace std::chrono_literals;
using model::TimeZone;
using testing::config_error;

model::Timestamp at(std::string_view iso) { return model::parse_timestamp(iso, TimeZone::utc()); }

// The next firing of `expr` after `from`, as yyyy-MM-ddTHH:mm:ss.SSSZ.
std::string next(std::string_view expr, std::string_view from,
                 const TimeZone& zone = TimeZone::utc()) {
  return model::format_timestamp(CronExpression::parse(expr).next_after(at(from), zone));
}

std::string cron_error(std::string_view expr) {
  return config_error([&] { (void)CronExpression::parse(expr); });
}

TEST(Every, AddsTheInterval) {
  Schedule s = Schedule::every(5min);
  EXPECT_TRUE(s.is_every());
  EXPECT_FALSE(s.is_cron());
  EXPECT_EQ(s.next_after(at("2025-11-28T10:07:30Z")), at("2025-11-28T10:12:30Z"));
  EXPECT_EQ(s.to_string(), "every 5m");
  EXPECT_EQ(Schedule().interval(), 15min);
  EXPECT_EQ(Schedule::every(1s).interval(), 1s);
  EXPECT_NE(config_error([] { (void)Schedule::every(999ms); }).find("at least 1s"),
            std::string::npos);
}

TEST(Schedule, LongestGapIsTheWidestSpacingOverTheComingWeek) {
  EXPECT_EQ(Schedule::every(5min).longest_gap(at("2025-11-28T10:07:30Z")), 5min);
  auto cron = [](std::string_view expr) { return Schedule::cron(CronExpression::parse(expr)); };
  EXPECT_EQ(cron("*/15 * * * *").longest_gap(at("2025-11-28T10:07:30Z")), 15min);
  // Twice a day, at 09:00 and 17:00: the night is the longest gap, not the 8 h of the day.
  EXPECT_EQ(cron("0 9,17 * * *").longest_gap(at("2025-11-28T10:07:30Z")), 16h);
  // Weekdays only (a Friday start): the weekend, Friday 09:00 to Monday 09:00.
  EXPECT_EQ(cron("0 9 * * 1-5").longest_gap(at("2025-11-27T10:00:00Z")), 72h);
  // Yearly: at least one gap is measured, whatever the horizon.
  const auto yearly = cron("0 0 1 1 *").longest_gap(at("2025-11-28T10:07:30Z"));
  EXPECT_TRUE(yearly == 365 * 24h || yearly == 366 * 24h) << yearly.count();
}

TEST(Cron, EveryQuarterHour) {
  EXPECT_EQ(next("*/15 * * * *", "2025-11-28T10:07:30Z"), "2025-11-28T10:15:00.000Z");
  EXPECT_EQ(next("*/15 * * * *", "2025-11-28T10:15:00Z"), "2025-11-28T10:30:00.000Z");
  EXPECT_EQ(next("*/15 * * * *", "2025-11-28T10:14:59.999Z"), "2025-11-28T10:15:00.000Z");
  EXPECT_EQ(next("*/15 * * * *", "2025-12-31T23:50:00Z"), "2026-01-01T00:00:00.000Z");
  EXPECT_EQ(next("* * * * *", "2025-11-28T10:07:30Z"), "2025-11-28T10:08:00.000Z");
}

TEST(Cron, ListsRangesAndSteps) {
  EXPECT_EQ(next("0 9-17/4 * * *", "2025-11-28T13:00:00Z"), "2025-11-28T17:00:00.000Z");
  EXPECT_EQ(next("0 9-17/4 * * *", "2025-11-28T17:00:00Z"), "2025-11-29T09:00:00.000Z");
  EXPECT_EQ(next("5,35 8,20 * * *", "2025-11-28T08:35:00Z"), "2025-11-28T20:05:00.000Z");
  EXPECT_EQ(next("10/20 * * * *", "2025-11-28T08:31:00Z"), "2025-11-28T08:50:00.000Z");
}

TEST(Cron, MonthEdges) {
  EXPECT_EQ(next("0 0 1 * *", "2025-01-31T12:00:00Z"), "2025-02-01T00:00:00.000Z");
  // The 31st skips the months without one.
  EXPECT_EQ(next("0 0 31 * *", "2025-02-01T00:00:00Z"), "2025-03-31T00:00:00.000Z");
  EXPECT_EQ(next("0 0 31 * *", "2025-04-01T00:00:00Z"), "2025-05-31T00:00:00.000Z");
  // 29 February: the next leap year.
  EXPECT_EQ(next("0 12 29 2 *", "2025-03-01T00:00:00Z"), "2028-02-29T12:00:00.000Z");
  EXPECT_EQ(next("0 12 29 FEB *", "2028-02-29T12:00:00Z"), "2032-02-29T12:00:00.000Z");
  // Year wrap.
  EXPECT_EQ(next("59 23 31 12 *", "2025-12-31T23:59:00Z"), "2026-12-31T23:59:00.000Z");
  EXPECT_EQ(next("@yearly", "2025-06-01T00:00:00Z"), "2026-01-01T00:00:00.000Z");
}

TEST(Cron, NamesOfMonthsAndDays) {
  // Friday 2025-11-28 09:00 -> Monday 08:30.
  EXPECT_EQ(next("30 8 * * MON-FRI", "2025-11-28T09:00:00Z"), "2025-12-01T08:30:00.000Z");
  EXPECT_EQ(next("30 8 * * mon-fri", "2025-11-28T08:00:00Z"), "2025-11-28T08:30:00.000Z");
  // First Sunday of January or July 2026.
  EXPECT_EQ(next("0 6 * JAN,JUL SUN", "2025-11-28T00:00:00Z"), "2026-01-04T06:00:00.000Z");
  // 7 is Sunday too.
  EXPECT_EQ(next("0 0 * * 7", "2025-11-28T00:00:00Z"), "2025-11-30T00:00:00.000Z");
  EXPECT_EQ(next("0 0 * * 5-7", "2025-11-29T00:00:00Z"), "2025-11-30T00:00:00.000Z");
}

TEST(Cron, DayOfMonthOrDayOfWeekWhenBothAreRestricted) {
  // Both restricted: either matches. From Saturday 6 December: Friday the 12th comes first.
  EXPECT_EQ(next("0 0 13 * FRI", "2025-12-06T00:00:00Z"), "2025-12-12T00:00:00.000Z");
  // ... then Saturday the 13th, which only the day of month selects.
  EXPECT_EQ(next("0 0 13 * FRI", "2025-12-12T00:00:00Z"), "2025-12-13T00:00:00.000Z");
  // A day field starting with '*' is not a restriction for this rule (Vixie cron): both must
  // match, so odd days that are Mondays: 1 December, not Saturday 29 November.
  EXPECT_EQ(next("0 0 */2 * MON", "2025-11-28T00:00:00Z"), "2025-12-01T00:00:00.000Z");
  EXPECT_EQ(next("0 0 1 * *", "2025-11-28T00:00:00Z"), "2025-12-01T00:00:00.000Z");
}

TEST(Cron, Aliases) {
  EXPECT_EQ(next("@hourly", "2025-11-28T10:07:00Z"), "2025-11-28T11:00:00.000Z");
  EXPECT_EQ(next("@daily", "2025-11-28T10:07:00Z"), "2025-11-29T00:00:00.000Z");
  EXPECT_EQ(next("@midnight", "2025-11-28T10:07:00Z"), "2025-11-29T00:00:00.000Z");
  EXPECT_EQ(next("@weekly", "2025-11-28T10:07:00Z"), "2025-11-30T00:00:00.000Z");
  EXPECT_EQ(next("@monthly", "2025-11-28T10:07:00Z"), "2025-12-01T00:00:00.000Z");
  EXPECT_EQ(next("@annually", "2025-11-28T10:07:00Z"), "2026-01-01T00:00:00.000Z");
}

TEST(Cron, InAZoneWithSummerTime) {
  const TimeZone brussels = TimeZone::from_name("Europe/Brussels");
  EXPECT_EQ(next("0 9 * * *", "2025-07-01T00:00:00Z", brussels), "2025-07-01T07:00:00.000Z");
  EXPECT_EQ(next("0 9 * * *", "2025-12-01T00:00:00Z", brussels), "2025-12-01T08:00:00.000Z");
  // Spring forward (30 March 2025): 02:30 does not exist and fires at 03:30 summer time.
  EXPECT_EQ(next("30 2 * * *", "2025-03-29T12:00:00Z", brussels), "2025-03-30T01:30:00.000Z");
  EXPECT_EQ(next("30 2 * * *", "2025-03-30T01:30:00Z", brussels), "2025-03-31T00:30:00.000Z");
  // Every half hour across the gap: 01:30 CET, then 03:00 and 03:30 CEST.
  EXPECT_EQ(next("*/30 * * * *", "2025-03-30T00:30:00Z", brussels), "2025-03-30T01:00:00.000Z");
  EXPECT_EQ(next("*/30 * * * *", "2025-03-30T01:00:00Z", brussels), "2025-03-30T01:30:00.000Z");
  // Fall back (26 October 2025): 02:30 happens twice and fires once, at its first occurrence.
  EXPECT_EQ(next("30 2 * * *", "2025-10-25T12:00:00Z", brussels), "2025-10-26T00:30:00.000Z");
  EXPECT_EQ(next("30 2 * * *", "2025-10-26T00:30:00Z", brussels), "2025-10-27T01:30:00.000Z");
  EXPECT_EQ(next("*/30 * * * *", "2025-10-26T00:30:00Z", brussels), "2025-10-26T02:00:00.000Z");
  // A fixed offset.
  EXPECT_EQ(next("0 0 * * *", "2025-11-28T12:00:00Z", TimeZone::from_name("+05:30")),
            "2025-11-28T18:30:00.000Z");
}

TEST(Cron, ScheduleEvaluatesInUtcUnlessGivenAZone) {
  Schedule s = Schedule::cron(CronExpression::parse("0 9 * * *"));
  EXPECT_TRUE(s.is_cron());
  EXPECT_EQ(s.next_after(at("2025-07-01T00:00:00Z")), at("2025-07-01T09:00:00Z"));
  EXPECT_EQ(s.next_after(at("2025-07-01T00:00:00Z"), TimeZone::from_name("Europe/Brussels")),
            at("2025-07-01T07:00:00Z"));
  EXPECT_EQ(s.to_string(), "cron 0 9 * * *");
}

TEST(CronErrors, SayWhatIsWrong) {
  EXPECT_NE(
      cron_error("*/15 * * *")
          .find("bad cron expression \"*/15 * * *\": expected 5 fields (minute hour day-of-month "
                "month day-of-week), got 4"),
      std::string::npos);
  EXPECT_NE(cron_error("0 */15 * * * *").find("got 6"), std::string::npos);
  EXPECT_NE(cron_error("61 * * * *").find("minute field: 61 is out of range 0-59"),
            std::string::npos);
  EXPECT_NE(cron_error("0 24 * * *").find("hour field: 24 is out of range 0-23"),
            std::string::npos);
  EXPECT_NE(cron_error("0 0 0 * *").find("day-of-month field: 0 is out of range 1-31"),
            std::string::npos);
  EXPECT_NE(cron_error("0 0 * 13 *").find("month field: 13 is out of range 1-12"),
            std::string::npos);
  EXPECT_NE(cron_error("0 0 * * MOX")
                .find("day-of-week field: unknown name \"MOX\" (expected 0-7, "
                      "or SUN-SAT)"),
            std::string::npos);
  EXPECT_NE(cron_error("0 0 * JANUARY *").find("unknown name \"JANUARY\""), std::string::npos);
  EXPECT_NE(cron_error("5-1 * * * *").find("minute field: range 5-1 runs backwards"),
            std::string::npos);
  EXPECT_NE(cron_error("*/0 * * * *").find("step \"0\" must be a positive number"),
            std::string::npos);
  EXPECT_NE(cron_error("*/61 * * * *").find("step 61 is larger than the field's range"),
            std::string::npos);
  EXPECT_NE(cron_error("1,,2 * * * *").find("empty list item"), std::string::npos);
  EXPECT_NE(cron_error("0 0 ? * *").find("'?' is not standard cron; use '*'"), std::string::npos);
  EXPECT_NE(cron_error("x * * * *").find("minute field: \"x\" is not a number in 0-59"),
            std::string::npos);
  EXPECT_NE(cron_error("0 0 31 2 *").find("the day-of-month never occurs in the selected months"),
            std::string::npos);
  EXPECT_NE(cron_error("0 0 31 APR,JUN *").find("never occurs"), std::string::npos);
  EXPECT_NE(cron_error("@reboot").find("unknown alias"), std::string::npos);
  EXPECT_NE(cron_error("").find("got 0"), std::string::npos);
  // 30 February never happens, but "or a Monday" does.
  EXPECT_NO_THROW((void)CronExpression::parse("0 0 30 2 MON"));
}

TEST(CronErrors, InTheConfigCarryTheLocation) {
  EXPECT_PARSE_ERROR(
      "defaults:\n  schedule: { cron: \"0 25 * * *\" }\n", "test.yaml:2:21: ",
      "defaults.schedule.cron: bad cron expression \"0 25 * * *\": hour field: 25 is "
      "out of range 0-23");
  EXPECT_PARSE_ERROR("defaults:\n  schedule: { every: 5m, cron: \"* * * * *\" }\n",
                     "test.yaml:2:26: ", "defaults.schedule: give either every or cron, not both");
  EXPECT_PARSE_ERROR(
      "defaults:\n  schedule: {}\n", "test.yaml:2:13: ",
      "defaults.schedule: expected { every: DURATION } or { cron: \"m h dom mon dow\" "
      "}, got an empty mapping");
  Config c = testing::parse("defaults:\n  schedule: { cron: \"*/15 * * * *\" }\n");
  EXPECT_EQ(c.defaults.schedule.next_after(at("2025-11-28T10:07:30Z")), at("2025-11-28T10:15:00Z"));
}

}  // namespace
}  // namespace replicator::config

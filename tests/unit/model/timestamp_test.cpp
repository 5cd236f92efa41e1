// Timestamps per wire contract 4.1-4.3: every accepted form, truncation, naive local times in
// Europe/Brussels across both DST changes, dates before 1970, errors, formatting round trips.
#include "core/model/timestamp.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>

#include "core/model/error.hpp"

namespace replicator::model {
namespace {

const TimeZone& brussels() {
  static const TimeZone z = TimeZone::from_name("Europe/Brussels");
  return z;
}

// Parses in Europe/Brussels (the default timestamp_zone) and formats in the contract's 4.1 form.
std::string norm(std::string_view text, const TimeZone& zone = brussels()) {
  return format_timestamp(parse_timestamp(text, zone));
}

std::int64_t ms(std::string_view text) { return parse_timestamp(text, brussels()).ms; }

// The message of the Error(kPermanent) that parsing `text` throws, or "" with a test failure.
std::string parse_error(std::string_view text) {
  try {
    (void)parse_timestamp(text, brussels());
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kPermanent) << text;
    return e.what();
  }
  ADD_FAILURE() << "\"" << text << "\" was accepted as " << norm(text);
  return {};
}

TEST(ParseTimestamp, ServerFormWithZ) {
  EXPECT_EQ(norm("2025-11-28T10:15:30.123Z"), "2025-11-28T10:15:30.123Z");
  EXPECT_EQ(ms("2025-11-28T10:15:30.123Z"), 1764324930123);
  EXPECT_EQ(ms("1970-01-01T00:00:00.000Z"), 0);
  EXPECT_EQ(norm("2025-11-28T10:15:30Z"), "2025-11-28T10:15:30.000Z");
  EXPECT_EQ(norm("2024-02-29T23:59:59.999Z"), "2024-02-29T23:59:59.999Z");
  EXPECT_EQ(norm("2025-12-31T23:59:59.999Z"), "2025-12-31T23:59:59.999Z");
}

TEST(ParseTimestamp, EveryOffsetForm) {
  const std::string want = "2025-11-28T10:15:30.000Z";
  EXPECT_EQ(norm("2025-11-28T11:15:30+01:00"), want);
  EXPECT_EQ(norm("2025-11-28T11:15:30+0100"), want);
  EXPECT_EQ(norm("2025-11-28T11:15:30+01"), want);
  EXPECT_EQ(norm("2025-11-28T10:15:30+00:00"), want);
  EXPECT_EQ(norm("2025-11-28T10:15:30-00:00"), want);
  EXPECT_EQ(norm("2025-11-28T05:15:30-05:00"), want);
  EXPECT_EQ(norm("2025-11-28T05:15:30-0500"), want);
  EXPECT_EQ(norm("2025-11-28T05:15:30-05"), want);
  EXPECT_EQ(norm("2025-11-28T15:45:30+05:30"), want);
  EXPECT_EQ(norm("2025-11-28T04:45:30-0530"), want);
  EXPECT_EQ(norm("2025-11-29T00:15:30+14:00"), want);
  EXPECT_EQ(norm("2025-11-27T22:15:30-12:00"), want);
  // An offset moves the date across midnight and year ends.
  EXPECT_EQ(norm("2026-01-01T00:30:00+01:00"), "2025-12-31T23:30:00.000Z");
  EXPECT_EQ(norm("2025-12-31T23:30:00-01:00"), "2026-01-01T00:30:00.000Z");
  EXPECT_EQ(norm("2025-11-28T11:15:30.123456+01:00"), "2025-11-28T10:15:30.123Z");
}

TEST(ParseTimestamp, FractionDigitsAreTruncatedNeverRounded) {
  EXPECT_EQ(norm("2025-11-28T10:15:30.1Z"), "2025-11-28T10:15:30.100Z");
  EXPECT_EQ(norm("2025-11-28T10:15:30.12Z"), "2025-11-28T10:15:30.120Z");
  EXPECT_EQ(norm("2025-11-28T10:15:30.123Z"), "2025-11-28T10:15:30.123Z");
  EXPECT_EQ(norm("2025-11-28T10:15:30.1234Z"), "2025-11-28T10:15:30.123Z");
  EXPECT_EQ(norm("2025-11-28T10:15:30.12345Z"), "2025-11-28T10:15:30.123Z");
  EXPECT_EQ(norm("2025-11-28T10:15:30.123456Z"), "2025-11-28T10:15:30.123Z");
  EXPECT_EQ(norm("2025-11-28T10:15:30.1234567Z"), "2025-11-28T10:15:30.123Z");
  EXPECT_EQ(norm("2025-11-28T10:15:30.12345678Z"), "2025-11-28T10:15:30.123Z");
  EXPECT_EQ(norm("2025-11-28T10:15:30.123456789Z"), "2025-11-28T10:15:30.123Z");
  EXPECT_EQ(norm("2025-11-28T10:15:30.999999999Z"), "2025-11-28T10:15:30.999Z");
  EXPECT_EQ(norm("2025-12-31T23:59:59.9999Z"), "2025-12-31T23:59:59.999Z");
  EXPECT_EQ(norm("2025-11-28T10:15:30.0005Z"), "2025-11-28T10:15:30.000Z");
  EXPECT_EQ(norm("2025-11-28 11:15:30.9999"), "2025-11-28T10:15:30.999Z");
}

TEST(ParseTimestamp, NaiveFormsAreBrusselsLocalTime) {
  // Winter: +01:00.
  EXPECT_EQ(norm("2025-11-28 11:15:30"), "2025-11-28T10:15:30.000Z");
  EXPECT_EQ(norm("2025-11-28T11:15:30"), "2025-11-28T10:15:30.000Z");
  EXPECT_EQ(norm("2025-11-28T11:15:30.123"), "2025-11-28T10:15:30.123Z");
  EXPECT_EQ(norm("2025-11-28 11:15:30.123456789"), "2025-11-28T10:15:30.123Z");
  EXPECT_EQ(norm("2025-01-01 00:30:00"), "2024-12-31T23:30:00.000Z");
  // Summer: +02:00.
  EXPECT_EQ(norm("2025-07-01 12:00:00"), "2025-07-01T10:00:00.000Z");
  EXPECT_EQ(norm("2025-07-01T12:00:00.5"), "2025-07-01T10:00:00.500Z");
  // The same text in another zone.
  EXPECT_EQ(norm("2025-11-28 11:15:30", TimeZone::utc()), "2025-11-28T11:15:30.000Z");
  EXPECT_EQ(norm("2025-11-28 11:15:30", TimeZone::from_name("+05:30")), "2025-11-28T05:45:30.000Z");
  EXPECT_EQ(norm("2025-11-28 11:15:30", TimeZone::from_name("-03:00")), "2025-11-28T14:15:30.000Z");
}

TEST(ParseTimestamp, ContractDstExamples) {
  // Overlap (the autumn hour that occurs twice): the earlier offset, +02:00.
  EXPECT_EQ(norm("2025-10-26 02:30:00"), "2025-10-26T00:30:00.000Z");
  // Gap (the spring hour that does not exist): shifted forward by the gap, 03:30+02:00.
  EXPECT_EQ(norm("2025-03-30 02:30:00"), "2025-03-30T01:30:00.000Z");
}

TEST(ParseTimestamp, DstTransitionEdges) {
  // Spring 2025: clocks jump from 02:00 to 03:00 local (01:00Z).
  EXPECT_EQ(norm("2025-03-30 01:59:59.999"), "2025-03-30T00:59:59.999Z");
  EXPECT_EQ(norm("2025-03-30 02:00:00"), "2025-03-30T01:00:00.000Z");
  EXPECT_EQ(norm("2025-03-30 02:59:59.999"), "2025-03-30T01:59:59.999Z");
  EXPECT_EQ(norm("2025-03-30 03:00:00"), "2025-03-30T01:00:00.000Z");
  EXPECT_EQ(norm("2025-03-30 03:00:01"), "2025-03-30T01:00:01.000Z");
  // Autumn 2025: clocks go back from 03:00 to 02:00 local (01:00Z).
  EXPECT_EQ(norm("2025-10-26 01:59:59"), "2025-10-25T23:59:59.000Z");
  EXPECT_EQ(norm("2025-10-26 02:00:00"), "2025-10-26T00:00:00.000Z");
  EXPECT_EQ(norm("2025-10-26 02:59:59.999"), "2025-10-26T00:59:59.999Z");
  EXPECT_EQ(norm("2025-10-26 03:00:00"), "2025-10-26T02:00:00.000Z");
  // Other years use their own last Sundays.
  EXPECT_EQ(norm("2024-03-31 02:30:00"), "2024-03-31T01:30:00.000Z");
  EXPECT_EQ(norm("2024-10-27 02:30:00"), "2024-10-27T00:30:00.000Z");
  EXPECT_EQ(norm("2024-03-30 02:30:00"), "2024-03-30T01:30:00.000Z");  // the day before: winter
  EXPECT_EQ(norm("2024-10-26 02:30:00"), "2024-10-26T00:30:00.000Z");  // the day before: summer
  EXPECT_EQ(norm("2030-03-31 02:30:00"), "2030-03-31T01:30:00.000Z");
  EXPECT_EQ(norm("2030-10-27 02:30:00"), "2030-10-27T00:30:00.000Z");
  EXPECT_EQ(norm("2000-03-26 12:00:00"), "2000-03-26T10:00:00.000Z");
  EXPECT_EQ(norm("2000-03-25 12:00:00"), "2000-03-25T11:00:00.000Z");
}

TEST(TimeZone, OffsetsOfBrussels) {
  EXPECT_EQ(brussels().offset_at(parse_timestamp("2025-01-15T12:00:00Z", TimeZone::utc())), 3600);
  EXPECT_EQ(brussels().offset_at(parse_timestamp("2025-07-15T12:00:00Z", TimeZone::utc())), 7200);
  EXPECT_EQ(brussels().offset_at(parse_timestamp("2025-03-30T00:59:59.999Z", TimeZone::utc())),
            3600);
  EXPECT_EQ(brussels().offset_at(parse_timestamp("2025-03-30T01:00:00Z", TimeZone::utc())), 7200);
  EXPECT_EQ(brussels().offset_at(parse_timestamp("2025-10-26T00:59:59.999Z", TimeZone::utc())),
            7200);
  EXPECT_EQ(brussels().offset_at(parse_timestamp("2025-10-26T01:00:00Z", TimeZone::utc())), 3600);
  EXPECT_EQ(brussels().name(), "Europe/Brussels");
  EXPECT_EQ(TimeZone::utc().offset_at(Timestamp{0}), 0);
  EXPECT_EQ(TimeZone::from_name("+02:30").offset_at(Timestamp{0}), 9000);
}

TEST(TimeZone, UnknownZonesAreConfigErrorsNamingTheForms) {
  for (const char* name : {"Mars/Olympus_Mons", "brussels", "+2", "+02:60", "", "../../etc/passwd",
                           "/etc/localtime", "Europe/Brussels;rm", "Europe"}) {
    try {
      (void)TimeZone::from_name(name);
      ADD_FAILURE() << name << " accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kConfig);
      EXPECT_NE(std::string(e.what()).find("Europe/Brussels"), std::string::npos) << e.what();
    }
  }
  EXPECT_NO_THROW((void)TimeZone::from_name("UTC"));
  EXPECT_NO_THROW((void)TimeZone::from_name("Europe/Paris"));
  EXPECT_NO_THROW((void)TimeZone::from_name("CET"));
  EXPECT_NO_THROW((void)TimeZone::from_name("Europe/London"));
  EXPECT_NO_THROW((void)TimeZone::from_name("America/New_York"));
}

// Any zone of the database, with its rules: another hemisphere, another continent, the UK.
TEST(TimeZone, ZonesOfTheDatabase) {
  auto utc = [](const char* text) { return parse_timestamp(text, TimeZone::utc()); };
  const TimeZone london = TimeZone::from_name("Europe/London");
  EXPECT_EQ(london.offset_at(utc("2025-01-15T12:00:00Z")), 0);
  EXPECT_EQ(london.offset_at(utc("2025-07-15T12:00:00Z")), 3600);
  const TimeZone new_york = TimeZone::from_name("America/New_York");
  EXPECT_EQ(new_york.offset_at(utc("2025-01-15T12:00:00Z")), -5 * 3600);
  EXPECT_EQ(new_york.offset_at(utc("2025-03-09T06:59:59Z")), -5 * 3600);  // 01:59:59 EST
  EXPECT_EQ(new_york.offset_at(utc("2025-03-09T07:00:00Z")), -4 * 3600);  // 03:00 EDT
  const TimeZone sydney = TimeZone::from_name("Australia/Sydney");
  EXPECT_EQ(sydney.offset_at(utc("2025-01-15T00:00:00Z")), 11 * 3600);  // southern summer
  EXPECT_EQ(sydney.offset_at(utc("2025-07-15T00:00:00Z")), 10 * 3600);
  const TimeZone kolkata = TimeZone::from_name("Asia/Kolkata");
  EXPECT_EQ(kolkata.offset_at(utc("2025-07-15T00:00:00Z")), 5 * 3600 + 1800);
  // Naive times: New York's spring gap is shifted forward, its autumn overlap takes the earlier
  // offset (java.time's rules).
  EXPECT_EQ(norm("2025-03-09 02:30:00", new_york), "2025-03-09T07:30:00.000Z");  // = 03:30 EDT
  EXPECT_EQ(norm("2025-11-02 01:30:00", new_york), "2025-11-02T05:30:00.000Z");  // EDT, the earlier
  EXPECT_EQ(norm("2025-11-02 02:30:00", new_york), "2025-11-02T07:30:00.000Z");  // EST
}

// Past the database's last listed transition, the rule of the file's footer applies.
TEST(TimeZone, FarFutureFollowsTheFooterRule) {
  const TimeZone brussels_db = TimeZone::from_name("Europe/Brussels");
  auto utc = [](const char* text) { return parse_timestamp(text, TimeZone::utc()); };
  EXPECT_EQ(brussels_db.offset_at(utc("2100-07-01T00:00:00Z")), 7200);
  EXPECT_EQ(brussels_db.offset_at(utc("2100-12-01T00:00:00Z")), 3600);
  EXPECT_EQ(brussels_db.offset_at(utc("2100-03-28T00:59:59Z")), 3600);  // last Sunday of March 2100
  EXPECT_EQ(brussels_db.offset_at(utc("2100-03-28T01:00:00Z")), 7200);
}

// From 1996 on, the database and the EU rule (the fallback without tzdata) agree hour by hour.
TEST(TimeZone, TheEuRuleFallbackAgreesWithTheDatabaseSince1996) {
  const TimeZone db = TimeZone::from_name("Europe/Brussels");
  const TimeZone rule = TimeZone::eu_central_rule("Europe/Brussels");
  const std::int64_t from = parse_timestamp("1996-01-01T00:00:00Z", TimeZone::utc()).ms;
  const std::int64_t to = parse_timestamp("2040-01-01T00:00:00Z", TimeZone::utc()).ms;
  int differences = 0;
  for (std::int64_t ms = from; ms < to; ms += 3'600'000) {
    if (db.offset_at(Timestamp{ms}) != rule.offset_at(Timestamp{ms})) ++differences;
  }
  EXPECT_EQ(differences, 0);
}

TEST(ParseTimestamp, DatesBefore1970) {
  EXPECT_EQ(ms("1969-12-31T23:59:59.999Z"), -1);
  EXPECT_EQ(ms("1969-12-31T23:59:59.9999Z"), -1) << "truncation of a negative instant";
  EXPECT_EQ(ms("1969-12-31T23:59:59Z"), -1000);
  EXPECT_EQ(ms("1900-01-01T00:00:00Z"), -2208988800000);
  EXPECT_EQ(ms("0001-01-01T00:00:00Z"), -62135596800000);
  EXPECT_EQ(norm("1960-02-29T12:34:56.789Z"), "1960-02-29T12:34:56.789Z");
  EXPECT_EQ(norm("1955-06-15T12:00:00+03:00"), "1955-06-15T09:00:00.000Z");
  EXPECT_EQ(norm("1969-12-31T23:00:00-02:00"), "1970-01-01T01:00:00.000Z");
  EXPECT_EQ(norm("1899-12-31T23:59:59.999Z"), "1899-12-31T23:59:59.999Z");
  EXPECT_EQ(norm("1965-01-10 12:00:00"), "1965-01-10T11:00:00.000Z");  // winter, naive
}

// java.time (contract 4.2) uses the historical rules: no summer time in Belgium 1947-1976, and
// summer time ending on the last Sunday of September from 1981 to 1995 (the time zone database).
TEST(ParseTimestamp, NaiveBrusselsBefore1996FollowsTheHistoricalRules) {
  EXPECT_EQ(norm("1965-07-01 12:00:00"), "1965-07-01T11:00:00.000Z");
  EXPECT_EQ(norm("1990-10-10 12:00:00"), "1990-10-10T11:00:00.000Z");
}

TEST(ParseTimestamp, EpochMilliseconds) {
  EXPECT_EQ(timestamp_from_epoch_ms(1764324930123),
            parse_timestamp("2025-11-28T10:15:30.123Z", TimeZone::utc()));
  EXPECT_EQ(format_timestamp(timestamp_from_epoch_ms(-1)), "1969-12-31T23:59:59.999Z");
}

TEST(ParseTimestamp, LeapSecondIsClamped) {
  EXPECT_EQ(norm("2016-12-31T23:59:60Z"), "2016-12-31T23:59:59.000Z");
}

TEST(ParseTimestamp, BadInputsThrowNamingTheText) {
  const char* bad[] = {
      "",
      "2025-11-28",
      "2025-11-28T10:15",
      "2025-11-28T10:15:3",
      "not a timestamp at all",
      "2025/11/28T10:15:30Z",
      "2025-11-28X10:15:30Z",
      "2025-11-28T10-15-30Z",
      "2025-13-01T00:00:00Z",
      "2025-00-10T00:00:00Z",
      "2025-11-00T00:00:00Z",
      "2025-11-31T00:00:00Z",
      "2025-02-29T00:00:00Z",
      "1900-02-29T00:00:00Z",
      "2025-11-28T24:00:00Z",
      "2025-11-28T10:60:00Z",
      "2025-11-28T10:15:61Z",
      "2025-11-28T10:15:30.Z",
      "2025-11-28T10:15:30.1234567890Z",
      "2025-11-28T10:15:30.12a",
      "2025-11-28T10:15:30+1",
      "2025-11-28T10:15:30+01:0",
      "2025-11-28T10:15:30+01-00",
      "2025-11-28T10:15:30+19:00",
      "2025-11-28T10:15:30+01:60",
      "2025-11-28T10:15:30+010",
      "2025-11-28T10:15:30Zjunk",
      "2025-11-28T10:15:30Z ",
      "2025-11-28T10:15:30 Z",
      " 2025-11-28T10:15:30Z",
      "2025-11-28T10:15:30UTC",
      "+2025-11-28T10:15:30Z",
      "2025-11-28T1O:15:30Z",
  };
  for (const char* text : bad) {
    SCOPED_TRACE(text);
    const std::string msg = parse_error(text);
    if (msg.empty()) continue;
    EXPECT_NE(msg.find(std::string(text).substr(0, 40)), std::string::npos) << msg;
  }
  // A very long text is named, but cut.
  const std::string long_text(10'000, '9');
  const std::string msg = parse_error(long_text);
  EXPECT_LT(msg.size(), 300u);
}

TEST(ParseTimestamp, February29InLeapYears) {
  EXPECT_EQ(norm("2000-02-29T00:00:00Z"), "2000-02-29T00:00:00.000Z");
  EXPECT_EQ(norm("2024-02-29 12:00:00"), "2024-02-29T11:00:00.000Z");
}

TEST(FormatTimestamp, ContractForm) {
  EXPECT_EQ(format_timestamp(Timestamp{0}), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_timestamp(Timestamp{1764324930123}), "2025-11-28T10:15:30.123Z");
  EXPECT_EQ(format_timestamp(Timestamp{-86'400'000}), "1969-12-31T00:00:00.000Z");
  EXPECT_EQ(format_timestamp(Timestamp{253402300799999}), "9999-12-31T23:59:59.999Z");
}

TEST(FormatTimestamp, RoundTripsThroughParse) {
  std::mt19937_64 rng(20251128);
  std::uniform_int_distribution<std::int64_t> dist(-62135596800000, 253402300799999);
  for (int i = 0; i < 20'000; ++i) {
    const Timestamp t{dist(rng)};
    const std::string text = format_timestamp(t);
    ASSERT_EQ(text.size(), 24u) << text;
    ASSERT_EQ(parse_timestamp(text, brussels()), t) << text;
    ASSERT_EQ(parse_timestamp(text, TimeZone::utc()), t) << text;
  }
  // Around the epoch, millisecond by millisecond.
  for (std::int64_t m = -2500; m <= 2500; ++m) {
    ASSERT_EQ(parse_timestamp(format_timestamp(Timestamp{m}), TimeZone::utc()).ms, m);
  }
}

TEST(FormatTimestamp, NaiveLocalRoundTripOutsideTheGap) {
  // Every quarter hour of 2025 in local time parses back to an instant whose local time is it.
  const Timestamp start = parse_timestamp("2025-01-01T00:00:00Z", TimeZone::utc());
  for (std::int64_t q = 0; q < 365 * 96; ++q) {
    const Timestamp t{start.ms + q * 900'000};
    const Timestamp local{t.ms + brussels().offset_at(t) * 1000LL};
    std::string text = format_timestamp(local);  // local wall time written as if UTC
    text[10] = ' ';
    text.pop_back();  // naive: no Z
    const Timestamp back = parse_timestamp(text, brussels());
    if (back != t) {
      // Only the second pass through the autumn overlap resolves to the earlier instant.
      ASSERT_EQ(back.ms, t.ms - 3'600'000) << text;
    }
  }
}

TEST(PgTimestamp, AppendsPostgresInput) {
  std::string out = "x=";
  append_pg_timestamp(out, Timestamp{1764324930123});
  EXPECT_EQ(out, "x=2025-11-28 10:15:30.123+00");
}

TEST(ValidateDate, CalendarDates) {
  EXPECT_NO_THROW(validate_date("1990-05-01"));
  EXPECT_NO_THROW(validate_date("2024-02-29"));
  EXPECT_NO_THROW(validate_date("2000-02-29"));
  for (const char* bad :
       {"2025-02-29", "1900-02-29", "2025-13-01", "2025-04-31", "2025-1-01", "2025-01-1",
        "20250101", "2025/01/01", "", "2025-01-01T00:00:00Z", "2025-00-01", "2025-01-00"}) {
    try {
      validate_date(bad);
      ADD_FAILURE() << bad << " accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kPermanent);
      EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
    }
  }
}

TEST(CivilDays, RoundTrip) {
  for (std::int64_t z = -800'000; z <= 800'000; z += 7) {
    int y;
    unsigned m, d;
    civil_from_days(z, y, m, d);
    ASSERT_EQ(days_from_civil(y, m, d), z);
  }
  EXPECT_EQ(days_from_civil(1970, 1, 1), 0);
  EXPECT_EQ(days_from_civil(2000, 3, 1), 11017);
  EXPECT_EQ(days_from_civil(1969, 12, 31), -1);
}

}  // namespace
}  // namespace replicator::model

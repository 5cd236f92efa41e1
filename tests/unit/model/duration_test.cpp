// Durations of the job file: 500ms, 30s, 5m, 2h, 1d; parsing, rejection, shortest formatting.
#include "core/model/duration.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <random>

namespace replicator::model {
namespace {

using namespace std::chrono_literals;

TEST(ParseDuration, EveryUnit) {
  EXPECT_EQ(parse_duration("500ms"), Duration(500));
  EXPECT_EQ(parse_duration("30s"), Duration(30s));
  EXPECT_EQ(parse_duration("5m"), Duration(5min));
  EXPECT_EQ(parse_duration("2h"), Duration(2h));
  EXPECT_EQ(parse_duration("1d"), Duration(24h));
  EXPECT_EQ(parse_duration("0s"), Duration(0));
  EXPECT_EQ(parse_duration("0ms"), Duration(0));
  EXPECT_EQ(parse_duration("007s"), Duration(7s));
  EXPECT_EQ(parse_duration("90s"), Duration(90s));
  EXPECT_EQ(parse_duration("999999999999ms"), Duration(999'999'999'999));
  EXPECT_EQ(parse_duration("36500d"), Duration(36500LL * 86'400'000));
}

TEST(ParseDuration, RejectsEverythingElse) {
  for (const char* bad : {"",
                          "5",
                          "ms",
                          "s",
                          "-5s",
                          "+5s",
                          "5 s",
                          " 5s",
                          "5s ",
                          "5S",
                          "5M",
                          "5H",
                          "5sec",
                          "5min",
                          "1.5h",
                          "1,5h",
                          "1m30s",
                          "5us",
                          "5ns",
                          "5w",
                          "5y",
                          "0x10s",
                          "9999999999999ms",
                          "1e3ms",
                          "５s"}) {
    EXPECT_EQ(parse_duration(bad), std::nullopt) << "\"" << bad << "\"";
  }
}

// Was a bug (fixed): twelve digits times a day overflow int64 (signed overflow, undefined behaviour); the
// result is a garbage, possibly negative, duration instead of a rejection.
TEST(ParseDuration, OverflowIsRejected) {
  EXPECT_EQ(parse_duration("200000000000d"), std::nullopt);
  EXPECT_EQ(parse_duration("999999999999d"), std::nullopt);
}

TEST(ParseDuration, LargestValuesStayPositive) {
  // Values that do fit: 12 digits of seconds and minutes.
  auto s = parse_duration("999999999999s");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->count(), 999'999'999'999'000);
  auto m = parse_duration("999999999999m");
  ASSERT_TRUE(m);
  EXPECT_GT(m->count(), 0);
  EXPECT_EQ(m->count(), 999'999'999'999LL * 60'000);
  EXPECT_EQ(parse_duration("999999999999h"), Duration(999'999'999'999LL * 3'600'000));
}

TEST(FormatDuration, ShortestExactForm) {
  EXPECT_EQ(format_duration(Duration(0)), "0ms");
  EXPECT_EQ(format_duration(Duration(1)), "1ms");
  EXPECT_EQ(format_duration(Duration(500)), "500ms");
  EXPECT_EQ(format_duration(Duration(1500)), "1500ms");
  EXPECT_EQ(format_duration(Duration(1000)), "1s");
  EXPECT_EQ(format_duration(Duration(90'000)), "90s");
  EXPECT_EQ(format_duration(Duration(60'000)), "1m");
  EXPECT_EQ(format_duration(Duration(120'000)), "2m");
  EXPECT_EQ(format_duration(Duration(3'600'000)), "1h");
  EXPECT_EQ(format_duration(Duration(5'400'000)), "90m");
  EXPECT_EQ(format_duration(Duration(86'400'000)), "1d");
  EXPECT_EQ(format_duration(Duration(90'000'000)), "25h");
  EXPECT_EQ(format_duration(Duration(90'061'000)), "90061s");
}

TEST(FormatDuration, RoundTripsThroughParse) {
  std::mt19937_64 rng(3);
  const std::int64_t units[] = {1, 1000, 60'000, 3'600'000, 86'400'000};
  for (int i = 0; i < 10'000; ++i) {
    const Duration d(static_cast<std::int64_t>(rng() % 100'000) * units[rng() % 5]);
    const auto back = parse_duration(format_duration(d));
    ASSERT_TRUE(back) << format_duration(d);
    ASSERT_EQ(*back, d) << format_duration(d);
  }
}

}  // namespace
}  // namespace replicator::model

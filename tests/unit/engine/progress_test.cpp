// What progress lines say.
#include "core/engine/progress.hpp"

#include <gtest/gtest.h>

#include <limits>

namespace replicator::engine {
namespace {

TEST(Progress, GroupsDigits) {
  EXPECT_EQ(group_digits(0), "0");
  EXPECT_EQ(group_digits(999), "999");
  EXPECT_EQ(group_digits(1000), "1,000");
  EXPECT_EQ(group_digits(123456), "123,456");
  EXPECT_EQ(group_digits(1234567), "1,234,567");
  EXPECT_EQ(group_digits(-1234), "-1,234");
  EXPECT_EQ(group_digits(std::numeric_limits<std::int64_t>::min()), "-9,223,372,036,854,775,808");
}

TEST(Progress, FormatsTheEta) {
  EXPECT_EQ(format_eta(0), "0 s");
  EXPECT_EQ(format_eta(59.9), "59 s");
  EXPECT_EQ(format_eta(117), "1 m 57 s");
  EXPECT_EQ(format_eta(3600 + 7 * 60 + 59), "1 h 07 m");
  EXPECT_EQ(format_eta(3 * 86400 + 4 * 3600 + 1), "3 d 04 h");
  EXPECT_EQ(format_eta(-5), "0 s");
  EXPECT_EQ(format_eta(std::numeric_limits<double>::quiet_NaN()), "0 s");
}

TEST(Progress, KnownTotalGivesShareAndEta) {
  ProgressSnapshot p;
  p.rows_read = 100'000;
  p.rows_written = 99'000;
  p.pages = 100;
  p.total = 1'000'000;
  p.elapsed_seconds = 10;  // 10,000 rows/s: 900,000 rows left = 90 s
  EXPECT_EQ(describe_progress(p), "100,000 of 1,000,000 rows (10.0%), 10,000 rows/s, 100 pages, 99,000 written, ETA 1 m 30 s");
}

TEST(Progress, UnknownOrPassedTotalGivesNoEta) {
  ProgressSnapshot p;
  p.rows_read = 5000;
  p.pages = 1;
  p.elapsed_seconds = 2;
  EXPECT_EQ(describe_progress(p), "5,000 rows, 2,500 rows/s, 1 page, 0 written");
  p.total = 4000;  // rows arrived during the sync: the total is stale, no share or ETA
  EXPECT_EQ(describe_progress(p), "5,000 rows, 2,500 rows/s, 1 page, 0 written");
  p.total = 5000;  // done reading
  EXPECT_EQ(describe_progress(p), "5,000 of 5,000 rows (100.0%), 2,500 rows/s, 1 page, 0 written");
}

TEST(Progress, NoRateBeforeTimePasses) {
  ProgressSnapshot p;
  p.total = 10;
  EXPECT_EQ(describe_progress(p), "0 of 10 rows (0.0%), 0 pages, 0 written");
}

}  // namespace
}  // namespace replicator::engine

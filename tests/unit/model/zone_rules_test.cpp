// TZif and POSIX TZ reading (the system database is exercised by timestamp_test).
#include "core/model/zone_rules.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/model/error.hpp"
#include "core/model/timestamp.hpp"

namespace replicator::model {
namespace {

std::int64_t utc_s(const char* text) { return parse_timestamp(text, TimeZone::utc()).ms / 1000; }

TEST(PosixRule, ParsesTheFormsTzdataWrites) {
  auto cet = parse_posix_rule("CET-1CEST,M3.5.0,M10.5.0/3");
  ASSERT_TRUE(cet);
  EXPECT_EQ(cet->std_offset_s, 3600);
  EXPECT_EQ(cet->dst_offset_s, 7200);
  EXPECT_EQ(cet->start.month, 3);
  EXPECT_EQ(cet->start.week, 5);
  EXPECT_EQ(cet->start.time_s, 7200);  // default 02:00
  EXPECT_EQ(cet->end.time_s, 3 * 3600);
  auto fixed = parse_posix_rule("<+0530>-5:30");
  ASSERT_TRUE(fixed);
  EXPECT_EQ(fixed->std_offset_s, 5 * 3600 + 1800);
  EXPECT_FALSE(fixed->dst_offset_s);
  auto nuuk = parse_posix_rule("<-02>2<-01>,M3.5.0/-1,M10.5.0/0");  // negative change time
  ASSERT_TRUE(nuuk);
  EXPECT_EQ(nuuk->std_offset_s, -7200);
  EXPECT_EQ(nuuk->dst_offset_s, -3600);
  EXPECT_EQ(nuuk->start.time_s, -3600);
  for (const char* bad : {"", "C-1", "CET-1CEST", "CET-1CEST,J60,J300", "CET-1CEST,M13.5.0,M10.5.0", "CET-1CEST,M3.5.0"}) {
    EXPECT_FALSE(parse_posix_rule(bad)) << bad;
  }
}

TEST(PosixRule, OffsetsOnBothHemispheres) {
  auto cet = *parse_posix_rule("CET-1CEST,M3.5.0,M10.5.0/3");
  EXPECT_EQ(cet.offset_at(utc_s("2031-03-30T00:59:59Z")), 3600);  // last Sunday of March 2031
  EXPECT_EQ(cet.offset_at(utc_s("2031-03-30T01:00:00Z")), 7200);
  EXPECT_EQ(cet.offset_at(utc_s("2031-10-26T00:59:59Z")), 7200);
  EXPECT_EQ(cet.offset_at(utc_s("2031-10-26T01:00:00Z")), 3600);
  auto sydney = *parse_posix_rule("AEST-10AEDT,M10.1.0,M4.1.0/3");
  EXPECT_EQ(sydney.offset_at(utc_s("2031-01-10T00:00:00Z")), 11 * 3600);
  EXPECT_EQ(sydney.offset_at(utc_s("2031-06-10T00:00:00Z")), 10 * 3600);
  EXPECT_EQ(sydney.offset_at(utc_s("2031-12-31T23:00:00Z")), 11 * 3600);
}

// A minimal TZif v2 file: two types, two transitions, a footer.
std::string tzif_v2() {
  auto be32 = [](std::uint32_t v) {
    return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
                       static_cast<char>(v)};
  };
  auto be64 = [&](std::int64_t v) {
    return be32(static_cast<std::uint32_t>(static_cast<std::uint64_t>(v) >> 32)) +
           be32(static_cast<std::uint32_t>(v));
  };
  auto header = [&](std::uint32_t timecnt, std::uint32_t typecnt, std::uint32_t charcnt) {
    return std::string("TZif2") + std::string(15, '\0') + be32(0) + be32(0) + be32(0) + be32(timecnt) +
           be32(typecnt) + be32(charcnt);
  };
  const std::string types = be32(3600) + '\0' + '\0' + be32(7200) + '\x01' + '\x04';
  const std::string chars = std::string("CET\0CEST\0", 9);
  std::string v1 = header(0, 2, 9) + types + chars;  // no transitions in the 32-bit block
  std::string v2 = header(2, 2, 9) + be64(1000) + be64(2000) + '\x01' + '\x00' + types + chars;
  return v1 + v2 + "\nCET-1CEST,M3.5.0,M10.5.0/3\n";
}

TEST(Tzif, ReadsTransitionsTypesAndFooter) {
  ZoneRules z = parse_tzif(tzif_v2(), "test");
  EXPECT_EQ(z.transitions_s, (std::vector<std::int64_t>{1000, 2000}));
  EXPECT_EQ(z.offsets_s, (std::vector<int>{7200, 3600}));
  EXPECT_EQ(z.initial_offset_s, 3600);
  EXPECT_EQ(z.offset_at(999), 3600);
  EXPECT_EQ(z.offset_at(1000), 7200);
  EXPECT_EQ(z.offset_at(1999), 7200);
  ASSERT_TRUE(z.footer);
  EXPECT_EQ(z.offset_at(utc_s("2031-07-01T00:00:00Z")), 7200);  // after the last: the footer
}

TEST(Tzif, RejectsWhatIsNotTzif) {
  for (const std::string& bad : {std::string(), std::string("TZif2"), std::string("not a zone file at all......................"),
                                 tzif_v2().substr(0, 60)}) {
    try {
      (void)parse_tzif(bad, "/x/zone");
      ADD_FAILURE() << "accepted " << bad.size() << " bytes";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kConfig);
      EXPECT_NE(std::string(e.what()).find("/x/zone is not valid TZif"), std::string::npos) << e.what();
    }
  }
}

TEST(Tzif, LoadsFromTzdirAndRefusesPaths) {
  const auto dir = std::filesystem::temp_directory_path() / ("zones-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "Test");
  std::ofstream(dir / "Test" / "Zone", std::ios::binary) << tzif_v2();
  std::ofstream(dir / "Test" / "Broken", std::ios::binary) << "garbage";
  ::setenv("TZDIR", dir.c_str(), 1);
  auto rules = load_zone_rules("Test/Zone");
  ASSERT_TRUE(rules);
  EXPECT_EQ(rules->offset_at(1500), 7200);
  EXPECT_EQ(load_zone_rules("Test/Missing"), nullptr);
  EXPECT_THROW((void)load_zone_rules("Test/Broken"), Error);
  EXPECT_THROW((void)load_zone_rules("../Test/Zone"), Error);
  EXPECT_THROW((void)load_zone_rules("/etc/passwd"), Error);
  ::unsetenv("TZDIR");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace replicator::model

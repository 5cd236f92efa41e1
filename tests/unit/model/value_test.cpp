// Values: the server's total order (contract 3.3: nulls first, numbers numerically, strings by
// code point), display forms, field type names.
#include "core/model/value.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "core/model/error.hpp"
#include "core/model/timestamp.hpp"

namespace replicator::model {
namespace {

Value str(const char* s) { return Value{std::string(s)}; }
Value num(std::int64_t i) { return Value{i}; }
Value at(std::int64_t ms) { return Value{Timestamp{ms}}; }

TEST(Compare, NullsSortFirst) {
  const Value null;
  for (const Value& v :
       {Value{false}, num(std::numeric_limits<std::int64_t>::min()), at(-1), Value{Decimal{"-1"}},
        str(""), Value{JsonText{"{}"}}, Value{std::vector<std::string>{}}}) {
    EXPECT_LT(compare(null, v), 0);
    EXPECT_GT(compare(v, null), 0);
  }
  EXPECT_EQ(compare(null, null), 0);
}

TEST(Compare, IntegersNumerically) {
  EXPECT_LT(compare(num(9), num(10)), 0);
  EXPECT_LT(compare(num(-10), num(-9)), 0);
  EXPECT_LT(compare(num(-1), num(0)), 0);
  EXPECT_EQ(compare(num(42), num(42)), 0);
  EXPECT_LT(compare(num(std::numeric_limits<std::int64_t>::min()),
                    num(std::numeric_limits<std::int64_t>::max())),
            0);
  EXPECT_GT(compare(num(9007199254740993), num(9007199254740992)), 0) << "never via double";
}

TEST(Compare, TimestampsAsInstants) {
  EXPECT_LT(compare(at(-1), at(0)), 0);
  EXPECT_LT(compare(at(1), at(2)), 0);
  EXPECT_EQ(compare(at(5), at(5)), 0);
  EXPECT_EQ(compare(Value{parse_timestamp("2025-11-28T11:15:30+01:00", TimeZone::utc())},
                    Value{parse_timestamp("2025-11-28T10:15:30.000Z", TimeZone::utc())}),
            0);
}

TEST(Compare, StringsByCodePoint) {
  EXPECT_LT(compare(str("100"), str("16")), 0) << "string ids: \"100\" < \"16\"";
  EXPECT_LT(compare(str("16"), str("2")), 0);
  EXPECT_LT(compare(str("B"), str("a")), 0) << "case-sensitive, capitals first";
  EXPECT_LT(compare(str(""), str("a")), 0);
  EXPECT_LT(compare(str("a"), str("ab")), 0);
  EXPECT_EQ(compare(str("same"), str("same")), 0);
  EXPECT_LT(compare(str("z"), str("\xC3\xA9")), 0) << "U+007A < U+00E9";
  EXPECT_LT(compare(str("\xC3\xA9"), str("\xE2\x82\xAC")), 0) << "U+00E9 < U+20AC";
  EXPECT_LT(compare(str("\xEF\xBF\xBF"), str("\xF0\x9F\x98\x80")), 0) << "U+FFFF < U+1F600";
  EXPECT_LT(compare(str("\x7F"), str("\xC2\x80")), 0) << "U+007F < U+0080";
}

TEST(Compare, IsATotalOrderOnMixedStrings) {
  std::vector<Value> v;
  for (const char* s : {"b", "100", "16", "", "B", "\xC3\xA9", "a", "1", "\xF0\x9F\x98\x80", "10"})
    v.push_back(str(s));
  std::sort(v.begin(), v.end(), [](const Value& a, const Value& b) { return compare(a, b) < 0; });
  std::vector<std::string> got;
  for (const auto& x : v) got.push_back(std::get<std::string>(x));
  EXPECT_EQ(got, (std::vector<std::string>{"", "1", "10", "100", "16", "B", "a", "b", "\xC3\xA9",
                                           "\xF0\x9F\x98\x80"}));
  for (const auto& a : v) {
    for (const auto& b : v) EXPECT_EQ(compare(a, b), -compare(b, a));
  }
}

TEST(Compare, BooleansFalseFirst) {
  EXPECT_LT(compare(Value{false}, Value{true}), 0);
  EXPECT_EQ(compare(Value{true}, Value{true}), 0);
}

// Was a bug (fixed): NUMBER values (Decimal) compare as text, so 10 < 9 and -2 > 1; value.hpp promises
// "numbers numerically" (contract 3.3 sorts them as numbers).
TEST(Compare, DecimalsNumerically) {
  EXPECT_LT(compare(Value{Decimal{"9"}}, Value{Decimal{"10"}}), 0);
  EXPECT_LT(compare(Value{Decimal{"-2"}}, Value{Decimal{"1"}}), 0);
  EXPECT_LT(compare(Value{Decimal{"1.5"}}, Value{Decimal{"10"}}), 0);
  EXPECT_LT(compare(Value{Decimal{"-10"}}, Value{Decimal{"-9"}}), 0);
}

TEST(ToDisplay, Forms) {
  EXPECT_EQ(to_display(Value{}), "");
  EXPECT_EQ(to_display(Value{true}), "true");
  EXPECT_EQ(to_display(num(-42)), "-42");
  EXPECT_EQ(to_display(at(1764324930123)), "2025-11-28T10:15:30.123Z");
  EXPECT_EQ(to_display(Value{Decimal{"19.99"}}), "19.99");
  EXPECT_EQ(to_display(str("x")), "x");
  EXPECT_EQ(to_display(Value{JsonText{"{\"a\":1}"}}), "{\"a\":1}");
  EXPECT_EQ(to_display(Value{std::vector<std::string>{"FR", "N\"L", "a\\b\n"}}),
            "[\"FR\",\"N\\\"L\",\"a\\\\b\\n\"]");
  EXPECT_EQ(to_display(Value{std::vector<std::string>{}}), "[]");
  EXPECT_EQ(to_display(Value{std::vector<std::string>{std::string("\x01", 1)}}), "[\"\\u0001\"]");
}

TEST(FieldType, ParsesContractNames) {
  auto t = parse_field_type("STRING[]");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->type, FieldType::kString);
  EXPECT_TRUE(t->multi_valued);
  for (FieldType f :
       {FieldType::kString, FieldType::kInteger, FieldType::kLong, FieldType::kNumber,
        FieldType::kBoolean, FieldType::kDate, FieldType::kTimestamp, FieldType::kJson}) {
    auto p = parse_field_type(to_string(f));
    ASSERT_TRUE(p) << to_string(f);
    EXPECT_EQ(p->type, f);
    EXPECT_FALSE(p->multi_valued);
  }
  EXPECT_FALSE(parse_field_type("string"));
  EXPECT_FALSE(parse_field_type("[]"));
  EXPECT_FALSE(parse_field_type("DOUBLE"));
  EXPECT_FALSE(parse_field_type(""));
}

TEST(ErrorKind, NamesAndRetryability) {
  EXPECT_EQ(to_string(ErrorKind::kTransient), "transient");
  EXPECT_EQ(to_string(ErrorKind::kRateLimited), "rate_limited");
  EXPECT_TRUE(Error(ErrorKind::kTransient, "x").retryable());
  EXPECT_TRUE(Error(ErrorKind::kRateLimited, "x").retryable());
  EXPECT_FALSE(Error(ErrorKind::kPermanent, "x").retryable());
  EXPECT_FALSE(Error(ErrorKind::kConfig, "x").retryable());
}

TEST(Utf8, ValidTextIsKept) {
  for (const std::string& s : {std::string(), std::string("plain"), std::string("caf\xC3\xA9"),
                               std::string("\xE2\x82\xAC 100"), std::string("\xF0\x9F\x98\x80"),
                               std::string("\xF4\x8F\xBF\xBF")}) {
    EXPECT_TRUE(is_valid_utf8(s)) << s;
    EXPECT_EQ(to_valid_utf8(s), s);
  }
}

TEST(Utf8, MalformedBytesBecomeReplacementCharacters) {
  const std::string r = "\xEF\xBF\xBD";
  EXPECT_EQ(to_valid_utf8("a\xFF" "b"), "a" + r + "b");             // never a UTF-8 byte
  EXPECT_EQ(to_valid_utf8("caf\xE9"), "caf" + r);                   // Latin-1, truncated sequence
  EXPECT_EQ(to_valid_utf8("\xC0\xAF"), r + r);                      // overlong '/'
  EXPECT_EQ(to_valid_utf8("\xED\xA0\x80"), r + r + r);              // a surrogate
  EXPECT_EQ(to_valid_utf8("\xF4\x90\x80\x80"), r + r + r + r);      // past U+10FFFF
  EXPECT_EQ(to_valid_utf8("\xE2\x82"), r + r);                      // cut short
  EXPECT_FALSE(is_valid_utf8("caf\xE9"));
}

TEST(Utf8, CodePointsAreEncodedAtEachLengthBoundary) {
  const std::pair<char32_t, std::string> cases[] = {
      {U'\0', std::string(1, '\0')}, {0x7F, "\x7F"},          {0x80, "\xC2\x80"},         {0x7FF, "\xDF\xBF"},
      {0x800, "\xE0\xA0\x80"},      {0x20AC, "\xE2\x82\xAC"}, {0xFFFF, "\xEF\xBF\xBF"}, {0x10000, "\xF0\x90\x80\x80"},
      {0x1F600, "\xF0\x9F\x98\x80"}, {0x10FFFF, "\xF4\x8F\xBF\xBF"}};
  for (const auto& [cp, bytes] : cases) {
    std::string out = "x";
    append_utf8(out, cp);
    EXPECT_EQ(out, "x" + bytes) << static_cast<std::uint32_t>(cp);
    EXPECT_TRUE(is_valid_utf8(out)) << static_cast<std::uint32_t>(cp);
  }
}

TEST(Utf8, JsonStringsAreAlwaysValid) {
  std::string out;
  append_json_string(out, "bad \xE9 \"q\"\n");
  EXPECT_EQ(out, "\"bad \xEF\xBF\xBD \\\"q\\\"\\n\"");
  EXPECT_TRUE(is_valid_utf8(out));
}

}  // namespace
}  // namespace replicator::model

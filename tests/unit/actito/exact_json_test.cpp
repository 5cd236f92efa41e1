// parse_exact: numbers a double cannot carry keep their literal; everything else reads as
// boost::json::parse reads it; serialize_exact writes the literals back as numbers.
#include "core/actito/exact_json.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include <boost/json.hpp>

namespace replicator::actito {
namespace {

namespace json = boost::json;

json::value parse_ok(std::string_view text) {
  boost::system::error_code ec;
  json::value v = parse_exact(text, ec);
  EXPECT_FALSE(ec) << ec.message() << " for " << text;
  return v;
}

TEST(ExactJson, CountsSignificantDigitsOnly) {
  EXPECT_FALSE(needs_exact_text("19.99"));
  EXPECT_FALSE(needs_exact_text("-0.000000000000000000123"));    // leading zeros do not count
  EXPECT_FALSE(needs_exact_text("123456789012345000000000000"));  // nor trailing ones
  EXPECT_FALSE(needs_exact_text("1.23456789012345e300"));         // 15 digits, any exponent
  EXPECT_FALSE(needs_exact_text("100.500000000000000000"));
  EXPECT_TRUE(needs_exact_text("1234567890123456"));               // 16
  EXPECT_TRUE(needs_exact_text("0.1000000000000001"));
  EXPECT_TRUE(needs_exact_text("-12345678901234567890.123456789e-5"));
}

TEST(ExactJson, LongLiteralsKeepTheirTextAndTheRestIsUnchanged) {
  json::value v = parse_ok(R"({"long": 12345678901234567890.123456789, "short": 19.99, "int": -42,
                               "big": 18446744073709551615, "huge": 1e400, "tiny": 1e-400, "zero": 0.0,
                               "s": "text", "b": true, "n": null, "a": [1.5, 0.12345678901234567]})");
  const json::object& o = v.get_object();
  EXPECT_EQ(exact_literal(o.at("long")), "12345678901234567890.123456789");
  EXPECT_TRUE(o.at("short").is_double());
  EXPECT_EQ(o.at("short").get_double(), 19.99);
  EXPECT_EQ(o.at("int").get_int64(), -42);
  EXPECT_EQ(o.at("big").get_uint64(), 18446744073709551615ULL);
  EXPECT_EQ(exact_literal(o.at("huge")), "1e400") << "out of the double range";
  EXPECT_EQ(exact_literal(o.at("tiny")), "1e-400") << "flushed to zero";
  EXPECT_TRUE(o.at("zero").is_double());
  EXPECT_EQ(o.at("s").get_string(), "text");
  EXPECT_FALSE(exact_literal(o.at("s")));
  EXPECT_TRUE(o.at("b").get_bool());
  EXPECT_TRUE(o.at("n").is_null());
  EXPECT_TRUE(o.at("a").get_array()[0].is_double());
  EXPECT_EQ(exact_literal(o.at("a").get_array()[1]), "0.12345678901234567");
}

// Boost.JSON 1.81 alone gets these one ulp off (3.0000000000000003e+26...): the decoder would then
// store a longer, wrong decimal.
TEST(ExactJson, ShortLiteralsAreCorrectlyRounded) {
  for (const char* literal : {"3e26", "38527239.944579300", "123456789012345000000000000", "8.2e-30", "0.1",
                              "1.79769313486231e308", "2.3e-308"}) {
    const json::value v = parse_ok(literal);
    ASSERT_TRUE(v.is_double()) << literal;
    EXPECT_EQ(v.get_double(), std::strtod(literal, nullptr)) << literal;
  }
  // A subnormal double holds fewer than 15 digits: the literal is kept.
  EXPECT_EQ(exact_literal(parse_ok("1.23456789012345e-310")), "1.23456789012345e-310");
}

TEST(ExactJson, SerializeWritesTheLiteralsBackAsNumbers) {
  json::value v = parse_ok(R"({"x": [12345678901234567890.5, "\u00ff text", 2.5], "k\"": 1})");
  const std::string out = serialize_exact(v);
  EXPECT_EQ(out, "{\"x\":[12345678901234567890.5,\"\xC3\xBF text\",2.5E0],\"k\\\"\":1}") << out;
  // And it reads back to the same document.
  EXPECT_EQ(serialize_exact(parse_ok(out)), out);
}

TEST(ExactJson, NoRealStringIsTakenForANumber) {
  // U+00FF is two bytes in UTF-8 (C3 BF), never the mark byte FF; raw FF is not UTF-8 and the
  // parser refuses it.
  json::value v = parse_ok(R"({"s": "\u00ff1.5", "t": "\u00011.5"})");
  EXPECT_FALSE(exact_literal(v.get_object().at("s")));
  EXPECT_FALSE(exact_literal(v.get_object().at("t")));
  boost::system::error_code ec;
  parse_exact("{\"s\": \"\xFF" "1.5\"}", ec);
  EXPECT_TRUE(ec) << "a raw 0xFF byte in a string must not parse";
}

TEST(ExactJson, ErrorsAreReported) {
  boost::system::error_code ec;
  EXPECT_TRUE(parse_exact("{\"a\": ", ec).is_null());
  EXPECT_TRUE(ec);
  ec = {};
  parse_exact("{} {}", ec);
  EXPECT_TRUE(ec) << "extra data after the document";
  ec = {};
  parse_exact("[1,]", ec);
  EXPECT_TRUE(ec);
}

}  // namespace
}  // namespace replicator::actito

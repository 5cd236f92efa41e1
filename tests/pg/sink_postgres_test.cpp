// The PostgreSQL sink's pure parts, without a database: COPY text encoding, SQL text, the typed
// state JSON, error classification and the DSN helpers.
#include <gtest/gtest.h>

#include <functional>
#include <limits>

#include "core/model/error.hpp"
#include "core/model/timestamp.hpp"
#include "sinks/postgres/detail/copy_text.hpp"
#include "sinks/postgres/detail/errors.hpp"
#include "sinks/postgres/detail/state_json.hpp"
#include "sinks/postgres/detail/table_layout.hpp"
#include "sinks/postgres/dsn.hpp"

namespace replicator::sink_postgres {
namespace {

using model::ErrorKind;
using model::FieldType;

model::FieldDescriptor field(std::string name, FieldType type, bool multi = false) {
  model::FieldDescriptor f;
  f.name = std::move(name);
  f.type = type;
  f.multi_valued = multi;
  return f;
}

std::string encoded(const model::Value& v, const model::FieldDescriptor& f) {
  std::string out;
  detail::append_copy_value(out, v, f);
  return out;
}

ErrorKind kind_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const model::Error& e) {
    return e.kind();
  }
  ADD_FAILURE() << "no model::Error thrown";
  return ErrorKind::kCancelled;
}

TEST(CopyText, EscapesTheFourSpecialCharacters) {
  std::string out;
  detail::append_copy_escaped(out, "a\\b\tc\nd\re \"'\\N");
  EXPECT_EQ(out, "a\\\\b\\tc\\nd\\re \"'\\\\N");
}

TEST(CopyText, EncodesEachFieldType) {
  EXPECT_EQ(encoded(std::monostate{}, field("x", FieldType::kString)), "\\N");
  EXPECT_EQ(encoded(std::string("x\ty"), field("x", FieldType::kString)), "x\\ty");
  EXPECT_EQ(encoded(std::int64_t{-42}, field("x", FieldType::kLong)), "-42");
  EXPECT_EQ(encoded(std::numeric_limits<std::int64_t>::min(), field("x", FieldType::kInteger)),
            "-9223372036854775808");
  EXPECT_EQ(encoded(model::Decimal{"19.990"}, field("x", FieldType::kNumber)), "19.990");
  EXPECT_EQ(encoded(std::int64_t{7}, field("x", FieldType::kNumber)), "7");
  EXPECT_EQ(encoded(true, field("x", FieldType::kBoolean)), "t");
  EXPECT_EQ(encoded(false, field("x", FieldType::kBoolean)), "f");
  EXPECT_EQ(encoded(std::string("2024-02-29"), field("x", FieldType::kDate)), "2024-02-29");
  EXPECT_EQ(encoded(model::Timestamp{1'700'000'000'123}, field("x", FieldType::kTimestamp)),
            "2023-11-14 22:13:20.123+00");
  EXPECT_EQ(encoded(model::JsonText{"{\"a\":\"b\\n\"}"}, field("x", FieldType::kJson)),
            "{\"a\":\"b\\\\n\"}");
  EXPECT_EQ(encoded(std::vector<std::string>{"a,b", "c\"d", "NULL", "e\\f"},
                    field("x", FieldType::kString, true)),
            "{\"a,b\",\"c\\\\\"d\",\"NULL\",\"e\\\\\\\\f\"}");
  EXPECT_EQ(encoded(std::vector<std::string>{}, field("x", FieldType::kString, true)), "{}");
}

TEST(CopyText, RejectsValuesThatDoNotFit) {
  EXPECT_EQ(kind_of([] { encoded(std::string("12"), field("x", FieldType::kLong)); }),
            ErrorKind::kPermanent);
  EXPECT_EQ(kind_of([] { encoded(std::int64_t{1}, field("x", FieldType::kString)); }),
            ErrorKind::kPermanent);
  EXPECT_EQ(kind_of([] { encoded(std::string("2023-02-29"), field("x", FieldType::kDate)); }),
            ErrorKind::kPermanent);
  EXPECT_EQ(kind_of([] { encoded(model::Decimal{"1,5"}, field("x", FieldType::kNumber)); }),
            ErrorKind::kPermanent);
  EXPECT_EQ(kind_of([] { encoded(std::string("a\0b", 3), field("x", FieldType::kString)); }),
            ErrorKind::kPermanent);
  EXPECT_EQ(kind_of([] { encoded(std::string("x"), field("x", FieldType::kString, true)); }),
            ErrorKind::kPermanent);
  EXPECT_EQ(kind_of([] {
              encoded(model::Timestamp{std::numeric_limits<std::int64_t>::max()},
                      field("x", FieldType::kTimestamp));
            }),
            ErrorKind::kPermanent);
}

TEST(CopyText, TimestampsBefore1970AndBeforeOurEra) {
  EXPECT_EQ(detail::timestamptz_literal(model::Timestamp{-1}), "1969-12-31 23:59:59.999+00");
  EXPECT_EQ(detail::timestamptz_literal(model::Timestamp{0}), "1970-01-01 00:00:00.000+00");
  // 1 BC is astronomical year 0.
  std::int64_t year0 = model::days_from_civil(0, 1, 1) * 86'400'000;
  EXPECT_EQ(detail::timestamptz_literal(model::Timestamp{year0}), "0001-01-01 00:00:00.000+00 BC");
  EXPECT_EQ(detail::timestamptz_literal(model::Timestamp{-210'866'803'200'000}),
            "4714-11-24 00:00:00.000+00 BC");
}

TEST(CopyText, NumericLiterals) {
  for (const char* ok :
       {"0", "-1.5", "+2", ".5", "5.", "1E+3", "1e-7", "123456789012345678901234"}) {
    EXPECT_TRUE(detail::is_numeric_literal(ok)) << ok;
  }
  for (const char* bad : {"", "-", ".", "1e", "1,5", "NaN", "1 ", "0x10", "1e+"}) {
    EXPECT_FALSE(detail::is_numeric_literal(bad)) << bad;
  }
}

TEST(CopyText, SanitizeUtf8) {
  EXPECT_EQ(detail::sanitize_utf8("ok é 😀"), "ok é 😀");
  EXPECT_EQ(detail::sanitize_utf8(std::string("a\xff"
                                              "b\0c",
                                              5)),
            "a\xEF\xBF\xBD"
            "bc");
  EXPECT_EQ(detail::sanitize_utf8("\xC3"), "\xEF\xBF\xBD");
}

TEST(StateJson, RoundTripsEveryAlternative) {
  std::vector<model::Row> keys = {
      {std::int64_t{123}, std::string("x")},
      {model::Timestamp{-5}, std::string("é\"\\\n\t\x01")},
      {std::monostate{}, true, false},
      {model::Decimal{"1.50"}, model::JsonText{"{\"a\": [1]}"},
       std::vector<std::string>{"a", "b,c", ""}},
      {std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max()},
      {},
  };
  std::string json = detail::encode_keys(keys);
  EXPECT_EQ(detail::decode_keys(json), keys);
  EXPECT_EQ(detail::encode_keys({}), "[]");
  EXPECT_TRUE(detail::decode_keys("[]").empty());
}

TEST(StateJson, ReadsJsonbsPrintedForm) {
  // jsonb prints with spaces and may escape differently.
  auto keys = detail::decode_keys(R"([[{"i": 1}, {"s": "a\u00e9\ud83d\ude00\/"}], [null]])");
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0][0], model::Value(std::int64_t{1}));
  EXPECT_EQ(keys[0][1], model::Value(std::string("aé😀/")));
  EXPECT_TRUE(model::is_null(keys[1][0]));
  EXPECT_EQ(kind_of([] { detail::decode_keys("[[{\"q\": 1}]]"); }), ErrorKind::kPermanent);
  EXPECT_EQ(kind_of([] { detail::decode_keys("[[1]"); }), ErrorKind::kPermanent);
  // A lone surrogate has no UTF-8 form: refused rather than written as invalid text.
  EXPECT_EQ(kind_of([] { detail::decode_keys(R"([[{"s": "\ud83d"}]])"); }), ErrorKind::kPermanent);
  EXPECT_EQ(kind_of([] { detail::decode_keys(R"([[{"s": "\ude00x"}]])"); }), ErrorKind::kPermanent);
}

TEST(TableLayout, NamesTypesAndSql) {
  engine::StreamSpec spec;
  spec.stream = "EmailCampaigns";
  spec.fields = {field("Id", FieldType::kLong), field("CreatedAt", FieldType::kTimestamp),
                 field("Tags", FieldType::kString, true)};
  spec.key_index = {0};
  auto t = detail::layout_for(spec, "actito");
  EXPECT_EQ(t.table, "email_campaigns");
  EXPECT_EQ(t.qualified(), "\"actito\".\"email_campaigns\"");
  ASSERT_EQ(t.columns.size(), 3u);
  EXPECT_EQ(t.columns[1].name, "created_at");
  EXPECT_EQ(t.columns[2].type, "text[]");
  std::string ddl = detail::create_table_sql(t);
  EXPECT_NE(ddl.find("\"_synced_at\" timestamp with time zone NOT NULL"), std::string::npos);
  EXPECT_NE(ddl.find("PRIMARY KEY (\"id\")"), std::string::npos);
  std::string upsert = detail::upsert_sql(t, "_stage_1");
  EXPECT_NE(upsert.find("DISTINCT ON (\"id\")"), std::string::npos);
  EXPECT_NE(upsert.find("IS DISTINCT FROM"), std::string::npos);
  EXPECT_NE(upsert.find("ON CONFLICT (\"id\") DO UPDATE"), std::string::npos);

  spec.key_index.clear();
  EXPECT_EQ(kind_of([&] { detail::layout_for(spec, "actito"); }), ErrorKind::kPermanent);
  spec.key_index = {0};
  spec.fields.push_back(field("created_at", FieldType::kString));
  EXPECT_EQ(kind_of([&] { detail::layout_for(spec, "actito"); }), ErrorKind::kPermanent);
}

TEST(TableLayout, KeepModeLeavesExtendedColumnsOut) {
  engine::StreamSpec spec;
  spec.stream = "Templates";
  auto body = field("Body", FieldType::kString);
  body.extended = true;
  auto id = field("Id", FieldType::kLong);
  id.extended = true;  // a key is never treated as extended
  spec.fields = {id, field("Name", FieldType::kString), body};
  spec.key_index = {0};
  spec.extended = engine::ExtendedFetch::kFetch;
  auto fetch = detail::layout_for(spec, "actito");
  EXPECT_FALSE(fetch.columns[0].extended);
  EXPECT_TRUE(fetch.columns[2].extended);
  EXPECT_FALSE(fetch.keep_extended);
  spec.extended = engine::ExtendedFetch::kKeep;
  auto keep = detail::layout_for(spec, "actito");
  EXPECT_TRUE(keep.keep_extended);
  EXPECT_NE(fetch.signature(), keep.signature());
  spec.extended = engine::ExtendedFetch::kNone;
  EXPECT_EQ(detail::layout_for(spec, "actito").signature(), fetch.signature());

  const std::string all = detail::upsert_sql(fetch, "_stage_1");
  EXPECT_NE(all.find("\"body\" = EXCLUDED.\"body\""), std::string::npos) << all;
  EXPECT_NE(all.find("ROW(cur.\"name\", cur.\"body\")"), std::string::npos) << all;
  const std::string kept = detail::upsert_sql(keep, "_stage_1");
  EXPECT_EQ(kept.find("body"), std::string::npos) << kept;
  EXPECT_NE(kept.find("ROW(cur.\"name\")"), std::string::npos) << kept;
  // changed_rows never compares extended columns, whatever the mode.
  EXPECT_EQ(detail::changed_sql(fetch, "_stage_1"), detail::changed_sql(keep, "_stage_1"));
  EXPECT_EQ(detail::changed_sql(fetch, "_stage_1").find("body"), std::string::npos);
}

TEST(TableLayout, SeenTableNames) {
  EXPECT_EQ(detail::seen_table_name("customers"), "_seen_customers");
  const std::string fits(57, 'a');
  EXPECT_EQ(detail::seen_table_name(fits), "_seen_" + fits);
  const std::string a = detail::seen_table_name(std::string(58, 'a'));
  EXPECT_EQ(a.size(), 63u);
  EXPECT_EQ(a.substr(0, 54), "_seen_" + std::string(48, 'a'));
  const std::string b = detail::seen_table_name(std::string(58, 'a') + "b");
  EXPECT_EQ(b.size(), 63u);
  EXPECT_NE(a, b);                                              // same prefix, different hash
  EXPECT_EQ(a, detail::seen_table_name(std::string(58, 'a')));  // stable
  // Multi-byte characters are never cut in half.
  std::string accents;
  for (int i = 0; i < 40; ++i) accents += "\xc3\xa9";  // é
  const std::string c = detail::seen_table_name(accents);
  EXPECT_LE(c.size(), 63u);
  EXPECT_EQ(c.substr(6, 48), accents.substr(0, 48));
  EXPECT_EQ(detail::truncate_utf8("a\xc3\xa9", 2), "a");
  EXPECT_EQ(detail::truncate_utf8("a\xc3\xa9", 3), "a\xc3\xa9");
}

TEST(Errors, SqlstateClasses) {
  EXPECT_EQ(detail::kind_for_sqlstate("40001"), ErrorKind::kTransient);
  EXPECT_EQ(detail::kind_for_sqlstate("40P01"), ErrorKind::kTransient);
  EXPECT_EQ(detail::kind_for_sqlstate("08006"), ErrorKind::kTransient);
  EXPECT_EQ(detail::kind_for_sqlstate("57P01"), ErrorKind::kTransient);
  EXPECT_EQ(detail::kind_for_sqlstate("22P02"), ErrorKind::kPermanent);
  EXPECT_EQ(detail::kind_for_sqlstate("23502"), ErrorKind::kPermanent);
  EXPECT_EQ(detail::kind_for_sqlstate("42P01"), ErrorKind::kPermanent);
  EXPECT_EQ(detail::kind_for_sqlstate("28P01"), ErrorKind::kAuth);
  EXPECT_EQ(
      detail::kind_for_connect_failure("FATAL:  password authentication failed for user \"x\""),
      ErrorKind::kAuth);
  EXPECT_EQ(detail::kind_for_connect_failure("connection refused"), ErrorKind::kTransient);
  EXPECT_EQ(detail::one_line("ERROR:  bad thing\nDETAIL:  more  detail\n"),
            "bad thing; DETAIL: more detail");
}

TEST(Dsn, AddsDefaultsOnlyWhenAbsent) {
  EXPECT_EQ(add_conninfo_default("host=h", "connect_timeout", "10"), "host=h connect_timeout='10'");
  EXPECT_EQ(add_conninfo_default("host=h connect_timeout=3", "connect_timeout", "10"),
            "host=h connect_timeout=3");
  EXPECT_EQ(add_conninfo_default("", "fallback_application_name", "a b'c"),
            "fallback_application_name='a b\\'c'");
  EXPECT_EQ(add_conninfo_default("postgresql://h/db", "connect_timeout", "10"),
            "postgresql://h/db?connect_timeout=10");
  EXPECT_EQ(
      add_conninfo_default("postgresql://h/db?sslmode=require", "fallback_application_name", "a b"),
      "postgresql://h/db?sslmode=require&fallback_application_name=a%20b");
  EXPECT_EQ(add_conninfo_default("postgresql://h/db?connect_timeout=1", "connect_timeout", "10"),
            "postgresql://h/db?connect_timeout=1");
}

}  // namespace
}  // namespace replicator::sink_postgres

// Name resolution, type checks and literal conversion.
#include <gtest/gtest.h>

#include <limits>
#include <string>

#include "core/model/error.hpp"
#include "core/model/timestamp.hpp"
#include "core/predicate/predicate.hpp"
#include "tests/unit/predicate/fields.hpp"

namespace replicator::predicate {
namespace {

using model::FieldType;
using testing::campaign_fields;
using testing::field;

std::string resolved(const std::string& text) {
  return to_text(resolve(parse_predicate(text), campaign_fields()));
}

std::string resolve_error(const std::string& text) {
  try {
    resolve(parse_predicate(text), campaign_fields());
  } catch (const model::Error& e) {
    EXPECT_EQ(e.kind(), model::ErrorKind::kConfig) << text;
    return e.what();
  }
  ADD_FAILURE() << "no error for: " << text;
  return {};
}

Literal lit(Literal::Kind kind, std::string text) {
  Literal l;
  l.kind = kind;
  l.text = std::move(text);
  l.column = 3;
  return l;
}
Literal str(std::string text) { return lit(Literal::Kind::kString, std::move(text)); }
Literal num(std::string text) { return lit(Literal::Kind::kNumber, std::move(text)); }

std::string value_error(const Literal& l, const model::FieldDescriptor& f) {
  try {
    to_value(l, f, model::TimeZone::utc());
  } catch (const model::Error& e) {
    EXPECT_EQ(e.kind(), model::ErrorKind::kConfig);
    return e.what();
  }
  ADD_FAILURE() << "no error for: " << l.text;
  return {};
}

TEST(Resolve, NamesExactThenCaseInsensitiveThenSnakeCase) {
  EXPECT_EQ(resolved("Status = 'SENT'"), "Status = 'SENT'");
  EXPECT_EQ(resolved("status = 'SENT' AND STATUS IS NULL"), "Status = 'SENT' AND Status IS NULL");
  EXPECT_EQ(resolved("created_at >= '2025-01-01'"), "CreatedAt >= '2025-01-01'");
  EXPECT_EQ(resolved("etl_id = 4 OR birth_date IS NOT NULL"), "ETLId = 4 OR BirthDate IS NOT NULL");
  EXPECT_EQ(resolved("NOT \"created_at\" IN ('2025-01-01')"), "NOT CreatedAt IN ('2025-01-01')");
}

TEST(Resolve, ExactMatchWinsOverOtherSpellings) {
  const std::vector<model::FieldDescriptor> fields = {field("id", FieldType::kLong),
                                                      field("Id", FieldType::kString)};
  EXPECT_EQ(find_field("Id", fields).type, FieldType::kString);
  EXPECT_EQ(find_field("id", fields).type, FieldType::kLong);
  try {
    find_field("ID", fields);
    ADD_FAILURE();
  } catch (const model::Error& e) {
    EXPECT_STREQ(e.what(), "field ID is ambiguous: it matches id, Id; write the exact name");
  }
}

TEST(Resolve, UnknownFieldListsTheFields) {
  EXPECT_EQ(resolve_error("Status = 'x' AND Statut = 'y'"),
            "at column 18: unknown field Statut; the fields are: Id, Status, Priority, Amount, "
            "Active, BirthDate, CreatedAt, Tags, Payload, ETLId");
  EXPECT_EQ(resolve_error("Nope IS NULL").rfind("at column 1: unknown field Nope;", 0), 0u);
}

TEST(Resolve, LiteralsMustFitTheFieldType) {
  EXPECT_EQ(resolve_error("Status = 12"),
            "at column 10: Status = 12: field Status is STRING, the value must be a quoted string");
  EXPECT_EQ(resolve_error("Id = '12'"),
            "at column 6: Id = '12': field Id is LONG, the value must be an integer number, "
            "unquoted");
  EXPECT_EQ(resolve_error("Id IN (1, 2.5)"),
            "at column 11: Id IN (1, 2.5): field Id is LONG, the value must be an integer number, "
            "not 2.5");
  EXPECT_EQ(resolve_error("Priority > 2147483648"),
            "at column 12: Priority > 2147483648: field Priority is INTEGER, the value 2147483648 "
            "is out of its range (-2147483648 to 2147483647)");
  EXPECT_EQ(resolve_error("Active = 'true'"),
            "at column 10: Active = 'true': field Active is BOOLEAN, the value must be TRUE or "
            "FALSE");
  EXPECT_EQ(resolve_error("Amount < 'x'"),
            "at column 10: Amount < 'x': field Amount is NUMBER, the value must be a number, "
            "unquoted");
  EXPECT_EQ(resolve_error("BirthDate = '1990-02-30'"),
            "at column 13: BirthDate = '1990-02-30': field BirthDate is DATE, the value must be a "
            "quoted date 'yyyy-MM-dd', not '1990-02-30'");
  EXPECT_EQ(resolve_error("CreatedAt > 'yesterday'"),
            "at column 13: CreatedAt > 'yesterday': field CreatedAt is TIMESTAMP, the value must "
            "be a quoted timestamp such as '2025-01-01T10:00:00Z', '2025-01-01 11:00:00' (local "
            "time) or '2025-01-01' (local midnight), not 'yesterday'");
  // A value on the left is checked the same way after mirroring.
  EXPECT_EQ(resolve_error("12 = status"),
            "at column 1: Status = 12: field Status is STRING, the value must be a quoted string");
}

TEST(Resolve, NullOnlyWithIs) {
  EXPECT_EQ(resolve_error("Status = NULL"),
            "at column 10: Status = NULL: a comparison with NULL is never true; write Status IS "
            "NULL");
  EXPECT_EQ(resolve_error("Status <> null"),
            "at column 11: Status != NULL: a comparison with NULL is never true; write Status IS "
            "NOT NULL");
  EXPECT_EQ(resolve_error("Id < NULL"),
            "at column 6: Id < NULL: a comparison with NULL is never true");
  EXPECT_EQ(resolve_error("Id IN (1, NULL)"),
            "at column 11: Id IN (1, NULL): NULL in an IN list never matches; add OR Id IS NULL");
  EXPECT_EQ(resolve_error("Id NOT IN (NULL)"),
            "at column 12: Id NOT IN (NULL): NULL in a NOT IN list makes it never true; remove it");
  EXPECT_EQ(resolved("Payload IS NOT NULL AND Tags IS NULL"),
            "Payload IS NOT NULL AND Tags IS NULL");
}

TEST(Resolve, JsonAndMultiValuedRestrictions) {
  EXPECT_EQ(resolve_error("Payload = '{}'"),
            "at column 1: Payload = '{}': field Payload is JSON, only IS NULL and IS NOT NULL "
            "apply to it");
  EXPECT_EQ(resolve_error("Tags > 'a'"),
            "at column 1: Tags > 'a': field Tags is STRING[] (multi-valued): only =, !=, IN and "
            "NOT IN apply (= means contains)");
  EXPECT_EQ(resolve_error("Tags = 1"),
            "at column 8: Tags = 1: field Tags is STRING[], the value must be a quoted string "
            "(one element)");
  EXPECT_EQ(resolved("tags = 'VIP' OR Tags NOT IN ('a', 'b') OR Tags != 'c'"),
            "Tags = 'VIP' OR Tags NOT IN ('a', 'b') OR Tags != 'c'");
}

TEST(ToValue, PerFieldType) {
  const auto utc = model::TimeZone::utc();
  EXPECT_EQ(to_value(str("SENT"), field("S", FieldType::kString), utc),
            model::Value(std::string("SENT")));
  EXPECT_EQ(to_value(num("-42"), field("I", FieldType::kInteger), utc),
            model::Value(std::int64_t{-42}));
  EXPECT_EQ(to_value(num("9223372036854775807"), field("L", FieldType::kLong), utc),
            model::Value(std::int64_t{9223372036854775807}));
  EXPECT_EQ(to_value(num("-9223372036854775808"), field("L", FieldType::kLong), utc),
            model::Value(std::numeric_limits<std::int64_t>::min()));
  EXPECT_EQ(to_value(num("19.990"), field("N", FieldType::kNumber), utc),
            model::Value(model::Decimal{"19.990"}));
  EXPECT_EQ(to_value(lit(Literal::Kind::kBoolean, "TRUE"), field("B", FieldType::kBoolean), utc),
            model::Value(true));
  EXPECT_EQ(to_value(lit(Literal::Kind::kBoolean, "FALSE"), field("B", FieldType::kBoolean), utc),
            model::Value(false));
  EXPECT_EQ(to_value(str("2024-02-29"), field("D", FieldType::kDate), utc),
            model::Value(std::string("2024-02-29")));
  EXPECT_EQ(to_value(str("VIP"), field("T", FieldType::kString, true), utc),
            model::Value(std::string("VIP")));
  EXPECT_TRUE(model::is_null(
      to_value(lit(Literal::Kind::kNull, "NULL"), field("S", FieldType::kString), utc)));
}

TEST(ToValue, IntegersAreRangeChecked) {
  EXPECT_EQ(to_value(num("2147483647"), field("I", FieldType::kInteger), model::TimeZone::utc()),
            model::Value(std::int64_t{2147483647}));
  EXPECT_EQ(to_value(num("-2147483648"), field("I", FieldType::kInteger), model::TimeZone::utc()),
            model::Value(std::int64_t{-2147483648LL}));
  EXPECT_EQ(value_error(num("-2147483649"), field("I", FieldType::kInteger)),
            "at column 3: field I is INTEGER, the value -2147483649 is out of its range "
            "(-2147483648 to 2147483647)");
  EXPECT_EQ(value_error(num("9223372036854775808"), field("L", FieldType::kLong)),
            "at column 3: field L is LONG, the value 9223372036854775808 is out of its range "
            "(-9223372036854775808 to 9223372036854775807)");
  EXPECT_EQ(value_error(num("1E+3"), field("L", FieldType::kLong)),
            "at column 3: field L is LONG, the value must be an integer number, not 1E+3");
}

TEST(ToValue, TimestampsInEveryForm) {
  const auto utc = model::TimeZone::utc();
  const auto brussels = model::TimeZone::from_name("Europe/Brussels");
  const auto ts = field("T", FieldType::kTimestamp);
  auto ms = [](const model::Value& v) { return std::get<model::Timestamp>(v).ms; };
  const std::int64_t noon_utc = 1764331200000;  // 2025-11-28T12:00:00Z
  EXPECT_EQ(ms(to_value(str("2025-11-28T12:00:00Z"), ts, brussels)), noon_utc);
  EXPECT_EQ(ms(to_value(str("2025-11-28T12:00:00.123Z"), ts, brussels)), noon_utc + 123);
  EXPECT_EQ(ms(to_value(str("2025-11-28T12:00:00.1239Z"), ts, utc)), noon_utc + 123);  // truncated
  EXPECT_EQ(ms(to_value(str("2025-11-28T14:00:00+02:00"), ts, utc)), noon_utc);
  EXPECT_EQ(ms(to_value(str("2025-11-28 13:00:00"), ts, brussels)), noon_utc);  // naive, CET
  EXPECT_EQ(ms(to_value(str("2025-11-28T13:00:00"), ts, brussels)), noon_utc);
  EXPECT_EQ(ms(to_value(str("2025-11-28 12:00:00"), ts, utc)), noon_utc);
  // A bare date is midnight in the zone.
  EXPECT_EQ(ms(to_value(str("2025-11-28"), ts, utc)), noon_utc - 12 * 3600000LL);
  EXPECT_EQ(ms(to_value(str("2025-11-28"), ts, brussels)), noon_utc - 13 * 3600000LL);
  EXPECT_EQ(ms(to_value(str("2025-07-01"), ts, brussels)),
            ms(to_value(str("2025-06-30T22:00:00Z"), ts, utc)));  // CEST
  EXPECT_EQ(value_error(str("2025-13-01"), ts)
                .rfind("at column 3: field T is TIMESTAMP, the value "
                       "must be a quoted timestamp",
                       0),
            0u);
  EXPECT_NE(value_error(num("1764331200000"), ts).find("must be a quoted timestamp"),
            std::string::npos);
}

TEST(ToValue, WrongKinds) {
  EXPECT_EQ(value_error(str("x"), field("B", FieldType::kBoolean)),
            "at column 3: field B is BOOLEAN, the value must be TRUE or FALSE");
  EXPECT_EQ(value_error(num("20240101"), field("D", FieldType::kDate)),
            "at column 3: field D is DATE, the value must be a quoted date 'yyyy-MM-dd'");
  EXPECT_EQ(value_error(str("{}"), field("J", FieldType::kJson)),
            "at column 3: field J is JSON, only IS NULL and IS NOT NULL apply to it");
}

}  // namespace
}  // namespace replicator::predicate

// Evaluation with three-valued logic, and the property that makes the split safe.
#include <gtest/gtest.h>

#include <chrono>
#include <iostream>
#include <random>
#include <string>

#include "core/model/error.hpp"
#include "core/model/timestamp.hpp"
#include "core/predicate/predicate.hpp"
#include "tests/unit/predicate/fields.hpp"

namespace replicator::predicate {

void PrintTo(Truth t, std::ostream* os) { *os << to_string(t); }

namespace {

using model::FieldType;
using model::Row;
using model::Value;
using testing::field;

const std::vector<model::FieldDescriptor>& layout() {
  static const std::vector<model::FieldDescriptor> fields = {
      field("Id", FieldType::kLong),           field("Status", FieldType::kString),
      field("Amount", FieldType::kNumber),     field("CreatedAt", FieldType::kTimestamp),
      field("Tags", FieldType::kString, true), field("BirthDate", FieldType::kDate),
      field("Active", FieldType::kBoolean)};
  return fields;
}

Value ts(const char* text) { return model::parse_timestamp(text, model::TimeZone::utc()); }

Row row(Value id, Value status, Value amount = {}, Value created = {}, Value tags = {},
        Value birth = {}, Value active = {}) {
  return Row{std::move(id),   std::move(status), std::move(amount), std::move(created),
             std::move(tags), std::move(birth),  std::move(active)};
}

Truth eval(const std::string& text, const Row& r) {
  return compile(parse_predicate(text), layout(), model::TimeZone::from_name("Europe/Brussels"))
      .evaluate(r);
}

constexpr Truth T = Truth::kTrue;
constexpr Truth F = Truth::kFalse;
constexpr Truth U = Truth::kUnknown;

TEST(Evaluate, ThreeValuedLogicWithNulls) {
  const Row r = row(std::int64_t{1}, Value{});  // Status is NULL
  EXPECT_EQ(eval("Status = 'a'", r), U);
  EXPECT_EQ(eval("Status != 'a'", r), U);
  EXPECT_EQ(eval("NOT Status = 'a'", r), U);
  EXPECT_EQ(eval("Status IN ('a', 'b')", r), U);
  EXPECT_EQ(eval("Status NOT IN ('a', 'b')", r), U);
  EXPECT_EQ(eval("Status IS NULL", r), T);
  EXPECT_EQ(eval("Status IS NOT NULL", r), F);
  EXPECT_EQ(eval("NOT Status IS NULL", r), F);
  EXPECT_EQ(eval("Status = 'a' OR Id = 1", r), T);
  EXPECT_EQ(eval("Status = 'a' OR Id = 2", r), U);
  EXPECT_EQ(eval("Status = 'a' AND Id = 2", r), F);
  EXPECT_EQ(eval("Status = 'a' AND Id = 1", r), U);
  EXPECT_EQ(eval("NOT (Status = 'a' AND Id = 2)", r), T);
  EXPECT_EQ(eval("NOT (Status = 'a' OR Id = 2)", r), U);
  // Only TRUE passes.
  const auto p = compile(parse_predicate("NOT Status = 'a'"), layout(), model::TimeZone::utc());
  EXPECT_FALSE(p.matches(r));
  EXPECT_TRUE(p.matches(row(std::int64_t{1}, Value{std::string("b")})));
}

TEST(Evaluate, ComparisonsPerType) {
  const Row r = row(std::int64_t{42}, std::string("Sent"), model::Decimal{"10.50"},
                    ts("2025-01-01T00:30:00Z"), std::vector<std::string>{"VIP", "FR"},
                    std::string("1990-05-01"), true);
  EXPECT_EQ(eval("Id = 42 AND Id >= 42 AND Id <= 42 AND Id > 41 AND Id < 43", r), T);
  EXPECT_EQ(eval("Id != 42 OR Id < 42 OR Id > 42", r), F);
  EXPECT_EQ(eval("Id IN (1, 42) AND Id NOT IN (1, 2)", r), T);
  // Strings: exact, case-sensitive, by code point.
  EXPECT_EQ(eval("Status = 'Sent'", r), T);
  EXPECT_EQ(eval("Status = 'SENT'", r), F);
  EXPECT_EQ(eval("Status < 'a' AND Status > 'S'", r), T);
  // Decimals numerically.
  EXPECT_EQ(eval("Amount = 10.5 AND Amount > 9.99 AND Amount < 100 AND Amount > -1E+3", r), T);
  EXPECT_EQ(eval("Amount IN (10.500)", r), T);
  // Timestamps: a bare date is midnight in the zone (Brussels: 2024-12-31T23:00Z).
  EXPECT_EQ(eval("CreatedAt >= '2025-01-01'", r), T);
  EXPECT_EQ(eval("CreatedAt >= '2025-01-01T00:30:00.001Z'", r), F);
  EXPECT_EQ(eval("CreatedAt >= '2025-01-01 01:30:00'", r), T);
  EXPECT_EQ(eval("CreatedAt >= '2025-01-01 01:30:00.001'", r), F);
  EXPECT_EQ(eval("CreatedAt = '2025-01-01T01:30:00+01:00'", r), T);
  EXPECT_EQ(eval("CreatedAt < '2025-01-01T00:30:00.001Z'", r), T);
  // Dates as text; booleans.
  EXPECT_EQ(eval("BirthDate < '1990-05-02' AND BirthDate > '1989-12-31'", r), T);
  EXPECT_EQ(eval("Active = TRUE AND Active != FALSE", r), T);
  // Multi-valued: = contains, IN contains any, != and NOT IN the negations.
  EXPECT_EQ(eval("Tags = 'VIP'", r), T);
  EXPECT_EQ(eval("Tags = 'vip'", r), F);
  EXPECT_EQ(eval("Tags IN ('x', 'FR')", r), T);
  EXPECT_EQ(eval("Tags != 'VIP'", r), F);
  EXPECT_EQ(eval("Tags NOT IN ('x', 'y')", r), T);
  const Row empty_tags = row(Value{}, Value{}, Value{}, Value{}, std::vector<std::string>{});
  EXPECT_EQ(eval("Tags = 'VIP'", empty_tags), F);
  EXPECT_EQ(eval("Tags != 'VIP'", empty_tags), T);
  EXPECT_EQ(eval("Tags IS NULL", empty_tags), F);
}

TEST(Evaluate, BindResolvesNamesAndChecksTypes) {
  const Row r = row(std::int64_t{7}, std::string("x"));
  EXPECT_EQ(eval("id = 7 AND STATUS = 'x' AND created_at IS NULL", r), T);
  EXPECT_THROW(eval("Id = 'x'", r), model::Error);
  EXPECT_THROW(eval("Missing = 1", r), model::Error);
}

TEST(Evaluate, EmptyPredicatesAndShortRows) {
  EXPECT_TRUE(CompiledPredicate{}.matches(Row{}));
  EXPECT_TRUE(compile(nullptr, layout(), model::TimeZone::utc()).matches(Row{}));
  // Values missing from a short row read as NULL.
  EXPECT_EQ(eval("Active IS NULL AND Id = 1", Row{Value{std::int64_t{1}}}), T);
  EXPECT_EQ(eval("Active = TRUE", Row{}), U);
}

TEST(Evaluate, AMillionRows) {
  const auto p =
      compile(parse_predicate("Status IN ('a', 'b') AND (Id > 500 OR Amount >= 10.5) AND "
                              "NOT Tags = 'x' AND CreatedAt >= '2025-01-01'"),
              layout(), model::TimeZone::utc());
  std::vector<Row> rows;
  for (int i = 0; i < 1000; ++i) {
    rows.push_back(row(std::int64_t{i}, std::string(i % 3 == 0 ? "a" : "c"),
                       model::Decimal{std::to_string(i % 20) + ".5"},
                       Value{model::Timestamp{1735689600000LL + (i % 2 ? 1 : -1)}},
                       std::vector<std::string>{i % 5 ? "y" : "x"}));
  }
  const auto start = std::chrono::steady_clock::now();
  std::size_t passed = 0;
  for (int round = 0; round < 1000; ++round) {
    for (const auto& r : rows) passed += p.matches(r) ? 1 : 0;
  }
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();
  std::size_t expected = 0;
  for (int i = 0; i < 1000; ++i) {
    expected += (i % 3 == 0 && (i > 500 || i % 20 >= 10) && i % 5 != 0 && i % 2 == 1) ? 1 : 0;
  }
  EXPECT_EQ(passed, expected * 1000);
  std::cout << "1,000,000 rows in " << ms << " ms\n";
}

// ---- property: AND(native) AND local means exactly the original expression ------------------

class RandomPredicates {
 public:
  explicit RandomPredicates(std::uint32_t seed) : rng_(seed) {}

  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }

  // A literal of field `f` (index in fields_), as predicate text.
  std::string literal(int f) {
    switch (f) {
      case 0: return std::to_string(pick(5) - 1);
      case 1: return std::string("'") + "abc"[pick(3)] + "'";
      case 2: {
        static const char* forms[] = {"'2025-01-01'", "'2025-01-01T00:00:00Z'",
                                      "'2025-01-02 00:00:00'", "'2024-12-31T23:00:00.000Z'"};
        return forms[pick(4)];
      }
      case 3: return std::string("'") + "xyz"[pick(3)] + "'";
      default: return pick(2) ? "TRUE" : "false";
    }
  }

  std::string atom() {
    static const char* names[] = {"Id", "Status", "CreatedAt", "Tags", "Active"};
    const int f = pick(5);
    std::string name = names[f];
    if (pick(4) == 0)
      name = f == 2 ? "created_at"
                    : std::string(1, static_cast<char>(name[0] | 0x20)) + name.substr(1);
    switch (pick(6)) {
      case 0: return name + (pick(2) ? " IS NULL" : " is not null");
      case 1:
      case 2: {
        std::string list;
        const int n = 1 + pick(3);
        for (int i = 0; i < n; ++i) list += (i ? ", " : "") + literal(f);
        return name + (pick(3) ? " IN (" : " NOT IN (") + list + ")";
      }
      default: {
        static const char* all[] = {"=", "!=", "<>", "<", "<=", ">", ">="};
        const char* op = f == 3 ? all[pick(3)] : all[pick(7)];
        if (pick(5) == 0) {
          // value on the left, mirrored by the parser
          std::string mirrored = op;
          if (mirrored == "<")
            mirrored = ">";
          else if (mirrored == ">")
            mirrored = "<";
          else if (mirrored == "<=")
            mirrored = ">=";
          else if (mirrored == ">=")
            mirrored = "<=";
          return literal(f) + " " + mirrored + " " + name;
        }
        return name + " " + op + " " + literal(f);
      }
    }
  }

  std::string expr(int depth) {
    if (depth == 0 || pick(3) == 0) return atom();
    switch (pick(4)) {
      case 0: return "NOT " + paren(expr(depth - 1));
      case 1: return paren(expr(depth - 1)) + " OR " + paren(expr(depth - 1));
      case 2: {
        // An OR of equalities on one field, the shape the split merges into IN.
        const int f = pick(2) ? 1 : 0;
        const char* name = f ? "Status" : "Id";
        std::string out = std::string(name) + " = " + literal(f);
        for (int n = pick(3); n >= 0; --n) {
          out += pick(2)
                     ? std::string(" OR ") + name + " = " + literal(f)
                     : std::string(" OR ") + name + " IN (" + literal(f) + ", " + literal(f) + ")";
        }
        return out;
      }
      default: return paren(expr(depth - 1)) + " AND " + paren(expr(depth - 1));
    }
  }

  std::string predicate() {
    std::string out = expr(3);
    for (int n = pick(4); n > 0; --n) out += " AND " + paren(expr(2));
    return out;
  }

  Row random_row() {
    static const std::int64_t instants[] = {1735686000000LL, 1735689600000LL, 1735686000001LL,
                                            1735772400000LL, 1735775999999LL};
    Row r(5);  // each value NULL one time in four
    if (pick(4)) r[0] = std::int64_t{pick(5) - 1};
    if (pick(4)) r[1] = std::string(1, "abcA"[pick(4)]);
    if (pick(4)) r[2] = model::Timestamp{instants[pick(5)]};
    if (pick(4)) {
      std::vector<std::string> tags;
      for (int n = pick(3); n > 0; --n) tags.push_back(std::string(1, "xyz"[pick(3)]));
      r[3] = std::move(tags);
    }
    if (pick(4)) r[4] = pick(2) == 1;
    return r;
  }

  bool coin() { return pick(2) == 1; }

 private:
  static std::string paren(const std::string& s) { return "(" + s + ")"; }
  std::mt19937 rng_;
};

TEST(SplitProperty, NativeAndLocalEvaluateExactlyLikeTheOriginal) {
  const std::vector<model::FieldDescriptor> fields = {
      field("Id", FieldType::kLong), field("Status", FieldType::kString),
      field("CreatedAt", FieldType::kTimestamp), field("Tags", FieldType::kString, true),
      field("Active", FieldType::kBoolean)};
  const auto zone = model::TimeZone::from_name("Europe/Brussels");
  const std::uint32_t seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  RandomPredicates gen(seed);
  int with_native = 0, with_local = 0, merged = 0;
  for (int iteration = 0; iteration < 1500; ++iteration) {
    const std::string text = gen.predicate();
    SCOPED_TRACE(text);
    const Expr original = resolve(parse_predicate(text), fields);
    // A random native table, different each time.
    bool table[5][7];
    for (auto& r : table) {
      for (auto& c : r) c = gen.coin();
    }
    const Split s = split(original, [&](std::string_view f, model::FilterOp op, std::size_t n) {
      if (!within_search_limit(op, n)) return false;
      for (std::size_t i = 0; i < fields.size(); ++i) {
        if (fields[i].name == f) return table[i][static_cast<int>(op)];
      }
      ADD_FAILURE() << "not a canonical name: " << f;
      return false;
    });
    with_native += s.native.empty() ? 0 : 1;
    with_local += s.local ? 1 : 0;
    std::vector<CompiledPredicate> native;
    for (const auto& c : s.native) {
      EXPECT_FALSE(c.negated);
      EXPECT_LE(c.values.size(), kMaxNativeInValues);
      if (c.op == model::FilterOp::kIn && c.values.size() > 1) ++merged;
      native.push_back(compile(to_expr(c), fields, zone));
    }
    const CompiledPredicate local = compile(s.local, fields, zone);
    const CompiledPredicate whole = compile(original, fields, zone);
    const CompiledPredicate rejoined = compile(to_expr(s), fields, zone);
    const CompiledPredicate reparsed = compile(parse_predicate(to_text(original)), fields, zone);
    EXPECT_EQ(to_text(parse_predicate(to_text(original))), to_text(original));
    for (int k = 0; k < 40; ++k) {
      const Row r = gen.random_row();
      bool split_passes = local.matches(r);
      for (const auto& n : native) split_passes = split_passes && n.matches(r);
      ASSERT_EQ(split_passes, whole.matches(r)) << "split: " << to_text(to_expr(s));
      ASSERT_EQ(rejoined.evaluate(r), whole.evaluate(r)) << "split: " << to_text(to_expr(s));
      ASSERT_EQ(reparsed.evaluate(r), whole.evaluate(r)) << to_text(original);
    }
  }
  // The generator exercised every path.
  EXPECT_GT(with_native, 100);
  EXPECT_GT(with_local, 100);
  EXPECT_GT(merged, 20);
}

}  // namespace
}  // namespace replicator::predicate

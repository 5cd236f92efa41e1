// The native/local split.
#include <gtest/gtest.h>

#include <string>

#include "core/predicate/predicate.hpp"
#include "tests/unit/predicate/fields.hpp"

namespace replicator::predicate {
namespace {

using model::FilterOp;

// Like the catalog: Status takes = and IN, CreatedAt ranges, Id everything the API knows.
bool native(std::string_view field, FilterOp op, std::size_t value_count) {
  if (!within_search_limit(op, value_count)) return false;
  if (field == "Status") return op == FilterOp::kEq || op == FilterOp::kIn;
  if (field == "CreatedAt") return op == FilterOp::kGe || op == FilterOp::kLt;
  if (field == "Id") return op != FilterOp::kNe;
  return false;
}

struct Text {
  std::vector<std::string> native;
  std::string local;  // "" when nothing is local
};

Text split_text(const std::string& text) {
  const Split s = split(resolve(parse_predicate(text), testing::campaign_fields()), native);
  Text out;
  for (const auto& c : s.native) out.native.push_back(to_text(c));
  if (s.local) out.local = to_text(s.local);
  return out;
}

TEST(Split, AllNative) {
  const Text t =
      split_text("Status = 'SENT' AND CreatedAt >= '2025-01-01' AND CreatedAt < '2025-02-01'");
  EXPECT_EQ(t.native, (std::vector<std::string>{"Status = 'SENT'", "CreatedAt >= '2025-01-01'",
                                                "CreatedAt < '2025-02-01'"}));
  EXPECT_EQ(t.local, "");
}

TEST(Split, Mixed) {
  const Text t = split_text(
      "Status IN ('SENT', 'DRAFT') AND Priority > 2 AND (Id = 1 AND "
      "CreatedAt > '2025-01-01')");
  EXPECT_EQ(t.native, (std::vector<std::string>{"Status IN ('SENT', 'DRAFT')", "Id = 1"}));
  EXPECT_EQ(t.local, "Priority > 2 AND CreatedAt > '2025-01-01'");
}

TEST(Split, NothingLeavesAnOr) {
  const Text t = split_text("Status = 'SENT' OR Id = 1");
  EXPECT_TRUE(t.native.empty());
  EXPECT_EQ(t.local, "Status = 'SENT' OR Id = 1");
  const Text t2 = split_text("(Status = 'SENT' AND Id = 1) OR Id = 2");
  EXPECT_TRUE(t2.native.empty());
  EXPECT_EQ(t2.local, "Status = 'SENT' AND Id = 1 OR Id = 2");
}

TEST(Split, NothingLeavesANot) {
  const Text t = split_text("NOT Status = 'SENT' AND NOT (Id = 1 AND Id = 2)");
  EXPECT_TRUE(t.native.empty());
  EXPECT_EQ(t.local, "NOT Status = 'SENT' AND NOT (Id = 1 AND Id = 2)");
}

TEST(Split, OrOfEqualitiesOnOneFieldBecomesIn) {
  Text t = split_text("Status = 'A' OR status = 'B' OR Status IN ('C', 'A') OR (Status = 'D')");
  EXPECT_EQ(t.native, (std::vector<std::string>{"Status IN ('A', 'B', 'C', 'D')"}));
  EXPECT_EQ(t.local, "");
  t = split_text("Status = 'A' OR Status = 'A'");
  EXPECT_EQ(t.native, (std::vector<std::string>{"Status = 'A'"}));
  // Two fields, or another operator: stays an OR, stays local.
  t = split_text("Status = 'A' OR Id = 1");
  EXPECT_TRUE(t.native.empty());
  t = split_text("Status = 'A' OR Status != 'B'");
  EXPECT_EQ(t.local, "Status = 'A' OR Status != 'B'");
  t = split_text("Status = 'A' OR Status NOT IN ('B')");
  EXPECT_TRUE(t.native.empty());
  // A merged IN on a field the API cannot filter stays local, in its merged form.
  t = split_text("Priority = 1 OR Priority = 2");
  EXPECT_TRUE(t.native.empty());
  EXPECT_EQ(t.local, "Priority IN (1, 2)");
}

TEST(Split, MoreThanAHundredValuesAreNotNative) {
  std::string list, ors;
  for (int i = 0; i < 101; ++i) {
    list += (i ? ", '" : "'") + std::to_string(i) + "'";
    ors += (i ? " OR Status = '" : "Status = '") + std::to_string(i) + "'";
  }
  Text t = split_text("Status IN (" + list + ")");
  EXPECT_TRUE(t.native.empty());
  EXPECT_FALSE(t.local.empty());
  t = split_text(ors);
  EXPECT_TRUE(t.native.empty());
  EXPECT_EQ(t.local, "Status IN (" + list + ")");
  // Exactly 100 is fine.
  const std::string hundred = list.substr(0, list.rfind(", '"));
  t = split_text("Status IN (" + hundred + ")");
  EXPECT_EQ(t.native.size(), 1u);
}

TEST(Split, NonNativeOperatorsAndFields) {
  Text t = split_text("Id != 3 AND Status != 'X' AND CreatedAt <= '2025-01-01' AND Priority = 1");
  EXPECT_TRUE(t.native.empty());
  EXPECT_EQ(t.local, "Id != 3 AND Status != 'X' AND CreatedAt <= '2025-01-01' AND Priority = 1");
  t = split_text("Status NOT IN ('X') AND Status IS NOT NULL AND Id IN (1, 2)");
  EXPECT_EQ(t.native, (std::vector<std::string>{"Id IN (1, 2)"}));
  EXPECT_EQ(t.local, "Status NOT IN ('X') AND Status IS NOT NULL");
}

TEST(Split, TheCallbackSeesCanonicalNamesOperatorsAndCounts) {
  std::vector<std::string> seen;
  const Expr e = resolve(parse_predicate("status IN ('a', 'b') AND created_at >= '2025-01-01'"),
                         testing::campaign_fields());
  split(e, [&](std::string_view f, FilterOp op, std::size_t n) {
    seen.push_back(std::string(f) + " " + std::string(model::to_string(op)) + " " +
                   std::to_string(n));
    return true;
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"Status IN 2", "CreatedAt >= 1"}));
}

TEST(Split, NullLiteralsNeverGoNative) {
  // Unresolved trees may still hold NULL (resolve refuses them); split stays safe regardless.
  const Split s = split(parse_predicate("Status = NULL AND Status IN ('a', NULL)"),
                        [](std::string_view, FilterOp, std::size_t) { return true; });
  EXPECT_TRUE(s.native.empty());
  ASSERT_TRUE(s.local);
}

TEST(Split, ToExprPutsTheHalvesBackTogether) {
  const Split s = split(resolve(parse_predicate("Status = 'A' AND Priority > 1 AND Id = 2"),
                                testing::campaign_fields()),
                        native);
  EXPECT_EQ(to_text(to_expr(s)), "Status = 'A' AND Id = 2 AND Priority > 1");
  EXPECT_EQ(to_text(to_expr(s.native[0])), "Status = 'A'");
  EXPECT_EQ(to_expr(Split{}), nullptr);
}

}  // namespace
}  // namespace replicator::predicate

// Lexer, parser, canonical text.
#include "core/predicate/predicate.hpp"

#include <gtest/gtest.h>

#include <string>

#include "core/model/error.hpp"

namespace replicator::predicate {
namespace {

std::string canon(const std::string& text) { return to_text(parse_predicate(text)); }

// The message of the kConfig error that parsing `text` throws.
std::string parse_error(const std::string& text) {
  try {
    parse_predicate(text);
  } catch (const model::Error& e) {
    EXPECT_EQ(e.kind(), model::ErrorKind::kConfig) << text;
    return e.what();
  }
  ADD_FAILURE() << "no error for: " << text;
  return {};
}

TEST(Lexer, TokensCarryTheirColumns) {
  const auto t = tokenize("Status <> 'it''s' AND \"Order Id\" >= -12.5");
  ASSERT_EQ(t.size(), 8u);
  EXPECT_EQ(t[0].kind, TokenKind::kIdentifier);
  EXPECT_EQ(t[0].column, 1);
  EXPECT_EQ(t[1].kind, TokenKind::kNe);
  EXPECT_EQ(t[1].column, 8);
  EXPECT_EQ(t[2].kind, TokenKind::kString);
  EXPECT_EQ(t[2].text, "it's");
  EXPECT_EQ(t[2].source, "'it''s'");
  EXPECT_EQ(t[2].column, 11);
  EXPECT_EQ(t[3].text, "AND");
  EXPECT_EQ(t[4].kind, TokenKind::kQuotedIdentifier);
  EXPECT_EQ(t[4].text, "Order Id");
  EXPECT_EQ(t[5].kind, TokenKind::kGe);
  EXPECT_EQ(t[6].kind, TokenKind::kNumber);
  EXPECT_EQ(t[6].text, "-12.5");
  EXPECT_EQ(t[7].kind, TokenKind::kEnd);
  EXPECT_EQ(t[7].column, 42);
}

TEST(Lexer, ColumnsCountCharactersNotBytes) {
  const auto t = tokenize("Name = 'é' AND X = 1");
  EXPECT_EQ(t[3].column, 12);  // 'é' is two bytes, one column
}

TEST(Parser, ComparisonOperators) {
  EXPECT_EQ(canon("A = 1"), "A = 1");
  EXPECT_EQ(canon("A != 1"), "A != 1");
  EXPECT_EQ(canon("A <> 1"), "A != 1");
  EXPECT_EQ(canon("A<1"), "A < 1");
  EXPECT_EQ(canon("A<=1"), "A <= 1");
  EXPECT_EQ(canon("A>1"), "A > 1");
  EXPECT_EQ(canon("A>=1"), "A >= 1");
  EXPECT_EQ(canon("A in (1,2, 3)"), "A IN (1, 2, 3)");
  EXPECT_EQ(canon("A not in ('x')"), "A NOT IN ('x')");
  EXPECT_EQ(canon("A is null"), "A IS NULL");
  EXPECT_EQ(canon("A Is Not Null"), "A IS NOT NULL");
}

TEST(Parser, BuildsTheTree) {
  const Expr e = parse_predicate("Status IN ('A', 'B') AND NOT Amount > -3.50");
  const auto* a = std::get_if<And>(&e->v);
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(a->children.size(), 2u);
  const auto& in = std::get<Comparison>(a->children[0]->v);
  EXPECT_EQ(in.field, "Status");
  EXPECT_EQ(in.op, model::FilterOp::kIn);
  EXPECT_FALSE(in.negated);
  ASSERT_EQ(in.values.size(), 2u);
  EXPECT_EQ(in.values[1].kind, Literal::Kind::kString);
  EXPECT_EQ(in.values[1].text, "B");
  EXPECT_EQ(in.values[1].column, 17);
  const auto& n = std::get<Not>(a->children[1]->v);
  const auto& gt = std::get<Comparison>(n.child->v);
  EXPECT_EQ(gt.op, model::FilterOp::kGt);
  EXPECT_EQ(gt.values[0].kind, Literal::Kind::kNumber);
  EXPECT_EQ(gt.values[0].text, "-3.50");  // exact text kept
  EXPECT_EQ(gt.column, 30);
}

TEST(Parser, PrecedenceNotOverAndOverOr) {
  // OR binds loosest: a OR (b AND c).
  const Expr e = parse_predicate("A = 1 OR B = 2 AND C = 3");
  const auto* o = std::get_if<Or>(&e->v);
  ASSERT_NE(o, nullptr);
  ASSERT_EQ(o->children.size(), 2u);
  EXPECT_TRUE(std::holds_alternative<And>(o->children[1]->v));
  // NOT applies to the comparison only: (NOT a) AND b.
  const Expr n = parse_predicate("NOT A = 1 AND B = 2");
  const auto* a = std::get_if<And>(&n->v);
  ASSERT_NE(a, nullptr);
  EXPECT_TRUE(std::holds_alternative<Not>(a->children[0]->v));
  EXPECT_EQ(to_text(n), "NOT A = 1 AND B = 2");
}

TEST(Parser, ParenthesesOverridePrecedence) {
  EXPECT_EQ(canon("(A = 1 OR B = 2) AND C = 3"), "(A = 1 OR B = 2) AND C = 3");
  EXPECT_EQ(canon("A = 1 OR (B = 2 AND C = 3)"), "A = 1 OR B = 2 AND C = 3");
  EXPECT_EQ(canon("NOT (A = 1 AND B = 2)"), "NOT (A = 1 AND B = 2)");
  EXPECT_EQ(canon("((A = 1))"), "A = 1");
  EXPECT_EQ(canon("(A = 1 AND B = 2) AND C = 3"), "A = 1 AND B = 2 AND C = 3");  // flattened
  EXPECT_EQ(canon("NOT NOT A IS NULL"), "NOT NOT A IS NULL");
}

TEST(Parser, KeywordsAreCaseInsensitive) {
  EXPECT_EQ(canon("a = true and b = FaLsE or not c is NULL"),
            "a = TRUE AND b = FALSE OR NOT c IS NULL");
  EXPECT_EQ(canon("x NoT In (nUlL)"), "x NOT IN (NULL)");
}

TEST(Parser, QuotedStringsAndIdentifiers) {
  const Expr e = parse_predicate("\"Order \"\"Id\"\"\" = 'O''Brien'");
  const auto& c = std::get<Comparison>(e->v);
  EXPECT_EQ(c.field, "Order \"Id\"");
  EXPECT_EQ(c.values[0].text, "O'Brien");
  EXPECT_EQ(to_text(e), "\"Order \"\"Id\"\"\" = 'O''Brien'");
  EXPECT_EQ(canon("A = ''"), "A = ''");
  EXPECT_EQ(canon("A = ''''"), "A = ''''");
  // Keywords as field names need quotes, and to_text adds them.
  EXPECT_EQ(canon("\"In\" = 1 AND \"Select\" = 2 AND Limits = 3"),
            "\"In\" = 1 AND \"Select\" = 2 AND Limits = 3");
}

TEST(Parser, LiteralOnTheLeftIsMirrored) {
  EXPECT_EQ(canon("'SENT' = Status"), "Status = 'SENT'");
  EXPECT_EQ(canon("5 < A"), "A > 5");
  EXPECT_EQ(canon("5 <= A"), "A >= 5");
  EXPECT_EQ(canon("5 > A"), "A < 5");
  EXPECT_EQ(canon("5 >= A"), "A <= 5");
  EXPECT_EQ(canon("5 <> A"), "A != 5");
  const Expr e = parse_predicate("'x' = Name");
  EXPECT_EQ(std::get<Comparison>(e->v).column, 7);
}

TEST(Parser, NumbersKeepTheirText) {
  EXPECT_EQ(canon("A = 007"), "A = 007");
  EXPECT_EQ(canon("A = -0.10"), "A = -0.10");
  EXPECT_EQ(canon("A = 1E+3"), "A = 1E+3");
  EXPECT_EQ(canon("A = 9223372036854775808"), "A = 9223372036854775808");
}

TEST(Parser, ErrorsSayTheColumnAndWhatWasExpected) {
  EXPECT_EQ(parse_error("Status = 'SENT' = AND"),
            "at column 17: expected AND, OR or the end of the text but found '='");
  EXPECT_EQ(parse_error("Status = AND X = 1"),
            "at column 10: expected a value after '=' but found 'AND'");
  EXPECT_EQ(parse_error("Status ="),
            "at column 9: expected a value after '=' but found the end of the text");
  EXPECT_EQ(parse_error("A = 1 AND"),
            "at column 10: expected a condition after 'AND' but found the end of the text");
  EXPECT_EQ(parse_error("(A = 1 OR B = 2"),
            "at column 16: expected ')' to close the '(' at column 1 but found the end of the "
            "text");
  EXPECT_EQ(parse_error("A = 'open"),
            "at column 5: expected a closing ' for the string that starts here but found the end "
            "of the text");
  EXPECT_EQ(parse_error("\"A = 1"),
            "at column 1: expected a closing \" for the field name that starts here but found the "
            "end of the text");
  EXPECT_EQ(parse_error("A IN ()"), "at column 7: expected a value in the IN list but found ')'");
  EXPECT_EQ(parse_error("A IN ('a' 'b')"),
            "at column 11: expected ',' or ')' in the IN list but found the string 'b'");
  EXPECT_EQ(parse_error("A IN 1"), "at column 6: expected '(' after 'IN' but found '1'");
  EXPECT_EQ(parse_error("A NOT 1"), "at column 7: expected IN after 'NOT' but found '1'");
  EXPECT_EQ(parse_error("A IS 1"),
            "at column 6: expected NULL or NOT NULL after 'IS' but found '1'");
  EXPECT_EQ(parse_error("A IS NOT TRUE"),
            "at column 10: expected NULL after 'IS NOT' but found 'TRUE'");
  EXPECT_EQ(parse_error("A 'x'"),
            "at column 3: expected an operator (=, !=, <>, <, <=, >, >=, IN, NOT IN, IS NULL) "
            "after the field A but found the string 'x'");
  EXPECT_EQ(parse_error("A = B"), "at column 5: expected a value after '=' but found 'B'");
  EXPECT_EQ(parse_error("1 = 2"),
            "at column 5: expected a field name after '=' (one side of a comparison must be a "
            "field) but found '2'");
  EXPECT_EQ(parse_error("'x' IN ('y')"),
            "at column 5: expected a comparison operator (=, !=, <>, <, <=, >, >=) after the "
            "value 'x' but found 'IN'");
  EXPECT_EQ(parse_error("A = 1 # B"),
            "at column 7: expected a field name, a value, an operator or a parenthesis but found "
            "'#'");
  EXPECT_EQ(parse_error("A = 12abc"), "at column 5: expected a number but found '12abc'");
  EXPECT_EQ(parse_error("A = 1."),
            "at column 5: expected a digit after the decimal point but found '1.'");
  EXPECT_EQ(parse_error("A = - 1"), "at column 5: expected a digit after '-' but found '-'");
  EXPECT_EQ(parse_error("A ! 1"), "at column 3: expected '!=' (or '<>') but found '!' alone");
  EXPECT_EQ(parse_error(""), "at column 1: expected a condition but found the end of the text");
  EXPECT_EQ(parse_error("   "), "at column 4: expected a condition but found the end of the text");
  EXPECT_EQ(parse_error("A = 1)"),
            "at column 6: expected AND, OR or the end of the text but found ')'");
  EXPECT_EQ(parse_error("NOT"),
            "at column 4: expected a condition after 'NOT' but found the end of the text");
  EXPECT_EQ(parse_error("AND A = 1"),
            "at column 1: expected a condition (a field name, NOT or '(') but found 'AND'");
  EXPECT_EQ(parse_error("A = \"\""),
            "at column 5: expected a field name between the double quotes but found \"\"");
}

TEST(Parser, ParseExpressionStopsWhereTheCallerTakesOver) {
  // What the SQL subset of `query` does: WHERE <expression> ORDER BY ...
  Parser p(tokenize("A = 1 AND b IS NULL ORDER BY A LIMIT 5"));
  const Expr e = p.parse_expression();
  EXPECT_EQ(to_text(e), "A = 1 AND b IS NULL");
  EXPECT_TRUE(p.accept_keyword("order"));
  EXPECT_TRUE(p.accept_keyword("BY"));
  EXPECT_EQ(p.parse_field(), "A");
  EXPECT_TRUE(p.at_keyword("LIMIT"));
  p.next();
  EXPECT_EQ(p.next().text, "5");
  EXPECT_TRUE(p.at_end());
  EXPECT_TRUE(p.at_end());  // stays at the end
  EXPECT_EQ(p.next().kind, TokenKind::kEnd);
  EXPECT_TRUE(is_reserved("null"));
  EXPECT_FALSE(is_reserved("ORDER"));
}

TEST(ToText, RoundTripsThroughTheParser) {
  for (const char* text : {
           "A = 1",
           "a = 'x' and (b = 2 or c <> 'it''s') and not d is null",
           "NOT (A = 1 OR B = 2)",
           "not not (x > -1.5e3)",
           "(A = 1 OR B IN (1, 2)) AND (C NOT IN ('x', 'y') OR D IS NOT NULL)",
           "((A = 1 AND B = 2) OR C = 3) AND D = 4",
           "\"Weird name\" = TRUE OR \"and\" = FALSE",
           "'z' >= Name",
       }) {
    const std::string once = canon(text);
    EXPECT_EQ(canon(once), once) << text;
  }
}

TEST(FieldsOf, EachFieldOnceInOrder) {
  const Expr e = parse_predicate("B = 1 AND (A IS NULL OR B = 2) AND NOT C IN (1) AND A = 3");
  EXPECT_EQ(fields_of(e), (std::vector<std::string>{"B", "A", "C"}));
}

TEST(Make, FlattensAndUnwraps) {
  const Expr a = parse_predicate("A = 1");
  const Expr b = parse_predicate("B = 1 AND C = 1");
  EXPECT_EQ(make_and({a}), a);
  const Expr ab = make_and({a, b});
  EXPECT_EQ(std::get<And>(ab->v).children.size(), 3u);
  EXPECT_EQ(to_text(make_or({ab, a})), "A = 1 AND B = 1 AND C = 1 OR A = 1");
  EXPECT_EQ(to_text(make_and({make_or({a, a}), a})), "(A = 1 OR A = 1) AND A = 1");
}

}  // namespace
}  // namespace replicator::predicate

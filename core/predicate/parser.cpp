#include "core/predicate/parser.hpp"

#include <array>

#include "core/model/error.hpp"

namespace replicator::predicate {
namespace {

constexpr std::array<std::string_view, 8> kKeywords = {"AND", "OR",   "NOT",  "IN",
                                                       "IS",  "NULL", "TRUE", "FALSE"};

bool comparison_token(TokenKind k, model::FilterOp& op) noexcept {
  switch (k) {
    case TokenKind::kEq: op = model::FilterOp::kEq; return true;
    case TokenKind::kNe: op = model::FilterOp::kNe; return true;
    case TokenKind::kLt: op = model::FilterOp::kLt; return true;
    case TokenKind::kLe: op = model::FilterOp::kLe; return true;
    case TokenKind::kGt: op = model::FilterOp::kGt; return true;
    case TokenKind::kGe: op = model::FilterOp::kGe; return true;
    default: return false;
  }
}

// `5 < A` says the same as `A > 5`.
model::FilterOp mirror(model::FilterOp op) noexcept {
  switch (op) {
    case model::FilterOp::kLt: return model::FilterOp::kGt;
    case model::FilterOp::kLe: return model::FilterOp::kGe;
    case model::FilterOp::kGt: return model::FilterOp::kLt;
    case model::FilterOp::kGe: return model::FilterOp::kLe;
    default: return op;
  }
}

}  // namespace

bool is_reserved(std::string_view word) noexcept {
  for (auto k : kKeywords) {
    if (iequals(k, word)) return true;
  }
  return false;
}

Parser::Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {
  if (tokens_.empty() || tokens_.back().kind != TokenKind::kEnd) {
    Token end;
    end.column = tokens_.empty()
                     ? 1
                     : tokens_.back().column + static_cast<int>(tokens_.back().source.size());
    tokens_.push_back(std::move(end));
  }
}

const Token& Parser::peek(std::size_t ahead) const noexcept {
  const std::size_t i = pos_ + ahead;
  return i < tokens_.size() ? tokens_[i] : tokens_.back();
}

Token Parser::next() {
  Token t = peek();
  if (pos_ + 1 < tokens_.size()) ++pos_;
  return t;
}

bool Parser::at_keyword(std::string_view keyword) const noexcept {
  return peek().kind == TokenKind::kIdentifier && iequals(peek().text, keyword);
}

bool Parser::accept_keyword(std::string_view keyword) {
  if (!at_keyword(keyword)) return false;
  next();
  return true;
}

void Parser::fail_expected(std::string_view what) const {
  const Token& t = peek();
  model::fail(model::ErrorKind::kConfig, "at column " + std::to_string(t.column) + ": expected " +
                                             std::string(what) + " but found " + describe(t));
}

bool Parser::at_field() const noexcept {
  const Token& t = peek();
  return t.kind == TokenKind::kQuotedIdentifier ||
         (t.kind == TokenKind::kIdentifier && !is_reserved(t.text));
}

bool Parser::at_literal() const noexcept {
  const Token& t = peek();
  return t.kind == TokenKind::kString || t.kind == TokenKind::kNumber || at_keyword("TRUE") ||
         at_keyword("FALSE") || at_keyword("NULL");
}

std::string Parser::parse_field(std::string_view what) {
  if (!at_field()) fail_expected(what);
  return next().text;
}

Literal Parser::parse_literal(std::string_view what) {
  if (!at_literal()) fail_expected(what);
  Token t = next();
  Literal lit;
  lit.column = t.column;
  if (t.kind == TokenKind::kString) {
    lit.kind = Literal::Kind::kString;
    lit.text = std::move(t.text);
  } else if (t.kind == TokenKind::kNumber) {
    lit.kind = Literal::Kind::kNumber;
    lit.text = std::move(t.text);
  } else if (iequals(t.text, "NULL")) {
    lit.kind = Literal::Kind::kNull;
    lit.text = "NULL";
  } else {
    lit.kind = Literal::Kind::kBoolean;
    lit.text = iequals(t.text, "TRUE") ? "TRUE" : "FALSE";
  }
  return lit;
}

Expr Parser::parse_expression() { return parse_or(); }

Expr Parser::parse_or() {
  std::vector<Expr> children{parse_and()};
  while (accept_keyword("OR")) children.push_back(parse_and());
  return children.size() == 1 ? children.front() : make_or(std::move(children));
}

Expr Parser::parse_and() {
  std::vector<Expr> children{parse_not()};
  while (accept_keyword("AND")) children.push_back(parse_not());
  return children.size() == 1 ? children.front() : make_and(std::move(children));
}

Expr Parser::parse_not() {
  if (accept_keyword("NOT")) return make_not(parse_not());
  return parse_primary();
}

Expr Parser::parse_primary() {
  if (peek().kind == TokenKind::kLParen) {
    const Token open = next();
    Expr e = parse_expression();
    if (peek().kind != TokenKind::kRParen) {
      fail_expected("')' to close the '(' at column " + std::to_string(open.column));
    }
    next();
    return e;
  }
  if (at_field()) {
    const int column = peek().column;
    std::string field = next().text;
    return parse_after_field(std::move(field), column);
  }
  if (at_literal()) return parse_after_literal(parse_literal("a value"));
  // Name what came before, so "A = 1 AND" says "a condition after 'AND'".
  if (pos_ > 0) {
    const Token& prev = tokens_[pos_ - 1];
    if (prev.kind == TokenKind::kLParen ||
        (prev.kind == TokenKind::kIdentifier &&
         (iequals(prev.text, "AND") || iequals(prev.text, "OR") || iequals(prev.text, "NOT")))) {
      fail_expected("a condition after '" + prev.source + "'");
    }
  }
  fail_expected("a condition (a field name, NOT or '(')");
}

Expr Parser::parse_after_field(std::string field, int column) {
  model::FilterOp op;
  if (comparison_token(peek().kind, op)) {
    const Token op_token = next();
    Comparison c;
    c.field = std::move(field);
    c.op = op;
    c.column = column;
    c.values.push_back(parse_literal("a value after '" + op_token.source + "'"));
    return make(std::move(c));
  }
  if (at_keyword("IN") || at_keyword("NOT")) {
    const bool negated = accept_keyword("NOT");
    if (!at_keyword("IN")) fail_expected("IN after 'NOT'");
    const Token in = next();
    Comparison c;
    c.field = std::move(field);
    c.op = model::FilterOp::kIn;
    c.negated = negated;
    c.column = column;
    c.values = parse_in_list(in);
    return make(std::move(c));
  }
  if (accept_keyword("IS")) {
    IsNull n;
    n.field = std::move(field);
    n.column = column;
    n.negated = accept_keyword("NOT");
    if (!accept_keyword("NULL"))
      fail_expected(n.negated ? "NULL after 'IS NOT'" : "NULL or NOT NULL after 'IS'");
    return make(std::move(n));
  }
  fail_expected("an operator (=, !=, <>, <, <=, >, >=, IN, NOT IN, IS NULL) after the field " +
                field_text(field));
}

Expr Parser::parse_after_literal(Literal literal) {
  model::FilterOp op;
  if (!comparison_token(peek().kind, op)) {
    fail_expected("a comparison operator (=, !=, <>, <, <=, >, >=) after the value " +
                  to_text(literal));
  }
  const Token op_token = next();
  Comparison c;
  c.column = peek().column;
  c.field = parse_field("a field name after '" + op_token.source +
                        "' (one side of a comparison must be a field)");
  c.op = mirror(op);
  c.values.push_back(std::move(literal));
  return make(std::move(c));
}

std::vector<Literal> Parser::parse_in_list(const Token& in_keyword) {
  if (peek().kind != TokenKind::kLParen) fail_expected("'(' after '" + in_keyword.source + "'");
  next();
  std::vector<Literal> values;
  while (true) {
    values.push_back(parse_literal("a value in the IN list"));
    if (peek().kind == TokenKind::kComma) {
      next();
      continue;
    }
    if (peek().kind == TokenKind::kRParen) {
      next();
      return values;
    }
    fail_expected("',' or ')' in the IN list");
  }
}

Expr parse_predicate(std::string_view text) {
  Parser p(tokenize(text));
  if (p.at_end()) p.fail_expected("a condition");
  Expr e = p.parse_expression();
  if (!p.at_end()) p.fail_expected("AND, OR or the end of the text");
  return e;
}

}  // namespace replicator::predicate

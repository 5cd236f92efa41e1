// Recursive-descent parser of the predicate language; its expression rule is public so the SQL
// subset of `query` can embed it (SELECT ... FROM Obj WHERE <expression> ORDER BY ... LIMIT n).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/predicate/ast.hpp"
#include "core/predicate/lexer.hpp"

namespace replicator::predicate {

// Grammar (keywords case-insensitive):
//   expression := and_expr { OR and_expr }
//   and_expr   := not_expr { AND not_expr }
//   not_expr   := NOT not_expr | primary
//   primary    := '(' expression ')'
//               | field ( '=' | '!=' | '<>' | '<' | '<=' | '>' | '>=' ) literal
//               | literal ( '=' | ... ) field              (mirrored: 5 < A  ->  A > 5)
//               | field [NOT] IN '(' literal { ',' literal } ')'
//               | field IS [NOT] NULL
//   field      := identifier (not a keyword) | "double-quoted identifier"
//   literal    := 'string' | number | TRUE | FALSE | NULL
// Reserved words (never bare field names): AND OR NOT IN IS NULL TRUE FALSE.
//
// Every error is model::Error(kConfig) with a message "at column N: expected X but found Y";
// callers prefix it with where the text came from (file:line:column of the `where:` value).
//
// Thread safety: a Parser is a cursor over its own tokens; use one per thread.
class Parser {
 public:
  // `tokens` as returned by tokenize(): non-empty, ending with kEnd.
  explicit Parser(std::vector<Token> tokens);

  // Parses one expression and stops before the first token that cannot continue it (the end of
  // the text, ')', or a word such as ORDER or LIMIT that the caller handles).
  Expr parse_expression();

  // Cursor helpers for parsers built on this one.
  const Token& peek(std::size_t ahead = 0) const noexcept;  // past the end: the kEnd token
  Token next();                                             // consumes; stays on kEnd at the end
  bool at_end() const noexcept { return peek().kind == TokenKind::kEnd; }
  // True when the next token is the bare identifier `keyword` (any case).
  bool at_keyword(std::string_view keyword) const noexcept;
  bool accept_keyword(std::string_view keyword);
  // Throws "at column N: expected <what> but found <next token>".
  [[noreturn]] void fail_expected(std::string_view what) const;
  // A field name (bare non-reserved identifier or quoted identifier); otherwise fail_expected.
  std::string parse_field(std::string_view what = "a field name");

 private:
  Expr parse_or();
  Expr parse_and();
  Expr parse_not();
  Expr parse_primary();
  Expr parse_after_field(std::string field, int column);
  Expr parse_after_literal(Literal literal);
  std::vector<Literal> parse_in_list(const Token& in_keyword);
  bool at_field() const noexcept;
  bool at_literal() const noexcept;
  Literal parse_literal(std::string_view what);

  std::vector<Token> tokens_;
  std::size_t pos_ = 0;
};

// Parses a whole predicate: parse_expression() followed by the end of the text.
Expr parse_predicate(std::string_view text);

// True for the words that cannot be bare field names (see the grammar above).
bool is_reserved(std::string_view word) noexcept;

}  // namespace replicator::predicate

// Tokens of the predicate language (and of the SQL subset built on it), with their 1-based column.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace replicator::predicate {

enum class TokenKind {
  kIdentifier,        // bare word: a field name or a keyword (AND, OR, NOT, IN, IS, NULL, ...)
  kQuotedIdentifier,  // "Field Name"; `text` has the quotes removed and "" undoubled
  kString,            // 'it''s'; `text` has the quotes removed and '' undoubled
  kNumber,            // -12, 3.5, 1E+3; `text` is the exact source text
  kEq,                // =
  kNe,                // != or <>
  kLt,                // <
  kLe,                // <=
  kGt,                // >
  kGe,                // >=
  kLParen,            // (
  kRParen,            // )
  kComma,             // ,
  kStar,              // *  (not used by predicates; there for SELECT *)
  kEnd,               // end of the text; its column is one past the last character
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string text;    // the value (see TokenKind); for operators and punctuation the source text
  std::string source;  // exactly as written, for error messages
  int column = 1;      // 1-based, counted in characters (UTF-8 code points), not bytes
};

// Splits `text` into tokens; the last one is always kEnd. Keywords are not recognised here: they
// are identifiers, compared case-insensitively by the parser (see Parser::at_keyword), so a later
// SQL parser can add its own (SELECT, FROM, ORDER BY, LIMIT) without touching the lexer.
// Throws model::Error(kConfig) "at column N: expected ... but found ..." on an unterminated quote,
// a malformed number or a character that starts no token.
std::vector<Token> tokenize(std::string_view text);

// "the end of the text", "the string 'x'" or "'AND'": how error messages name what they found.
std::string describe(const Token& token);

// ASCII case-insensitive equality (keywords and field names).
bool iequals(std::string_view a, std::string_view b) noexcept;

}  // namespace replicator::predicate

#include "core/predicate/lexer.hpp"

#include "core/model/error.hpp"

namespace replicator::predicate {
namespace {

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
bool is_ident_start(char c) noexcept {
  // Bytes >= 0x80 are parts of UTF-8 letters: accepted so accented attribute names work.
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}
bool is_ident_char(char c) noexcept { return is_ident_start(c) || is_digit(c); }
bool is_continuation(char c) noexcept { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

class Lexer {
 public:
  explicit Lexer(std::string_view text) : s_(text) {}

  std::vector<Token> run() {
    std::vector<Token> out;
    while (true) {
      while (pos_ < s_.size() &&
             (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) {
        advance(1);
      }
      if (pos_ >= s_.size()) break;
      out.push_back(next());
    }
    Token end;
    end.kind = TokenKind::kEnd;
    end.column = col_;
    out.push_back(std::move(end));
    return out;
  }

 private:
  void advance(std::size_t n) {
    for (std::size_t k = 0; k < n && pos_ < s_.size(); ++k, ++pos_) {
      if (!is_continuation(s_[pos_])) ++col_;
    }
  }

  [[noreturn]] void error(int column, std::string_view expected, std::string_view found) const {
    model::fail(model::ErrorKind::kConfig, "at column " + std::to_string(column) + ": expected " +
                                               std::string(expected) + " but found " +
                                               std::string(found));
  }

  Token make(TokenKind kind, std::size_t from, int column, std::string text) const {
    Token t;
    t.kind = kind;
    t.text = std::move(text);
    t.source = std::string(s_.substr(from, pos_ - from));
    t.column = column;
    return t;
  }

  Token next() {
    const std::size_t from = pos_;
    const int column = col_;
    const char c = s_[pos_];
    auto symbol = [&](TokenKind kind, std::size_t n) {
      advance(n);
      return make(kind, from, column, std::string(s_.substr(from, n)));
    };
    const char c2 = pos_ + 1 < s_.size() ? s_[pos_ + 1] : '\0';
    switch (c) {
      case '=': return symbol(TokenKind::kEq, 1);
      case '(': return symbol(TokenKind::kLParen, 1);
      case ')': return symbol(TokenKind::kRParen, 1);
      case ',': return symbol(TokenKind::kComma, 1);
      case '*': return symbol(TokenKind::kStar, 1);
      case '<':
        if (c2 == '=') return symbol(TokenKind::kLe, 2);
        if (c2 == '>') return symbol(TokenKind::kNe, 2);
        return symbol(TokenKind::kLt, 1);
      case '>':
        if (c2 == '=') return symbol(TokenKind::kGe, 2);
        return symbol(TokenKind::kGt, 1);
      case '!':
        if (c2 == '=') return symbol(TokenKind::kNe, 2);
        error(column, "'!=' (or '<>')", "'!' alone");
      case '\'': return quoted('\'', TokenKind::kString, "string");
      case '"': return quoted('"', TokenKind::kQuotedIdentifier, "field name");
      default: break;
    }
    if (is_digit(c) || c == '-') return number();
    if (is_ident_start(c)) {
      std::size_t end = pos_;
      while (end < s_.size() && is_ident_char(s_[end])) ++end;
      advance(end - pos_);
      return make(TokenKind::kIdentifier, from, column, std::string(s_.substr(from, end - from)));
    }
    std::size_t len = 1;
    while (pos_ + len < s_.size() && is_continuation(s_[pos_ + len])) ++len;
    error(column, "a field name, a value, an operator or a parenthesis",
          "'" + std::string(s_.substr(pos_, len)) + "'");
  }

  // 'it''s' or "Field ""x""": the quote character doubled stands for itself.
  Token quoted(char q, TokenKind kind, std::string_view what) {
    const std::size_t from = pos_;
    const int column = col_;
    advance(1);
    std::string value;
    while (true) {
      if (pos_ >= s_.size()) {
        error(column,
              "a closing " + std::string(1, q) + " for the " + std::string(what) +
                  " that starts here",
              "the end of the text");
      }
      if (s_[pos_] == q) {
        if (pos_ + 1 < s_.size() && s_[pos_ + 1] == q) {
          value += q;
          advance(2);
          continue;
        }
        advance(1);
        break;
      }
      value += s_[pos_];
      advance(1);
    }
    if (kind == TokenKind::kQuotedIdentifier && value.empty()) {
      error(column, "a field name between the double quotes", "\"\"");
    }
    return make(kind, from, column, std::move(value));
  }

  // -?digits(.digits)?([eE][+-]?digits)?, kept as written.
  Token number() {
    const std::size_t from = pos_;
    const int column = col_;
    std::size_t i = pos_;
    auto digits = [&] {
      const std::size_t start = i;
      while (i < s_.size() && is_digit(s_[i])) ++i;
      return i - start;
    };
    auto bad = [&](std::string_view expected) {
      std::size_t end = i;
      while (end < s_.size() && (is_ident_char(s_[end]) || s_[end] == '.')) ++end;
      error(column, expected, "'" + std::string(s_.substr(from, end - from)) + "'");
    };
    if (s_[i] == '-') ++i;
    if (digits() == 0) bad("a digit after '-'");
    if (i < s_.size() && s_[i] == '.') {
      ++i;
      if (digits() == 0) bad("a digit after the decimal point");
    }
    if (i < s_.size() && (s_[i] == 'e' || s_[i] == 'E')) {
      ++i;
      if (i < s_.size() && (s_[i] == '+' || s_[i] == '-')) ++i;
      if (digits() == 0) bad("a digit in the exponent");
    }
    if (i < s_.size() && (is_ident_char(s_[i]) || s_[i] == '.')) bad("a number");
    advance(i - pos_);
    return make(TokenKind::kNumber, from, column, std::string(s_.substr(from, i - from)));
  }

  std::string_view s_;
  std::size_t pos_ = 0;
  int col_ = 1;
};

}  // namespace

std::vector<Token> tokenize(std::string_view text) { return Lexer(text).run(); }

std::string describe(const Token& token) {
  switch (token.kind) {
    case TokenKind::kEnd: return "the end of the text";
    case TokenKind::kString: return "the string " + token.source;
    default: return "'" + token.source + "'";
  }
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

}  // namespace replicator::predicate

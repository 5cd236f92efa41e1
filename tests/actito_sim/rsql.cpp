#include "tests/actito_sim/rsql.hpp"

#include <cctype>

#include <fmt/format.h>

namespace replicator::actito_sim {
namespace {

// Characters that end an unquoted selector or value (contract 3.4 grammar).
bool is_reserved(char c) {
  switch (c) {
    case '"':
    case '\'':
    case '(':
    case ')':
    case ';':
    case ',':
    case '=':
    case '!':
    case '~':
    case '<':
    case '>':
      return true;
    default:
      return std::isspace(static_cast<unsigned char>(c)) != 0;
  }
}

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  std::vector<RsqlConstraint> parse() {
    std::vector<RsqlConstraint> result;
    if (text_.empty()) return result;
    for (;;) {
      result.push_back(constraint());
      if (done()) return result;
      const char c = text_[pos_];
      if (c == ';') {
        ++pos_;
        if (done()) fail("a constraint must follow ';'");
        continue;
      }
      if (c == ',') fail("OR (',') is not supported: constraints can only be joined with ';'");
      if (std::isspace(static_cast<unsigned char>(c))) {
        fail(
            "whitespace outside quotes is not allowed (the 'and'/'or' keywords are not "
            "supported; use ';')");
      }
      fail(fmt::format("unexpected '{}'", c));
    }
  }

 private:
  bool done() const { return pos_ >= text_.size(); }

  [[noreturn]] void fail(const std::string& why) const {
    throw RsqlSyntaxError(fmt::format("search does not parse at position {}: {}", pos_ + 1, why));
  }

  RsqlConstraint constraint() {
    RsqlConstraint c;
    const std::size_t start = pos_;
    while (!done() && !is_reserved(text_[pos_])) ++pos_;
    if (pos_ == start) {
      if (!done() && text_[pos_] == '(') fail("grouping parentheses are not supported");
      fail("expected a selector");
    }
    c.selector = std::string(text_.substr(start, pos_ - start));
    c.op = comparison();
    if (!done() && text_[pos_] == '(') {
      ++pos_;
      c.list_form = true;
      for (;;) {
        c.values.push_back(value());
        if (done()) fail("unterminated value list: expected ')'");
        if (text_[pos_] == ',') {
          ++pos_;
          continue;
        }
        if (text_[pos_] == ')') {
          ++pos_;
          break;
        }
        fail(fmt::format("unexpected '{}' in a value list", text_[pos_]));
      }
    } else {
      c.values.push_back(value());
    }
    return c;
  }

  std::string comparison() {
    const std::string_view rest = text_.substr(pos_);
    auto take = [&](std::size_t length, std::string_view normalised) {
      pos_ += length;
      return std::string(normalised);
    };
    if (rest.starts_with("==")) return take(2, "==");
    if (rest.starts_with("!=")) return take(2, "!=");
    if (rest.starts_with("<=")) return take(2, "=le=");
    if (rest.starts_with(">=")) return take(2, "=ge=");
    if (rest.starts_with("<")) return take(1, "=lt=");
    if (rest.starts_with(">")) return take(1, "=gt=");
    if (rest.starts_with("=")) {
      std::size_t i = 1;
      while (i < rest.size() && std::isalpha(static_cast<unsigned char>(rest[i]))) ++i;
      if (i > 1 && i < rest.size() && rest[i] == '=') return take(i + 1, rest.substr(0, i + 1));
    }
    fail("expected a comparison operator (==, =lt=, =le=, =gt=, =ge=, =in=, <, <=, >, >=)");
  }

  std::string value() {
    if (done()) fail("expected a value");
    const char quote = text_[pos_];
    if (quote == '"' || quote == '\'') {
      ++pos_;
      std::string out;
      for (;;) {
        if (done()) fail("unterminated quoted value");
        const char c = text_[pos_++];
        if (c == quote) return out;
        if (c == '\\') {
          if (done()) fail("unterminated escape in a quoted value");
          out.push_back(text_[pos_++]);
        } else {
          out.push_back(c);
        }
      }
    }
    const std::size_t start = pos_;
    while (!done() && !is_reserved(text_[pos_])) ++pos_;
    if (pos_ == start) fail("expected a value");
    return std::string(text_.substr(start, pos_ - start));
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

}  // namespace

std::vector<RsqlConstraint> parse_rsql(std::string_view text) { return Parser(text).parse(); }

}  // namespace replicator::actito_sim

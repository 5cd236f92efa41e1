// The syntax tree of a predicate (`where:`, `export --where`, the WHERE of `query`), its canonical
// text and the fields it names.
#pragma once

#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "core/model/catalog.hpp"

namespace replicator::predicate {

// A literal as written. Converted to a model::Value only once the field's type is known
// (see to_value in resolve.hpp).
struct Literal {
  enum class Kind { kString, kNumber, kBoolean, kNull };
  Kind kind = Kind::kNull;
  // kString: the unescaped content; kNumber: the exact source text ("-12.50");
  // kBoolean: "TRUE" or "FALSE"; kNull: "NULL".
  std::string text;
  int column = 0;  // 1-based column in the source text, 0 when built by code

  friend bool operator==(const Literal& a, const Literal& b) noexcept {
    return a.kind == b.kind && a.text == b.text;  // the column is not part of the value
  }
};

// `field op value`, `field IN (v, ...)` or `field NOT IN (v, ...)`. Always field on the left: the
// parser mirrors `'SENT' = Status` into `Status = 'SENT'`.
struct Comparison {
  std::string field;
  model::FilterOp op = model::FilterOp::kEq;
  bool negated = false;         // only with kIn: NOT IN
  std::vector<Literal> values;  // exactly one, except for kIn (one or more)
  int column = 0;               // of the field name
};

struct IsNull {
  std::string field;
  bool negated = false;  // IS NOT NULL
  int column = 0;
};

struct Node;
using Expr = std::shared_ptr<const Node>;  // never null inside a tree

struct And {
  std::vector<Expr> children;  // two or more
};
struct Or {
  std::vector<Expr> children;  // two or more
};
struct Not {
  Expr child;
};

// One immutable node; trees share subtrees freely (thread-safe to read from any thread).
struct Node {
  std::variant<Comparison, IsNull, And, Or, Not> v;
};

Expr make(Comparison c);
Expr make(IsNull n);
// `children` must not be empty. With one child these return it unchanged; nested nodes of the
// same kind are flattened.
Expr make_and(std::vector<Expr> children);
Expr make_or(std::vector<Expr> children);
Expr make_not(Expr child);

// Canonical text that parse_predicate reads back to the same tree shape (up to flattening of
// nested AND/OR): keywords upper-case, strings in single quotes with '' doubled, numbers as
// written, field names bare unless they are keywords or not plain identifiers ("Field Name"),
// parentheses only where precedence needs them. Example: `Status IN ('A', 'B') AND NOT (X = 1 OR
// Y IS NULL)`.
std::string to_text(const Expr& expr);
std::string to_text(const Comparison& c);
std::string to_text(const Literal& literal);
std::string field_text(const std::string& field);  // Status, "Order Id", "AND"

// The field names the expression references, each once, in order of first appearance.
std::vector<std::string> fields_of(const Expr& expr);

}  // namespace replicator::predicate

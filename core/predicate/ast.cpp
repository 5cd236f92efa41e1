#include "core/predicate/ast.hpp"

#include <algorithm>
#include <array>
#include <string_view>

#include "core/predicate/lexer.hpp"

namespace replicator::predicate {
namespace {

// Words that stop a bare field name from reading back as one: the predicate keywords, and the
// SQL clause words of `query` so a field list stays unambiguous there too.
constexpr std::array<std::string_view, 16> kReserved = {
    "AND",    "OR",   "NOT",   "IN",    "IS", "NULL",  "TRUE", "FALSE",
    "SELECT", "FROM", "WHERE", "ORDER", "BY", "LIMIT", "ASC",  "DESC"};

bool plain_identifier(const std::string& s) {
  if (s.empty()) return false;
  auto start = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
           static_cast<unsigned char>(c) >= 0x80;
  };
  if (!start(s[0])) return false;
  for (char c : s) {
    if (!start(c) && !(c >= '0' && c <= '9')) return false;
  }
  return std::none_of(kReserved.begin(), kReserved.end(),
                      [&](std::string_view k) { return iequals(k, s); });
}

// Binding strength for parenthesisation: OR < AND < NOT < comparison.
int level(const Expr& e) {
  if (std::holds_alternative<Or>(e->v)) return 1;
  if (std::holds_alternative<And>(e->v)) return 2;
  if (std::holds_alternative<Not>(e->v)) return 3;
  return 4;
}

void append(std::string& out, const Expr& e);

void append_child(std::string& out, const Expr& child, int parent_level) {
  const bool parens = level(child) < parent_level;
  if (parens) out += '(';
  append(out, child);
  if (parens) out += ')';
}

void append(std::string& out, const Expr& e) {
  if (const auto* c = std::get_if<Comparison>(&e->v)) {
    out += to_text(*c);
  } else if (const auto* n = std::get_if<IsNull>(&e->v)) {
    out += field_text(n->field);
    out += n->negated ? " IS NOT NULL" : " IS NULL";
  } else if (const auto* a = std::get_if<And>(&e->v)) {
    for (std::size_t i = 0; i < a->children.size(); ++i) {
      if (i) out += " AND ";
      append_child(out, a->children[i], 2);
    }
  } else if (const auto* o = std::get_if<Or>(&e->v)) {
    for (std::size_t i = 0; i < o->children.size(); ++i) {
      if (i) out += " OR ";
      append_child(out, o->children[i], 1);
    }
  } else {
    out += "NOT ";
    append_child(out, std::get<Not>(e->v).child, 3);
  }
}

template <typename Kind>
Expr make_nary(std::vector<Expr> children) {
  std::vector<Expr> flat;
  flat.reserve(children.size());
  for (auto& c : children) {
    if (const auto* same = std::get_if<Kind>(&c->v)) {
      flat.insert(flat.end(), same->children.begin(), same->children.end());
    } else {
      flat.push_back(std::move(c));
    }
  }
  if (flat.size() == 1) return flat.front();
  return std::make_shared<const Node>(Node{Kind{std::move(flat)}});
}

void collect(const Expr& e, std::vector<std::string>& out) {
  auto add = [&out](const std::string& f) {
    if (std::find(out.begin(), out.end(), f) == out.end()) out.push_back(f);
  };
  if (const auto* c = std::get_if<Comparison>(&e->v)) {
    add(c->field);
  } else if (const auto* n = std::get_if<IsNull>(&e->v)) {
    add(n->field);
  } else if (const auto* a = std::get_if<And>(&e->v)) {
    for (const auto& c2 : a->children) collect(c2, out);
  } else if (const auto* o = std::get_if<Or>(&e->v)) {
    for (const auto& c2 : o->children) collect(c2, out);
  } else {
    collect(std::get<Not>(e->v).child, out);
  }
}

}  // namespace

Expr make(Comparison c) { return std::make_shared<const Node>(Node{std::move(c)}); }
Expr make(IsNull n) { return std::make_shared<const Node>(Node{std::move(n)}); }
Expr make_and(std::vector<Expr> children) { return make_nary<And>(std::move(children)); }
Expr make_or(std::vector<Expr> children) { return make_nary<Or>(std::move(children)); }
Expr make_not(Expr child) { return std::make_shared<const Node>(Node{Not{std::move(child)}}); }

std::string field_text(const std::string& field) {
  if (plain_identifier(field)) return field;
  std::string out = "\"";
  for (char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string to_text(const Literal& literal) {
  if (literal.kind != Literal::Kind::kString) return literal.text;
  std::string out = "'";
  for (char c : literal.text) {
    if (c == '\'') out += '\'';
    out += c;
  }
  out += '\'';
  return out;
}

std::string to_text(const Comparison& c) {
  std::string out = field_text(c.field);
  if (c.op == model::FilterOp::kIn) {
    out += c.negated ? " NOT IN (" : " IN (";
    for (std::size_t i = 0; i < c.values.size(); ++i) {
      if (i) out += ", ";
      out += to_text(c.values[i]);
    }
    out += ')';
    return out;
  }
  out += ' ';
  out += model::to_string(c.op);
  out += ' ';
  if (!c.values.empty()) out += to_text(c.values.front());
  return out;
}

std::string to_text(const Expr& expr) {
  std::string out;
  append(out, expr);
  return out;
}

std::vector<std::string> fields_of(const Expr& expr) {
  std::vector<std::string> out;
  collect(expr, out);
  return out;
}

}  // namespace replicator::predicate

#include "core/predicate/split.hpp"

#include <algorithm>

namespace replicator::predicate {
namespace {

void flatten_and(const Expr& e, std::vector<Expr>& out) {
  if (const auto* a = std::get_if<And>(&e->v)) {
    for (const auto& c : a->children) flatten_and(c, out);
  } else {
    out.push_back(e);
  }
}

void flatten_or(const Expr& e, std::vector<Expr>& out) {
  if (const auto* o = std::get_if<Or>(&e->v)) {
    for (const auto& c : o->children) flatten_or(c, out);
  } else {
    out.push_back(e);
  }
}

// `A = 1 OR A = 2 OR A IN (3)` -> `A IN (1, 2, 3)`; anything else is returned unchanged. This is
// exact under three-valued logic: SQL defines IN as that OR.
Expr merge_equalities(const Expr& e) {
  if (!std::holds_alternative<Or>(e->v)) return e;
  std::vector<Expr> terms;
  flatten_or(e, terms);
  Comparison merged;
  for (const auto& t : terms) {
    const auto* c = std::get_if<Comparison>(&t->v);
    if (!c || c->negated || (c->op != model::FilterOp::kEq && c->op != model::FilterOp::kIn)) {
      return e;
    }
    if (merged.field.empty()) {
      merged.field = c->field;
      merged.column = c->column;
    } else if (c->field != merged.field) {
      return e;
    }
    for (const auto& v : c->values) {
      if (std::find(merged.values.begin(), merged.values.end(), v) == merged.values.end()) {
        merged.values.push_back(v);
      }
    }
  }
  merged.op = merged.values.size() == 1 ? model::FilterOp::kEq : model::FilterOp::kIn;
  return make(std::move(merged));
}

bool pushable(const Comparison& c, const NativeTest& is_native) {
  if (c.negated || c.values.empty()) return false;
  if (c.op != model::FilterOp::kIn && c.values.size() != 1) return false;
  for (const auto& v : c.values) {
    if (v.kind == Literal::Kind::kNull) return false;
  }
  return is_native(c.field, c.op, c.values.size());
}

}  // namespace

Split split(const Expr& expr, const NativeTest& is_native) {
  std::vector<Expr> conjuncts;
  flatten_and(expr, conjuncts);
  Split out;
  std::vector<Expr> local;
  for (const auto& conjunct : conjuncts) {
    Expr e = merge_equalities(conjunct);
    const auto* c = std::get_if<Comparison>(&e->v);
    if (c && pushable(*c, is_native)) {
      out.native.push_back(*c);
    } else {
      local.push_back(std::move(e));
    }
  }
  if (!local.empty()) out.local = make_and(std::move(local));
  return out;
}

Expr to_expr(const Comparison& c) { return make(c); }

Expr to_expr(const Split& s) {
  std::vector<Expr> all;
  for (const auto& c : s.native) all.push_back(make(c));
  if (s.local) all.push_back(s.local);
  if (all.empty()) return nullptr;
  return make_and(std::move(all));
}

}  // namespace replicator::predicate

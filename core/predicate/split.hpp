// Splitting a predicate into the constraints the Actito API can apply (`search`, contract 3.4)
// and the remainder the replicator evaluates on each row.
#pragma once

#include <cstddef>
#include <functional>
#include <string_view>
#include <vector>

#include "core/model/catalog.hpp"
#include "core/predicate/ast.hpp"

namespace replicator::predicate {

// RSQL takes at most this many =in= values.
inline constexpr std::size_t kMaxNativeInValues = 100;

// Whether a constraint with `value_count` values fits in one `search` (contract 3.4).
inline bool within_search_limit(model::FilterOp op, std::size_t value_count) {
  return op != model::FilterOp::kIn || value_count <= kMaxNativeInValues;
}

// Whether the API filters `field` (a canonical logical name) with `op` natively, for a
// constraint with `value_count` values. Usually ObjectDescriptor::native(field, op) and
// within_search_limit(op, value_count); a caller that does not trust the server's semantics for
// a field (multi-valued ones, say) answers false, and one whose target is not `search` (the
// parent set of a fan-out, contract 3.7) may take more values.
using NativeTest =
    std::function<bool(std::string_view field, model::FilterOp op, std::size_t value_count)>;

struct Split {
  std::vector<Comparison> native;  // ANDed; each one is a `search` constraint
  Expr local;                      // evaluated on every row; null when nothing is left
};

// Splits a resolved expression (see resolve) so that `AND(native...) AND local` means exactly
// `expr`. Only top-level conjuncts (of nested ANDs, flattened) can move to `native`; nothing is
// ever taken out of an OR or a NOT. Before deciding, a conjunct that is an OR of `=` / IN on one
// field (`A = 1 OR A = 2 OR A IN (3)`) becomes `A IN (1, 2, 3)` (duplicates dropped; a single
// value stays `=`). A conjunct goes native when it is one Comparison that is not NOT IN, holds no
// NULL and `is_native` accepts it (the value limit is is_native's to apply). Native constraints
// keep their order of appearance; `local` is the AND of the other conjuncts in order.
Split split(const Expr& expr, const NativeTest& is_native);

// The conjunction again, for display or for evaluating both halves together.
Expr to_expr(const Comparison& c);
Expr to_expr(const Split& s);  // null when both halves are empty (cannot happen after split)

}  // namespace replicator::predicate

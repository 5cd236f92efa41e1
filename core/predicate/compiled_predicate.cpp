#include "core/predicate/compiled_predicate.hpp"

#include <limits>

#include "core/model/error.hpp"
#include "core/predicate/resolve.hpp"

namespace replicator::predicate {
namespace {

Truth negate(Truth t) noexcept {
  switch (t) {
    case Truth::kTrue: return Truth::kFalse;
    case Truth::kFalse: return Truth::kTrue;
    default: return Truth::kUnknown;
  }
}

Truth truth(bool b) noexcept { return b ? Truth::kTrue : Truth::kFalse; }

std::uint32_t index_of(std::size_t i) {
  if (i > std::numeric_limits<std::uint32_t>::max()) {
    model::fail(model::ErrorKind::kConfig, "predicate too large");
  }
  return static_cast<std::uint32_t>(i);
}

}  // namespace

std::string_view to_string(Truth t) noexcept {
  switch (t) {
    case Truth::kFalse: return "FALSE";
    case Truth::kTrue: return "TRUE";
    case Truth::kUnknown: return "UNKNOWN";
  }
  return "?";
}

std::uint32_t CompiledPredicate::add_step(const Expr& e,
                                          const std::vector<model::FieldDescriptor>& layout,
                                          const model::TimeZone& zone) {
  Step s;
  auto field_index = [&](const std::string& name) {
    for (std::size_t i = 0; i < layout.size(); ++i) {
      if (layout[i].name == name) return i;
    }
    // resolve() ran against the same layout, so every name is in it.
    model::fail(model::ErrorKind::kConfig, "field " + name + " is not in the row layout");
  };
  auto children = [&](const std::vector<Expr>& list, Op op) {
    std::vector<std::uint32_t> idx;
    idx.reserve(list.size());
    for (const auto& c : list) idx.push_back(add_step(c, layout, zone));
    s.op = op;
    s.first = index_of(children_.size());
    s.count = index_of(idx.size());
    children_.insert(children_.end(), idx.begin(), idx.end());
  };
  if (const auto* c = std::get_if<Comparison>(&e->v)) {
    const std::size_t i = field_index(c->field);
    s.field = index_of(i);
    s.multi = layout[i].multi_valued;
    switch (c->op) {
      case model::FilterOp::kEq: s.op = Op::kEq; break;
      case model::FilterOp::kNe: s.op = Op::kNe; break;
      case model::FilterOp::kLt: s.op = Op::kLt; break;
      case model::FilterOp::kLe: s.op = Op::kLe; break;
      case model::FilterOp::kGt: s.op = Op::kGt; break;
      case model::FilterOp::kGe: s.op = Op::kGe; break;
      case model::FilterOp::kIn: s.op = c->negated ? Op::kNotIn : Op::kIn; break;
    }
    s.first = index_of(values_.size());
    s.count = index_of(c->values.size());
    for (const auto& lit : c->values) values_.push_back(to_value(lit, layout[i], zone));
  } else if (const auto* n = std::get_if<IsNull>(&e->v)) {
    s.field = index_of(field_index(n->field));
    s.op = n->negated ? Op::kIsNotNull : Op::kIsNull;
  } else if (const auto* a = std::get_if<And>(&e->v)) {
    children(a->children, Op::kAnd);
  } else if (const auto* o = std::get_if<Or>(&e->v)) {
    children(o->children, Op::kOr);
  } else {
    children({std::get<Not>(e->v).child}, Op::kNot);
  }
  steps_.push_back(s);
  return index_of(steps_.size() - 1);
}

Truth CompiledPredicate::compare_step(const Step& s, const model::Value& v) const noexcept {
  const model::Value* lits = values_.data() + s.first;
  auto equals_any = [&](const model::Value& x) {
    for (std::uint32_t k = 0; k < s.count; ++k) {
      if (model::compare(x, lits[k]) == 0) return true;
    }
    return false;
  };
  if (s.multi) {
    if (const auto* elements = std::get_if<std::vector<std::string>>(&v)) {
      bool contains = false;
      for (const auto& el : *elements) {
        for (std::uint32_t k = 0; k < s.count && !contains; ++k) {
          const auto* lit = std::get_if<std::string>(&lits[k]);
          contains = lit && *lit == el;
        }
        if (contains) break;
      }
      return truth((s.op == Op::kEq || s.op == Op::kIn) == contains);
    }
  }
  switch (s.op) {
    case Op::kEq: return truth(model::compare(v, lits[0]) == 0);
    case Op::kNe: return truth(model::compare(v, lits[0]) != 0);
    case Op::kLt: return truth(model::compare(v, lits[0]) < 0);
    case Op::kLe: return truth(model::compare(v, lits[0]) <= 0);
    case Op::kGt: return truth(model::compare(v, lits[0]) > 0);
    case Op::kGe: return truth(model::compare(v, lits[0]) >= 0);
    case Op::kIn: return truth(equals_any(v));
    case Op::kNotIn: return truth(!equals_any(v));
    default: return Truth::kUnknown;
  }
}

Truth CompiledPredicate::eval(std::uint32_t step, const model::Row& row) const noexcept {
  static const model::Value kNull;
  const Step& s = steps_[step];
  const model::Value& v = s.field < row.size() ? row[s.field] : kNull;
  switch (s.op) {
    case Op::kTrue: return Truth::kTrue;
    case Op::kIsNull: return truth(model::is_null(v));
    case Op::kIsNotNull: return truth(!model::is_null(v));
    case Op::kAnd: {
      Truth out = Truth::kTrue;
      for (std::uint32_t k = 0; k < s.count; ++k) {
        const Truth t = eval(children_[s.first + k], row);
        if (t == Truth::kFalse) return Truth::kFalse;
        if (t == Truth::kUnknown) out = Truth::kUnknown;
      }
      return out;
    }
    case Op::kOr: {
      Truth out = Truth::kFalse;
      for (std::uint32_t k = 0; k < s.count; ++k) {
        const Truth t = eval(children_[s.first + k], row);
        if (t == Truth::kTrue) return Truth::kTrue;
        if (t == Truth::kUnknown) out = Truth::kUnknown;
      }
      return out;
    }
    case Op::kNot: return negate(eval(children_[s.first], row));
    default:
      if (model::is_null(v)) return Truth::kUnknown;
      return compare_step(s, v);
  }
}

Truth CompiledPredicate::evaluate(const model::Row& row) const noexcept {
  if (steps_.empty()) return Truth::kTrue;
  return eval(root_, row);
}

CompiledPredicate compile(const Expr& expr, const std::vector<model::FieldDescriptor>& layout,
                          const model::TimeZone& zone) {
  CompiledPredicate out;
  if (!expr) return out;
  out.root_ = out.add_step(resolve(expr, layout), layout, zone);
  return out;
}

}  // namespace replicator::predicate

// A predicate bound to a row layout, evaluated with SQL three-valued logic.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/model/catalog.hpp"
#include "core/model/timestamp.hpp"
#include "core/model/value.hpp"
#include "core/predicate/ast.hpp"

namespace replicator::predicate {

enum class Truth : std::uint8_t { kFalse, kTrue, kUnknown };
std::string_view to_string(Truth t) noexcept;  // "FALSE", "TRUE", "UNKNOWN"

// Built by compile(). Evaluation allocates nothing: field indexes and literal values are computed
// once. Semantics:
//   - a comparison whose row value is NULL is unknown; IS [NOT] NULL is never unknown;
//   - NOT unknown is unknown; AND is false if any side is false, OR true if any side is true;
//   - ordering follows model::compare (integers, decimals exactly, timestamps by instant, DATE
//     as text, which orders like the date); strings by code point, case-sensitive;
//   - multi-valued fields: `=` / IN are "some element equals some value" (an empty array
//     contains nothing), `!=` / NOT IN their negation;
//   - a row shorter than the layout reads the missing values as NULL.
// Thread safety: immutable after compile(); evaluate from any number of threads.
class CompiledPredicate {
 public:
  // The predicate that passes every row (no `where`).
  CompiledPredicate() = default;

  Truth evaluate(const model::Row& row) const noexcept;
  // Whether the row passes: only TRUE does (SQL WHERE).
  bool matches(const model::Row& row) const noexcept { return evaluate(row) == Truth::kTrue; }

 private:
  friend CompiledPredicate compile(const Expr&, const std::vector<model::FieldDescriptor>&,
                                   const model::TimeZone&);
  enum class Op : std::uint8_t {
    kTrue,
    kEq,
    kNe,
    kLt,
    kLe,
    kGt,
    kGe,
    kIn,
    kNotIn,
    kIsNull,
    kIsNotNull,
    kAnd,
    kOr,
    kNot
  };
  struct Step {
    Op op = Op::kTrue;
    bool multi = false;       // the field is multi-valued (rows hold vector<string>)
    std::uint32_t field = 0;  // index in the row
    // Comparisons: their literals are values_[first, first + count). AND / OR / NOT: the step
    // indexes of their children are children_[first, first + count).
    std::uint32_t first = 0;
    std::uint32_t count = 0;
  };
  std::uint32_t add_step(const Expr& e, const std::vector<model::FieldDescriptor>& layout,
                         const model::TimeZone& zone);
  Truth eval(std::uint32_t step, const model::Row& row) const noexcept;
  Truth compare_step(const Step& s, const model::Value& v) const noexcept;

  std::vector<Step> steps_;              // every node, children before parents; root at root_
  std::vector<std::uint32_t> children_;  // child step indexes of AND / OR / NOT
  std::vector<model::Value> values_;     // literal values
  std::uint32_t root_ = 0;
};

// Resolves `expr` against `layout` (see resolve: names, types) and compiles it for rows whose
// values are in the order of `layout`. Naive timestamps and bare dates in the literals are read
// in `zone`. A null `expr` (nothing to apply locally) gives the predicate that passes every row.
// Throws model::Error(kConfig) as resolve does. (Named compile, not bind: an unqualified bind()
// call would find std::bind through the std::shared_ptr argument.)
CompiledPredicate compile(const Expr& expr, const std::vector<model::FieldDescriptor>& layout,
                          const model::TimeZone& zone);

}  // namespace replicator::predicate

// Binding a parsed predicate to an object's fields: canonical names, type checks, and literal
// conversion to model::Value.
#pragma once

#include <string_view>
#include <vector>

#include "core/model/catalog.hpp"
#include "core/model/timestamp.hpp"
#include "core/model/value.hpp"
#include "core/predicate/ast.hpp"

namespace replicator::predicate {

// The field `name` designates in `fields`: exact match first, then ASCII case-insensitive, then
// the PostgreSQL column name (model::snake_case: `created_at` -> CreatedAt). Throws
// model::Error(kConfig) "unknown field X; the fields are: A, B, ..." (or "ambiguous" when a
// case-insensitive or snake_case match finds several fields).
const model::FieldDescriptor& find_field(std::string_view name,
                                         const std::vector<model::FieldDescriptor>& fields);

// Returns `expr` with every field name replaced by its canonical logical name, after checking
// each comparison against the field's type. Every error is model::Error(kConfig) starting with
// "at column N: ". Rules:
//   - STRING: quoted strings. INTEGER (int32) / LONG (int64): integer numbers, range checked.
//     NUMBER: any number (kept exactly). BOOLEAN: TRUE / FALSE. DATE: 'yyyy-MM-dd'.
//     TIMESTAMP: a quoted timestamp in any form of model::parse_timestamp, or a bare date
//     'yyyy-MM-dd' meaning midnight in the zone given to to_value/compile.
//     Example: "at column 1: Status = 12: field Status is STRING, the value must be a quoted
//     string".
//   - NULL is only a value for IS [NOT] NULL: `A = NULL` is an error suggesting IS NULL,
//     `A != NULL` one suggesting IS NOT NULL, and NULL in an IN list or after <, >... is refused.
//   - JSON fields only take IS [NOT] NULL.
//   - Multi-valued fields (STRING[] ...; rows hold vector<string>): `=` means "contains",
//     `IN (a, b)` "contains a or b", `!=` and NOT IN their negations; the values are quoted
//     strings compared with each element as text. <, <=, >, >= are refused.
Expr resolve(const Expr& expr, const std::vector<model::FieldDescriptor>& fields);

// Throws model::Error(kConfig) "field F is an extended field, ..." when the resolved `expr`
// names a field only per-row requests return (contract 3.8): no page can be filtered on it.
void refuse_extended_fields(const Expr& expr, const std::vector<model::FieldDescriptor>& fields);

// Converts `literal` to the representation rows use for `field` (model::Value's table):
// STRING -> string, INTEGER/LONG -> int64, NUMBER -> Decimal{text as written}, BOOLEAN -> bool,
// DATE -> "yyyy-MM-dd", TIMESTAMP -> Timestamp (naive forms and bare dates read in `zone`),
// multi-valued -> one element, a string. NULL -> monostate. Throws model::Error(kConfig)
// "at column N: field F is TYPE, the value must be ..." when the literal does not fit.
model::Value to_value(const Literal& literal, const model::FieldDescriptor& field,
                      const model::TimeZone& zone);

}  // namespace replicator::predicate

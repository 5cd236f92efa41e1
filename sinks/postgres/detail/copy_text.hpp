// Values to PostgreSQL text: column types (interface.md section 3), COPY text-format encoding,
// array literals and timestamptz literals. Private to sinks/postgres.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/model/catalog.hpp"
#include "core/model/value.hpp"

namespace replicator::sink_postgres::detail {

// The column type of a field, spelled as format_type() prints it so that an existing column can
// be compared textually: bigint, numeric, boolean, timestamp with time zone, date, text[], jsonb,
// text.
std::string_view pg_type(const model::FieldDescriptor& field) noexcept;

// Appends `text` escaped for COPY text format: backslash, tab, newline and carriage return.
void append_copy_escaped(std::string& out, std::string_view text);

// Appends one value in COPY text format (NULL as \N). Validates what is cheap to validate (the
// value's alternative against the field type, dates, numeric literals, the timestamptz range, NUL
// bytes) and throws model::Error(kPermanent) with the reason; the caller adds table and column.
void append_copy_value(std::string& out, const model::Value& value,
                       const model::FieldDescriptor& field);

// A PostgreSQL array literal with every element quoted: {"a","b \"c\"","NULL"}.
std::string array_literal(const std::vector<std::string>& items);

// A timestamptz literal in UTC with milliseconds ("1969-12-31 23:59:59.999+00", BC years as
// "0044-03-15 12:00:00.000+00 BC"). Throws model::Error(kPermanent) outside PostgreSQL's range.
std::string timestamptz_literal(model::Timestamp t);
void append_timestamptz(std::string& out, model::Timestamp t);

// True for the literals PostgreSQL's numeric input accepts that JSON can produce:
// [+-]digits[.digits][e[+-]digits] (a leading or trailing dot is accepted too).
bool is_numeric_literal(std::string_view text) noexcept;

// `text` with invalid UTF-8 sequences replaced by U+FFFD and NUL bytes dropped (for messages
// stored in the state table: an error text must never make the state write fail).
std::string sanitize_utf8(std::string_view text);

}  // namespace replicator::sink_postgres::detail

// Field types and the in-memory representation of one record's values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace replicator::model {

// Field types of the wire contract (section 4.7).
enum class FieldType {
  kString,
  kInteger,
  kLong,
  kNumber,     // decimal, kept as its exact literal
  kBoolean,
  kDate,       // yyyy-MM-dd
  kTimestamp,  // instant, millisecond precision
  kJson,       // object or array, passed through
};

// Parses a contract type name ("STRING", "LONG", "STRING[]", ...). `multi_valued` is set for the
// array forms. Returns nullopt for unknown names.
struct ParsedType {
  FieldType type;
  bool multi_valued;
};
std::optional<ParsedType> parse_field_type(std::string_view name);
std::string_view to_string(FieldType type) noexcept;

// Milliseconds since the Unix epoch, UTC.
struct Timestamp {
  std::int64_t ms = 0;
  friend auto operator<=>(const Timestamp&, const Timestamp&) = default;
};

// Exact decimal literal as received ("19.99", "-3", "1E+3").
struct Decimal {
  std::string text;
  friend bool operator==(const Decimal&, const Decimal&) = default;
};

// Serialized JSON text of an object or array.
struct JsonText {
  std::string text;
  friend bool operator==(const JsonText&, const JsonText&) = default;
};

// One value. Which alternative is used follows the field type:
//   kString/kDate -> std::string, kInteger/kLong -> int64, kNumber -> Decimal, kBoolean -> bool,
//   kTimestamp -> Timestamp, kJson -> JsonText, multi-valued fields -> vector<string>.
using Value = std::variant<std::monostate, bool, std::int64_t, Timestamp, Decimal, std::string,
                           JsonText, std::vector<std::string>>;

inline bool is_null(const Value& v) noexcept { return std::holds_alternative<std::monostate>(v); }

// One record: values in the order of the stream's field list.
using Row = std::vector<Value>;

// Appends `s` as a JSON string literal, quotes included (control characters escaped; bytes
// that are not UTF-8 become U+FFFD, so that the output is always valid JSON).
void append_json_string(std::string& out, std::string_view s);

// Whether `s` is well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF).
bool is_valid_utf8(std::string_view s) noexcept;
// `s` with every byte that does not start or continue a well-formed sequence replaced by U+FFFD
// (text from the network, e.g. an API error body, before it reaches JSON or a web page).
std::string to_valid_utf8(std::string_view s);

// Appends the UTF-8 encoding of code point `cp` (at most U+10FFFF; the caller has rejected
// surrogates and larger values, e.g. when decoding a \uXXXX escape).
void append_utf8(std::string& out, char32_t cp);

// Renders a value for humans and CSV (timestamps in the contract's UTC form, arrays as JSON).
std::string to_display(const Value& v);

// Total order used for key comparisons, matching the server's sort (contract A05): nulls first,
// numbers numerically, strings by code point. Values of different alternatives compare by index.
int compare(const Value& a, const Value& b) noexcept;

}  // namespace replicator::model

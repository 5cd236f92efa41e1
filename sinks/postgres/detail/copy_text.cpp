#include "sinks/postgres/detail/copy_text.hpp"

#include <charconv>
#include <cstdio>
#include <cstring>

#include "core/model/error.hpp"
#include "core/model/timestamp.hpp"
#include "core/model/value.hpp"

namespace replicator::sink_postgres::detail {
namespace {

using model::ErrorKind;
using model::FieldType;

constexpr std::int64_t kMsPerDay = 86'400'000;
// PostgreSQL's timestamptz range: 4714-11-24 00:00 BC (Julian day 0) to 294277-01-01 00:00
// (exclusive), in milliseconds since 1970 (MIN_TIMESTAMP / END_TIMESTAMP of datatype/timestamp.h).
constexpr std::int64_t kMinTimestampMs = -210'866'803'200'000;
constexpr std::int64_t kEndTimestampMs = 9'224'318'016'000'000;

std::string_view alternative_name(const model::Value& v) noexcept {
  static constexpr std::string_view kNames[] = {"null",    "boolean", "integer", "timestamp",
                                                "decimal", "string",  "json",    "string list"};
  return kNames[v.index()];
}

[[noreturn]] void mismatch(const model::Value& v, const model::FieldDescriptor& f) {
  std::string expected(model::to_string(f.type));
  if (f.multi_valued) expected += "[]";
  model::fail(ErrorKind::kPermanent, "a " + std::string(alternative_name(v)) +
                                         " value does not fit the field type " + expected);
}

void reject_nul(std::string_view s) {
  if (std::memchr(s.data(), '\0', s.size()) != nullptr) {
    model::fail(ErrorKind::kPermanent,
                "the text contains a NUL byte, which PostgreSQL cannot store in text");
  }
}

void append_int(std::string& out, std::int64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

}  // namespace

std::string_view pg_type(const model::FieldDescriptor& field) noexcept {
  if (field.multi_valued) return "text[]";
  switch (field.type) {
    case FieldType::kInteger:
    case FieldType::kLong:
      return "bigint";
    case FieldType::kNumber:
      return "numeric";
    case FieldType::kBoolean:
      return "boolean";
    case FieldType::kTimestamp:
      return "timestamp with time zone";
    case FieldType::kDate:
      return "date";
    case FieldType::kJson:
      return "jsonb";
    case FieldType::kString:
      break;
  }
  return "text";
}

void append_copy_escaped(std::string& out, std::string_view text) {
  std::size_t run = 0;  // start of the pending run of characters that need no escape
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char* esc = nullptr;
    switch (text[i]) {
      case '\\':
        esc = "\\\\";
        break;
      case '\t':
        esc = "\\t";
        break;
      case '\n':
        esc = "\\n";
        break;
      case '\r':
        esc = "\\r";
        break;
      default:
        continue;
    }
    out.append(text.substr(run, i - run));
    out.append(esc);
    run = i + 1;
  }
  out.append(text.substr(run));
}

void append_copy_value(std::string& out, const model::Value& value,
                       const model::FieldDescriptor& field) {
  if (model::is_null(value)) {
    out += "\\N";
    return;
  }
  if (field.multi_valued) {
    const auto* items = std::get_if<std::vector<std::string>>(&value);
    if (items == nullptr) mismatch(value, field);
    append_copy_escaped(out, array_literal(*items));
    return;
  }
  switch (field.type) {
    case FieldType::kString: {
      const auto* s = std::get_if<std::string>(&value);
      if (s == nullptr) mismatch(value, field);
      reject_nul(*s);
      append_copy_escaped(out, *s);
      return;
    }
    case FieldType::kDate: {
      const auto* s = std::get_if<std::string>(&value);
      if (s == nullptr) mismatch(value, field);
      model::validate_date(*s);
      out += *s;
      return;
    }
    case FieldType::kInteger:
    case FieldType::kLong: {
      const auto* i = std::get_if<std::int64_t>(&value);
      if (i == nullptr) mismatch(value, field);
      append_int(out, *i);
      return;
    }
    case FieldType::kNumber: {
      if (const auto* i = std::get_if<std::int64_t>(&value)) {
        append_int(out, *i);
        return;
      }
      const auto* d = std::get_if<model::Decimal>(&value);
      if (d == nullptr) mismatch(value, field);
      if (!is_numeric_literal(d->text)) {
        model::fail(ErrorKind::kPermanent,
                    "\"" + d->text.substr(0, 64) + "\" is not a decimal number");
      }
      out += d->text;
      return;
    }
    case FieldType::kBoolean: {
      const auto* b = std::get_if<bool>(&value);
      if (b == nullptr) mismatch(value, field);
      out += *b ? 't' : 'f';
      return;
    }
    case FieldType::kTimestamp: {
      const auto* t = std::get_if<model::Timestamp>(&value);
      if (t == nullptr) mismatch(value, field);
      append_timestamptz(out, *t);
      return;
    }
    case FieldType::kJson: {
      const auto* j = std::get_if<model::JsonText>(&value);
      if (j == nullptr) mismatch(value, field);
      reject_nul(j->text);
      append_copy_escaped(out, j->text);  // PostgreSQL validates the JSON itself
      return;
    }
  }
  mismatch(value, field);
}

std::string array_literal(const std::vector<std::string>& items) {
  std::size_t size = 2;
  for (const auto& s : items) size += s.size() + 3;
  std::string out;
  out.reserve(size);
  out += '{';
  bool first = true;
  for (const auto& s : items) {
    reject_nul(s);
    if (!first) out += ',';
    first = false;
    out += '"';
    for (char c : s) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

void append_timestamptz(std::string& out, model::Timestamp t) {
  if (t.ms < kMinTimestampMs || t.ms >= kEndTimestampMs) {
    model::fail(ErrorKind::kPermanent, "timestamp " + std::to_string(t.ms) +
                                           " ms since 1970 is outside PostgreSQL's range "
                                           "(4713 BC to 294276 AD)");
  }
  std::int64_t day = t.ms >= 0 ? t.ms / kMsPerDay : (t.ms - kMsPerDay + 1) / kMsPerDay;
  std::int64_t rem = t.ms - day * kMsPerDay;
  int y;
  unsigned m, d;
  model::civil_from_days(day, y, m, d);
  bool bc = y <= 0;  // astronomical year 0 is 1 BC
  char buf[48];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02u-%02u %02d:%02d:%02d.%03d+00%s", bc ? 1 - y : y,
                        m, d, static_cast<int>(rem / 3'600'000),
                        static_cast<int>(rem / 60'000 % 60), static_cast<int>(rem / 1000 % 60),
                        static_cast<int>(rem % 1000), bc ? " BC" : "");
  out.append(buf, static_cast<std::size_t>(n));
}

std::string timestamptz_literal(model::Timestamp t) {
  std::string out;
  append_timestamptz(out, t);
  return out;
}

bool is_numeric_literal(std::string_view s) noexcept {
  std::size_t i = 0;
  auto digits = [&] {
    std::size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i - start;
  };
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  std::size_t mantissa = digits();
  if (i < s.size() && s[i] == '.') {
    ++i;
    mantissa += digits();
  }
  if (mantissa == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (digits() == 0) return false;
  }
  return i == s.size();
}

std::string sanitize_utf8(std::string_view s) {
  std::string out = model::to_valid_utf8(s);
  std::erase(out, '\0');  // PostgreSQL text cannot hold NUL
  return out;
}

}  // namespace replicator::sink_postgres::detail

#include "core/actito/decode.hpp"

#include <charconv>
#include <cmath>

#include <boost/json/serialize.hpp>

#include "core/actito/exact_json.hpp"
#include "core/model/error.hpp"

namespace replicator::actito {

namespace json = boost::json;
using model::ErrorKind;
using model::FieldType;

namespace {

[[noreturn]] void bad(const model::FieldDescriptor& f, std::string_view expected, const json::value& v) {
  std::string got = serialize_exact(v);
  if (got.size() > 80) got = got.substr(0, 80) + "...";
  model::fail(ErrorKind::kPermanent,
              "field " + f.name + " (" + f.wire + "): expected " + std::string(expected) + ", got " + got);
}

std::int64_t to_int(const json::value& v, const model::FieldDescriptor& f) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64()) {
    if (v.get_uint64() > static_cast<std::uint64_t>(INT64_MAX)) bad(f, "a 64-bit integer", v);
    return static_cast<std::int64_t>(v.get_uint64());
  }
  if (v.is_double()) {
    double d = v.get_double();
    if (std::trunc(d) == d && std::fabs(d) < 9.007199254740992e15) return static_cast<std::int64_t>(d);
    bad(f, "an integer", v);
  }
  if (v.is_string()) {
    std::string_view s = v.get_string();
    std::int64_t out = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    if (ec == std::errc() && p == s.data() + s.size() && !s.empty()) return out;
  }
  bad(f, "an integer", v);
}

std::string to_decimal(const json::value& v, const model::FieldDescriptor& f) {
  if (v.is_int64()) return std::to_string(v.get_int64());
  if (v.is_uint64()) return std::to_string(v.get_uint64());
  if (v.is_double()) {
    // Shortest text that reads back as the same double: the literal's digits, since parse_exact
    // keeps every literal a double cannot carry exactly as text (exact_scalar).
    char buf[64];
    auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v.get_double());
    if (ec != std::errc() || !std::isfinite(v.get_double())) bad(f, "a decimal number", v);
    return std::string(buf, p);
  }
  if (v.is_string()) {
    std::string_view s = v.get_string();
    double ignored;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), ignored);
    if (ec == std::errc() && p == s.data() + s.size() && !s.empty()) return std::string(s);
  }
  bad(f, "a decimal number", v);
}

// A number parse_exact kept as text (more digits than a double holds).
model::Value exact_scalar(std::string_view literal, const json::value& v, const model::FieldDescriptor& f) {
  switch (f.type) {
    case FieldType::kNumber:
      return model::Decimal{std::string(literal)};
    case FieldType::kString:
      return std::string(literal);
    case FieldType::kJson:
      return model::JsonText{std::string(literal)};
    case FieldType::kInteger:
    case FieldType::kLong: {
      std::int64_t out = 0;
      auto [p, ec] = std::from_chars(literal.data(), literal.data() + literal.size(), out);
      if (ec == std::errc() && p == literal.data() + literal.size()) return out;
      bad(f, "a 64-bit integer", v);
    }
    default:
      bad(f, "a value of type " + std::string(model::to_string(f.type)), v);
  }
}

model::Value scalar(const json::value& v, const model::FieldDescriptor& f, const model::TimeZone& zone) {
  if (const auto literal = exact_literal(v)) return exact_scalar(*literal, v, f);
  switch (f.type) {
    case FieldType::kString:
      if (v.is_string()) return std::string(v.get_string());
      if (v.is_int64() || v.is_uint64() || v.is_double() || v.is_bool()) return json::serialize(v);
      bad(f, "a string", v);
    case FieldType::kInteger:
    case FieldType::kLong:
      return to_int(v, f);
    case FieldType::kNumber:
      return model::Decimal{to_decimal(v, f)};
    case FieldType::kBoolean:
      if (v.is_bool()) return v.get_bool();
      if (v.is_string()) {
        std::string_view s = v.get_string();
        if (s == "true" || s == "TRUE" || s == "True") return true;
        if (s == "false" || s == "FALSE" || s == "False") return false;
      }
      bad(f, "a boolean", v);
    case FieldType::kDate:
      if (v.is_string()) {
        std::string_view s = v.get_string();
        // Some routes send a timestamp where a date is expected: keep its date part.
        if (s.size() > 10 && (s[10] == 'T' || s[10] == ' ')) s = s.substr(0, 10);
        model::validate_date(s);
        return std::string(s);
      }
      bad(f, "a date yyyy-MM-dd", v);
    case FieldType::kTimestamp:
      if (v.is_string()) return model::parse_timestamp(v.get_string(), zone);
      if (v.is_int64()) return model::timestamp_from_epoch_ms(v.get_int64());
      if (v.is_uint64()) return model::timestamp_from_epoch_ms(static_cast<std::int64_t>(v.get_uint64()));
      bad(f, "a timestamp", v);
    case FieldType::kJson:
      return model::JsonText{serialize_exact(v)};
  }
  bad(f, "a known type", v);
}

}  // namespace

const json::value* find_path(const json::object& record, const model::FieldDescriptor& field) noexcept {
  const json::object* o = &record;
  const json::value* v = nullptr;
  for (std::size_t i = 0; i < field.wire_path.size(); ++i) {
    v = o->if_contains(field.wire_path[i]);
    if (!v) return nullptr;
    if (i + 1 < field.wire_path.size()) {
      if (!v->is_object()) return nullptr;
      o = &v->get_object();
    }
  }
  return v;
}

model::Value decode_value(const json::value& v, const model::FieldDescriptor& f, const model::TimeZone& zone) {
  if (v.is_null()) return std::monostate{};
  if (f.multi_valued) {
    std::vector<std::string> out;
    model::FieldDescriptor element = f;
    element.multi_valued = false;
    element.type = FieldType::kString;
    auto add = [&](const json::value& x) {
      if (x.is_null()) model::fail(ErrorKind::kPermanent, "field " + f.name + ": null inside an array");
      model::Value s = scalar(x, f.type == FieldType::kJson ? f : element, zone);
      out.push_back(model::to_display(s));
    };
    if (v.is_array()) {
      for (const auto& x : v.get_array()) add(x);
    } else {
      add(v);  // a single scalar counts as a one-element array (4.7)
    }
    return out;
  }
  try {
    return scalar(v, f, zone);
  } catch (const model::Error& e) {
    std::string what = e.what();
    if (what.rfind("field ", 0) == 0) throw;
    model::fail(e.kind(), "field " + f.name + " (" + f.wire + "): " + what);
  }
}

}  // namespace replicator::actito

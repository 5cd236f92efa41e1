#include "core/model/value.hpp"

#include <cstdio>

#include "core/model/error.hpp"
#include "core/model/timestamp.hpp"

namespace replicator::model {

std::string_view to_string(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::kConfig: return "config";
    case ErrorKind::kAuth: return "auth";
    case ErrorKind::kRateLimited: return "rate_limited";
    case ErrorKind::kTransient: return "transient";
    case ErrorKind::kPermanent: return "permanent";
    case ErrorKind::kCancelled: return "cancelled";
  }
  return "unknown";
}

std::optional<ParsedType> parse_field_type(std::string_view name) {
  bool multi = false;
  if (name.size() > 2 && name.substr(name.size() - 2) == "[]") {
    multi = true;
    name.remove_suffix(2);
  }
  FieldType t;
  if (name == "STRING") t = FieldType::kString;
  else if (name == "INTEGER") t = FieldType::kInteger;
  else if (name == "LONG") t = FieldType::kLong;
  else if (name == "NUMBER") t = FieldType::kNumber;
  else if (name == "BOOLEAN") t = FieldType::kBoolean;
  else if (name == "DATE") t = FieldType::kDate;
  else if (name == "TIMESTAMP") t = FieldType::kTimestamp;
  else if (name == "JSON") t = FieldType::kJson;
  else return std::nullopt;
  return ParsedType{t, multi};
}

std::string_view to_string(FieldType type) noexcept {
  switch (type) {
    case FieldType::kString: return "STRING";
    case FieldType::kInteger: return "INTEGER";
    case FieldType::kLong: return "LONG";
    case FieldType::kNumber: return "NUMBER";
    case FieldType::kBoolean: return "BOOLEAN";
    case FieldType::kDate: return "DATE";
    case FieldType::kTimestamp: return "TIMESTAMP";
    case FieldType::kJson: return "JSON";
  }
  return "?";
}

namespace {
void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}
}  // namespace

std::string to_display(const Value& v) {
  struct Visitor {
    std::string operator()(std::monostate) const { return {}; }
    std::string operator()(bool b) const { return b ? "true" : "false"; }
    std::string operator()(std::int64_t i) const { return std::to_string(i); }
    std::string operator()(Timestamp t) const { return format_timestamp(t); }
    std::string operator()(const Decimal& d) const { return d.text; }
    std::string operator()(const std::string& s) const { return s; }
    std::string operator()(const JsonText& j) const { return j.text; }
    std::string operator()(const std::vector<std::string>& a) const {
      std::string out = "[";
      for (std::size_t i = 0; i < a.size(); ++i) {
        if (i) out += ',';
        append_json_string(out, a[i]);
      }
      out += ']';
      return out;
    }
  };
  return std::visit(Visitor{}, v);
}

int compare(const Value& a, const Value& b) noexcept {
  if (a.index() != b.index()) return a.index() < b.index() ? -1 : 1;
  auto three = [](const auto& x, const auto& y) { return x < y ? -1 : (y < x ? 1 : 0); };
  switch (a.index()) {
    case 0: return 0;
    case 1: return three(std::get<bool>(a), std::get<bool>(b));
    case 2: return three(std::get<std::int64_t>(a), std::get<std::int64_t>(b));
    case 3: return three(std::get<Timestamp>(a).ms, std::get<Timestamp>(b).ms);
    case 4: return three(std::get<Decimal>(a).text, std::get<Decimal>(b).text);
    case 5: {
      // Code-point order equals byte order for UTF-8.
      int c = std::get<std::string>(a).compare(std::get<std::string>(b));
      return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    case 6: return three(std::get<JsonText>(a).text, std::get<JsonText>(b).text);
    default: return three(std::get<7>(a), std::get<7>(b));
  }
}

}  // namespace replicator::model

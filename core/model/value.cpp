#include "core/model/value.hpp"

#include <algorithm>
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

// Length of the well-formed UTF-8 sequence at s[i], or 0 when the bytes there are not one.
std::size_t utf8_sequence(std::string_view s, std::size_t i) noexcept {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  if (c < 0x80) return 1;
  std::size_t n;
  unsigned char lo = 0x80, hi = 0xBF;  // range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;  // no overlong forms
    if (c == 0xED) hi = 0x9F;  // no surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;  // nothing past U+10FFFF
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (b(i + 1) < lo || b(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k) {
    if (b(i + k) < 0x80 || b(i + k) > 0xBF) return 0;
  }
  return n;
}

}  // namespace

bool is_valid_utf8(std::string_view s) noexcept {
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = utf8_sequence(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string to_valid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = utf8_sequence(s, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

void append_json_string(std::string& out, std::string_view s) {
  std::string repaired;
  if (!is_valid_utf8(s)) {
    repaired = to_valid_utf8(s);
    s = repaired;
  }
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

namespace {

// An exact decimal literal ("-12.50", "1E+3", ".5") read without allocating: the value is
// sign * 0.d1d2d3... * 10^exp10, where d1 is the first non-zero digit of int_part + frac_part.
struct DecimalParts {
  int sign = 0;  // 0 for zero
  std::string_view int_part, frac_part;
  std::size_t first = 0;   // index of d1 in int_part + frac_part
  std::int64_t exp10 = 0;

  char digit(std::size_t k) const noexcept {  // k-th significant digit, '0' past the end
    std::size_t i = first + k;
    if (i < int_part.size()) return int_part[i];
    i -= int_part.size();
    return i < frac_part.size() ? frac_part[i] : '0';
  }
  std::size_t count() const noexcept { return int_part.size() + frac_part.size() - first; }
};

bool split_decimal(std::string_view s, DecimalParts& out) noexcept {
  auto digits = [&](std::size_t& i) {
    const std::size_t from = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return s.substr(from, i - from);
  };
  std::size_t i = 0;
  const bool negative = i < s.size() && s[i] == '-';
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  out.int_part = digits(i);
  if (i < s.size() && s[i] == '.') out.frac_part = digits(++i);
  if (out.int_part.empty() && out.frac_part.empty()) return false;
  std::int64_t exp = 0;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    const bool eneg = i < s.size() && s[i] == '-';
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    const std::string_view e = digits(i);
    if (e.empty() || e.size() > 9) return false;
    for (char c : e) exp = exp * 10 + (c - '0');
    if (eneg) exp = -exp;
  }
  if (i != s.size()) return false;
  const std::size_t n = out.int_part.size() + out.frac_part.size();
  out.first = 0;
  while (out.first < n && out.digit(0) == '0') ++out.first;
  if (out.first == n) return true;  // zero
  out.sign = negative ? -1 : 1;
  out.exp10 = static_cast<std::int64_t>(out.int_part.size()) - static_cast<std::int64_t>(out.first) + exp;
  return true;
}

int compare_decimal(std::string_view a, std::string_view b) noexcept {
  DecimalParts x, y;
  if (!split_decimal(a, x) || !split_decimal(b, y)) {
    const int c = a.compare(b);  // not numbers: keep a stable order anyway
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  if (x.sign != y.sign) return x.sign < y.sign ? -1 : 1;
  if (x.sign == 0) return 0;
  int mag = 0;  // |x| vs |y|
  if (x.exp10 != y.exp10) {
    mag = x.exp10 < y.exp10 ? -1 : 1;
  } else {
    const std::size_t n = std::max(x.count(), y.count());
    for (std::size_t k = 0; k < n && mag == 0; ++k) {
      if (x.digit(k) != y.digit(k)) mag = x.digit(k) < y.digit(k) ? -1 : 1;
    }
  }
  return x.sign * mag;
}

}  // namespace

int compare(const Value& a, const Value& b) noexcept {
  if (a.index() != b.index()) return a.index() < b.index() ? -1 : 1;
  auto three = [](const auto& x, const auto& y) { return x < y ? -1 : (y < x ? 1 : 0); };
  switch (a.index()) {
    case 0: return 0;
    case 1: return three(std::get<bool>(a), std::get<bool>(b));
    case 2: return three(std::get<std::int64_t>(a), std::get<std::int64_t>(b));
    case 3: return three(std::get<Timestamp>(a).ms, std::get<Timestamp>(b).ms);
    case 4: return compare_decimal(std::get<Decimal>(a).text, std::get<Decimal>(b).text);
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

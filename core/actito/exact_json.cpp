#include "core/actito/exact_json.hpp"

#include <charconv>
#include <cmath>

// The one translation unit that instantiates basic_parser with our handler.
#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value_stack.hpp>

namespace replicator::actito {

namespace json = boost::json;
using boost::system::error_code;

namespace {

// Digits from the first non-zero one to the last non-zero one, before any exponent.
int significant_digits(std::string_view literal) noexcept {
  int significant = 0;
  int pending_zeros = 0;  // zeros after the last non-zero digit seen
  bool started = false;
  for (char c : literal) {
    if (c == 'e' || c == 'E') break;
    if (c < '0' || c > '9') continue;  // sign, decimal point
    if (c == '0') {
      if (started) ++pending_zeros;
      continue;
    }
    if (started) significant += pending_zeros;
    pending_zeros = 0;
    started = true;
    ++significant;
  }
  return significant;
}

// What boost::json::parser's own handler does, but for numbers (see the header).
struct ExactHandler {
  static constexpr std::size_t max_object_size = json::object::max_size();
  static constexpr std::size_t max_array_size = json::array::max_size();
  static constexpr std::size_t max_key_size = json::string::max_size();
  static constexpr std::size_t max_string_size = json::string::max_size();

  json::value_stack st;
  std::string number;  // the parts of a literal split across calls

  explicit ExactHandler(json::storage_ptr sp) : st(std::move(sp)) {}

  bool on_document_begin(error_code&) { return true; }
  bool on_document_end(error_code&) { return true; }
  bool on_object_begin(error_code&) { return true; }
  bool on_object_end(std::size_t n, error_code&) {
    st.push_object(n);
    return true;
  }
  bool on_array_begin(error_code&) { return true; }
  bool on_array_end(std::size_t n, error_code&) {
    st.push_array(n);
    return true;
  }
  bool on_key_part(json::string_view s, std::size_t, error_code&) {
    st.push_chars(s);
    return true;
  }
  bool on_key(json::string_view s, std::size_t, error_code&) {
    st.push_key(s);
    return true;
  }
  bool on_string_part(json::string_view s, std::size_t, error_code&) {
    st.push_chars(s);
    return true;
  }
  bool on_string(json::string_view s, std::size_t, error_code&) {
    st.push_string(s);
    return true;
  }
  bool on_number_part(json::string_view s, error_code&) {
    number.append(s.data(), s.size());
    return true;
  }
  bool on_int64(std::int64_t i, json::string_view, error_code&) {
    number.clear();
    st.push_int64(i);
    return true;
  }
  bool on_uint64(std::uint64_t u, json::string_view, error_code&) {
    number.clear();
    st.push_uint64(u);
    return true;
  }
  bool on_double(double d, json::string_view s, error_code&) {
    number.append(s.data(), s.size());
    // Boost.JSON 1.81 scales by powers of ten in double arithmetic, which can be off by an ulp
    // (3e26, 38527239.944579300): the correctly rounded value of the literal instead.
    double exact = d;  // from_chars leaves it as is when the literal is out of range
    std::from_chars(number.data(), number.data() + number.size(), exact);
    const int digits = significant_digits(number);
    // Beyond 15 digits, or beyond what a double holds exactly: infinite, subnormal (fewer digits
    // of precision), or flushed to 0 although some digit is not 0.
    if (digits > 15 || !std::isfinite(exact) || std::fpclassify(exact) == FP_SUBNORMAL ||
        (exact == 0.0 && digits > 0)) {
      st.push_chars(json::string_view(&kNumberMark, 1));
      st.push_string(number);
    } else {
      st.push_double(exact);
    }
    number.clear();
    return true;
  }
  bool on_bool(bool b, error_code&) {
    st.push_bool(b);
    return true;
  }
  bool on_null(error_code&) {
    st.push_null();
    return true;
  }
  bool on_comment_part(json::string_view, error_code&) { return true; }
  bool on_comment(json::string_view, error_code&) { return true; }
};

}  // namespace

bool needs_exact_text(std::string_view literal) noexcept { return significant_digits(literal) > 15; }

json::value parse_exact(std::string_view text, error_code& ec, json::storage_ptr sp) {
  json::basic_parser<ExactHandler> p(json::parse_options{}, json::storage_ptr());
  p.handler().st.reset(sp);
  const std::size_t n = p.write_some(false, text.data(), text.size(), ec);
  if (!ec && n < text.size()) ec = json::error::extra_data;
  if (ec) return nullptr;
  return p.handler().st.release();
}

std::optional<std::string_view> exact_literal(const json::value& v) noexcept {
  if (!v.is_string()) return std::nullopt;
  const json::string& s = v.get_string();
  if (s.empty() || s.front() != kNumberMark) return std::nullopt;
  return std::string_view(s.data() + 1, s.size() - 1);
}

namespace {

void write_exact(std::string& out, const json::value& v) {
  switch (v.kind()) {
    case json::kind::object: {
      out += '{';
      bool first = true;
      for (const auto& kv : v.get_object()) {
        if (!first) out += ',';
        first = false;
        out += json::serialize(json::string_view(kv.key()));
        out += ':';
        write_exact(out, kv.value());
      }
      out += '}';
      return;
    }
    case json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& e : v.get_array()) {
        if (!first) out += ',';
        first = false;
        write_exact(out, e);
      }
      out += ']';
      return;
    }
    default:
      if (const auto literal = exact_literal(v)) {
        out += *literal;
      } else {
        out += json::serialize(v);
      }
  }
}

bool holds_marked(const json::value& v) noexcept {
  switch (v.kind()) {
    case json::kind::object:
      for (const auto& kv : v.get_object()) {
        if (holds_marked(kv.value())) return true;
      }
      return false;
    case json::kind::array:
      for (const auto& e : v.get_array()) {
        if (holds_marked(e)) return true;
      }
      return false;
    default:
      return exact_literal(v).has_value();
  }
}

}  // namespace

std::string serialize_exact(const json::value& v) {
  if (!holds_marked(v)) return json::serialize(v);  // the common case, in one pass
  std::string out;
  write_exact(out, v);
  return out;
}

}  // namespace replicator::actito

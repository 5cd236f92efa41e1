#include "tests/actito_sim/list_request.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

#include "tests/actito_sim/api_error.hpp"
#include "tests/actito_sim/json_writer.hpp"
#include "tests/actito_sim/rsql.hpp"
#include "tests/actito_sim/timestamp.hpp"

namespace replicator::actito_sim {
namespace {

constexpr std::size_t kMaxSortParams = 3;  // contract A05
constexpr std::size_t kMaxInValues = 100;  // contract A06
constexpr std::int64_t kDefaultPageSize = 50;

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool parse_int64(std::string_view text, std::int64_t& value) {
  if (text.empty()) return false;
  if (text.front() == '+') return false;
  const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
  return result.ec == std::errc() && result.ptr == text.data() + text.size();
}

bool equals_ignore_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::vector<std::string> split(std::string_view text, char separator) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t end = text.find(separator, start);
    out.emplace_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return out;
    start = end + 1;
  }
}

[[noreturn]] void invalid_search(std::string message) {
  bad_request("INVALID_SEARCH", std::move(message), "search");
}

std::vector<SortKey> parse_sort(const ObjectSpec& spec, const std::vector<std::string>& params) {
  if (params.size() > kMaxSortParams) {
    bad_request("INVALID_SORT",
                fmt::format("at most {} sort parameters are allowed, got {}", kMaxSortParams,
                            params.size()),
                "sort");
  }
  std::vector<SortKey> keys;
  for (const auto& param : params) {
    const auto parts = split(param, ',');
    if (parts.size() > 2 || parts[0].empty()) {
      bad_request("INVALID_SORT",
                  fmt::format("sort '{}' must be '<field>' or '<field>,asc|desc'", param), "sort");
    }
    SortKey key{parts[0], false};
    if (parts.size() == 2) {
      if (equals_ignore_case(parts[1], "desc")) {
        key.descending = true;
      } else if (!equals_ignore_case(parts[1], "asc")) {
        bad_request("INVALID_SORT",
                    fmt::format("sort direction '{}' must be asc or desc", parts[1]), "sort");
      }
    }
    if (!spec.is_sortable(key.wire)) {
      bad_request("INVALID_SORT",
                  fmt::format("'{}' is not sortable on {}; sortable: {}", key.wire, spec.name,
                              fmt::join(spec.sortable, ", ")),
                  "sort");
    }
    if (std::any_of(keys.begin(), keys.end(),
                    [&](const SortKey& k) { return k.wire == key.wire; })) {
      bad_request("INVALID_SORT", fmt::format("'{}' appears twice in sort", key.wire), "sort");
    }
    keys.push_back(std::move(key));
  }
  // Total order: the key fields ascending unless already present (contract A05).
  for (const auto& key_field : spec.key) {
    if (std::none_of(keys.begin(), keys.end(),
                     [&](const SortKey& k) { return k.wire == key_field; })) {
      keys.push_back(SortKey{key_field, false});
    }
  }
  return keys;
}

std::vector<Constraint> parse_search(const ObjectSpec& spec, const std::string& text) {
  std::vector<RsqlConstraint> parsed;
  try {
    parsed = parse_rsql(text);
  } catch (const RsqlSyntaxError& e) {
    invalid_search(e.what());
  }
  // Validation order of contract 3.4: each step over every constraint before the next step.
  for (const auto& c : parsed) {
    if (spec.field(c.selector) == nullptr) {
      bad_request("FILTER_NOT_SUPPORTED",
                  fmt::format("Filter not supported on {}: '{}' is not a field of the object",
                              spec.name, c.selector),
                  "search");
    }
  }
  std::vector<Op> ops;
  for (const auto& c : parsed) {
    const auto* native = spec.native_ops(c.selector);
    Op op{};
    if (native == nullptr || !parse_rsql_op(c.op, op) ||
        std::find(native->begin(), native->end(), op) == native->end()) {
      bad_request("FILTER_NOT_SUPPORTED",
                  fmt::format("Filter not supported on {}: {}{} (selector '{}' is not filterable "
                              "with this operator)",
                              spec.name, c.selector, c.op, c.selector),
                  "search");
    }
    ops.push_back(op);
  }
  std::vector<Constraint> constraints;
  for (std::size_t i = 0; i < parsed.size(); ++i) {
    const auto& c = parsed[i];
    if (c.list_form && ops[i] != Op::kIn) {
      invalid_search(fmt::format("'{}{}' takes a single value, not a list", c.selector, c.op));
    }
    Constraint constraint{spec.field(c.selector), ops[i], {}};
    for (const auto& literal : c.values) {
      constraint.values.push_back(typed_value(*constraint.field, literal));
    }
    constraints.push_back(std::move(constraint));
  }
  for (const auto& c : constraints) {
    if (c.values.size() > kMaxInValues) {
      invalid_search(fmt::format("=in= on '{}' has {} values; at most {} are allowed",
                                 c.field->wire, c.values.size(), kMaxInValues));
    }
  }
  return constraints;
}

std::vector<std::string> parse_fields(const ObjectSpec& spec, const std::string& text) {
  std::vector<std::string> fields = spec.always_returned;
  for (const auto& name : split(text, ',')) {
    bool known = false;
    if (spec.projection == Projection::kListed) {
      known = std::find(spec.projection_names.begin(), spec.projection_names.end(), name) !=
              spec.projection_names.end();
    } else {
      known = !name.empty() && name.find('.') == std::string::npos && spec.field(name) != nullptr;
    }
    if (!known) {
      bad_request("INVALID_FIELDS",
                  fmt::format("'{}' is not a field that {} can project", name, spec.name),
                  "fields");
    }
    if (std::find(fields.begin(), fields.end(), name) == fields.end()) fields.push_back(name);
  }
  return fields;
}

}  // namespace

Target parse_target(std::string_view target) {
  Target out;
  const std::size_t question = target.find('?');
  out.raw_path = std::string(target.substr(0, question));
  try {
    std::string_view path = out.raw_path;
    if (!path.starts_with('/')) {
      throw ApiError(400, "INVALID_PARAMETER", "the request target must start with '/'");
    }
    for (const auto& segment : split(path.substr(1), '/')) {
      out.segments.push_back(percent_decode(segment, false));
    }
    if (question != std::string_view::npos) {
      for (const auto& part : split(target.substr(question + 1), '&')) {
        if (part.empty()) continue;
        const std::size_t eq = part.find('=');
        std::string name = percent_decode(part.substr(0, eq), true);
        std::string value =
            eq == std::string::npos ? std::string() : percent_decode(part.substr(eq + 1), true);
        out.params.emplace_back(std::move(name), std::move(value));
      }
    }
  } catch (const std::invalid_argument& e) {
    throw ApiError(400, "INVALID_PARAMETER", e.what());
  }
  return out;
}

std::string percent_decode(std::string_view text, bool plus_as_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%') {
      const bool complete = i + 2 < text.size();
      const int high = complete ? hex_value(text[i + 1]) : -1;
      const int low = complete ? hex_value(text[i + 2]) : -1;
      if (high < 0 || low < 0) {
        throw std::invalid_argument(
            fmt::format("malformed percent-encoding at position {} of '{}'", i + 1, text));
      }
      out.push_back(static_cast<char>(high * 16 + low));
      i += 2;
    } else if (c == '+' && plus_as_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string percent_encode(std::string_view text, std::string_view keep) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' ||
        keep.find(ch) != std::string_view::npos) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

TypedValue typed_value(const FieldSpec& field, const std::string& literal) {
  TypedValue value;
  value.text = literal;
  switch (field.type) {
    case FieldType::kInteger:
    case FieldType::kLong: {
      const bool ok = parse_int64(literal, value.integer) &&
                      (field.type == FieldType::kLong ||
                       (value.integer >= std::numeric_limits<std::int32_t>::min() &&
                        value.integer <= std::numeric_limits<std::int32_t>::max()));
      if (!ok) {
        invalid_search(fmt::format("'{}' is not a valid {} value for '{}'", literal,
                                   to_string(field.type), field.wire));
      }
      break;
    }
    case FieldType::kNumber: {
      const auto result =
          std::from_chars(literal.data(), literal.data() + literal.size(), value.number);
      if (literal.empty() || result.ec != std::errc() ||
          result.ptr != literal.data() + literal.size()) {
        invalid_search(
            fmt::format("'{}' is not a valid NUMBER value for '{}'", literal, field.wire));
      }
      break;
    }
    case FieldType::kBoolean:
      if (equals_ignore_case(literal, "true")) {
        value.integer = 1;
      } else if (!equals_ignore_case(literal, "false")) {
        invalid_search(fmt::format("'{}' is not true or false (field '{}')", literal, field.wire));
      }
      break;
    case FieldType::kTimestamp:
      try {
        value.integer = parse_timestamp(literal);
      } catch (const std::invalid_argument& e) {
        invalid_search(fmt::format("{} (field '{}')", e.what(), field.wire));
      }
      break;
    case FieldType::kDate:
      try {
        value.integer = parse_date(literal);
      } catch (const std::invalid_argument& e) {
        invalid_search(fmt::format("{} (field '{}')", e.what(), field.wire));
      }
      break;
    case FieldType::kString:
    case FieldType::kJson:
    case FieldType::kStringArray:
      break;
  }
  return value;
}

std::int64_t ListRequest::offset() const noexcept {
  if (page > std::numeric_limits<std::int64_t>::max() / size) {
    return std::numeric_limits<std::int64_t>::max();
  }
  return page * size;
}

bool ListRequest::wants(std::string_view name) const noexcept {
  return !projected || std::find(fields.begin(), fields.end(), name) != fields.end();
}

ListRequest parse_list_request(const ObjectSpec& spec, const QueryParams& params) {
  ListRequest request;
  bool seen_page = false, seen_size = false, seen_search = false;
  for (const auto& [name, value] : params) {
    auto once = [&](bool& seen) {
      if (seen) {
        bad_request("INVALID_PARAMETER",
                    fmt::format("parameter '{}' is given more than once", name), name);
      }
      seen = true;
    };
    if (name == "page") {
      once(seen_page);
      if (!parse_int64(value, request.page) || request.page < 0) {
        bad_request("INVALID_PARAMETER", fmt::format("page '{}' must be an integer >= 0", value),
                    "page");
      }
    } else if (name == "size") {
      once(seen_size);
      if (!parse_int64(value, request.size) || request.size <= 0) {
        bad_request(
            "INVALID_PARAMETER",
            fmt::format("size '{}' must be an integer between 1 and {}", value, spec.max_page_size),
            "size");
      }
      if (request.size > spec.max_page_size) {
        bad_request("PAGE_SIZE_TOO_LARGE",
                    fmt::format("size {} is larger than the maximum {} of {}", request.size,
                                spec.max_page_size, spec.name),
                    "size");
      }
    } else if (name == "sort") {
      request.sort_params.push_back(value);
    } else if (name == "search") {
      once(seen_search);
      request.search_param = value;
    } else if (name == "fields") {
      if (spec.projection == Projection::kNone) {
        bad_request("INVALID_PARAMETER", fmt::format("'fields' is not supported on {}", spec.name),
                    "fields");
      }
      once(request.has_fields_param);
      request.fields_param = value;
    } else {
      bad_request("INVALID_PARAMETER",
                  fmt::format("unknown parameter '{}' (allowed: page, size, sort, search{})", name,
                              spec.projection == Projection::kNone ? "" : ", fields"),
                  name);
    }
  }
  if (!seen_size) request.size = std::min(kDefaultPageSize, spec.max_page_size);
  request.sort = parse_sort(spec, request.sort_params);
  if (!request.search_param.empty()) {
    request.constraints = parse_search(spec, request.search_param);
  }
  if (request.has_fields_param) {
    request.projected = true;
    request.fields = parse_fields(spec, request.fields_param);
  }
  return request;
}

void check_plain_params(const QueryParams& params, const std::vector<std::string_view>& allowed) {
  std::vector<std::string_view> seen;
  for (const auto& [name, value] : params) {
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      bad_request(
          "INVALID_PARAMETER",
          allowed.empty()
              ? fmt::format("unknown parameter '{}': this route takes no parameters", name)
              : fmt::format("unknown parameter '{}' (allowed: {})", name, fmt::join(allowed, ", ")),
          name);
    }
    if (std::find(seen.begin(), seen.end(), name) != seen.end()) {
      bad_request("INVALID_PARAMETER", fmt::format("parameter '{}' is given more than once", name),
                  name);
    }
    seen.push_back(name);
  }
}

std::string page_href(std::string_view raw_path, const ListRequest& request, std::int64_t page) {
  std::string href(raw_path);
  href += fmt::format("?page={}&size={}", page, request.size);
  for (const auto& sort : request.sort_params) href += "&sort=" + percent_encode(sort, ",");
  if (!request.search_param.empty()) href += "&search=" + percent_encode(request.search_param);
  if (request.has_fields_param) href += "&fields=" + percent_encode(request.fields_param, ",");
  return href;
}

void begin_envelope(std::string& out, const ObjectSpec& spec) {
  out.push_back('{');
  JsonWriter::append_escaped(out, spec.collection_key);
  out.append(":[");
}

void finish_envelope(std::string& out, std::string_view raw_path, const ListRequest& request,
                     std::int64_t total_elements) {
  const std::int64_t total_pages = (total_elements + request.size - 1) / request.size;
  out.append("],");
  JsonWriter w(out);
  w.key("page");
  w.begin_object();
  w.key("number");
  w.integer(request.page);
  w.key("size");
  w.integer(request.size);
  w.key("totalElements");
  w.integer(total_elements);
  w.key("totalPages");
  w.integer(total_pages);
  w.end_object();
  w.key("_links");
  w.begin_object();
  w.key("self");
  w.begin_object();
  w.key("href");
  w.string(page_href(raw_path, request, request.page));
  w.end_object();
  if (request.page + 1 < total_pages) {  // contract 3.2: next iff number + 1 < totalPages
    w.key("next");
    w.begin_object();
    w.key("href");
    w.string(page_href(raw_path, request, request.page + 1));
    w.end_object();
  }
  w.end_object();
  out.push_back('}');
}

}  // namespace replicator::actito_sim

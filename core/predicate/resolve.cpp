#include "core/predicate/resolve.hpp"

#include <charconv>
#include <cstdint>
#include <limits>
#include <string>

#include "core/model/error.hpp"
#include "core/model/naming.hpp"
#include "core/predicate/lexer.hpp"

namespace replicator::predicate {
namespace {

using model::ErrorKind;
using model::FieldType;

constexpr std::int64_t kMsPerDay = 86'400'000;

std::string at(int column) {
  return column > 0 ? "at column " + std::to_string(column) + ": " : std::string();
}

std::string type_name(const model::FieldDescriptor& f) {
  std::string t(model::to_string(f.type));
  if (f.multi_valued) t += "[]";
  return t;
}

// snake_case without its exceptions: a name it refuses matches nothing.
std::string snake_or_empty(std::string_view name) {
  try {
    return model::snake_case(name);
  } catch (const model::Error&) {
    return {};
  }
}

std::string field_list(const std::vector<model::FieldDescriptor>& fields) {
  std::string out;
  for (const auto& f : fields) {
    if (!out.empty()) out += ", ";
    out += f.name;
  }
  return out.empty() ? "(none)" : out;
}

// Converts or throws "at column N: <context>: field F is T, the value must be ...".
model::Value convert(const Literal& lit, const model::FieldDescriptor& f,
                     const model::TimeZone& zone, const std::string& context) {
  using Kind = Literal::Kind;
  auto bad = [&](const std::string& must) -> model::Value {
    model::fail(ErrorKind::kConfig, at(lit.column) + (context.empty() ? "" : context + ": ") +
                                        "field " + f.name + " is " + type_name(f) + ", " + must);
  };
  if (lit.kind == Kind::kNull) return std::monostate{};
  if (f.type == FieldType::kJson) {
    return bad("only IS NULL and IS NOT NULL apply to it");
  }
  if (f.multi_valued) {
    // Rows hold the elements as text (vector<string>); a value is one element.
    if (lit.kind != Kind::kString) return bad("the value must be a quoted string (one element)");
    return lit.text;
  }
  switch (f.type) {
    case FieldType::kString:
      if (lit.kind != Kind::kString) return bad("the value must be a quoted string");
      return lit.text;
    case FieldType::kInteger:
    case FieldType::kLong: {
      const bool is_int = f.type == FieldType::kInteger;
      if (lit.kind != Kind::kNumber) return bad("the value must be an integer number, unquoted");
      std::int64_t v = 0;
      const char* b = lit.text.data();
      const char* e = b + lit.text.size();
      const auto [ptr, ec] = std::from_chars(b, e, v);
      if (ec == std::errc::result_out_of_range ||
          (ec == std::errc() && ptr == e && is_int &&
           (v < std::numeric_limits<std::int32_t>::min() ||
            v > std::numeric_limits<std::int32_t>::max()))) {
        return bad(is_int ? "the value " + lit.text +
                                " is out of its range (-2147483648 to 2147483647)"
                          : "the value " + lit.text +
                                " is out of its range (-9223372036854775808 to "
                                "9223372036854775807)");
      }
      if (ec != std::errc() || ptr != e) {
        return bad("the value must be an integer number, not " + lit.text);
      }
      return v;
    }
    case FieldType::kNumber:
      if (lit.kind != Kind::kNumber) return bad("the value must be a number, unquoted");
      return model::Decimal{lit.text};
    case FieldType::kBoolean:
      if (lit.kind != Kind::kBoolean) return bad("the value must be TRUE or FALSE");
      return lit.text == "TRUE";
    case FieldType::kDate:
      if (lit.kind != Kind::kString) return bad("the value must be a quoted date 'yyyy-MM-dd'");
      try {
        model::validate_date(lit.text);
      } catch (const model::Error&) {
        return bad("the value must be a quoted date 'yyyy-MM-dd', not " + to_text(lit));
      }
      return lit.text;
    case FieldType::kTimestamp: {
      const std::string must =
          "the value must be a quoted timestamp such as '2025-01-01T10:00:00Z', "
          "'2025-01-01 11:00:00' (local time) or '2025-01-01' (local midnight)";
      if (lit.kind != Kind::kString) return bad(must);
      try {
        if (lit.text.size() == 10) {  // a bare date: midnight in the zone
          model::validate_date(lit.text);
          const int y = (lit.text[0] - '0') * 1000 + (lit.text[1] - '0') * 100 +
                        (lit.text[2] - '0') * 10 + (lit.text[3] - '0');
          const unsigned m = static_cast<unsigned>((lit.text[5] - '0') * 10 + (lit.text[6] - '0'));
          const unsigned d = static_cast<unsigned>((lit.text[8] - '0') * 10 + (lit.text[9] - '0'));
          return zone.resolve_local(model::days_from_civil(y, m, d) * kMsPerDay);
        }
        return model::parse_timestamp(lit.text, zone);
      } catch (const model::Error&) {
        return bad(must + ", not " + to_text(lit));
      }
    }
    case FieldType::kJson: break;
  }
  return bad("the value is not supported");
}

const model::FieldDescriptor& find_at(const std::string& name, int column,
                                      const std::vector<model::FieldDescriptor>& fields) {
  try {
    return find_field(name, fields);
  } catch (const model::Error& e) {
    model::fail(e.kind(), at(column) + e.what());
  }
}

Expr resolve_node(const Expr& e, const std::vector<model::FieldDescriptor>& fields) {
  if (const auto* c = std::get_if<Comparison>(&e->v)) {
    const model::FieldDescriptor& f = find_at(c->field, c->column, fields);
    Comparison out = *c;
    out.field = f.name;
    const std::string context = to_text(out);  // "Status = 12", as the canonical text says it
    auto refuse = [&](int column, const std::string& why) {
      model::fail(ErrorKind::kConfig, at(column) + context + ": " + why);
    };
    const bool ordering = c->op != model::FilterOp::kEq && c->op != model::FilterOp::kNe &&
                          c->op != model::FilterOp::kIn;
    if (f.type == FieldType::kJson) {
      refuse(c->column, "field " + f.name + " is JSON, only IS NULL and IS NOT NULL apply to it");
    }
    if (f.multi_valued && ordering) {
      refuse(c->column, "field " + f.name + " is " + type_name(f) +
                            " (multi-valued): only =, !=, IN and NOT IN apply (= means contains)");
    }
    if (c->values.empty()) refuse(c->column, "a value is missing");
    for (const Literal& lit : c->values) {
      if (lit.kind == Literal::Kind::kNull) {
        const std::string name = field_text(f.name);
        std::string why = "a comparison with NULL is never true";
        if (c->op == model::FilterOp::kEq) why += "; write " + name + " IS NULL";
        if (c->op == model::FilterOp::kNe) why += "; write " + name + " IS NOT NULL";
        if (c->op == model::FilterOp::kIn) {
          why = c->negated ? "NULL in a NOT IN list makes it never true; remove it"
                           : "NULL in an IN list never matches; add OR " + name + " IS NULL";
        }
        refuse(lit.column, why);
      }
      convert(lit, f, model::TimeZone::utc(), context);
    }
    return make(std::move(out));
  }
  if (const auto* n = std::get_if<IsNull>(&e->v)) {
    IsNull out = *n;
    out.field = find_at(n->field, n->column, fields).name;
    return make(std::move(out));
  }
  if (const auto* a = std::get_if<And>(&e->v)) {
    std::vector<Expr> children;
    for (const auto& c : a->children) children.push_back(resolve_node(c, fields));
    return make_and(std::move(children));
  }
  if (const auto* o = std::get_if<Or>(&e->v)) {
    std::vector<Expr> children;
    for (const auto& c : o->children) children.push_back(resolve_node(c, fields));
    return make_or(std::move(children));
  }
  return make_not(resolve_node(std::get<Not>(e->v).child, fields));
}

}  // namespace

const model::FieldDescriptor& find_field(std::string_view name,
                                         const std::vector<model::FieldDescriptor>& fields) {
  for (const auto& f : fields) {
    if (f.name == name) return f;
  }
  auto unique = [&](auto&& matches) -> const model::FieldDescriptor* {
    const model::FieldDescriptor* found = nullptr;
    std::string names;
    for (const auto& f : fields) {
      if (!matches(f)) continue;
      if (found) {
        names += ", " + f.name;
      } else {
        found = &f;
        names = f.name;
      }
    }
    if (found && names != found->name) {
      model::fail(ErrorKind::kConfig, "field " + std::string(name) + " is ambiguous: it matches " +
                                          names + "; write the exact name");
    }
    return found;
  };
  if (const auto* f =
          unique([&](const model::FieldDescriptor& f) { return iequals(f.name, name); })) {
    return *f;
  }
  const std::string snake = snake_or_empty(name);
  if (!snake.empty()) {
    if (const auto* f = unique(
            [&](const model::FieldDescriptor& f) { return snake_or_empty(f.name) == snake; })) {
      return *f;
    }
  }
  model::fail(ErrorKind::kConfig,
              "unknown field " + std::string(name) + "; the fields are: " + field_list(fields));
}

Expr resolve(const Expr& expr, const std::vector<model::FieldDescriptor>& fields) {
  return resolve_node(expr, fields);
}

model::Value to_value(const Literal& literal, const model::FieldDescriptor& field,
                      const model::TimeZone& zone) {
  return convert(literal, field, zone, {});
}

void refuse_extended_fields(const Expr& expr, const std::vector<model::FieldDescriptor>& fields) {
  for (const auto& name : fields_of(expr)) {
    for (const auto& f : fields) {
      if (f.name == name && f.extended) {
        model::fail(model::ErrorKind::kConfig,
                    "field " + name + " is an extended field, only returned by per-row requests; "
                    "it cannot be filtered on");
      }
    }
  }
}

}  // namespace replicator::predicate

#include "core/actito/rsql.hpp"

#include "core/model/error.hpp"
#include "core/model/timestamp.hpp"

namespace replicator::actito {

using model::ErrorKind;
using model::FilterOp;

std::string_view rsql_operator(FilterOp op) {
  switch (op) {
    case FilterOp::kEq: return "==";
    case FilterOp::kLt: return "=lt=";
    case FilterOp::kLe: return "=le=";
    case FilterOp::kGt: return "=gt=";
    case FilterOp::kGe: return "=ge=";
    case FilterOp::kIn: return "=in=";
    case FilterOp::kNe: break;
  }
  model::fail(ErrorKind::kPermanent, "operator != has no RSQL form in the Actito API");
}

namespace {
void append_quoted(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}
}  // namespace

std::string rsql_value(const model::Value& v) {
  struct Visitor {
    std::string operator()(std::monostate) const {
      model::fail(ErrorKind::kPermanent, "null cannot be searched for in the Actito API");
    }
    std::string operator()(bool b) const { return b ? "true" : "false"; }
    std::string operator()(std::int64_t i) const { return std::to_string(i); }
    std::string operator()(model::Timestamp t) const {
      std::string out;
      append_quoted(out, model::format_timestamp(t));
      return out;
    }
    std::string operator()(const model::Decimal& d) const { return d.text; }
    std::string operator()(const std::string& s) const {
      std::string out;
      append_quoted(out, s);
      return out;
    }
    std::string operator()(const model::JsonText&) const {
      model::fail(ErrorKind::kPermanent, "JSON values cannot be searched for");
    }
    std::string operator()(const std::vector<std::string>&) const {
      model::fail(ErrorKind::kPermanent, "multi-valued fields cannot be searched for");
    }
  };
  return std::visit(Visitor{}, v);
}

std::string render_search(const model::ObjectDescriptor& object,
                          const std::vector<engine::Constraint>& constraints) {
  std::string out;
  for (const auto& c : constraints) {
    const model::FieldDescriptor* f = object.find_field(c.field);
    if (!f) {
      model::fail(ErrorKind::kPermanent, "object " + object.name + " has no field " + c.field);
    }
    if (!object.native(c.field, c.op)) {
      model::fail(ErrorKind::kPermanent, "filter " + c.field + " " + std::string(model::to_string(c.op)) +
                                             " is not native on " + object.name +
                                             " and cannot be sent to the API");
    }
    if (c.values.empty()) model::fail(ErrorKind::kPermanent, "filter on " + c.field + " has no value");
    if (!out.empty()) out += ';';
    out += f->wire;
    out += rsql_operator(c.op);
    if (c.op == FilterOp::kIn) {
      if (c.values.size() > 100) {
        model::fail(ErrorKind::kPermanent, "IN on " + c.field + " has more than 100 values");
      }
      out += '(';
      for (std::size_t i = 0; i < c.values.size(); ++i) {
        if (i) out += ',';
        out += rsql_value(c.values[i]);
      }
      out += ')';
    } else {
      out += rsql_value(c.values.front());
    }
  }
  return out;
}

std::string percent_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() * 3);
  for (unsigned char c : s) {
    bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '.' || c == '_' || c == '~';
    if (plain) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace replicator::actito

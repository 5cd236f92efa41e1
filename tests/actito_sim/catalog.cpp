#include "tests/actito_sim/catalog.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

namespace replicator::actito_sim {
namespace {

std::string scalar(const YAML::Node& node, const char* key, const std::string& where) {
  const YAML::Node value = node[key];
  if (!value || !value.IsScalar()) {
    throw std::runtime_error(fmt::format("{}: missing or non-scalar '{}'", where, key));
  }
  return value.as<std::string>();
}

std::string optional_scalar(const YAML::Node& node, const char* key) {
  const YAML::Node value = node[key];
  if (!value || value.IsNull() || !value.IsScalar()) return {};
  return value.as<std::string>();
}

std::vector<std::string> string_list(const YAML::Node& node, const char* key) {
  std::vector<std::string> out;
  const YAML::Node value = node[key];
  if (!value || !value.IsSequence()) return out;
  for (const auto& item : value) out.push_back(item.as<std::string>());
  return out;
}

std::vector<std::pair<std::string, std::vector<Op>>> ops_map(const YAML::Node& node,
                                                             bool seed_syntax,
                                                             const std::string& where) {
  std::vector<std::pair<std::string, std::vector<Op>>> out;
  if (!node || !node.IsMap()) return out;
  for (const auto& entry : node) {
    std::vector<Op> ops;
    for (const auto& op : entry.second) {
      const auto text = op.as<std::string>();
      if (seed_syntax) {
        ops.push_back(parse_seed_op(text));
      } else {
        Op parsed{};
        if (!parse_rsql_op(text, parsed)) {
          throw std::runtime_error(fmt::format("{}: unknown operator '{}'", where, text));
        }
        ops.push_back(parsed);
      }
    }
    out.emplace_back(entry.first.as<std::string>(), std::move(ops));
  }
  return out;
}

ObjectSpec parse_object(const YAML::Node& node, const std::string& source) {
  ObjectSpec spec;
  const std::string where = fmt::format("{}: object '{}'", source, optional_scalar(node, "name"));
  spec.name = scalar(node, "name", where);
  spec.category = scalar(node, "category", where);
  spec.list_route = scalar(node, "list_route", where);
  spec.get_route = optional_scalar(node, "get_route");
  spec.collection_key = scalar(node, "collection_key", where);
  spec.max_page_size = node["max_page_size"].as<std::int64_t>();
  for (const auto& f : node["fields"]) {
    FieldSpec field;
    field.name = scalar(f, "name", where);
    field.wire = scalar(f, "wire", where);
    try {
      field.type = parse_field_type(scalar(f, "type", where));
    } catch (const std::invalid_argument& e) {
      throw std::runtime_error(fmt::format("{}: field {}: {}", where, field.name, e.what()));
    }
    field.nullable = !f["nullable"] || f["nullable"].as<bool>();
    field.extended = f["extended"] && f["extended"].as<bool>();
    field.enum_values = string_list(f, "enum");
    spec.fields.push_back(std::move(field));
  }
  for (const auto& logical : string_list(node, "key")) {
    auto it = std::find_if(spec.fields.begin(), spec.fields.end(),
                           [&](const FieldSpec& f) { return f.name == logical; });
    if (it == spec.fields.end()) {
      throw std::runtime_error(fmt::format("{}: key field '{}' is not a field", where, logical));
    }
    spec.key.push_back(it->wire);
  }
  spec.search_selectors = ops_map(node["search_selectors"], false, where);
  spec.sortable = string_list(node, "sortable");
  const YAML::Node projection = node["fields_projection"];
  spec.projection = projection && projection.IsScalar() && projection.as<std::string>() == "true"
                        ? Projection::kAnyTopLevel
                        : Projection::kNone;
  spec.always_returned = spec.key;
  const YAML::Node parent = node["parent"];
  if (parent && parent.IsMap()) {
    spec.parent_object = scalar(parent, "object", where);
    spec.parent_path_param = scalar(parent, "path_param", where);
    const std::string child = scalar(parent, "child_field", where);
    for (const auto& f : spec.fields) {
      if (f.name == child) spec.child_field_wire = f.wire;
    }
    if (spec.child_field_wire.empty()) {
      throw std::runtime_error(
          fmt::format("{}: parent child_field '{}' is not a field", where, child));
    }
    spec.parent_key_wire = scalar(parent, "parent_field", where);  // logical; resolved by Catalog
  }
  return spec;
}

DynamicTemplate parse_dynamic(const YAML::Node& node, const std::string& source) {
  DynamicTemplate t;
  const std::string where =
      fmt::format("{}: dynamic object '{}'", source, optional_scalar(node, "name_pattern"));
  t.name_pattern = scalar(node, "name_pattern", where);
  t.category = scalar(node, "category", where);
  t.list_route = scalar(node, "list_route", where);
  t.get_route = optional_scalar(node, "get_route");
  t.collection_key = scalar(node, "collection_key", where);
  t.max_page_size = node["max_page_size"].as<std::int64_t>();
  t.key = string_list(node, "key");
  for (const auto& f : node["fields"]) {
    DynamicTemplate::Field field;
    field.name = scalar(f, "name", where);
    field.wire = scalar(f, "wire", where);
    field.type = scalar(f, "type", where);
    field.nullable = !f["nullable"] || f["nullable"].as<bool>();
    field.enum_values = string_list(f, "enum");
    t.fields.push_back(std::move(field));
  }
  t.native_filters = ops_map(node["native_filters"], true, where);
  t.sortable = string_list(node, "sortable");
  const YAML::Node projection = node["fields_projection"];
  t.has_projection = projection && projection.IsSequence();
  t.fields_projection = string_list(node, "fields_projection");
  return t;
}

}  // namespace

FieldType parse_field_type(std::string_view text) {
  if (text == "STRING") return FieldType::kString;
  if (text == "INTEGER") return FieldType::kInteger;
  if (text == "LONG") return FieldType::kLong;
  if (text == "NUMBER") return FieldType::kNumber;
  if (text == "BOOLEAN") return FieldType::kBoolean;
  if (text == "DATE") return FieldType::kDate;
  if (text == "TIMESTAMP") return FieldType::kTimestamp;
  if (text == "JSON") return FieldType::kJson;
  if (text == "STRING[]") return FieldType::kStringArray;
  throw std::invalid_argument(fmt::format("unknown field type '{}'", text));
}

std::string_view to_string(FieldType type) noexcept {
  switch (type) {
    case FieldType::kString:
      return "STRING";
    case FieldType::kInteger:
      return "INTEGER";
    case FieldType::kLong:
      return "LONG";
    case FieldType::kNumber:
      return "NUMBER";
    case FieldType::kBoolean:
      return "BOOLEAN";
    case FieldType::kDate:
      return "DATE";
    case FieldType::kTimestamp:
      return "TIMESTAMP";
    case FieldType::kJson:
      return "JSON";
    case FieldType::kStringArray:
      return "STRING[]";
  }
  return "STRING";
}

std::string_view to_rsql(Op op) noexcept {
  switch (op) {
    case Op::kEq:
      return "==";
    case Op::kLt:
      return "=lt=";
    case Op::kLe:
      return "=le=";
    case Op::kGt:
      return "=gt=";
    case Op::kGe:
      return "=ge=";
    case Op::kIn:
      return "=in=";
  }
  return "==";
}

bool parse_rsql_op(std::string_view text, Op& op) noexcept {
  if (text == "==")
    op = Op::kEq;
  else if (text == "=lt=")
    op = Op::kLt;
  else if (text == "=le=")
    op = Op::kLe;
  else if (text == "=gt=")
    op = Op::kGt;
  else if (text == "=ge=")
    op = Op::kGe;
  else if (text == "=in=")
    op = Op::kIn;
  else
    return false;
  return true;
}

Op parse_seed_op(std::string_view text) {
  if (text == "=") return Op::kEq;
  if (text == "<") return Op::kLt;
  if (text == "<=") return Op::kLe;
  if (text == ">") return Op::kGt;
  if (text == ">=") return Op::kGe;
  if (text == "IN") return Op::kIn;
  throw std::runtime_error(fmt::format("unknown seed operator '{}'", text));
}

const FieldSpec* ObjectSpec::field(std::string_view wire) const noexcept {
  for (const auto& f : fields) {
    if (f.wire == wire) return &f;
  }
  return nullptr;
}

const std::vector<Op>* ObjectSpec::native_ops(std::string_view wire) const noexcept {
  for (const auto& [selector, ops] : search_selectors) {
    if (selector == wire) return &ops;
  }
  return nullptr;
}

bool ObjectSpec::is_sortable(std::string_view wire) const noexcept {
  return std::find(sortable.begin(), sortable.end(), wire) != sortable.end();
}

std::vector<FieldSpec> DynamicTemplate::plain_fields() const {
  std::vector<FieldSpec> out;
  for (const auto& f : fields) {
    if (f.name.find('<') != std::string::npos) continue;
    try {
      out.push_back(
          FieldSpec{f.name, f.wire, parse_field_type(f.type), f.nullable, false, f.enum_values});
    } catch (const std::invalid_argument&) {
      // a per-attribute description rather than a type: instantiated per table
    }
  }
  return out;
}

const std::vector<Op>* DynamicTemplate::native_ops(std::string_view logical) const noexcept {
  for (const auto& [name, ops] : native_filters) {
    if (name == logical) return &ops;
  }
  return nullptr;
}

ObjectSpec instantiate_plain_template(const DynamicTemplate& t, std::string name) {
  ObjectSpec spec;
  spec.name = std::move(name);
  spec.category = t.category;
  spec.list_route = t.list_route;
  spec.get_route = t.get_route;
  spec.collection_key = t.collection_key;
  spec.max_page_size = t.max_page_size;
  spec.fields = t.plain_fields();
  auto wire_of = [&](const std::string& logical) {
    for (const auto& f : spec.fields) {
      if (f.name == logical) return f.wire;
    }
    throw std::runtime_error(
        fmt::format("catalog {}: '{}' is not a field with a plain type", t.name_pattern, logical));
  };
  for (const auto& logical : t.key) spec.key.push_back(wire_of(logical));
  for (const auto& [logical, ops] : t.native_filters)
    spec.search_selectors.emplace_back(wire_of(logical), ops);
  spec.sortable = t.sortable;
  spec.projection = Projection::kNone;
  spec.always_returned = spec.key;
  return spec;
}

Catalog Catalog::load_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(fmt::format("cannot read the catalog file '{}'", path));
  std::ostringstream text;
  text << in.rdbuf();
  return load_text(text.str(), path);
}

Catalog Catalog::load_text(const std::string& yaml, const std::string& source_name) {
  Catalog catalog;
  try {
    const YAML::Node root = YAML::Load(yaml);
    catalog.contract_version_ = optional_scalar(root, "contract_version");
    for (const auto& node : root["objects"])
      catalog.objects_.push_back(parse_object(node, source_name));
    for (const auto& node : root["dynamic_objects"]) {
      catalog.dynamic_.push_back(parse_dynamic(node, source_name));
    }
  } catch (const YAML::Exception& e) {
    throw std::runtime_error(fmt::format("{}: {}", source_name, e.what()));
  }
  // Parent fields are logical names of the parent object: resolve them to wire names.
  for (auto& o : catalog.objects_) {
    if (o.parent_object.empty()) continue;
    const ObjectSpec* parent = nullptr;
    for (const auto& candidate : catalog.objects_) {
      if (candidate.name == o.parent_object) parent = &candidate;
    }
    const std::string logical = o.parent_key_wire;
    o.parent_key_wire.clear();
    for (const auto& f : parent != nullptr ? parent->fields : std::vector<FieldSpec>{}) {
      if (f.name == logical) o.parent_key_wire = f.wire;
    }
    if (o.parent_key_wire.empty()) {
      throw std::runtime_error(fmt::format("{}: object '{}': parent field '{}' of '{}' not found",
                                           source_name, o.name, logical, o.parent_object));
    }
  }
  if (catalog.objects_.empty()) {
    throw std::runtime_error(fmt::format("{}: the catalog defines no objects", source_name));
  }
  return catalog;
}

const ObjectSpec& Catalog::object(std::string_view name) const {
  for (const auto& o : objects_) {
    if (o.name == name) return o;
  }
  throw std::out_of_range(fmt::format("the catalog has no object '{}'", name));
}

const DynamicTemplate& Catalog::dynamic(std::string_view name_pattern) const {
  for (const auto& d : dynamic_) {
    if (d.name_pattern == name_pattern) return d;
  }
  throw std::out_of_range(fmt::format("the catalog has no dynamic object '{}'", name_pattern));
}

}  // namespace replicator::actito_sim

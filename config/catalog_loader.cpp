#include "config/catalog_loader.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "config/config.hpp"
#include "config/detail/address.hpp"
#include "config/detail/builtin_catalog_data.hpp"
#include "config/detail/text.hpp"
#include "config/detail/yaml_reader.hpp"
#include "core/model/error.hpp"

namespace replicator::config {

using detail::in_quotes;
using detail::Item;
using detail::join;
using detail::Problem;
using detail::Problems;
using detail::Reader;
using model::FieldDescriptor;
using model::FilterOp;
using model::ObjectDescriptor;
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kTopKeys[] = {"contract_version", "contract_document", "date",
                                         "status",           "conventions",       "objects",
                                         "dynamic_objects"};
// Keys read into the descriptor, then keys that only document the object.
constexpr std::string_view kObjectKeys[] = {"name",
                                            "name_pattern",
                                            "per",
                                            "family",
                                            "category",
                                            "list_route",
                                            "get_route",
                                            "collection_key",
                                            "max_page_size",
                                            "key",
                                            "parent",
                                            "created_field",
                                            "updated_field",
                                            "replication",
                                            "fields",
                                            "native_filters",
                                            "sortable",
                                            "fields_projection",
                                            "dml",
                                            "route_evidence",
                                            "search_selectors",
                                            "write_routes",
                                            "extended_fields",
                                            "extended_requests",
                                            "documented_counterpart",
                                            "notes",
                                            "seed_name"};
constexpr std::string_view kFieldKeys[] = {"name",  "wire",     "type", "nullable",
                                           "write", "extended", "note", "enum"};
constexpr std::string_view kParentKeys[] = {"object", "path_param", "parent_field", "child_field",
                                            "child_filter_ops_applied_by_fanout"};
constexpr std::string_view kReplicationKeys[] = {"mode", "watermark", "pushdown"};
constexpr std::string_view kModes[] = {"incremental_updated", "incremental_created",
                                       "full_refresh"};
constexpr std::string_view kWrites[] = {"required", "optional", "immutable", "readonly"};
constexpr std::string_view kDml[] = {"INSERT", "UPDATE", "DELETE", "UPSERT"};
constexpr std::string_view kExtendedRequests[] = {"suppressible", "always"};
constexpr std::string_view kPers[] = {"profile table", "custom table"};
// conventions.hosts entry that describes the base_url override instead of naming a host.
constexpr std::string_view kOverrideSetting = "override_setting";

bool is_pattern(std::string_view name) { return name.find('<') != std::string_view::npos; }

std::vector<std::string> split_wire(const std::string& wire) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    std::size_t dot = wire.find('.', start);
    out.push_back(wire.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return out;
}

class CatalogParser {
 public:
  explicit CatalogParser(const std::string& name) : reader_(name, nullptr) {}

  model::Catalog parse(std::string_view text) {
    model::Catalog catalog;
    problems_.guard([&] { parse_root(text, catalog); });
    problems_.throw_if_any();
    return catalog;
  }

 private:
  [[noreturn]] void fail(const Item& item, std::string message) const {
    reader_.fail(item, std::move(message));
  }
  void problem(const Location& at, const std::string& path, std::string message) {
    problems_.add(Problem(at, detail::where_text(path) + ": " + std::move(message)));
  }

  // Text, or "" for null.
  std::string optional_text(const Item& item) const {
    return reader_.is_null(item) ? std::string() : reader_.text(item);
  }

  void parse_root(std::string_view text, model::Catalog& catalog) {
    Item root = reader_.load(text);
    auto entries = reader_.entries(root, "catalog sections", kTopKeys, problems_);
    bool has_version = false, has_objects = false;
    for (const auto& e : entries) {
      problems_.guard([&] {
        if (e.key == "contract_version") {
          has_version = true;
          catalog.contract_version = reader_.text(e);
        } else if (e.key == "conventions") {
          for (const auto& c : reader_.entries(e, "conventions")) {
            if (c.key == "hosts") parse_hosts(c, catalog);
          }
        } else if (e.key == "objects") {
          has_objects = true;
          for (const auto& o : reader_.elements(e, "objects")) {
            problems_.guard([&] {
              catalog.objects.push_back(parse_object(o, false));
              object_at_.push_back(o.at);
            });
          }
        } else if (e.key == "dynamic_objects") {
          for (const auto& o : reader_.elements(e, "dynamic object templates")) {
            problems_.guard([&] {
              catalog.templates.push_back(parse_object(o, true));
              template_at_.push_back(o.at);
            });
          }
        }
      });
    }
    if (!has_version) problem(root.at, "", "missing required key contract_version");
    if (!has_objects) problem(root.at, "", "missing required key objects");
    check_catalog(catalog);
  }

  void parse_hosts(const Item& item, model::Catalog& catalog) {
    for (const auto& h : reader_.entries(item, "environment names to base URLs")) {
      if (h.key == kOverrideSetting) continue;  // prose about base_url, not a host
      problems_.guard([&] {
        std::string url = reader_.text(h);
        if (std::string why = detail::base_url_problem(url); !why.empty()) {
          fail(h, fmt::format("expected a base URL such as https://api3.actito.com, got {}: {}",
                              in_quotes(url), why));
        }
        catalog.hosts[h.key] = url;
      });
    }
  }

  FieldDescriptor parse_field(const Item& item) {
    FieldDescriptor f;
    std::map<std::string, Item> given;
    for (auto& kv : reader_.entries(item, "field properties", kFieldKeys, problems_)) {
      given.emplace(kv.key, kv);
    }
    for (std::string_view required : {"name", "wire", "type"}) {
      if (!given.count(std::string(required))) {
        fail(item, fmt::format("missing required key {}", required));
      }
    }
    f.name = reader_.text(given.at("name"));
    f.pattern = is_pattern(f.name);
    f.wire = reader_.text(given.at("wire"));
    f.wire_path = split_wire(f.wire);
    if (std::any_of(f.wire_path.begin(), f.wire_path.end(),
                    [](const auto& s) { return s.empty(); })) {
      fail(given.at("wire"),
           fmt::format("expected a dotted wire path such as attributes.name, got {}",
                       in_quotes(f.wire)));
    }
    const Item& type = given.at("type");
    std::string type_text = reader_.text(type);
    if (auto parsed = model::parse_field_type(type_text)) {
      f.type = parsed->type;
      f.multi_valued = parsed->multi_valued;
    } else if (!f.pattern) {
      // Pattern fields describe their type in prose; discovery sets it per attribute.
      fail(type, fmt::format("unknown field type {}; expected STRING, INTEGER, LONG, NUMBER, "
                             "BOOLEAN, DATE, TIMESTAMP, JSON or STRING[]",
                             in_quotes(type_text)));
    }
    if (auto it = given.find("nullable"); it != given.end())
      f.nullable = reader_.boolean(it->second);
    if (auto it = given.find("extended"); it != given.end())
      f.extended = reader_.boolean(it->second);
    if (auto it = given.find("write"); it != given.end() && !reader_.is_null(it->second)) {
      f.write = reader_.choice(it->second, kWrites);
    }
    return f;
  }

  model::ParentDescriptor parse_parent(const Item& item) {
    model::ParentDescriptor p;
    std::map<std::string, Item> given;
    for (auto& kv : reader_.entries(item, "parent properties", kParentKeys, problems_)) {
      given.emplace(kv.key, kv);
    }
    for (std::string_view required : {"object", "path_param", "parent_field", "child_field"}) {
      if (!given.count(std::string(required))) {
        fail(item, fmt::format("missing required key {}", required));
      }
    }
    p.object = reader_.text(given.at("object"));
    p.path_param = reader_.text(given.at("path_param"));
    p.parent_field = reader_.text(given.at("parent_field"));
    p.child_field = reader_.text(given.at("child_field"));
    return p;
  }

  static FilterOp filter_op(const Reader& reader, const Item& item) {
    static constexpr std::pair<std::string_view, FilterOp> kOps[] = {
        {"=", FilterOp::kEq}, {"!=", FilterOp::kNe}, {"<", FilterOp::kLt}, {"<=", FilterOp::kLe},
        {">", FilterOp::kGt}, {">=", FilterOp::kGe}, {"IN", FilterOp::kIn}};
    std::string op = reader.text(item);
    for (const auto& [name, value] : kOps) {
      if (name == op) return value;
    }
    reader.fail(item, fmt::format("unknown filter operator {}; expected =, !=, <, <=, >, >= or IN",
                                  in_quotes(op)));
  }

  ObjectDescriptor parse_object(const Item& item, bool is_template) {
    ObjectDescriptor o;
    std::map<std::string, Item> given;
    for (auto& kv : reader_.entries(item, "object properties", kObjectKeys, problems_)) {
      given.emplace(kv.key, kv);
    }
    auto has = [&](std::string_view k) { return given.count(std::string(k)) > 0; };
    const char* name_key = is_template ? "name_pattern" : "name";
    if (!has(name_key)) fail(item, fmt::format("missing required key {}", name_key));
    const Item& name_item = given.at(name_key);
    o.name = reader_.text(name_item);
    const std::string label =
        fmt::format("{} {}", is_template ? "template" : "object", in_quotes(o.name));
    if (is_template && !is_pattern(o.name)) {
      fail(name_item,
           fmt::format("a name_pattern holds a <Placeholder>, got {}", in_quotes(o.name)));
    }
    if (!is_template && is_pattern(o.name)) {
      fail(name_item, fmt::format("a static object's name has no <Placeholder> (templates go under "
                                  "dynamic_objects with name_pattern), got {}",
                                  in_quotes(o.name)));
    }
    for (std::string_view k : {is_template ? "name" : "name_pattern", is_template ? "" : "per"}) {
      if (!k.empty() && has(k)) {
        const Item& wrong = given.at(std::string(k));
        reader_.fail(wrong.key_at, item.path,
                     fmt::format("{} is not a key of {}", k,
                                 is_template ? "dynamic_objects templates" : "static objects"));
      }
    }
    for (std::string_view required :
         {"list_route", "collection_key", "max_page_size", "key", "fields", "replication"}) {
      if (!has(required)) fail(item, fmt::format("{}: missing required key {}", label, required));
    }
    if (is_template) {
      if (!has("per")) fail(item, fmt::format("{}: missing required key per", label));
      o.per = reader_.choice(given.at("per"), kPers);
    }
    // Each key is read on its own: one bad key does not hide the others.
    auto read = [&](std::string_view key, auto&& f) {
      auto it = given.find(std::string(key));
      if (it != given.end()) problems_.guard([&] { f(it->second); });
    };
    read("family", [&](const Item& v) { o.family = optional_text(v); });
    read("category", [&](const Item& v) { o.category = optional_text(v); });
    read("list_route", [&](const Item& v) { o.list_route = reader_.text(v); });
    read("get_route", [&](const Item& v) { o.get_route = optional_text(v); });
    read("collection_key", [&](const Item& v) { o.collection_key = reader_.text(v); });
    read("max_page_size", [&](const Item& v) {
      o.max_page_size = static_cast<int>(reader_.integer(v, 1, 100'000));
    });
    read("key", [&](const Item& v) {
      for (auto& [k, at] : reader_.string_list(v)) o.key.push_back(std::move(k));
      if (o.key.empty()) fail(v, "expected at least one key field");
    });
    read("parent", [&](const Item& v) {
      if (!reader_.is_null(v)) o.parent = parse_parent(v);
    });
    read("created_field", [&](const Item& v) { o.created_field = optional_text(v); });
    read("updated_field", [&](const Item& v) { o.updated_field = optional_text(v); });
    read("replication", [&](const Item& v) {
      for (const auto& kv :
           reader_.entries(v, "replication properties", kReplicationKeys, problems_)) {
        if (kv.key == "mode") {
          std::string mode = reader_.choice(kv, kModes);
          o.mode = mode == "incremental_updated"   ? model::ReplicationMode::kIncrementalUpdated
                   : mode == "incremental_created" ? model::ReplicationMode::kIncrementalCreated
                                                   : model::ReplicationMode::kFullRefresh;
        } else if (kv.key == "pushdown") {
          o.cursor_pushdown = !reader_.is_null(kv) && reader_.boolean(kv);
        }
      }
    });
    read("fields", [&](const Item& v) {
      for (const auto& f : reader_.elements(v, "fields")) {
        problems_.guard([&] {
          FieldDescriptor field = parse_field(f);
          if (o.find_field(field.name)) {
            fail(f, fmt::format("{}: field {} is defined twice", label, in_quotes(field.name)));
          }
          o.fields.push_back(std::move(field));
        });
      }
    });
    read("native_filters", [&](const Item& v) {
      if (reader_.is_null(v)) return;
      for (const auto& kv : reader_.entries(v, "field names to operator lists")) {
        auto& ops = o.native_filters[kv.key];
        for (const auto& op : reader_.elements(kv, "operators"))
          ops.push_back(filter_op(reader_, op));
      }
    });
    read("sortable", [&](const Item& v) {
      if (reader_.is_null(v)) return;
      for (auto& [s, at] : reader_.string_list(v)) o.sortable.push_back(std::move(s));
    });
    read("fields_projection", [&](const Item& v) {
      // A bool, or the list of projectable wire names (which means yes).
      if (reader_.is_null(v)) return;
      o.fields_projection = v.node.IsSequence() ? true : reader_.boolean(v);
    });
    read("extended_requests", [&](const Item& v) {
      // `always`: the per-row GETs are the point of the object (EmailCampaignsExtended) and
      // suppress_extended_requests does not apply; `suppressible` (default) honours it.
      if (reader_.is_null(v)) return;
      o.extended_always = reader_.choice(v, kExtendedRequests) == "always";
    });
    read("dml", [&](const Item& v) {
      if (reader_.is_null(v)) return;
      for (const auto& d : reader_.elements(v, "statements"))
        o.dml.push_back(reader_.choice(d, kDml));
    });
    check_object(o, label, item, given);
    return o;
  }

  // References inside one object: key, cursor and filter fields name fields of the object.
  void check_object(const ObjectDescriptor& o, const std::string& label, const Item& item,
                    const std::map<std::string, Item>& given) {
    auto at = [&](std::string_view key) -> Location {
      auto it = given.find(std::string(key));
      return it == given.end() ? item.at : it->second.at;
    };
    auto known = [&](const std::string& f) { return is_pattern(f) || o.find_field(f) != nullptr; };
    for (const auto& k : o.key) {
      if (!known(k))
        problem(at("key"), item.path,
                fmt::format("{}: key field {} is not a field", label, in_quotes(k)));
    }
    for (auto [key, value] : {std::pair{"created_field", &o.created_field},
                              std::pair{"updated_field", &o.updated_field}}) {
      if (!value->empty() && !known(*value)) {
        problem(at(key), item.path,
                fmt::format("{}: {} {} is not a field", label, key, in_quotes(*value)));
      }
    }
    if (o.mode == model::ReplicationMode::kIncrementalUpdated && o.updated_field.empty()) {
      problem(
          at("replication"), item.path,
          fmt::format("{}: replication mode incremental_updated needs an updated_field", label));
    }
    if (o.mode == model::ReplicationMode::kIncrementalCreated && o.created_field.empty()) {
      problem(at("replication"), item.path,
              fmt::format("{}: replication mode incremental_created needs a created_field", label));
    }
    for (const auto& [field, ops] : o.native_filters) {
      if (!known(field)) {
        problem(
            at("native_filters"), item.path,
            fmt::format("{}: native filter on {}, which is not a field", label, in_quotes(field)));
      }
    }
  }

  // References between objects: unique names, parents exist and have the joined fields.
  void check_catalog(const model::Catalog& catalog) {
    auto unique = [&](const std::vector<ObjectDescriptor>& list, const std::vector<Location>& at,
                      std::string_view what) {
      for (std::size_t i = 0; i < list.size(); ++i) {
        for (std::size_t j = 0; j < i; ++j) {
          if (list[i].name == list[j].name) {
            problems_.add(Problem(at[i], fmt::format("{} {} is defined twice (first at line {})",
                                                     what, in_quotes(list[i].name), at[j].line)));
            break;
          }
        }
      }
    };
    unique(catalog.objects, object_at_, "object");
    unique(catalog.templates, template_at_, "template");
    for (std::size_t i = 0; i < catalog.objects.size(); ++i) {
      const ObjectDescriptor& o = catalog.objects[i];
      if (!o.parent) continue;
      const ObjectDescriptor* parent = catalog.find_static(o.parent->object);
      if (!parent) {
        problems_.add(Problem(object_at_[i],
                              fmt::format("object {}: parent {} is not an object of the catalog",
                                          in_quotes(o.name), in_quotes(o.parent->object))));
        continue;
      }
      if (!parent->find_field(o.parent->parent_field) || !o.find_field(o.parent->child_field)) {
        problems_.add(
            Problem(object_at_[i],
                    fmt::format("object {}: parent fields {} -> {} do not exist", in_quotes(o.name),
                                o.parent->parent_field, o.parent->child_field)));
      }
    }
  }

  Reader reader_;
  Problems problems_;
  std::vector<Location> object_at_;    // parallel to catalog.objects
  std::vector<Location> template_at_;  // parallel to catalog.templates
};

std::string read_file(const std::string& path, std::string_view what) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    throw model::Error(model::ErrorKind::kConfig,
                       fmt::format("{}: cannot read the {}: it is a directory", path, what));
  }
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw model::Error(model::ErrorKind::kConfig,
                       fmt::format("{}: cannot read the {}: {}", path, what,
                                   errno ? std::strerror(errno) : "open failed"));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

model::Catalog parse_catalog(std::string_view yaml_text, const std::string& name_for_errors) {
  return CatalogParser(name_for_errors).parse(yaml_text);
}

model::Catalog load_catalog_file(const std::string& path) {
  return parse_catalog(read_file(path, "catalog file"), path);
}

std::string_view builtin_catalog_yaml() noexcept {
  return std::string_view(reinterpret_cast<const char*>(detail::kBuiltinCatalog),
                          detail::kBuiltinCatalogSize);
}

model::Catalog builtin_catalog() {
  static const model::Catalog kCatalog =
      parse_catalog(builtin_catalog_yaml(), "built-in catalog.yaml");
  return kCatalog;
}

model::Catalog load_catalog(const Config& config) {
  if (config.catalog_path.empty()) return builtin_catalog();
  std::error_code ec;
  if (!fs::exists(config.catalog_path, ec)) {
    throw model::Error(
        model::ErrorKind::kConfig,
        fmt::format("{}: catalog: the file {} does not exist",
                    config.location_of("catalog").to_string(), in_quotes(config.catalog_path)));
  }
  return load_catalog_file(config.catalog_path);
}

}  // namespace replicator::config

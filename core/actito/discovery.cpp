#include "core/actito/discovery.hpp"

#include <algorithm>
#include <set>

#include <boost/json.hpp>

#include "core/model/error.hpp"
#include "core/model/naming.hpp"

namespace replicator::actito {

namespace json = boost::json;
using model::ErrorKind;
using model::FieldDescriptor;
using model::FieldType;
using model::ObjectDescriptor;

namespace {

std::string replace_all(std::string s, std::string_view from, std::string_view to) {
  for (std::size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) {
    s.replace(pos, from.size(), to);
  }
  return s;
}

std::string str(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

std::vector<std::string> split_path(const std::string& wire) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t dot = wire.find('.'); dot != std::string::npos; dot = wire.find('.', start)) {
    out.push_back(wire.substr(start, dot - start));
    start = dot + 1;
  }
  out.push_back(wire.substr(start));
  return out;
}

// The valueType of a profile attribute: explicit, or implied by its predefined type (5.2, A12).
FieldType attribute_type(const json::object& attr, bool& multi) {
  multi = false;
  if (auto* m = attr.if_contains("multiValued"); m && m->is_bool()) multi = m->get_bool();
  std::string vt = str(attr, "valueType");
  if (!vt.empty()) {
    auto parsed = model::parse_field_type(vt);
    if (!parsed) {
      model::fail(ErrorKind::kPermanent, "attribute " + str(attr, "name") + " has unknown valueType " + vt);
    }
    multi = multi || parsed->multi_valued;
    return parsed->type;
  }
  return str(attr, "type") == "BIRTHDATE" ? FieldType::kDate : FieldType::kString;
}

const json::array& array_of(const json::object& o, std::string_view key, const std::string& table) {
  static const json::array kEmpty;
  const json::value* v = o.if_contains(key);
  if (!v || v->is_null()) return kEmpty;
  if (!v->is_array()) {
    model::fail(ErrorKind::kPermanent, "structure of table " + table + ": " + std::string(key) + " is not an array");
  }
  return v->get_array();
}

struct Expansion {
  std::string placeholder;  // "<AttributeName>", "<name>", "<category>"
  std::string value;        // the name to substitute (upper-cased first letter for attributes)
  std::string wire_value;   // the raw name for the wire path
  FieldType type;
  bool multi = false;
};

// Instantiates one template for one table: names, routes, and pattern fields expanded from the
// structure's collections. `collections` maps a wire prefix of a pattern field ("attributes.",
// "subscriptions.", "segmentations.", "" for flat custom records) to its expansions.
ObjectDescriptor instantiate(const ObjectDescriptor& tmpl, const std::string& table_name,
                             const std::string& table_placeholder,
                             const std::map<std::string, std::string>& route_params,
                             const std::map<std::string, std::vector<Expansion>>& collections,
                             const std::map<std::string, std::string>& name_params) {
  ObjectDescriptor o = tmpl;
  o.name = replace_all(tmpl.name, table_placeholder, table_name);
  o.route_params = route_params;
  o.fields.clear();
  for (const FieldDescriptor& f : tmpl.fields) {
    if (!f.pattern) {
      o.fields.push_back(f);
      continue;
    }
    auto lt = f.wire.find('<');
    std::string prefix = lt == std::string::npos ? f.wire : f.wire.substr(0, lt);
    auto it = collections.find(prefix);
    if (it == collections.end()) continue;  // this table kind has no such collection
    for (const Expansion& e : it->second) {
      FieldDescriptor x = f;
      x.pattern = false;
      x.name = replace_all(f.name, e.placeholder, e.value);
      x.wire = prefix + e.wire_value;
      x.wire_path = split_path(x.wire);
      x.type = e.type;
      x.multi_valued = e.multi;
      o.fields.push_back(std::move(x));
    }
  }
  auto subst = [&](std::string s) {
    for (const auto& [k, v] : name_params) s = replace_all(std::move(s), k, v);
    return s;
  };
  for (auto& k : o.key) k = subst(k);
  std::map<std::string, std::vector<model::FilterOp>> filters;
  for (auto& [k, ops] : o.native_filters) filters[subst(k)] = ops;
  o.native_filters = std::move(filters);
  std::vector<std::string> sortable;
  for (const auto& s : o.sortable) {
    if (s == "<TIMESTAMP attributes>") {
      for (const auto& f : o.fields) {
        if (f.type == FieldType::kTimestamp && f.wire_path.size() == 1 && !f.multi_valued) {
          if (std::find(sortable.begin(), sortable.end(), f.wire) == sortable.end()) sortable.push_back(f.wire);
        }
      }
    } else {
      sortable.push_back(subst(s));
    }
  }
  o.sortable = std::move(sortable);

  // Clash checks (5.4): two fields with one name, or two fields with one column.
  std::set<std::string> names, columns;
  for (const auto& f : o.fields) {
    if (!names.insert(f.name).second) {
      model::fail(ErrorKind::kPermanent, "table " + table_name + ": two fields of " + o.name +
                                             " are both called " + f.name + " (contract 5.4)");
    }
    if (!columns.insert(model::snake_case(f.name)).second) {
      model::fail(ErrorKind::kPermanent, "table " + table_name + ": field " + f.name + " of " + o.name +
                                             " maps to a column that another field already uses");
    }
  }
  for (const auto& k : o.key) {
    if (!o.find_field(k)) {
      model::fail(ErrorKind::kPermanent, "table " + table_name + ": key field " + k + " of " + o.name +
                                             " is not among its attributes");
    }
  }
  return o;
}

}  // namespace

std::vector<ObjectDescriptor> expand_profile_table(const model::Catalog& catalog, const json::value& table) {
  if (!table.is_object()) model::fail(ErrorKind::kPermanent, "a profile-table structure is not an object");
  const auto& t = table.get_object();
  std::string name = str(t, "name");
  std::string id = str(t, "id");
  if (id.empty()) {
    if (auto* v = t.if_contains("id"); v && (v->is_int64() || v->is_uint64())) id = json::serialize(*v);
  }
  if (name.empty() || id.empty()) model::fail(ErrorKind::kPermanent, "a profile-table structure lacks its name or id");

  static const std::set<std::string> kTechnical = {"profileId", "creationMoment", "updateMoment"};
  std::map<std::string, std::vector<Expansion>> collections;
  auto& attrs = collections["attributes."];
  for (const auto& a : array_of(t, "attributes", name)) {
    if (!a.is_object()) continue;
    std::string an = str(a.get_object(), "name");
    if (an.empty() || kTechnical.count(an)) continue;
    Expansion e;
    e.placeholder = "<AttributeName>";
    e.value = model::upper_first(an);
    e.wire_value = an;
    e.type = attribute_type(a.get_object(), e.multi);
    attrs.push_back(std::move(e));
  }
  auto& subs = collections["subscriptions."];
  for (const auto& s : array_of(t, "subscriptions", name)) {
    if (!s.is_object()) continue;
    std::string sn = str(s.get_object(), "name");
    if (sn.empty()) continue;
    subs.push_back(Expansion{"<name>", sn, sn, FieldType::kBoolean, false});
  }
  auto& segs = collections["segmentations."];
  for (const auto& s : array_of(t, "segmentations", name)) {
    if (!s.is_object()) continue;
    std::string cat = str(s.get_object(), "category");
    if (cat.empty()) continue;
    segs.push_back(Expansion{"<category>", cat, cat, FieldType::kString, false});
  }
  std::vector<ObjectDescriptor> out;
  for (const auto& tmpl : catalog.templates) {
    if (tmpl.per != "profile table") continue;
    out.push_back(instantiate(tmpl, name, "<ProfileTable>", {{"profileTableId", id}}, collections, {}));
  }
  return out;
}

std::vector<ObjectDescriptor> expand_custom_table(const model::Catalog& catalog, const json::value& table) {
  if (!table.is_object()) model::fail(ErrorKind::kPermanent, "a custom-table structure is not an object");
  const auto& t = table.get_object();
  std::string name = str(t, "name");
  std::string id = str(t, "id");
  if (name.empty() || id.empty()) model::fail(ErrorKind::kPermanent, "a custom-table structure lacks its name or id");
  std::string pk = str(t, "primaryKeyAttribute");

  std::map<std::string, std::vector<Expansion>> collections;
  auto& attrs = collections[""];
  static const std::set<std::string> kReserved = {"id", "creationmoment", "updatemoment"};
  for (const auto& a : array_of(t, "attributes", name)) {
    if (!a.is_object()) continue;
    std::string an = str(a.get_object(), "name");
    if (an.empty()) continue;
    std::string lower = an;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    if (kReserved.count(lower)) {
      model::fail(ErrorKind::kPermanent, "custom table " + name + ": attribute " + an +
                                             " uses a reserved technical name (contract 5.3)");
    }
    Expansion e;
    e.placeholder = "<AttributeName>";
    e.value = model::upper_first(an);
    e.wire_value = an;
    e.type = attribute_type(a.get_object(), e.multi);
    attrs.push_back(std::move(e));
  }
  // No primaryKeyAttribute: the technical id is the key (A18).
  std::string key_field = pk.empty() ? "Id" : model::upper_first(pk);
  std::string key_wire = pk.empty() ? "id" : pk;
  std::map<std::string, std::string> params = {{"<PrimaryKeyAttribute>", key_field},
                                                {"<primaryKeyAttribute>", key_wire}};
  std::vector<ObjectDescriptor> out;
  for (const auto& tmpl : catalog.templates) {
    if (tmpl.per != "custom table") continue;
    ObjectDescriptor o = instantiate(tmpl, name, "<CustomTable>", {{"customTableId", id}}, collections, params);
    // The key is never null (5.3).
    for (auto& f : o.fields) {
      if (f.name == key_field) f.nullable = false;
    }
    out.push_back(std::move(o));
  }
  return out;
}

Discovery::Discovery(ActitoClient& client, const model::Catalog& catalog, std::chrono::milliseconds ttl, Now now)
    : client_(client), catalog_(catalog), ttl_(ttl), now_(std::move(now)) {
  if (!now_) {
    now_ = [] {
      return model::Timestamp{std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count()};
    };
  }
}

void Discovery::invalidate() noexcept {
  if (!fetched_ || now_().ms - fetched_->ms >= min_refresh_.count()) stale_ = true;
}

std::string Discovery::cache_key() const {
  return "structures " + client_.options().base_url + " " + client_.options().entity;
}

void Discovery::load_body(const json::value& body) {
  auto array_of = [&](std::string_view key) -> const json::array& {
    const json::value* v = body.is_object() ? body.get_object().if_contains(key) : nullptr;
    if (!v || !v->is_array()) model::fail(ErrorKind::kTransient, "metadata cache: no '" + std::string(key) + "' array");
    return v->get_array();
  };
  std::vector<ObjectDescriptor> dynamic;
  for (const auto& t : array_of("profileTables")) {
    auto objs = expand_profile_table(catalog_, t);
    dynamic.insert(dynamic.end(), std::make_move_iterator(objs.begin()), std::make_move_iterator(objs.end()));
  }
  for (const auto& t : array_of("customTables")) {
    auto objs = expand_custom_table(catalog_, t);
    dynamic.insert(dynamic.end(), std::make_move_iterator(objs.begin()), std::make_move_iterator(objs.end()));
  }
  std::set<std::string> names;
  for (const auto& o : catalog_.objects) names.insert(o.name);
  for (const auto& o : dynamic) {
    if (!names.insert(o.name).second) {
      model::fail(ErrorKind::kPermanent, "discovery: object name " + o.name +
                                             " is used twice (a table is named like another object, contract 5.4)");
    }
  }
  dynamic_ = std::move(dynamic);
}

boost::asio::awaitable<std::vector<json::value>> Discovery::list_all(std::string route, std::string key,
                                                                      std::string label) {
  std::vector<json::value> out;
  for (std::int64_t page = 0;; ++page) {
    ApiResponse r = co_await client_.get(route + "?page=" + std::to_string(page) + "&size=200", label);
    boost::system::error_code ec;
    json::value v = json::parse(r.body, ec);
    if (ec || !v.is_object() || !v.get_object().contains(key) || !v.get_object().at(key).is_array()) {
      model::fail(ErrorKind::kTransient, "discovery: " + label + " answered a body without its '" + key +
                                             "' array" + (ec ? " (" + ec.message() + ")" : ""));
    }
    for (auto& item : v.get_object().at(key).get_array()) out.push_back(std::move(item));
    const json::value* links = v.get_object().if_contains("_links");
    bool next = links && links->is_object() && links->get_object().contains("next");
    if (!next) break;
  }
  co_return out;
}

boost::asio::awaitable<std::vector<ObjectDescriptor>> Discovery::objects(bool force_refresh,
                                                                        MetadataStore* store) {
  const model::Timestamp now = now_();
  auto fresh = [&](model::Timestamp at) { return now.ms - at.ms < ttl_.count() && now.ms >= at.ms; };
  if (stale_) {
    force_refresh = true;
    stale_ = false;
  }
  bool have = !force_refresh && fetched_ && fresh(*fetched_);
  if (!have && !force_refresh && store) {
    // The store's copy, when another process (or this one before a restart) read it recently.
    std::optional<engine::CachedMetadata> cached;
    try {
      // Named first: GCC 12 frees a temporary passed as a by-value coroutine argument twice.
      std::string key = cache_key();
      cached = co_await store->load(std::move(key));
    } catch (const std::exception&) {
      cached.reset();  // unreadable store: discover from the API
    }
    if (cached && fresh(cached->fetched_at)) {
      boost::system::error_code ec;
      json::value body = json::parse(cached->body, ec);
      if (!ec) {
        try {
          load_body(body);
          fetched_ = cached->fetched_at;
          have = true;
        } catch (const model::Error&) {
          have = false;  // a copy this version cannot read: discover again
        }
      }
    }
  }
  if (!have) {
    const std::string base = "/v5/entities/" + client_.entity_segment();
    auto profiles = co_await list_all("/profile-table-structure" + base + "/profile-tables", "profileTables",
                                      "ProfileTables");
    auto customs = co_await list_all("/custom-table-structure" + base + "/custom-tables", "customTables",
                                     "CustomTables");
    json::object body;
    body["profileTables"] = json::array(std::make_move_iterator(profiles.begin()), std::make_move_iterator(profiles.end()));
    body["customTables"] = json::array(std::make_move_iterator(customs.begin()), std::make_move_iterator(customs.end()));
    json::value v(std::move(body));
    load_body(v);
    fetched_ = now;
    ++refreshes_;
    if (store) {
      try {
        std::string key = cache_key();
        engine::CachedMetadata copy{now, json::serialize(v)};
        co_await store->store(std::move(key), std::move(copy));
      } catch (const std::exception&) {
        // Not fatal: the next start discovers again.
      }
    }
  }
  std::vector<ObjectDescriptor> all = catalog_.objects;
  all.insert(all.end(), dynamic_.begin(), dynamic_.end());
  co_return all;
}

boost::asio::awaitable<ObjectDescriptor> Discovery::find(std::string name, MetadataStore* store) {
  if (const auto* o = catalog_.find_static(name)) co_return *o;
  auto all = co_await objects(false, store);
  for (auto& o : all) {
    if (o.name == name) co_return o;
  }
  // Not found: maybe a table created since the cache was filled.
  if (fetched_) {
    all = co_await objects(true, store);
    for (auto& o : all) {
      if (o.name == name) co_return o;
    }
  }
  // Name the dynamic objects (the user's tables) first: they are the likely intent.
  std::string known;
  std::size_t listed = 0;
  for (bool dynamic : {true, false}) {
    for (const auto& o : all) {
      if (o.per.empty() == dynamic) continue;
      if (++listed > 40) break;
      known += (known.empty() ? "" : ", ") + o.name;
    }
  }
  if (listed > 40) known += ", ... (see `discover`)";
  model::fail(ErrorKind::kConfig, "object " + name + " does not exist on connection " + client_.options().name +
                                      "; known objects: " + known);
}

}  // namespace replicator::actito

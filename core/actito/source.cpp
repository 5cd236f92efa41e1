#include "core/actito/source.hpp"

#include <set>

#include <boost/json.hpp>

#include "core/actito/decode.hpp"
#include "core/actito/exact_json.hpp"
#include "core/actito/rsql.hpp"
#include "core/model/error.hpp"

namespace replicator::actito {

namespace json = boost::json;
using model::ErrorKind;

namespace {

bool holds_undeclared(const json::object& rec, const std::set<std::string, std::less<>>& declared,
                      const std::set<std::string, std::less<>>& containers) {
  std::string path;  // reused: no allocation per property once grown
  for (const auto& kv : rec) {
    const std::string_view key = kv.key();
    if (containers.find(key) != containers.end()) {
      if (!kv.value().is_object()) continue;
      for (const auto& sub : kv.value().get_object()) {
        path.assign(key);
        path += '.';
        path += std::string_view(sub.key());
        if (declared.find(std::string_view(path)) == declared.end()) return true;
      }
    } else if (declared.find(key) == declared.end()) {
      return true;
    }
  }
  return false;
}

}  // namespace

std::string fill_route(const std::string& route, const model::ObjectDescriptor& object,
                       const std::string& entity_segment) {
  std::string out;
  out.reserve(route.size() + 32);
  for (std::size_t i = 0; i < route.size();) {
    if (route[i] != '{') {
      out += route[i++];
      continue;
    }
    auto close = route.find('}', i);
    if (close == std::string::npos) model::fail(ErrorKind::kPermanent, "malformed route " + route);
    std::string name = route.substr(i + 1, close - i - 1);
    if (name == "entity") {
      out += entity_segment;
    } else if (auto it = object.route_params.find(name); it != object.route_params.end()) {
      out += percent_encode(it->second);
    } else {
      model::fail(ErrorKind::kPermanent,
                  "object " + object.name + ": no value for {" + name + "} in route " + route);
    }
    i = close + 1;
  }
  return out;
}

std::string list_target(const engine::StreamSpec& spec, const engine::ListQuery& q,
                        const std::string& entity_segment) {
  const auto& object = spec.object;
  std::string t = fill_route(object.list_route, object, entity_segment);
  t += "?page=" + std::to_string(q.page) + "&size=" + std::to_string(q.size);
  for (const auto& s : q.sort) {
    const model::FieldDescriptor* f = object.find_field(s.field);
    if (!f) model::fail(ErrorKind::kPermanent, "object " + object.name + " has no field " + s.field + " to sort on");
    t += "&sort=" + percent_encode(f->wire) + (s.descending ? ",desc" : ",asc");
  }
  std::string search = render_search(object, q.constraints);
  if (!search.empty()) t += "&search=" + percent_encode(search);
  if (!spec.projection.empty()) {
    std::string fields;
    for (const auto& p : spec.projection) fields += (fields.empty() ? "" : ",") + p;
    t += "&fields=" + percent_encode(fields);
  }
  return t;
}

std::string get_target(const engine::StreamSpec& spec, const model::Row& key,
                       const std::string& entity_segment) {
  const auto& object = spec.object;
  if (object.get_route.empty()) {
    model::fail(ErrorKind::kPermanent, "object " + object.name + " has no single-record route");
  }
  // Placeholders other than {entity} and the route parameters take the key values, the last
  // key value last: {id}, {profileKey}, {recordKey}; a nested object's parent id is a route
  // parameter.
  model::ObjectDescriptor filled = object;
  std::vector<std::string> open;
  const std::string& route = object.get_route;
  for (std::size_t i = route.find('{'); i != std::string::npos; i = route.find('{', i + 1)) {
    auto close = route.find('}', i);
    if (close == std::string::npos) break;
    std::string name = route.substr(i + 1, close - i - 1);
    if (name != "entity" && !object.route_params.count(name)) open.push_back(name);
  }
  if (open.size() > key.size()) {
    model::fail(ErrorKind::kPermanent, "object " + object.name + ": route " + route + " needs " +
                                           std::to_string(open.size()) + " key values");
  }
  for (std::size_t i = 0; i < open.size(); ++i) {
    const model::Value& v = key[key.size() - open.size() + i];
    filled.route_params[open[i]] = model::to_display(v);
  }
  return fill_route(route, filled, entity_segment);
}

engine::PageResult decode_page(const engine::StreamSpec& spec, std::string_view body,
                               const model::TimeZone& zone) {
  const auto& object = spec.object;
  // One arena per page: every allocation of the parsed tree is released at once.
  json::monotonic_resource arena;
  boost::system::error_code ec;
  json::value root = parse_exact(body, ec, &arena);
  if (ec || !root.is_object()) {
    model::fail(ErrorKind::kTransient, "object " + object.name + ": the list answer is not JSON" +
                                           (ec ? " (" + ec.message() + ")" : ""));
  }
  const json::object& env = root.get_object();
  const json::value* items = env.if_contains(object.collection_key);
  if (!items || !items->is_array()) {
    model::fail(ErrorKind::kTransient, "object " + object.name + ": the list answer has no '" +
                                           object.collection_key + "' array");
  }
  engine::PageResult page;
  if (const json::value* p = env.if_contains("page"); p && p->is_object()) {
    if (const json::value* te = p->get_object().if_contains("totalElements")) {
      if (te->is_int64()) page.total_elements = te->get_int64();
      else if (te->is_uint64()) page.total_elements = static_cast<std::int64_t>(te->get_uint64());
    }
  }
  if (const json::value* links = env.if_contains("_links"); links && links->is_object()) {
    page.has_next = links->get_object().contains("next");
  }
  const auto& array = items->get_array();
  page.rows.reserve(array.size());
  // Discovered objects: a property the structure does not declare means a new attribute
  // (contract 5.5). Checked until the first one is found.
  std::set<std::string, std::less<>> declared, containers;
  bool check_declared = !object.per.empty() && spec.projection.empty();
  if (check_declared) {
    for (const auto& f : object.fields) {
      declared.insert(f.wire);
      if (f.wire_path.size() > 1) containers.insert(f.wire_path.front());
    }
  }
  for (const auto& item : array) {
    if (!item.is_object()) {
      model::fail(ErrorKind::kPermanent, "object " + object.name + ": a list item is not a JSON object");
    }
    const json::object& rec = item.get_object();
    if (check_declared && !page.undeclared_fields) page.undeclared_fields = holds_undeclared(rec, declared, containers);
    page.rows.push_back(decode_record(spec, rec, zone));
  }
  return page;
}

model::Row decode_record(const engine::StreamSpec& spec, const boost::json::object& rec,
                         const model::TimeZone& zone) {
  const auto& object = spec.object;
  model::Row row(spec.fields.size());
  for (std::size_t i = 0; i < spec.fields.size(); ++i) {
    const model::FieldDescriptor& f = spec.fields[i];
    const json::value* v = find_path(rec, f);
    if (!v) continue;
    try {
      row[i] = decode_value(*v, f, zone);
    } catch (const model::Error& e) {
      std::string key;
      for (auto k : spec.key_index) {
        if (const json::value* kv = find_path(rec, spec.fields[k])) key += (key.empty() ? "" : ",") + serialize_exact(*kv);
      }
      model::fail(e.kind(), "object " + object.name + ", row with key " + key + ": " + e.what());
    }
  }
  for (auto k : spec.key_index) {
    if (model::is_null(row[k])) {
      model::fail(ErrorKind::kPermanent, "object " + object.name + ": a row has no value for key field " +
                                             spec.fields[k].name + ": " + serialize_exact(rec).substr(0, 200));
    }
  }
  return row;
}

boost::asio::awaitable<engine::PageResult> ActitoSource::list(const engine::StreamSpec& spec,
                                                              engine::ListQuery query) {
  std::string target = list_target(spec, query, client_.entity_segment());
  ApiResponse r;
  bool parent_gone = false;
  try {
    r = co_await client_.get(std::move(target), spec.object.name);
  } catch (const ApiError& e) {
    // A child list whose parent was deleted after the parents were listed: an empty list (3.7).
    if (!spec.object.parent || e.status() != 404) throw;
    parent_gone = true;
  }
  if (parent_gone) co_return engine::PageResult{};
  engine::PageResult page = decode_page(spec, r.body, client_.options().zone);
  page.server_date = r.date;
  co_return page;
}

boost::asio::awaitable<std::optional<model::Row>> ActitoSource::get(const engine::StreamSpec& spec,
                                                                    model::Row key) {
  std::string target = get_target(spec, key, client_.entity_segment());
  ApiResponse r;
  bool gone = false;
  try {
    r = co_await client_.get(std::move(target), spec.object.name);
  } catch (const ApiError& e) {
    if (e.status() != 404) throw;
    gone = true;  // deleted since it was listed (3.8): the caller drops the row
  }
  if (gone) co_return std::nullopt;
  json::monotonic_resource arena;
  boost::system::error_code ec;
  json::value root = parse_exact(r.body, ec, &arena);
  if (ec || !root.is_object()) {
    std::string shown;
    for (const auto& v : key) shown += (shown.empty() ? "" : ",") + model::to_display(v);
    model::fail(ErrorKind::kTransient, "object " + spec.object.name + ", record " + shown +
                                           ": the single-record answer is not a JSON object" +
                                           (ec ? " (" + ec.message() + ")" : ""));
  }
  co_return decode_record(spec, root.get_object(), client_.options().zone);
}

}  // namespace replicator::actito

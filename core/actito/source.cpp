#include "core/actito/source.hpp"

#include <boost/json.hpp>

#include "core/actito/decode.hpp"
#include "core/actito/rsql.hpp"
#include "core/model/error.hpp"

namespace replicator::actito {

namespace json = boost::json;
using model::ErrorKind;

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
  return t;
}

engine::PageResult decode_page(const engine::StreamSpec& spec, std::string_view body,
                               const model::TimeZone& zone) {
  const auto& object = spec.object;
  // One arena per page: every allocation of the parsed tree is released at once.
  json::monotonic_resource arena;
  boost::system::error_code ec;
  json::value root = json::parse(body, ec, &arena);
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
  for (const auto& item : array) {
    if (!item.is_object()) {
      model::fail(ErrorKind::kPermanent, "object " + object.name + ": a list item is not a JSON object");
    }
    const json::object& rec = item.get_object();
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
          if (const json::value* kv = find_path(rec, spec.fields[k])) key += (key.empty() ? "" : ",") + json::serialize(*kv);
        }
        model::fail(e.kind(), "object " + object.name + ", row with key " + key + ": " + e.what());
      }
    }
    for (auto k : spec.key_index) {
      if (model::is_null(row[k])) {
        model::fail(ErrorKind::kPermanent, "object " + object.name + ": a row has no value for key field " +
                                               spec.fields[k].name + ": " + json::serialize(rec).substr(0, 200));
      }
    }
    page.rows.push_back(std::move(row));
  }
  return page;
}

boost::asio::awaitable<engine::PageResult> ActitoSource::list(const engine::StreamSpec& spec,
                                                              engine::ListQuery query) {
  if (spec.object.parent) {
    model::fail(ErrorKind::kPermanent, "object " + spec.object.name + " is nested under " +
                                           spec.object.parent->object +
                                           "; reading nested objects (fan-out) is not supported yet");
  }
  std::string target = list_target(spec, query, client_.entity_segment());
  ApiResponse r = co_await client_.get(std::move(target), spec.object.name);
  engine::PageResult page = decode_page(spec, r.body, client_.options().zone);
  page.server_date = r.date;
  co_return page;
}

}  // namespace replicator::actito

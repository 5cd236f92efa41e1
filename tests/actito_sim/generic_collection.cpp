#include "tests/actito_sim/generic_collection.hpp"

#include <algorithm>
#include <set>
#include <stdexcept>

#include <fmt/format.h>
#include <boost/json/serialize.hpp>

#include "tests/actito_sim/api_error.hpp"

namespace replicator::actito_sim {
namespace {

namespace json = boost::json;

// A field value reduced to something comparable under its catalog type.
struct Comparable {
  bool null = true;
  std::int64_t integer = 0;  // LONG, INTEGER, BOOLEAN, TIMESTAMP (ms), DATE (days)
  double number = 0;
  std::string text;  // STRING (and anything else)
};

const json::value* find_path(const json::object& row, std::string_view wire) {
  const json::object* object = &row;
  for (;;) {
    const std::size_t dot = wire.find('.');
    const json::value* value = object->if_contains(wire.substr(0, dot));
    if (value == nullptr || dot == std::string_view::npos) return value;
    object = value->if_object();
    if (object == nullptr) return nullptr;
    wire = wire.substr(dot + 1);
  }
}

Comparable comparable(const json::value* value, FieldType type) {
  Comparable c;
  if (value == nullptr || value->is_null()) return c;
  c.null = false;
  try {
    switch (type) {
      case FieldType::kInteger:
      case FieldType::kLong:
        if (value->is_string())
          c.integer = std::stoll(std::string(value->get_string()));
        else
          c.integer = value->to_number<std::int64_t>();
        break;
      case FieldType::kBoolean:
        c.integer = value->is_bool() && value->get_bool() ? 1 : 0;
        break;
      case FieldType::kNumber:
        if (value->is_string())
          c.number = std::stod(std::string(value->get_string()));
        else
          c.number = value->to_number<double>();
        break;
      case FieldType::kTimestamp:
        if (value->is_string())
          c.integer = parse_timestamp(value->get_string());
        else
          c.integer = value->to_number<std::int64_t>();
        break;
      case FieldType::kDate:
        c.integer = value->is_string() ? parse_date(value->get_string()) : 0;
        break;
      case FieldType::kString:
      case FieldType::kJson:
      case FieldType::kStringArray:
        if (value->is_string())
          c.text = value->get_string();
        else
          c.text = json::serialize(*value);
        break;
    }
  } catch (const std::exception&) {
    c.null = true;  // an unreadable stored value behaves as null
  }
  return c;
}

int compare(const Comparable& a, const Comparable& b, FieldType type) {
  if (a.null || b.null) return a.null == b.null ? 0 : (a.null ? -1 : 1);  // nulls low
  switch (type) {
    case FieldType::kNumber:
      return a.number < b.number ? -1 : (a.number > b.number ? 1 : 0);
    case FieldType::kString:
    case FieldType::kJson:
    case FieldType::kStringArray: {
      const int r = a.text.compare(b.text);  // byte order of UTF-8 == code point order
      return r < 0 ? -1 : (r > 0 ? 1 : 0);
    }
    default:
      return a.integer < b.integer ? -1 : (a.integer > b.integer ? 1 : 0);
  }
}

Comparable from_typed(const TypedValue& v) {
  Comparable c;
  c.null = false;
  c.integer = v.integer;
  c.number = v.number;
  c.text = v.text;
  return c;
}

bool matches(const json::object& row, const Constraint& constraint) {
  const FieldType type = constraint.field->type;
  const Comparable value = comparable(find_path(row, constraint.field->wire), type);
  if (value.null) return false;  // null cannot be searched for (contract 3.4)
  if (constraint.op == Op::kIn) {
    return std::any_of(
        constraint.values.begin(), constraint.values.end(),
        [&](const TypedValue& v) { return compare(value, from_typed(v), type) == 0; });
  }
  const int r = compare(value, from_typed(constraint.values.front()), type);
  switch (constraint.op) {
    case Op::kEq:
      return r == 0;
    case Op::kLt:
      return r < 0;
    case Op::kLe:
      return r <= 0;
    case Op::kGt:
      return r > 0;
    case Op::kGe:
      return r >= 0;
    case Op::kIn:
      return false;
  }
  return false;
}

void render_timestamps(json::object& object, const ObjectSpec& spec, std::string_view prefix,
                       TimestampStyle style) {
  for (auto& [key, value] : object) {
    const std::string wire =
        prefix.empty() ? std::string(key) : fmt::format("{}.{}", prefix, std::string_view(key));
    if (value.is_object()) {
      render_timestamps(value.get_object(), spec, wire, style);
      continue;
    }
    const FieldSpec* field = spec.field(wire);
    if (field != nullptr && field->type == FieldType::kTimestamp &&
        (value.is_int64() || value.is_uint64())) {
      value = format_timestamp(value.to_number<std::int64_t>(), style);
    }
  }
}

}  // namespace

GenericCollection::GenericCollection(ObjectSpec spec, std::vector<json::object> rows,
                                     TimestampStyle style)
    : spec_(std::move(spec)), style_(style), rows_(std::move(rows)) {}

void GenericCollection::replace_rows(std::vector<json::object> rows) {
  std::unique_lock lock(mutex_);
  rows_ = std::move(rows);
}

void GenericCollection::edit(
    const std::function<void(std::vector<json::object>&, std::vector<Write>&)>& edit) {
  std::unique_lock lock(mutex_);
  std::vector<Write> writes;
  edit(rows_, writes);
  const std::int64_t now = system_now_ms();
  for (Write& write : writes) {
    auto held = held_.find(write.id);
    if (held == held_.end()) {
      if (write.visible_at_ms <= now) continue;  // visible at once: nothing to hold back
      held = held_.emplace(write.id, HeldRow{std::move(write.before), {}}).first;
    }
    held->second.writes.emplace_back(std::move(write.after), write.visible_at_ms);
  }
  if (held_.empty()) return;
  // Deleted rows leave at once; writes visible now become the base (later ones supersede the
  // earlier ones still in flight, so lists never go back to those).
  std::set<std::int64_t> present;
  for (const auto& row : rows_) present.insert(row_id(row));
  for (auto it = held_.begin(); it != held_.end();) {
    if (!present.contains(it->first)) {
      it = held_.erase(it);
      continue;
    }
    auto& pending = it->second.writes;
    std::size_t visible = pending.size();
    for (std::size_t i = 0; i < pending.size(); ++i) {
      if (pending[i].second <= now) visible = i;
    }
    if (visible != pending.size()) {
      it->second.base = std::move(pending[visible].first);
      pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(visible) + 1);
    }
    it = pending.empty() ? held_.erase(it) : std::next(it);
  }
}

std::int64_t GenericCollection::row_id(const json::object& row) const {
  if (spec_.key.empty()) return 0;
  const json::value* v = find_path(row, spec_.key.back());
  return v != nullptr && (v->is_int64() || v->is_uint64()) ? v->to_number<std::int64_t>() : 0;
}

std::vector<json::object> GenericCollection::rendered_rows(const ObjectSpec* shape) const {
  std::vector<const json::object*> sorted;
  std::shared_lock lock(mutex_);
  for (const auto& row : rows_) sorted.push_back(&row);
  std::stable_sort(sorted.begin(), sorted.end(), [&](const json::object* a, const json::object* b) {
    for (const auto& wire : spec_.key) {
      const FieldSpec* field = spec_.field(wire);
      const FieldType type = field != nullptr ? field->type : FieldType::kString;
      const int r = compare(comparable(find_path(*a, wire), type),
                            comparable(find_path(*b, wire), type), type);
      if (r != 0) return r < 0;
    }
    return false;
  });
  std::vector<json::object> out;
  out.reserve(sorted.size());
  for (const json::object* row : sorted) {
    json::object copy;
    for (const auto& [key, value] : *row) {
      if (shape != nullptr &&
          std::none_of(shape->fields.begin(), shape->fields.end(), [&](const FieldSpec& f) {
            return f.wire.substr(0, f.wire.find('.')) == std::string_view(key);
          })) {
        continue;
      }
      copy.emplace(key, value);
    }
    render_timestamps(copy, spec_, "", style_);
    out.push_back(std::move(copy));
  }
  return out;
}

std::size_t GenericCollection::size() const {
  std::shared_lock lock(mutex_);
  return rows_.size();
}

std::string GenericCollection::render(const json::object& row,
                                      const ListRequest* projection) const {
  json::object copy;
  for (const auto& [key, value] : row) {
    if (projection != nullptr && !projection->wants(key)) continue;
    // Extended fields are only in the single GET (contract 3.8).
    const FieldSpec* field = spec_.field(key);
    if (projection != nullptr && field != nullptr && field->extended) continue;
    copy.emplace(key, value);
  }
  render_timestamps(copy, spec_, "", style_);
  return json::serialize(copy);
}

std::int64_t GenericCollection::list_page(const ListRequest& request, std::string& out) const {
  std::shared_lock lock(mutex_);
  const std::int64_t now = held_.empty() ? 0 : system_now_ms();
  std::vector<const json::object*> selected;
  for (const auto& stored : rows_) {
    const json::object* shown = &stored;
    if (!held_.empty()) {
      // Late arrivals: the latest write visible now, else the version before the writes.
      if (const auto held = held_.find(row_id(stored)); held != held_.end()) {
        shown = held->second.base ? &*held->second.base : nullptr;
        for (const auto& [version, visible_at] : held->second.writes) {
          if (visible_at <= now) shown = &version;
        }
        if (shown == nullptr) continue;
      }
    }
    const json::object& row = *shown;
    if (std::all_of(request.constraints.begin(), request.constraints.end(),
                    [&](const Constraint& c) { return matches(row, c); })) {
      selected.push_back(&row);
    }
  }
  std::vector<const FieldSpec*> sort_fields;
  for (const auto& key : request.sort) sort_fields.push_back(spec_.field(key.wire));
  std::stable_sort(selected.begin(), selected.end(),
                   [&](const json::object* a, const json::object* b) {
                     for (std::size_t i = 0; i < request.sort.size(); ++i) {
                       const FieldSpec* field = sort_fields[i];
                       const FieldType type = field != nullptr ? field->type : FieldType::kString;
                       const std::string& wire = request.sort[i].wire;
                       const int r = compare(comparable(find_path(*a, wire), type),
                                             comparable(find_path(*b, wire), type), type);
                       if (r != 0) return request.sort[i].descending ? r > 0 : r < 0;
                     }
                     return false;
                   });
  const auto total = static_cast<std::int64_t>(selected.size());
  const std::int64_t offset = request.offset();
  bool first = true;
  for (std::int64_t i = offset; i < total && i < offset + request.size; ++i) {
    if (!first) out.push_back(',');
    first = false;
    out += render(*selected[static_cast<std::size_t>(i)], &request);
  }
  return total;
}

static bool text_equals(const json::value* value, std::string_view text) {
  if (value == nullptr) return false;
  return value->is_string() ? value->get_string() == text : json::serialize(*value) == text;
}

void GenericCollection::get_one(std::string_view key, std::string& out) const {
  get_scoped(key, {}, {}, out);
}

void GenericCollection::get_scoped(std::string_view key, std::string_view scope_wire,
                                   std::string_view scope_value, std::string& out) const {
  std::shared_lock lock(mutex_);
  const std::string& key_wire = spec_.key.back();
  for (const auto& row : rows_) {
    if (!text_equals(find_path(row, key_wire), key)) continue;
    if (!scope_wire.empty() && !text_equals(find_path(row, scope_wire), scope_value)) continue;
    out += render(row, nullptr);
    return;
  }
  throw ApiError(404,
                 spec_.name == "ProfileTables" || spec_.name == "CustomTables" ? "TABLE_NOT_FOUND"
                                                                               : "RECORD_NOT_FOUND",
                 fmt::format("no {} with {} '{}'", spec_.name, key_wire, key));
}

bool GenericCollection::contains(std::string_view wire, std::string_view value) const {
  std::shared_lock lock(mutex_);
  return std::any_of(rows_.begin(), rows_.end(), [&](const json::object& row) {
    return text_equals(find_path(row, wire), value);
  });
}

}  // namespace replicator::actito_sim

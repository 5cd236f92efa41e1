#include "tests/actito_sim/static_rows.hpp"

#include <algorithm>
#include <array>

#include <fmt/format.h>

#include "tests/actito_sim/timestamp.hpp"

namespace replicator::actito_sim {
namespace {

namespace json = boost::json;

constexpr std::array kLanguages = {"FR", "NL", "EN", "DE"};
constexpr std::int64_t kMsPerDay = 86'400'000;

// FNV-1a: a salt per field name that is the same on every platform.
std::uint64_t name_hash(std::string_view text) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const char c : text) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
  return h;
}

bool ends_with_id(std::string_view wire) { return wire.size() > 2 && wire.ends_with("Id"); }

std::string last_segment(std::string_view wire) {
  const std::size_t dot = wire.rfind('.');
  return std::string(dot == std::string_view::npos ? wire : wire.substr(dot + 1));
}

// Sets `value` at a dotted wire path, creating the intermediate objects.
void set_path(json::object& row, std::string_view wire, json::value value) {
  json::object* target = &row;
  for (std::size_t dot = wire.find('.'); dot != std::string_view::npos; dot = wire.find('.')) {
    json::value& child = (*target)[wire.substr(0, dot)];
    if (!child.is_object()) child = json::object{};
    target = &child.get_object();
    wire = wire.substr(dot + 1);
  }
  (*target)[wire] = std::move(value);
}

json::value string_value(const ObjectSpec& spec, const FieldSpec& f, std::int64_t id,
                         std::uint64_t h, const StaticRowContext& c, std::uint32_t version) {
  const std::string name = last_segment(f.wire);
  if (!f.enum_values.empty()) return json::value(f.enum_values[h % f.enum_values.size()]);
  if (name == "profileTableId" || name == "onElementId" || name == "sourceElementId") {
    return json::value(c.profile_table_id);
  }
  if (name == "profileTableName" || name == "targetTable") return json::value(c.profile_table_name);
  if (name == "entityOfTarget") return json::value(c.entity);
  if (name == "subscriptionName") return json::value(c.subscriptions[h % c.subscriptions.size()]);
  if (name == "language") return json::value(kLanguages[h % kLanguages.size()]);
  if (name == "replyTo") return json::value(fmt::format("reply{}@acme.example", id));
  if (name == "phoneNumber") return json::value(fmt::format("+3247{:07}", h % 10'000'000));
  if (name.find("url") != std::string::npos || name.find("Url") != std::string::npos) {
    return json::value(fmt::format("https://acme.example/{}/{}", name, id));
  }
  if (name == "host") return json::value(fmt::format("ftp{}.acme.example", id));
  if (name == "schedule") return json::value("0 3 * * *");
  if (name == "encoding") return json::value("UTF-8");
  // Free text: later versions (mutations) say which version they are, so that they differ.
  const std::string suffix = version == 0 ? std::string() : fmt::format(" v{}", version);
  if (name == "name" || name == "displayName")
    return json::value(fmt::format("{} {}{}", spec.name, id, suffix));
  return json::value(fmt::format("{} {}{}", f.name, id, suffix));
}

json::value field_value(const ObjectSpec& spec, const FieldSpec& f, std::int64_t id,
                        const StaticRowContext& c, std::int64_t created_ms, std::int64_t updated_ms,
                        std::uint32_t version) {
  const std::uint64_t h = value_hash(c.seed, id, version, name_hash(f.wire));
  const std::string name = last_segment(f.wire);
  if (f.nullable && h % 10 == 0) return nullptr;
  switch (f.type) {
    case FieldType::kString:
      return string_value(spec, f, id, h >> 8, c, version);
    case FieldType::kInteger:
    case FieldType::kLong:
      if (name == "profileId" && c.profile_count > 0) {
        return 1 +
               static_cast<std::int64_t>((h >> 8) % static_cast<std::uint64_t>(c.profile_count));
      }
      if (ends_with_id(name)) {
        return 1 + static_cast<std::int64_t>(
                       (h >> 8) %
                       static_cast<std::uint64_t>(std::max<std::int64_t>(c.reference_range, 1)));
      }
      if (name == "port") return 21 + static_cast<std::int64_t>((h >> 8) % 2);
      return static_cast<std::int64_t>((h >> 8) % (f.type == FieldType::kInteger ? 1000 : 100'000));
    case FieldType::kNumber:
      return static_cast<double>((h >> 8) % 100'000) / 100.0;
    case FieldType::kBoolean:
      return ((h >> 8) & 1U) != 0;
    case FieldType::kDate: {
      std::string text;
      append_date(text, created_ms / kMsPerDay);
      return json::value(text);
    }
    case FieldType::kTimestamp:
      if (name == "creationMoment") return created_ms;
      if (name == "updateMoment") return updated_ms;
      return created_ms +
             static_cast<std::int64_t>((h >> 8) %
                                       static_cast<std::uint64_t>(
                                           std::max<std::int64_t>(updated_ms - created_ms, 1) + 1));
    case FieldType::kJson:
      return json::object{{"generated", true}, {"row", id}, {"field", name}};
    case FieldType::kStringArray: {
      json::array values;
      for (std::size_t i = 0; i < kLanguages.size(); ++i) {
        if ((h >> (8 + i)) & 1U) values.emplace_back(kLanguages[i]);
      }
      return values;
    }
  }
  return nullptr;
}

// One row of `spec` with id `id` at `version` (0 for seeded rows), moments given.
json::object make_row(const ObjectSpec& spec, std::int64_t id, std::uint32_t version,
                      const StaticRowContext& context, std::int64_t created_ms,
                      std::int64_t updated_ms, std::int64_t parent_id) {
  json::object row;
  for (const auto& f : spec.fields) {
    json::value value;
    if (f.wire == "id") {
      value = id;
    } else if (!spec.child_field_wire.empty() && f.wire == spec.child_field_wire) {
      value = parent_id;
    } else {
      value = field_value(spec, f, id, context, created_ms, updated_ms, version);
      if (value.is_null() && !f.nullable) {
        value =
            field_value(spec, FieldSpec{f.name, f.wire, f.type, false, f.extended, f.enum_values},
                        id, context, created_ms, updated_ms, version);
      }
    }
    set_path(row, f.wire, std::move(value));
  }
  return row;
}

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

bool is_moment(const FieldSpec& f) {
  return f.wire == "creationMoment" || f.wire == "updateMoment";
}

bool is_fixed(const ObjectSpec& spec, const FieldSpec& f) {
  return std::find(spec.key.begin(), spec.key.end(), f.wire) != spec.key.end() ||
         f.wire == spec.child_field_wire || is_moment(f);
}

// A value of f's type that differs from `old` (deterministic).
json::value changed_value(const FieldSpec& f, const json::value* old, std::uint32_t version) {
  const bool null = old == nullptr || old->is_null();
  switch (f.type) {
    case FieldType::kString: {
      if (!f.enum_values.empty()) {
        if (null) return json::value(f.enum_values.front());
        const auto it = std::find(f.enum_values.begin(), f.enum_values.end(),
                                  std::string_view(old->as_string()));
        const auto next =
            it == f.enum_values.end() ? 0 : (it - f.enum_values.begin() + 1) % f.enum_values.size();
        if (f.enum_values[static_cast<std::size_t>(next)] != std::string_view(old->as_string()))
          return json::value(f.enum_values[static_cast<std::size_t>(next)]);
        return json::value(f.enum_values.front() +
                           "_CHANGED");  // a one-value enum (enums are open)
      }
      const std::string base = null ? f.name : std::string(old->as_string());
      return json::value(fmt::format("{} (v{})", base, version));
    }
    case FieldType::kInteger:
    case FieldType::kLong:
      return null ? std::int64_t{1} : old->to_number<std::int64_t>() + 1;
    case FieldType::kNumber:
      return null ? 1.0 : old->to_number<double>() + 1.0;
    case FieldType::kBoolean:
      return null ? true : !old->as_bool();
    case FieldType::kDate:
      return json::value(!null && old->as_string() == "2001-01-01" ? "2001-01-02" : "2001-01-01");
    case FieldType::kTimestamp:
      return null ? std::int64_t{0} : old->to_number<std::int64_t>() + 1000;
    case FieldType::kJson:
      return json::object{{"generated", true}, {"version", version}};
    case FieldType::kStringArray:
      return json::array{json::value(fmt::format("v{}", version))};
  }
  return nullptr;
}

// Makes sure at least one field of the group (list or extended fields) differs from `old`.
void ensure_changed(const ObjectSpec& spec, json::object& row, const json::object& old,
                    bool extended, std::uint32_t version) {
  const FieldSpec* candidate = nullptr;
  for (const auto& f : spec.fields) {
    if (f.extended != extended || is_fixed(spec, f)) continue;
    const json::value* a = find_path(row, f.wire);
    const json::value* b = find_path(old, f.wire);
    if ((a == nullptr) != (b == nullptr) || (a != nullptr && *a != *b)) return;  // changed
    // Prefer free text, then anything.
    if (candidate == nullptr ||
        (candidate->type != FieldType::kString && f.type == FieldType::kString)) {
      candidate = &f;
    }
  }
  if (candidate != nullptr) {
    set_path(row, candidate->wire,
             changed_value(*candidate, find_path(old, candidate->wire), version));
  }
}

}  // namespace

json::object new_static_row(const ObjectSpec& spec, std::int64_t id, std::uint32_t version,
                            const StaticRowContext& context, std::int64_t moment_ms,
                            std::int64_t parent_id) {
  return make_row(spec, id, version, context, moment_ms, moment_ms, parent_id);
}

json::object next_static_row(const ObjectSpec& spec, const json::object& old, std::uint32_t version,
                             const StaticRowContext& context, std::int64_t now_ms) {
  const json::value* id = find_path(old, spec.key.back());
  const json::value* created = old.if_contains("creationMoment");
  const json::value* updated = old.if_contains("updateMoment");
  const json::value* parent =
      spec.child_field_wire.empty() ? nullptr : find_path(old, spec.child_field_wire);
  auto ms = [](const json::value* v, std::int64_t fallback) {
    return v != nullptr && (v->is_int64() || v->is_uint64()) ? v->to_number<std::int64_t>()
                                                             : fallback;
  };
  const std::int64_t created_ms = ms(created, now_ms - 7 * kMsPerDay);
  // Never backwards, and creationMoment <= updateMoment (contract 3.6).
  const std::int64_t updated_ms = std::max({now_ms, ms(updated, now_ms), created_ms});
  json::object row = make_row(spec, id != nullptr ? id->to_number<std::int64_t>() : 0, version,
                              context, created_ms, updated_ms, ms(parent, 0));
  for (const auto& f : spec.fields) {
    if (!is_fixed(spec, f)) continue;
    if (const json::value* keep = find_path(old, f.wire)) set_path(row, f.wire, *keep);
  }
  if (updated != nullptr) row["updateMoment"] = updated_ms;
  ensure_changed(spec, row, old, false, version);
  ensure_changed(spec, row, old, true, version);
  return row;
}

std::vector<json::object> generate_static_rows(const ObjectSpec& spec, std::size_t count,
                                               const StaticRowContext& context,
                                               std::int64_t parent_count) {
  Rng rng(mix64(context.seed ^ name_hash(spec.name)));
  HistoryOptions history = context.history;
  history.plateau_share = std::min(history.plateau_share, 0.3);
  history.plateau_max = std::min<std::int64_t>(history.plateau_max, 5);
  const auto moments = generate_history(count, history, rng);
  std::vector<json::object> rows;
  rows.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    const auto id = static_cast<std::int64_t>(i) + 1;
    const std::int64_t parent =
        parent_count > 0 ? 1 + static_cast<std::int64_t>(i) % parent_count : 1;
    rows.push_back(
        make_row(spec, id, 0, context, moments[i].created_ms, moments[i].updated_ms, parent));
  }
  return rows;
}

}  // namespace replicator::actito_sim

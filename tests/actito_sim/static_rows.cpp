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
                         std::uint64_t h, const StaticRowContext& c) {
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
  if (name == "name" || name == "displayName")
    return json::value(fmt::format("{} {}", spec.name, id));
  return json::value(fmt::format("{} {}", f.name, id));
}

json::value field_value(const ObjectSpec& spec, const FieldSpec& f, std::int64_t id,
                        const StaticRowContext& c, std::int64_t created_ms,
                        std::int64_t updated_ms) {
  const std::uint64_t h = value_hash(c.seed, id, 0, name_hash(f.wire));
  const std::string name = last_segment(f.wire);
  if (f.nullable && h % 10 == 0) return nullptr;
  switch (f.type) {
    case FieldType::kString:
      return string_value(spec, f, id, h >> 8, c);
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

}  // namespace

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
    json::object row;
    for (const auto& f : spec.fields) {
      json::value value;
      if (f.wire == "id") {
        value = id;
      } else if (!spec.child_field_wire.empty() && f.wire == spec.child_field_wire) {
        value = parent_count > 0 ? 1 + static_cast<std::int64_t>(i) % parent_count : 1;
      } else {
        value = field_value(spec, f, id, context, moments[i].created_ms, moments[i].updated_ms);
        if (value.is_null() && !f.nullable) {
          value =
              field_value(spec, FieldSpec{f.name, f.wire, f.type, false, f.extended, f.enum_values},
                          id, context, moments[i].created_ms, moments[i].updated_ms);
        }
      }
      set_path(row, f.wire, std::move(value));
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace replicator::actito_sim

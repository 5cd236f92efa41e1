#include "tests/actito_sim/custom_table.hpp"

#include <array>
#include <charconv>
#include <stdexcept>

#include <fmt/format.h>

namespace replicator::actito_sim {
namespace {

namespace json = boost::json;

enum class Gen {
  kOrderId,
  kCustomerId,
  kStoreId,
  kOrderMoment,
  kAmount,
  kStatus,
  kItemCount,
  kGiftWrapped,
  kDeliveryDate,
  kTags,
  kNote
};

struct AttributeDef {
  const char* name;
  const char* value_type;
  FieldType field_type;
  bool multi_valued;
  bool mandatory;
  bool indexed;
  bool unique;
  Gen gen;
};

constexpr std::array kAttributes = {
    AttributeDef{"orderId", "STRING", FieldType::kString, false, true, true, true, Gen::kOrderId},
    AttributeDef{"customerId", "STRING", FieldType::kString, false, true, true, false,
                 Gen::kCustomerId},
    AttributeDef{"storeId", "LONG", FieldType::kLong, false, true, true, false, Gen::kStoreId},
    AttributeDef{"orderMoment", "TIMESTAMP", FieldType::kTimestamp, false, true, true, false,
                 Gen::kOrderMoment},
    AttributeDef{"amount", "NUMBER", FieldType::kNumber, false, true, false, false, Gen::kAmount},
    AttributeDef{"status", "STRING", FieldType::kString, false, true, true, false, Gen::kStatus},
    AttributeDef{"itemCount", "INTEGER", FieldType::kInteger, false, false, false, false,
                 Gen::kItemCount},
    AttributeDef{"giftWrapped", "BOOLEAN", FieldType::kBoolean, false, false, false, false,
                 Gen::kGiftWrapped},
    AttributeDef{"deliveryDate", "DATE", FieldType::kDate, false, false, false, false,
                 Gen::kDeliveryDate},
    AttributeDef{"tags", "STRING", FieldType::kStringArray, true, false, false, false, Gen::kTags},
    AttributeDef{"note", "STRING", FieldType::kString, false, false, false, false, Gen::kNote},
};

constexpr const char* kPrimaryKey = "orderId";
constexpr const char* kCreationTimeAttribute = "orderMoment";
constexpr std::array kStatuses = {"NEW", "SHIPPING", "SHIPPED", "CANCELED"};
constexpr std::array kTags = {"web", "store", "promo", "gift", "express"};
// Notes exercise escaping: quotes, control characters, non-ASCII text.
constexpr std::array kNotes = {"Leave at the door",
                               "He said \"ring twice\"",
                               "Back entrance\nsecond floor",
                               "Livraison à l'accueil — merci",
                               "Tab\tseparated",
                               "Fragile \xF0\x9F\x93\xA6"};
constexpr std::int64_t kMsPerDay = 86'400'000;

enum ColumnIndex : std::size_t { kColOrderId, kColId, kColCreated, kColUpdated, kColOrderMoment };

std::string upper_first(std::string_view name) {
  std::string out(name);
  if (!out.empty() && out[0] >= 'a' && out[0] <= 'z')
    out[0] = static_cast<char>(out[0] - 'a' + 'A');
  return out;
}

bool is_primary_key_placeholder(std::string_view text) {
  return text == "<PrimaryKeyAttribute>" || text == "<primaryKeyAttribute>";
}

ObjectSpec make_spec(const DynamicTemplate& t, const std::string& name) {
  ObjectSpec spec;
  spec.name = name;
  spec.category = t.category;
  spec.list_route = t.list_route;
  spec.get_route = t.get_route;
  spec.collection_key = t.collection_key;
  spec.max_page_size = t.max_page_size;
  spec.fields = t.plain_fields();
  for (const auto& a : kAttributes) {
    spec.fields.push_back(
        FieldSpec{upper_first(a.name), a.name, a.field_type, !a.mandatory, false, {}});
  }
  auto resolve = [&](const std::string& name_or_placeholder) -> std::string {
    if (is_primary_key_placeholder(name_or_placeholder)) return kPrimaryKey;
    for (const auto& f : spec.fields) {
      if (f.name == name_or_placeholder || f.wire == name_or_placeholder) return f.wire;
    }
    throw std::runtime_error(
        fmt::format("catalog {}: cannot resolve '{}'", t.name_pattern, name_or_placeholder));
  };
  for (const auto& k : t.key) spec.key.push_back(resolve(k));
  for (const auto& [logical, ops] : t.native_filters) {
    spec.search_selectors.emplace_back(resolve(logical), ops);
  }
  for (const auto& s : t.sortable) {
    if (s == "<TIMESTAMP attributes>") {
      for (const auto& a : kAttributes) {
        if (a.field_type == FieldType::kTimestamp) spec.sortable.emplace_back(a.name);
      }
    } else {
      spec.sortable.push_back(resolve(s));
    }
  }
  spec.projection = Projection::kListed;
  for (const auto& p : t.fields_projection) {
    if (p == "<attribute names>") {
      for (const auto& a : kAttributes) spec.projection_names.emplace_back(a.name);
    } else {
      spec.projection_names.push_back(p);
    }
  }
  spec.always_returned = {"id"};
  for (const auto& k : spec.key) spec.always_returned.push_back(k);
  return spec;
}

std::string make_uuid(std::uint64_t seed, std::string_view name) {
  std::uint64_t h = mix64(seed ^ 0x637573746F6DULL);
  for (const char c : name) h = mix64(h ^ static_cast<unsigned char>(c));
  const std::uint64_t a = h;
  const std::uint64_t b = mix64(h + 1);
  return fmt::format("{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}", a >> 32, (a >> 16) & 0xFFFF, a & 0xFFF,
                     0x8000 | ((b >> 48) & 0x3FFF), b & 0xFFFFFFFFFFFFULL);
}

template <class Removed>
json::object make_structure(const std::string& id, const std::string& name,
                            const std::string& profile_table_id, Removed removed) {
  json::object s;
  s["id"] = id;
  s["name"] = name;
  s["type"] = "INTERACTIONS";
  s["primaryKeyAttribute"] = kPrimaryKey;
  s["creationTimeAttribute"] = kCreationTimeAttribute;
  s["bigTable"] = false;
  json::array attributes;
  for (std::size_t i = 0; i < kAttributes.size(); ++i) {
    const auto& a = kAttributes[i];
    if (removed(i)) continue;
    json::object attribute{{"name", a.name},
                           {"valueType", a.value_type},
                           {"mandatory", a.mandatory},
                           {"indexed", a.indexed},
                           {"unique", a.unique}};
    if (a.multi_valued) attribute["multiValued"] = true;
    if (a.gen == Gen::kOrderId)
      attribute["valueRestriction"] = {{"minLength", 16}, {"maxLength", 16}};
    if (a.gen == Gen::kStatus) {
      json::array accepted;
      for (const char* status : kStatuses) accepted.emplace_back(status);
      attribute["valueRestriction"] = {{"acceptedValues", std::move(accepted)}};
    }
    attributes.push_back(std::move(attribute));
  }
  s["attributes"] = std::move(attributes);
  s["foreignKeys"] = json::array{json::object{{"name", "link-to-customer"},
                                              {"attribute", "customerId"},
                                              {"reference",
                                               {{"tableType", "PROFILE_TABLE"},
                                                {"tableId", profile_table_id},
                                                {"attribute", "customerId"}}},
                                              {"onDelete", "CASCADE"}}};
  s["eventsToTrigger"] = json::array{};
  return s;
}

}  // namespace

CustomTable::CustomTable(const DynamicTemplate& record_template, TableOptions options,
                         std::string profile_table_id, std::int64_t profile_count)
    : RecordTable(make_spec(record_template, options.name),
                  options.id.empty() ? make_uuid(options.seed, options.name) : options.id,
                  options.seed, options.style),
      profile_table_id_(std::move(profile_table_id)) {
  set_columns({
      Column{kPrimaryKey, ColumnKind::kId, true, true},
      Column{"id", ColumnKind::kId, true, true},
      Column{"creationMoment", ColumnKind::kCreated, false, false},
      Column{"updateMoment", ColumnKind::kUpdated, false, false},
      Column{kCreationTimeAttribute, ColumnKind::kDerived, false, false},
  });
  Rng rng(mix64(options.seed ^ 0x637573746F6D6572ULL));
  const auto history = generate_history(options.rows, options.history, rng);
  std::vector<RecordCore> rows(options.rows);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    rows[i].id = static_cast<std::int64_t>(i) + 1;
    rows[i].created_ms = history[i].created_ms;
    rows[i].updated_ms = history[i].updated_ms;
    rows[i].version = history[i].version;
    rows[i].ref =
        profile_count > 0
            ? 1 + static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(profile_count)))
            : 0;
  }
  load_rows(std::move(rows));
}

std::vector<std::string_view> CustomTable::builtin_attributes() const {
  std::vector<std::string_view> names;
  for (const auto& a : kAttributes) names.emplace_back(a.name);
  return names;
}

std::vector<std::string_view> CustomTable::reserved_names() const {
  return {"id", "creationMoment", "updateMoment"};
}

std::string CustomTable::unremovable_reason(std::string_view name) const {
  if (name == kPrimaryKey) return "it is the primaryKeyAttribute";
  if (name == kCreationTimeAttribute) return "it is the creationTimeAttribute";
  if (name == "customerId") return "it holds the foreign key to the profile table";
  return {};
}

json::object CustomTable::build_structure() const {
  json::object s = make_structure(table_id(), table_name(), profile_table_id_,
                                  [this](std::size_t i) { return builtin_removed(i); });
  json::array& attributes = s["attributes"].as_array();
  for (const auto& e : extras()) {
    json::object attribute{{"name", e.name},
                           {"valueType", e.value_type},
                           {"mandatory", false},
                           {"indexed", false},
                           {"unique", false}};
    if (e.multi_valued) attribute["multiValued"] = true;
    attributes.push_back(std::move(attribute));
  }
  return s;
}

std::string CustomTable::order_id(std::int64_t id) { return fmt::format("ORD-{:012}", id); }

std::int64_t CustomTable::order_moment(const RecordCore& row) const {
  // The business event happened up to two hours before the record was created.
  return row.created_ms - static_cast<std::int64_t>(value_hash(seed(), row.id, 0, 40) % 7'200'000);
}

std::int64_t CustomTable::derived_key(std::size_t column, const RecordCore& row) const {
  if (column == kColOrderMoment) return order_moment(row);
  return RecordTable::derived_key(column, row);
}

bool CustomTable::literal_key(std::size_t column, const TypedValue& value,
                              std::int64_t& key) const {
  if (column != kColOrderId) return RecordTable::literal_key(column, value, key);
  key = resolve_key(value.text);
  return key > 0;
}

std::uint64_t CustomTable::projection_mask(const ListRequest& request) const {
  if (!request.projected) return ~std::uint64_t{0};
  std::uint64_t mask = 0;
  const std::array<const char*, 3> technical = {"id", "creationMoment", "updateMoment"};
  for (std::size_t i = 0; i < technical.size(); ++i) {
    if (request.wants(technical[i])) mask |= std::uint64_t{1} << i;
  }
  for (std::size_t i = 0; i < kAttributes.size(); ++i) {
    if (request.wants(kAttributes[i].name)) mask |= std::uint64_t{1} << (i + 3);
  }
  return mask;
}

void CustomTable::render(const RecordCore& row, std::uint64_t mask, JsonWriter& w) const {
  const std::uint64_t s = seed();
  const std::int64_t id = row.id;
  const std::uint32_t v = row.version;
  auto stable = [&](std::uint64_t salt) { return value_hash(s, id, 0, salt); };
  auto current = [&](std::uint64_t salt) { return value_hash(s, id, v, salt); };
  w.begin_object();
  w.key("id");
  w.integer(id);
  if (mask & 2U) {
    w.key("creationMoment");
    write_timestamp(w, row.created_ms);
  }
  if (mask & 4U) {
    w.key("updateMoment");
    write_timestamp(w, row.updated_ms);
  }
  std::string scratch;
  for (std::size_t i = 0; i < kAttributes.size(); ++i) {
    if (((mask >> (i + 3)) & 1U) == 0 || builtin_removed(i)) continue;
    const auto& a = kAttributes[i];
    w.key(a.name);
    switch (a.gen) {
      case Gen::kOrderId:
        w.string(order_id(id));
        break;
      case Gen::kCustomerId:
        if (row.ref > 0)
          w.string(ProfileTable::customer_id(row.ref));
        else
          w.null();
        break;
      case Gen::kStoreId:
        w.integer(1 + static_cast<std::int64_t>(stable(41) % 40));
        break;
      case Gen::kOrderMoment:
        write_timestamp(w, order_moment(row));
        break;
      case Gen::kAmount:
        w.decimal(99 + static_cast<std::int64_t>(current(42) % 99'900), 2);
        break;
      case Gen::kStatus:
        if (current(43) % 15 == 0)
          w.string("CANCELED");
        else
          w.string(kStatuses[std::min<std::uint32_t>(v, 2)]);
        break;
      case Gen::kItemCount:
        w.integer(1 + static_cast<std::int64_t>(stable(44) % 9));
        break;
      case Gen::kGiftWrapped:
        w.boolean(stable(45) % 7 == 0);
        break;
      case Gen::kDeliveryDate:
        if (v == 0) {
          w.null();
        } else {
          scratch.clear();
          append_date(scratch, floor_div(row.created_ms, kMsPerDay) + 2 +
                                   static_cast<std::int64_t>(stable(46) % 4));
          w.string(scratch);
        }
        break;
      case Gen::kTags: {
        const std::uint64_t bits = current(47);
        if (bits % 3 == 0) {
          w.null();
          break;
        }
        w.begin_array();
        for (std::size_t t = 0; t < kTags.size(); ++t) {
          if ((bits >> (8 + t)) & 1U) w.string(kTags[t]);
        }
        w.end_array();
        break;
      }
      case Gen::kNote:
        if (current(48) % 5 != 0)
          w.null();
        else
          w.string(kNotes[current(49) % kNotes.size()]);
        break;
    }
  }
  // Run-time attributes are not projectable (the object spec is fixed): only unprojected rows.
  if (mask == ~std::uint64_t{0}) write_extras(row, w);
  w.end_object();
}

std::int64_t CustomTable::resolve_key(std::string_view key) const {
  // Canonical keys only: "ORD-" and exactly 12 digits.
  if (key.size() != 16 || !key.starts_with("ORD-")) return 0;
  std::int64_t id = 0;
  const auto digits = key.substr(4);
  const auto result = std::from_chars(digits.data(), digits.data() + digits.size(), id);
  if (result.ec != std::errc() || result.ptr != digits.data() + digits.size() || id <= 0) return 0;
  return id;
}

}  // namespace replicator::actito_sim

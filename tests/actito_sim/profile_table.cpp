#include "tests/actito_sim/profile_table.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <stdexcept>

#include <fmt/format.h>

#include "tests/actito_sim/api_error.hpp"

namespace replicator::actito_sim {
namespace {

namespace json = boost::json;

// How each attribute's value is generated. "Stable" values derive from the id only (so unique keys
// never change); the others derive from (id, version) and change with every update.
enum class Gen {
  kEmail,
  kFirstName,
  kLastName,
  kBirthDate,
  kSex,
  kLanguage,
  kGsm,
  kCustomerId,
  kLoyaltyPoints,
  kAccountNumber,
  kAverageBasket,
  kProfiling,
  kLastPurchase,
  kMemberSince,
  kInterests,
  kFavouriteStore,
};

struct AttributeDef {
  const char* name;
  const char* type;        // CUSTOM or a predefined type (contract 5.2)
  const char* value_type;  // nullptr for predefined types: valueType is absent [D]
  FieldType field_type;
  bool multi_valued;
  bool mandatory;
  bool unique;
  Gen gen;
};

constexpr std::array kAttributes = {
    AttributeDef{"emailAddress", "EMAIL_ADDRESS", nullptr, FieldType::kString, false, true, true,
                 Gen::kEmail},
    AttributeDef{"firstName", "FIRSTNAME", nullptr, FieldType::kString, false, false, false,
                 Gen::kFirstName},
    AttributeDef{"lastName", "LASTNAME", nullptr, FieldType::kString, false, false, false,
                 Gen::kLastName},
    AttributeDef{"birthDate", "BIRTHDATE", nullptr, FieldType::kDate, false, false, false,
                 Gen::kBirthDate},
    AttributeDef{"sex", "SEX", nullptr, FieldType::kString, false, false, false, Gen::kSex},
    AttributeDef{"motherLanguage", "MOTHER_LANGUAGE", nullptr, FieldType::kString, false, false,
                 false, Gen::kLanguage},
    AttributeDef{"gsmNumber", "GSM_NUMBER", nullptr, FieldType::kString, false, false, false,
                 Gen::kGsm},
    AttributeDef{"customerId", "CUSTOM", "STRING", FieldType::kString, false, false, true,
                 Gen::kCustomerId},
    AttributeDef{"loyaltyPoints", "CUSTOM", "INTEGER", FieldType::kInteger, false, false, false,
                 Gen::kLoyaltyPoints},
    AttributeDef{"accountNumber", "CUSTOM", "LONG", FieldType::kLong, false, false, false,
                 Gen::kAccountNumber},
    AttributeDef{"averageBasket", "CUSTOM", "NUMBER", FieldType::kNumber, false, false, false,
                 Gen::kAverageBasket},
    AttributeDef{"acceptsProfiling", "CUSTOM", "BOOLEAN", FieldType::kBoolean, false, false, false,
                 Gen::kProfiling},
    AttributeDef{"lastPurchaseMoment", "CUSTOM", "TIMESTAMP", FieldType::kTimestamp, false, false,
                 false, Gen::kLastPurchase},
    AttributeDef{"memberSince", "CUSTOM", "DATE", FieldType::kDate, false, false, false,
                 Gen::kMemberSince},
    AttributeDef{"interests", "CUSTOM", "STRING", FieldType::kStringArray, true, false, false,
                 Gen::kInterests},
    AttributeDef{"favouriteStore", "CUSTOM", "STRING", FieldType::kString, false, false, false,
                 Gen::kFavouriteStore},
};

struct Name {
  const char* display;
  const char* slug;  // ASCII form used in e-mail addresses
};

constexpr std::array kFirstNames = {
    Name{"Jane", "jane"},     Name{"Lucas", "lucas"},   Name{"Emma", "emma"},
    Name{"Noah", "noah"},     Name{"Zoë", "zoe"},       Name{"Chloé", "chloe"},
    Name{"Louis", "louis"},   Name{"Olivia", "olivia"}, Name{"Arthur", "arthur"},
    Name{"Mila", "mila"},     Name{"Jules", "jules"},   Name{"Elise", "elise"},
    Name{"Liam", "liam"},     Name{"Anaïs", "anais"},   Name{"Victor", "victor"},
    Name{"Nora", "nora"},     Name{"Finn", "finn"},     Name{"Lotte", "lotte"},
    Name{"Matteo", "matteo"}, Name{"Saar", "saar"},     Name{"Hélène", "helene"},
    Name{"Bram", "bram"},     Name{"Fatima", "fatima"}, Name{"Youssef", "youssef"},
};

constexpr std::array kLastNames = {
    Name{"Peeters", "peeters"},    Name{"Janssens", "janssens"},
    Name{"Maes", "maes"},          Name{"Jacobs", "jacobs"},
    Name{"Mertens", "mertens"},    Name{"Willems", "willems"},
    Name{"Claes", "claes"},        Name{"Goossens", "goossens"},
    Name{"Wouters", "wouters"},    Name{"De Smet", "desmet"},
    Name{"Dubois", "dubois"},      Name{"Lambert", "lambert"},
    Name{"Dupont", "dupont"},      Name{"Lefèvre", "lefevre"},
    Name{"D'Hondt", "dhondt"},     Name{"Van den Broeck", "vandenbroeck"},
    Name{"Müller", "muller"},      Name{"Nguyen", "nguyen"},
    Name{"El Amrani", "elamrani"}, Name{"O'Neill", "oneill"},
};

constexpr std::array kDomains = {"example.com", "example.be", "mail.example", "acme.example"};
constexpr std::array kLanguages = {"FR", "NL", "NL", "FR", "EN", "DE"};
constexpr std::array kInterests = {"running", "cooking", "travel", "music", "books", "gaming"};
constexpr std::array kStores = {"Brussels", "Gent", "Antwerpen", "Liège", "Namur"};
constexpr std::array kTiers = {"Gold", "Silver", "Bronze"};

constexpr std::int64_t kMsPerDay = 86'400'000;

// Projection bits, in the order of the catalog's fields_projection for <ProfileTable>.
constexpr std::array kTopLevel = {"profileId",  "creationMoment", "updateMoment",
                                  "attributes", "subscriptions",  "segmentations"};
enum Bit : unsigned {
  kBitProfileId,
  kBitCreation,
  kBitUpdate,
  kBitAttributes,
  kBitSubscriptions,
  kBitSegmentations
};

std::string upper_first(std::string_view name) {
  std::string out(name);
  if (!out.empty() && out[0] >= 'a' && out[0] <= 'z')
    out[0] = static_cast<char>(out[0] - 'a' + 'A');
  return out;
}

bool parse_id(std::string_view digits, std::int64_t& id) {
  if (digits.empty()) return false;
  const auto result = std::from_chars(digits.data(), digits.data() + digits.size(), id);
  return result.ec == std::errc() && result.ptr == digits.data() + digits.size() && id > 0;
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
  auto wire_of = [&](const std::string& logical) {
    for (const auto& f : spec.fields) {
      if (f.name == logical) return f.wire;
    }
    throw std::runtime_error(fmt::format("catalog {}: '{}' is not one of its technical fields",
                                         t.name_pattern, logical));
  };
  for (const auto& logical : t.key) spec.key.push_back(wire_of(logical));
  for (const auto& a : kAttributes) {
    spec.fields.push_back(FieldSpec{upper_first(a.name),
                                    std::string("attributes.") + a.name,
                                    a.field_type,
                                    !a.mandatory,
                                    false,
                                    {}});
  }
  for (const char* s : {"Newsletter", "Promotions"}) {
    spec.fields.push_back(FieldSpec{std::string("Subscription_") + s,
                                    std::string("subscriptions.") + s,
                                    FieldType::kBoolean,
                                    false,
                                    false,
                                    {}});
  }
  for (const char* c : {"Tier", "Vip"}) {
    spec.fields.push_back(FieldSpec{std::string("Segmentation_") + c,
                                    std::string("segmentations.") + c,
                                    FieldType::kString,
                                    true,
                                    false,
                                    {}});
  }
  for (const auto& [logical, ops] : t.native_filters) {
    std::vector<Op> rsql_ops(ops.begin(), ops.end());
    spec.search_selectors.emplace_back(wire_of(logical), std::move(rsql_ops));
  }
  spec.sortable = t.sortable;
  spec.projection = Projection::kListed;
  spec.projection_names = t.fields_projection;
  spec.always_returned = spec.key;
  return spec;
}

json::object attribute_json(const char* type, const char* name, const char* value_type,
                            bool mandatory, bool unique, bool multi) {
  json::object a;
  a["type"] = type;
  a["name"] = name;
  a["unique"] = unique;
  a["mandatory"] = mandatory;
  if (value_type != nullptr) {
    a["valueType"] = value_type;
    a["multiValued"] = multi;
  }
  return a;
}

template <class Removed>
json::object make_structure(const std::string& id, const std::string& name, Removed removed) {
  json::object s;
  s["id"] = id;
  s["name"] = name;
  json::array attributes;
  attributes.push_back(attribute_json("CUSTOM", "profileId", "INTEGER", true, true, false));
  attributes.push_back(attribute_json("CUSTOM", "creationMoment", "TIMESTAMP", true, false, false));
  attributes.push_back(attribute_json("CUSTOM", "updateMoment", "TIMESTAMP", true, false, false));
  for (std::size_t i = 0; i < kAttributes.size(); ++i) {
    const auto& a = kAttributes[i];
    if (removed(i)) continue;
    json::object attribute =
        attribute_json(a.type, a.name, a.value_type, a.mandatory, a.unique, a.multi_valued);
    if (a.gen == Gen::kCustomerId) attribute["valueRestriction"] = {{"maxLength", 255}};
    if (a.gen == Gen::kFavouriteStore) {
      json::array accepted;
      for (const char* store : kStores) accepted.emplace_back(store);
      attribute["valueRestriction"] = {{"acceptedValues", std::move(accepted)}};
    }
    attributes.push_back(std::move(attribute));
  }
  s["attributes"] = std::move(attributes);
  s["subscriptions"] =
      json::array{json::object{{"name", "Newsletter"}, {"displayName", "Weekly newsletter"}},
                  json::object{{"name", "Promotions"}, {"displayName", "Offers and promotions"}}};
  json::array tiers;
  for (const char* tier : kTiers) tiers.push_back(json::object{{"name", tier}});
  s["segmentations"] = json::array{
      json::object{{"category", "Tier"}, {"segments", std::move(tiers)}},
      json::object{{"category", "Vip"}, {"segments", json::array{json::object{{"name", "Vip"}}}}}};
  s["displayOptions"] = {
      {"forAttributes",
       json::array{json::object{{"name", "customerId"}, {"displayName", "Customer number"}}}}};
  return s;
}

}  // namespace

ProfileTable::ProfileTable(const DynamicTemplate& record_template, TableOptions options)
    : RecordTable(make_spec(record_template, options.name), options.id.empty() ? "16" : options.id,
                  options.seed, options.style) {
  set_columns({
      Column{"profileId", ColumnKind::kId, true, true},
      Column{"creationMoment", ColumnKind::kCreated, false, false},
      Column{"updateMoment", ColumnKind::kUpdated, false, false},
  });
  Rng rng(mix64(options.seed ^ 0x70726F66696C65ULL));
  const auto history = generate_history(options.rows, options.history, rng);
  std::vector<RecordCore> rows(options.rows);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    rows[i].id = static_cast<std::int64_t>(i) + 1;
    rows[i].created_ms = history[i].created_ms;
    rows[i].updated_ms = history[i].updated_ms;
    rows[i].version = history[i].version;
  }
  load_rows(std::move(rows));
}

std::vector<std::string_view> ProfileTable::builtin_attributes() const {
  std::vector<std::string_view> names;
  for (const auto& a : kAttributes) names.emplace_back(a.name);
  return names;
}

std::vector<std::string_view> ProfileTable::reserved_names() const {
  return {"profileId", "creationMoment", "updateMoment"};
}

std::string ProfileTable::unremovable_reason(std::string_view name) const {
  if (name == "emailAddress")
    return "it is the unique EMAIL_ADDRESS attribute that addresses profiles";
  if (name == "customerId") return "custom tables reference it through a foreign key";
  return {};
}

json::object ProfileTable::build_structure() const {
  json::object s = make_structure(table_id(), table_name(),
                                  [this](std::size_t i) { return builtin_removed(i); });
  json::array& attributes = s["attributes"].as_array();
  for (const auto& e : extras()) {
    attributes.push_back(attribute_json("CUSTOM", e.name.c_str(), e.value_type.c_str(), false,
                                        false, e.multi_valued));
  }
  return s;
}

std::vector<std::string_view> ProfileTable::single_get_params() const {
  return {"subscriptions", "segmentations", "includeNulls"};  // accepted and ignored (6.11.1)
}

std::string ProfileTable::customer_id(std::int64_t profile_id) {
  return fmt::format("C-{:08}", profile_id);
}

std::string ProfileTable::email_of(std::int64_t id) const {
  const std::uint64_t s = seed();
  const auto& first = kFirstNames[value_hash(s, id, 0, 1) % kFirstNames.size()];
  const auto& last = kLastNames[value_hash(s, id, 0, 2) % kLastNames.size()];
  return fmt::format("{}.{}.{}@{}", first.slug, last.slug, id,
                     kDomains[value_hash(s, id, 0, 3) % kDomains.size()]);
}

std::uint64_t ProfileTable::projection_mask(const ListRequest& request) const {
  if (!request.projected) return ~std::uint64_t{0};
  std::uint64_t mask = 0;
  for (std::size_t i = 0; i < kTopLevel.size(); ++i) {
    if (request.wants(kTopLevel[i])) mask |= std::uint64_t{1} << i;
  }
  return mask;
}

void ProfileTable::render(const RecordCore& row, std::uint64_t mask, JsonWriter& w) const {
  const std::uint64_t s = seed();
  const std::int64_t id = row.id;
  const std::uint32_t v = row.version;
  auto stable = [&](std::uint64_t salt) { return value_hash(s, id, 0, salt); };
  auto current = [&](std::uint64_t salt) { return value_hash(s, id, v, salt); };
  auto wants = [&](Bit bit) { return (mask >> bit) & 1U; };

  w.begin_object();
  w.key("profileId");
  w.integer(id);
  if (wants(kBitCreation)) {
    w.key("creationMoment");
    write_timestamp(w, row.created_ms);
  }
  if (wants(kBitUpdate)) {
    w.key("updateMoment");
    write_timestamp(w, row.updated_ms);
  }
  if (wants(kBitAttributes)) {
    w.key("attributes");
    w.begin_object();
    std::string scratch;
    for (std::size_t index = 0; index < kAttributes.size(); ++index) {
      if (builtin_removed(index)) continue;
      const auto& a = kAttributes[index];
      w.key(a.name);
      switch (a.gen) {
        case Gen::kEmail:
          w.string(email_of(id));
          break;
        case Gen::kFirstName:
          w.string(kFirstNames[stable(1) % kFirstNames.size()].display);
          break;
        case Gen::kLastName:
          w.string(kLastNames[stable(2) % kLastNames.size()].display);
          break;
        case Gen::kBirthDate:
          if (stable(4) % 10 == 0) {
            w.null();
          } else {
            scratch.clear();
            append_date(scratch, days_from_civil(1940, 1, 1) +
                                     static_cast<std::int64_t>(stable(5) % (67 * 365)));
            w.string(scratch);
          }
          break;
        case Gen::kSex:
          if (stable(6) % 20 == 0)
            w.null();
          else
            w.string(stable(7) % 2 == 0 ? "F" : "M");
          break;
        case Gen::kLanguage:
          w.string(kLanguages[stable(8) % kLanguages.size()]);
          break;
        case Gen::kGsm:
          if (stable(9) % 4 == 0)
            w.null();
          else
            w.string(fmt::format("+3247{:07}", stable(10) % 10'000'000));
          break;
        case Gen::kCustomerId:
          w.string(customer_id(id));
          break;
        case Gen::kLoyaltyPoints:
          w.integer(static_cast<std::int64_t>(current(11) % 50'000));
          break;
        case Gen::kAccountNumber:
          if (stable(12) % 20 == 0) {
            w.null();
          } else if (stable(13) % 10 == 0) {  // above 2^53: must never go through a double
            w.integer(9'007'199'254'740'993LL + static_cast<std::int64_t>(stable(14) % 1'000'000));
          } else {
            w.integer(100'000 + static_cast<std::int64_t>(stable(14) % 900'000));
          }
          break;
        case Gen::kAverageBasket:
          if (current(15) % 5 == 0)
            w.null();
          else
            w.decimal(500 + static_cast<std::int64_t>(current(16) % 50'000), 2);
          break;
        case Gen::kProfiling:
          w.boolean(current(17) % 2 == 0);
          break;
        case Gen::kLastPurchase:
          if (v == 0 && current(18) % 3 == 0) {
            w.null();
          } else {
            const std::int64_t span = row.updated_ms - row.created_ms + 1;
            write_timestamp(
                w, row.created_ms +
                       static_cast<std::int64_t>(current(19) % static_cast<std::uint64_t>(span)));
          }
          break;
        case Gen::kMemberSince:
          scratch.clear();
          append_date(scratch, floor_div(row.created_ms, kMsPerDay));
          w.string(scratch);
          break;
        case Gen::kInterests: {
          const std::uint64_t bits = current(20);
          if (bits % 3 == 0) {
            w.null();
            break;
          }
          w.begin_array();
          for (std::size_t i = 0; i < kInterests.size(); ++i) {
            if ((bits >> (8 + i)) & 1U) w.string(kInterests[i]);
          }
          w.end_array();
          break;
        }
        case Gen::kFavouriteStore:
          if (current(21) % 4 == 0)
            w.null();
          else
            w.string(kStores[current(22) % kStores.size()]);
          break;
      }
    }
    write_extras(row, w);
    w.end_object();
  }
  if (wants(kBitSubscriptions)) {
    const std::uint64_t bits = current(23);
    w.key("subscriptions");
    w.begin_object();
    w.key("Newsletter");
    w.boolean((bits & 3U) != 0);
    w.key("Promotions");
    w.boolean((bits & 4U) != 0);
    w.end_object();
  }
  if (wants(kBitSegmentations)) {
    const std::uint64_t bits = current(24);
    w.key("segmentations");
    w.begin_object();
    w.key("Tier");
    if (bits % 4 == 3)
      w.null();
    else
      w.string(kTiers[bits % 4]);
    w.key("Vip");
    if ((bits >> 8) % 10 == 0)
      w.string("Vip");
    else
      w.null();
    w.end_object();
  }
  w.end_object();
}

std::int64_t ProfileTable::resolve_key(std::string_view key) const {
  std::int64_t id = 0;
  const std::size_t eq = key.find('=');
  if (eq == std::string_view::npos) return parse_id(key, id) ? id : 0;  // numeric profileId
  const std::string_view attribute = key.substr(0, eq);
  const std::string_view value = key.substr(eq + 1);
  if (attribute == "profileId") return parse_id(value, id) ? id : 0;
  if (attribute == "emailAddress") {
    const std::size_t at = value.find('@');
    const std::size_t dot = value.substr(0, at).rfind('.');
    if (at == std::string_view::npos || dot == std::string_view::npos ||
        !parse_id(value.substr(dot + 1, at - dot - 1), id) || email_of(id) != value) {
      return 0;
    }
    return id;
  }
  if (attribute == "customerId") {
    if (!value.starts_with("C-") || !parse_id(value.substr(2), id) || customer_id(id) != value) {
      return 0;
    }
    return id;
  }
  const auto it = std::find_if(kAttributes.begin(), kAttributes.end(),
                               [&](const AttributeDef& a) { return attribute == a.name; });
  if (it == kAttributes.end()) {
    throw ApiError(400, "INVALID_PARAMETER",
                   fmt::format("profile key '{}': '{}' is not an attribute of {}", key, attribute,
                               table_name()));
  }
  throw ApiError(400, "INVALID_PARAMETER",
                 fmt::format("profile key '{}': attribute '{}' is not unique and cannot address a "
                             "profile (use profileId, emailAddress or customerId)",
                             key, attribute));
}

}  // namespace replicator::actito_sim

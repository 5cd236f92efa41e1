// The simulator's reading of actito-catalog.yaml: one ObjectSpec per servable object, plus the
// templates of the dynamic objects (contract 5.4, 6.11). Read with yaml-cpp, independently of the
// client's catalog code.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace replicator::actito_sim {

// Field types of contract 4.7 (`STRING[]` is kStringArray).
enum class FieldType {
  kString,
  kInteger,
  kLong,
  kNumber,
  kBoolean,
  kDate,
  kTimestamp,
  kJson,
  kStringArray
};

// Parses "STRING", "LONG", ..., "STRING[]"; throws std::invalid_argument on anything else.
FieldType parse_field_type(std::string_view text);
std::string_view to_string(FieldType type) noexcept;

// The comparison operators of contract 3.4 that can be native.
enum class Op { kEq, kLt, kLe, kGt, kGe, kIn };

// "==", "=lt=", ...
std::string_view to_rsql(Op op) noexcept;
// Maps a normalised RSQL operator to Op; returns false for anything that is never native.
bool parse_rsql_op(std::string_view text, Op& op) noexcept;
// Maps a seed operator of the catalog's `native_filters` ('=', '<', '<=', '>', '>=', 'IN').
Op parse_seed_op(std::string_view text);

struct FieldSpec {
  std::string name;  // logical name, e.g. "UpdatedAt"
  std::string wire;  // wire name, e.g. "updateMoment" (a dot for nested properties)
  FieldType type = FieldType::kString;
  bool nullable = true;
  bool extended = false;                 // contract 3.8: only in the single GET
  std::vector<std::string> enum_values;  // the values the simulator generates (enums are open)
};

// Which `fields=` names a list accepts (contract 3.5).
enum class Projection {
  kNone,         // `fields` gets 400 INVALID_PARAMETER
  kAnyTopLevel,  // any top-level key of the rows (ProfileTables, CustomTables)
  kListed,       // exactly `projection_names`
};

// Everything the generic list machinery needs to know about one object. Immutable once built.
struct ObjectSpec {
  std::string name;            // logical object name ("EmailCampaigns", "Customers")
  std::string category;        // URL category slug
  std::string list_route;      // template, e.g. /profiles/v5/entities/{entity}/profile-tables/...
  std::string get_route;       // template of the single GET; empty when list-only
  std::string collection_key;  // envelope key
  std::int64_t max_page_size = 200;
  std::vector<std::string> key;  // wire names of the key fields, in order
  std::vector<FieldSpec> fields;
  std::vector<std::pair<std::string, std::vector<Op>>> search_selectors;  // wire -> native ops
  std::vector<std::string> sortable;                                      // wire names
  Projection projection = Projection::kNone;
  std::vector<std::string> projection_names;  // for kListed
  std::vector<std::string> always_returned;   // names kept by any projection (the key...)
  std::string parent_object;                  // nested objects (contract 3.7), else empty
  std::string parent_path_param;              // e.g. "campaignId"
  std::string parent_key_wire;                // the parent's field the path holds, e.g. "id"
  std::string child_field_wire;               // the child's field equal to it, e.g. "campaignId"

  const FieldSpec* field(std::string_view wire) const noexcept;
  // Native operators of a selector, or nullptr when the selector is not filterable.
  const std::vector<Op>* native_ops(std::string_view wire) const noexcept;
  bool is_sortable(std::string_view wire) const noexcept;
};

// One entry of `dynamic_objects`, before it is instantiated for a concrete table.
struct DynamicTemplate {
  std::string name_pattern;  // "<ProfileTable>", "<CustomTable>", ...
  std::string category;
  std::string list_route;
  std::string get_route;
  std::string collection_key;
  std::int64_t max_page_size = 200;
  std::vector<std::string> key;  // logical names, possibly placeholders
  struct Field {
    std::string name;
    std::string wire;
    std::string type;  // raw: a type name or a description for per-attribute fields
    bool nullable = true;
    std::vector<std::string> enum_values;
  };
  std::vector<Field> fields;
  std::vector<std::pair<std::string, std::vector<Op>>> native_filters;  // logical -> ops
  std::vector<std::string> sortable;                                    // may hold <placeholders>
  std::vector<std::string> fields_projection;                           // may hold <placeholders>
  bool has_projection = false;

  // The non-pattern fields whose type is a plain type name (technical fields).
  std::vector<FieldSpec> plain_fields() const;
  // Native ops of a logical name (e.g. "UpdatedAt"), or nullptr.
  const std::vector<Op>* native_ops(std::string_view logical) const noexcept;
};

// Instantiates a dynamic template whose fields all have plain types (the per-profile-table
// objects such as <ProfileTable>_Interactions) under the object name `name`.
ObjectSpec instantiate_plain_template(const DynamicTemplate& dynamic, std::string name);

// The parsed catalog. Immutable after load; safe to share between threads.
class Catalog {
 public:
  // Throws std::runtime_error naming the file and the offending entry.
  static Catalog load_file(const std::string& path);
  static Catalog load_text(const std::string& yaml, const std::string& source_name);

  const std::string& contract_version() const noexcept { return contract_version_; }
  const std::vector<ObjectSpec>& objects() const noexcept { return objects_; }
  const std::vector<DynamicTemplate>& dynamic_templates() const noexcept { return dynamic_; }
  // Throws std::out_of_range when absent.
  const ObjectSpec& object(std::string_view name) const;
  const DynamicTemplate& dynamic(std::string_view name_pattern) const;

 private:
  std::string contract_version_;
  std::vector<ObjectSpec> objects_;
  std::vector<DynamicTemplate> dynamic_;
};

}  // namespace replicator::actito_sim

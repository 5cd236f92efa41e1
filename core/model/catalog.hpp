// The Actito object catalog as data: what each object is called, where it lives on the wire, its
// fields, key, cursor fields and native filters. Loaded from the catalog YAML (config module);
// nothing in the code branches on an object's name.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/model/value.hpp"

namespace replicator::model {

enum class ReplicationMode { kIncrementalUpdated, kIncrementalCreated, kFullRefresh };
std::string_view to_string(ReplicationMode mode) noexcept;

// Comparison operators of the predicate language and of native filters (contract 3.4).
enum class FilterOp { kEq, kNe, kLt, kLe, kGt, kGe, kIn };
std::string_view to_string(FilterOp op) noexcept;  // "=", "!=", "<", ...

struct FieldDescriptor {
  std::string name;                    // logical: "EmailAddress"
  std::string wire;                    // dotted wire path: "attributes.emailAddress"
  std::vector<std::string> wire_path;  // {"attributes", "emailAddress"}
  FieldType type = FieldType::kString;
  bool multi_valued = false;
  bool nullable = true;
  bool extended = false;  // only returned by the single-record GET (contract 3.8)
  std::string write;      // required | optional | immutable | readonly | "" (read-only object)
  // For dynamic templates: the field is a pattern ("<AttributeName>", "Subscription_<name>")
  // that discovery expands into one field per attribute, subscription or category.
  bool pattern = false;
};

struct ParentDescriptor {
  std::string object;        // parent object name (EmailCampaigns)
  std::string path_param;    // route placeholder ({campaignId})
  std::string parent_field;  // logical field of the parent (Id)
  std::string child_field;   // logical field of the child (CampaignId)
};

struct ObjectDescriptor {
  std::string name;  // logical name used in jobs ("EmailCampaigns", "Customers_Interactions")
  std::string family;
  std::string category;
  std::string list_route;  // with placeholders: {entity}, {profileTableId}, ...
  std::string get_route;   // empty when there is no single-record route
  std::string collection_key;
  int max_page_size = 200;
  std::vector<std::string> key;  // logical field names
  std::optional<ParentDescriptor> parent;
  std::string created_field;  // logical name or empty
  std::string updated_field;  // logical name or empty
  ReplicationMode mode = ReplicationMode::kFullRefresh;
  bool cursor_pushdown = false;  // the watermark is a native filter and travels in `search`
  std::vector<FieldDescriptor> fields;
  std::map<std::string, std::vector<FilterOp>> native_filters;  // logical field -> operators
  std::vector<std::string> sortable;                            // wire names
  bool fields_projection = false;
  // The per-row GETs for extended fields are always made (suppress_extended_requests does not
  // apply): the object exists to carry them (contract 3.8, EmailCampaignsExtended).
  bool extended_always = false;
  std::vector<std::string> dml;
  // Values for placeholders other than {entity}, set when a dynamic object is discovered
  // ({profileTableId} -> "16").
  std::map<std::string, std::string> route_params;
  // For dynamic templates: "profile table" or "custom table"; empty for static objects.
  std::string per;

  const FieldDescriptor* find_field(std::string_view logical) const noexcept;
  // The logical name of the cursor field of the replication mode, or empty for full refresh.
  const std::string& cursor_field() const noexcept;
  bool native(std::string_view logical, FilterOp op) const noexcept;
};

struct Catalog {
  std::string contract_version;
  std::map<std::string, std::string> hosts;  // ENV-3 -> https://api3.actito.com
  std::vector<ObjectDescriptor> objects;     // static objects
  std::vector<ObjectDescriptor> templates;   // dynamic templates, name = "<ProfileTable>_..."

  const ObjectDescriptor* find_static(std::string_view name) const noexcept;
  const ObjectDescriptor* find_template(std::string_view name_pattern) const noexcept;
};

}  // namespace replicator::model

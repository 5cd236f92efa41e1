// A field list shared by the predicate tests.
#pragma once

#include <string>
#include <vector>

#include "core/model/catalog.hpp"

namespace replicator::predicate::testing {

inline model::FieldDescriptor field(std::string name, model::FieldType type, bool multi = false) {
  model::FieldDescriptor f;
  f.wire = name;
  f.name = std::move(name);
  f.type = type;
  f.multi_valued = multi;
  return f;
}

inline std::vector<model::FieldDescriptor> campaign_fields() {
  using model::FieldType;
  return {field("Id", FieldType::kLong),
          field("Status", FieldType::kString),
          field("Priority", FieldType::kInteger),
          field("Amount", FieldType::kNumber),
          field("Active", FieldType::kBoolean),
          field("BirthDate", FieldType::kDate),
          field("CreatedAt", FieldType::kTimestamp),
          field("Tags", FieldType::kString, true),
          field("Payload", FieldType::kJson),
          field("ETLId", FieldType::kLong)};
}

}  // namespace replicator::predicate::testing

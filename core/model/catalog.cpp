#include "core/model/catalog.hpp"

#include <algorithm>

namespace replicator::model {

std::string_view to_string(ReplicationMode mode) noexcept {
  switch (mode) {
    case ReplicationMode::kIncrementalUpdated: return "incremental";
    case ReplicationMode::kIncrementalCreated: return "append";
    case ReplicationMode::kFullRefresh: return "full";
  }
  return "?";
}

std::string_view to_string(FilterOp op) noexcept {
  switch (op) {
    case FilterOp::kEq: return "=";
    case FilterOp::kNe: return "!=";
    case FilterOp::kLt: return "<";
    case FilterOp::kLe: return "<=";
    case FilterOp::kGt: return ">";
    case FilterOp::kGe: return ">=";
    case FilterOp::kIn: return "IN";
  }
  return "?";
}

const FieldDescriptor* ObjectDescriptor::find_field(std::string_view logical) const noexcept {
  for (const auto& f : fields) {
    if (f.name == logical) return &f;
  }
  return nullptr;
}

const std::string& ObjectDescriptor::cursor_field() const noexcept {
  static const std::string kNone;
  switch (mode) {
    case ReplicationMode::kIncrementalUpdated: return updated_field;
    case ReplicationMode::kIncrementalCreated: return created_field;
    case ReplicationMode::kFullRefresh: return kNone;
  }
  return kNone;
}

bool ObjectDescriptor::native(std::string_view logical, FilterOp op) const noexcept {
  auto it = native_filters.find(std::string(logical));
  return it != native_filters.end() &&
         std::find(it->second.begin(), it->second.end(), op) != it->second.end();
}

const ObjectDescriptor* Catalog::find_static(std::string_view name) const noexcept {
  for (const auto& o : objects) {
    if (o.name == name) return &o;
  }
  return nullptr;
}

const ObjectDescriptor* Catalog::find_template(std::string_view name_pattern) const noexcept {
  for (const auto& o : templates) {
    if (o.name == name_pattern) return &o;
  }
  return nullptr;
}

}  // namespace replicator::model

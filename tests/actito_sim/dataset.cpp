#include "tests/actito_sim/dataset.hpp"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

#include "tests/actito_sim/static_rows.hpp"

namespace replicator::actito_sim {

Dataset::Dataset(const Catalog& catalog, DataOptions options)
    : anchor_ms_(options.history.anchor_ms != 0 ? options.history.anchor_ms : system_now_ms()) {
  options.history.anchor_ms = anchor_ms_;
  const auto& profile_template = catalog.dynamic("<ProfileTable>");
  const auto& custom_template = catalog.dynamic("<CustomTable>");
  std::int64_t numeric_id = 16;
  try {
    numeric_id = std::stoll(options.profile_table_id);
  } catch (const std::exception&) {
    throw std::invalid_argument(
        fmt::format("profile table id '{}' must be digits", options.profile_table_id));
  }
  for (std::size_t i = 0; i < options.profile_tables; ++i) {
    TableOptions t;
    t.id = std::to_string(numeric_id + static_cast<std::int64_t>(i));
    t.name = i == 0 ? options.profile_table_name
                    : fmt::format("{}{}", options.profile_table_name, i + 1);
    t.rows = options.profiles;
    t.seed = options.seed + i;
    t.history = options.history;
    t.style = options.style;
    profile_tables_.push_back(std::make_unique<ProfileTable>(profile_template, std::move(t)));
  }
  for (std::size_t i = 0; i < options.custom_tables; ++i) {
    TableOptions t;
    t.name =
        i == 0 ? options.custom_table_name : fmt::format("{}{}", options.custom_table_name, i + 1);
    t.rows = options.custom_records;
    t.seed = options.seed + 1000 + i;
    t.history = options.history;
    t.style = options.style;
    const std::string reference =
        profile_tables_.empty() ? std::string() : profile_tables_.front()->table_id();
    const auto profile_count =
        static_cast<std::int64_t>(profile_tables_.empty() ? 0 : options.profiles);
    custom_tables_.push_back(
        std::make_unique<CustomTable>(custom_template, std::move(t), reference, profile_count));
  }
  std::vector<boost::json::object> profile_rows, custom_rows;
  for (const auto& t : profile_tables_) profile_rows.push_back(t->structure());
  for (const auto& t : custom_tables_) custom_rows.push_back(t->structure());
  profile_structures_ = std::make_unique<GenericCollection>(catalog.object("ProfileTables"),
                                                            std::move(profile_rows), options.style);
  custom_structures_ = std::make_unique<GenericCollection>(catalog.object("CustomTables"),
                                                           std::move(custom_rows), options.style);
  if (options.static_objects) build_static_objects(catalog, options);
  std::int64_t latest = anchor_ms_;
  for (const auto& t : profile_tables_) latest = std::max(latest, t->max_moment());
  for (const auto& t : custom_tables_) latest = std::max(latest, t->max_moment());
  clock_.advance_to(latest);
}

void Dataset::build_static_objects(const Catalog& catalog, const DataOptions& options) {
  StaticRowContext context;
  context.seed = options.seed;
  context.history = options.history;
  context.entity = options.entity;
  if (!profile_tables_.empty()) {
    context.profile_table_id = profile_tables_.front()->table_id();
    context.profile_table_name = profile_tables_.front()->table_name();
  }
  context.profile_count = static_cast<std::int64_t>(profile_tables_.empty() ? 0 : options.profiles);
  context.reference_range =
      static_cast<std::int64_t>(std::max<std::size_t>(options.static_rows, 1));
  auto rows_for = [&](const ObjectSpec& spec) {
    if (spec.max_page_size > 200) return options.interaction_rows;  // the interaction objects
    return spec.parent_object.empty() ? options.static_rows : options.static_rows * 2;
  };
  for (const auto& spec : catalog.objects()) {
    if (spec.name == "ProfileTables" || spec.name == "CustomTables") continue;
    const auto parents = static_cast<std::int64_t>(options.static_rows);
    static_objects_[spec.name] = std::make_unique<GenericCollection>(
        spec, generate_static_rows(spec, rows_for(spec), context, parents), options.style);
  }
  for (const auto& table : profile_tables_) {
    context.profile_table_id = table->table_id();
    context.profile_table_name = table->table_name();
    for (const char* pattern : {"<ProfileTable>_Scenarios", "<ProfileTable>_Interactions",
                                "<ProfileTable>_SubscriptionInteractions"}) {
      std::string name(pattern);
      name.replace(0, std::string_view("<ProfileTable>").size(), table->table_name());
      const ObjectSpec spec = instantiate_plain_template(catalog.dynamic(pattern), name);
      per_table_[{pattern, table->table_id()}] = std::make_unique<GenericCollection>(
          spec, generate_static_rows(spec, rows_for(spec), context), options.style);
    }
  }
}

const GenericCollection* Dataset::static_object(std::string_view name) const noexcept {
  const auto it = static_objects_.find(name);
  return it == static_objects_.end() ? nullptr : it->second.get();
}

const GenericCollection* Dataset::profile_table_object(std::string_view name_pattern,
                                                       std::string_view table_id) const noexcept {
  const auto it = per_table_.find({std::string(name_pattern), std::string(table_id)});
  return it == per_table_.end() ? nullptr : it->second.get();
}

ProfileTable* Dataset::profile_table(std::string_view id) const noexcept {
  for (const auto& t : profile_tables_) {
    if (t->table_id() == id) return t.get();
  }
  return nullptr;
}

CustomTable* Dataset::custom_table(std::string_view id) const noexcept {
  for (const auto& t : custom_tables_) {
    if (t->table_id() == id) return t.get();
  }
  return nullptr;
}

RecordTable* Dataset::table(std::string_view name) const noexcept {
  for (const auto& t : profile_tables_) {
    if (t->table_name() == name) return t.get();
  }
  for (const auto& t : custom_tables_) {
    if (t->table_name() == name) return t.get();
  }
  return nullptr;
}

std::vector<std::string> Dataset::table_names() const {
  std::vector<std::string> names;
  for (const auto& t : profile_tables_) names.push_back(t->table_name());
  for (const auto& t : custom_tables_) names.push_back(t->table_name());
  return names;
}

MutationResult Dataset::mutate(const MutationSpec& spec) {
  RecordTable* target = table(spec.table);
  if (target == nullptr) {
    throw std::invalid_argument(
        fmt::format("unknown table '{}' (tables: {})", spec.table, fmt::join(table_names(), ", ")));
  }
  std::vector<std::int64_t> refs;
  if (auto* custom = dynamic_cast<CustomTable*>(target); custom != nullptr && spec.creates > 0) {
    if (ProfileTable* profiles = profile_table(custom->referenced_table_id())) {
      refs = profiles->random_ids(static_cast<std::size_t>(spec.creates));
    }
  }
  MutationResult result = target->mutate(spec, clock_, refs);
  if (dynamic_cast<ProfileTable*>(target) != nullptr && !result.deleted.empty()) {
    for (const auto& custom : custom_tables_) {
      if (custom->referenced_table_id() == target->table_id()) {
        result.cascaded += custom->delete_by_ref(result.deleted);
      }
    }
  }
  return result;
}

}  // namespace replicator::actito_sim

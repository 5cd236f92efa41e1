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
  generic_rng_ = Rng(mix64(options.seed ^ 0x737461746963ULL));
  // Objects sharing a list route share one collection, built from the spec with the most fields
  // (so that the single GET returns the extended fields, contract 3.8 and 6.1.1).
  std::map<std::string, const ObjectSpec*> richest;  // list route -> spec
  for (const auto& spec : catalog.objects()) {
    const ObjectSpec*& best = richest[spec.list_route];
    if (best == nullptr || spec.fields.size() > best->fields.size()) best = &spec;
  }
  std::map<std::string, std::shared_ptr<GenericCollection>> by_route;
  for (const auto& spec : catalog.objects()) {
    if (spec.name == "ProfileTables" || spec.name == "CustomTables") continue;
    const ObjectSpec& served = *richest[spec.list_route];
    auto& shared = by_route[spec.list_route];
    if (!shared) {
      const auto parents = static_cast<std::int64_t>(options.static_rows);
      shared = std::make_shared<GenericCollection>(
          served, generate_static_rows(served, rows_for(served), context, parents), options.style);
    }
    static_objects_[spec.name] = shared;
    generic_by_name_[spec.name] = GenericEntry{shared.get(), spec, context};
  }
  for (const auto& table : profile_tables_) {
    context.profile_table_id = table->table_id();
    context.profile_table_name = table->table_name();
    for (const char* pattern : {"<ProfileTable>_Scenarios", "<ProfileTable>_Interactions",
                                "<ProfileTable>_SubscriptionInteractions"}) {
      std::string name(pattern);
      name.replace(0, std::string_view("<ProfileTable>").size(), table->table_name());
      const ObjectSpec spec = instantiate_plain_template(catalog.dynamic(pattern), name);
      auto collection = std::make_unique<GenericCollection>(
          spec, generate_static_rows(spec, rows_for(spec), context), options.style);
      generic_by_name_[name] = GenericEntry{collection.get(), spec, context};
      per_table_[{pattern, table->table_id()}] = std::move(collection);
    }
  }
}

GenericCollection* Dataset::static_object(std::string_view name) const noexcept {
  const auto it = static_objects_.find(name);
  return it == static_objects_.end() ? nullptr : it->second.get();
}

GenericCollection* Dataset::generic_object(std::string_view name,
                                           const ObjectSpec** shape) const noexcept {
  const auto it = generic_by_name_.find(name);
  if (it == generic_by_name_.end()) return nullptr;
  if (shape != nullptr) *shape = &it->second.shape;
  return it->second.collection;
}

std::vector<std::string> Dataset::generic_object_names() const {
  std::vector<std::string> names;
  for (const auto& [name, entry] : generic_by_name_) names.push_back(name);
  return names;
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

void Dataset::set_visibility_delay(std::chrono::milliseconds delay) noexcept {
  visibility_delay_ms_ = std::max<std::int64_t>(delay.count(), 0);
}

std::chrono::milliseconds Dataset::visibility_delay() const noexcept {
  return std::chrono::milliseconds(visibility_delay_ms_.load());
}

MutationResult Dataset::mutate(const MutationSpec& spec) {
  const std::string& name = spec.object.empty() ? spec.table : spec.object;
  RecordTable* target = table(name);
  if (target == nullptr) {
    const auto generic = generic_by_name_.find(name);
    if (generic != generic_by_name_.end()) return mutate_generic(generic->second, spec);
    throw std::invalid_argument(
        fmt::format("unknown table or object '{}' (tables: {}; objects: {})", name,
                    fmt::join(table_names(), ", "), fmt::join(generic_object_names(), ", ")));
  }
  std::vector<std::int64_t> refs;
  if (auto* custom = dynamic_cast<CustomTable*>(target); custom != nullptr && spec.creates > 0) {
    if (ProfileTable* profiles = profile_table(custom->referenced_table_id())) {
      refs = profiles->random_ids(static_cast<std::size_t>(spec.creates));
    }
  }
  MutationResult result =
      target->mutate(spec, clock_, refs, spec.visibility_delay.value_or(visibility_delay()));
  if (dynamic_cast<ProfileTable*>(target) != nullptr && !result.deleted.empty()) {
    for (const auto& custom : custom_tables_) {
      if (custom->referenced_table_id() == target->table_id()) {
        result.cascaded += custom->delete_by_ref(result.deleted);
      }
    }
  }
  return result;
}

namespace {

std::int64_t row_id(const boost::json::object& row, const ObjectSpec& spec) {
  const boost::json::value* v = row.if_contains(spec.key.back());
  return v != nullptr && (v->is_int64() || v->is_uint64()) ? v->to_number<std::int64_t>() : 0;
}

}  // namespace

MutationResult Dataset::mutate_generic(const GenericEntry& entry, const MutationSpec& request) {
  std::lock_guard guard(generic_mutation_mutex_);
  GenericCollection& collection = *entry.collection;
  const ObjectSpec& spec = collection.spec();  // the served (richest) spec
  if (spec.key.empty() || spec.key.back().find('.') != std::string::npos ||
      spec.field(spec.key.back()) == nullptr ||
      (spec.field(spec.key.back())->type != FieldType::kLong &&
       spec.field(spec.key.back())->type != FieldType::kInteger)) {
    throw std::invalid_argument(
        fmt::format("{} has no numeric id and cannot be mutated", spec.name));
  }
  MutationResult result;
  result.table = entry.shape.name;
  const std::uint32_t version = ++generic_version_;
  // Parents for creates of a nested object (contract 3.7).
  std::vector<std::int64_t> parents;
  if (!spec.parent_object.empty() && request.creates > 0) {
    const GenericCollection* parent = static_object(spec.parent_object);
    if (parent == nullptr) throw std::invalid_argument("the parent object is not served");
    for (const auto& row : parent->rendered_rows()) {
      const boost::json::value* v = row.if_contains(spec.parent_key_wire);
      if (v != nullptr && v->is_int64()) parents.push_back(v->as_int64());
    }
    if (request.parent_id != 0) {
      if (std::find(parents.begin(), parents.end(), request.parent_id) == parents.end()) {
        throw std::invalid_argument(fmt::format("{} has no row with {} {}", spec.parent_object,
                                                spec.parent_key_wire, request.parent_id));
      }
      parents = {request.parent_id};
    }
    if (parents.empty()) {
      throw std::invalid_argument(
          fmt::format("{} has no rows to create {} under", spec.parent_object, spec.name));
    }
  }
  const std::int64_t shared_moment = request.same_moment ? clock_.now() : 0;
  auto stamp = [&] {
    const std::int64_t moment = request.same_moment ? shared_moment : clock_.now();
    if (result.first_moment_ms == 0) result.first_moment_ms = moment;
    result.last_moment_ms = moment;
    return moment;
  };
  const std::int64_t delay =
      std::max<std::int64_t>(request.visibility_delay.value_or(visibility_delay()).count(), 0);
  collection.edit([&](std::vector<boost::json::object>& rows,
                      std::vector<GenericCollection::Write>& writes) {
    std::map<std::int64_t, std::size_t> index;  // id -> position
    std::int64_t& high = generic_high_id_[&collection];
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const std::int64_t id = row_id(rows[i], spec);
      index[id] = i;
      high = std::max(high, id);
    }
    std::vector<bool> taken(rows.size(), false);
    auto resolve = [&](const std::vector<std::int64_t>& ids) {
      std::vector<std::size_t> out;
      for (const std::int64_t id : ids) {
        const auto it = index.find(id);
        if (it == index.end()) {
          throw std::invalid_argument(
              fmt::format("{} has no row with id {}", entry.shape.name, id));
        }
        if (taken[it->second]) {
          throw std::invalid_argument(
              fmt::format("id {} is given twice in update_ids/delete_ids", id));
        }
        taken[it->second] = true;
        out.push_back(it->second);
      }
      return out;
    };
    std::vector<std::size_t> updates = resolve(request.update_ids);
    std::vector<std::size_t> deletes = resolve(request.delete_ids);
    std::vector<std::size_t> pool;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (!taken[i]) pool.push_back(i);
    }
    for (std::size_t i = pool.size(); i > 1; --i)
      std::swap(pool[i - 1], pool[generic_rng_.below(i)]);
    std::size_t next = 0;
    for (std::int64_t n = 0; n < request.updates && next < pool.size(); ++n)
      updates.push_back(pool[next++]);
    for (std::int64_t n = 0; n < request.deletes && next < pool.size(); ++n)
      deletes.push_back(pool[next++]);

    for (const std::size_t i : updates) {
      const std::int64_t moment = stamp();
      boost::json::object before = rows[i];
      rows[i] = next_static_row(spec, before, version, entry.context, moment);
      result.updated.push_back(row_id(rows[i], spec));
      writes.push_back({result.updated.back(), std::move(before), rows[i], moment + delay});
    }
    std::vector<bool> doomed(rows.size(), false);
    for (const std::size_t i : deletes) {
      doomed[i] = true;
      result.deleted.push_back(row_id(rows[i], spec));
    }
    std::size_t write = 0;
    for (std::size_t read = 0; read < rows.size(); ++read) {
      if (!doomed[read]) {
        if (write != read) rows[write] = std::move(rows[read]);
        ++write;
      }
    }
    rows.resize(write);
    for (std::int64_t n = 0; n < request.creates; ++n) {
      const std::int64_t id = ++high;
      const std::int64_t parent = parents.empty() ? 0 : parents[generic_rng_.below(parents.size())];
      const std::int64_t moment = stamp();
      rows.push_back(new_static_row(spec, id, version, entry.context, moment, parent));
      result.created.push_back(id);
      writes.push_back({id, std::nullopt, rows.back(), moment + delay});
    }
  });
  std::sort(result.updated.begin(), result.updated.end());
  std::sort(result.deleted.begin(), result.deleted.end());
  if (!result.deleted.empty()) {
    // Children of deleted parents go too (their list route answers 404 from now on, 3.7).
    std::vector<GenericCollection*> done;
    for (const auto& [name, child] : generic_by_name_) {
      const ObjectSpec& child_spec = child.collection->spec();
      if (child_spec.parent_object.empty() ||
          static_object(child_spec.parent_object) != &collection ||
          std::find(done.begin(), done.end(), child.collection) != done.end()) {
        continue;
      }
      done.push_back(child.collection);
      child.collection->edit([&](std::vector<boost::json::object>& rows,
                                 std::vector<GenericCollection::Write>&) {
        const std::size_t before = rows.size();
        std::erase_if(rows, [&](const boost::json::object& row) {
          const boost::json::value* v = row.if_contains(child_spec.child_field_wire);
          return v != nullptr && v->is_int64() &&
                 std::binary_search(result.deleted.begin(), result.deleted.end(), v->as_int64());
        });
        result.cascaded += static_cast<std::int64_t>(before - rows.size());
      });
    }
  }
  return result;
}

void Dataset::add_attribute(std::string_view table_name, const AttributeSpec& attribute) {
  std::lock_guard guard(structure_mutex_);
  RecordTable* target = table(table_name);
  if (target == nullptr) {
    throw std::invalid_argument(
        fmt::format("unknown table '{}' (tables: {})", table_name, fmt::join(table_names(), ", ")));
  }
  target->add_attribute(attribute);
  refresh_structures();
}

void Dataset::remove_attribute(std::string_view table_name, std::string_view attribute) {
  std::lock_guard guard(structure_mutex_);
  RecordTable* target = table(table_name);
  if (target == nullptr) {
    throw std::invalid_argument(
        fmt::format("unknown table '{}' (tables: {})", table_name, fmt::join(table_names(), ", ")));
  }
  target->remove_attribute(attribute);
  refresh_structures();
}

void Dataset::refresh_structures() {
  std::vector<boost::json::object> profile_rows, custom_rows;
  for (const auto& t : profile_tables_) profile_rows.push_back(t->structure());
  for (const auto& t : custom_tables_) custom_rows.push_back(t->structure());
  profile_structures_->replace_rows(std::move(profile_rows));
  custom_structures_->replace_rows(std::move(custom_rows));
}

}  // namespace replicator::actito_sim

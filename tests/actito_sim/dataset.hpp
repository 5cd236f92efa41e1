// All data the simulator serves for its one entity: the generated profile and custom tables, the
// structure collections derived from them, and cross-table mutations (CASCADE deletes).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "tests/actito_sim/catalog.hpp"
#include "tests/actito_sim/custom_table.hpp"
#include "tests/actito_sim/generic_collection.hpp"
#include "tests/actito_sim/profile_table.hpp"
#include "tests/actito_sim/static_rows.hpp"

namespace replicator::actito_sim {

struct DataOptions {
  std::uint64_t seed = 42;
  std::size_t profiles = 1000;        // rows of each profile table
  std::size_t custom_records = 1000;  // rows of each custom table
  std::size_t profile_tables = 1;     // "Customers" (id 16), then "Customers2" (17)...
  std::size_t custom_tables = 1;      // "Orders", then "Orders2"... (all -> first profile table)
  std::string profile_table_name = "Customers";
  std::string profile_table_id = "16";
  std::string custom_table_name = "Orders";
  HistoryOptions history;  // anchor_ms 0 = the current time
  TimestampStyle style = TimestampStyle::kIsoUtc;
  bool static_objects = true;          // serve every static object of the catalog too
  std::size_t static_rows = 12;        // rows per static object (and per scenario list)
  std::size_t interaction_rows = 200;  // rows of the interaction objects
  std::string entity = "acme";         // for derived fields such as entityOfTarget
};

// Owns every table. The table set is fixed after construction, so lookups are lock-free; each
// table is internally thread-safe. mutate() and the structure changes may run concurrently with
// reads from any thread. Objects that share a wire collection (EmailCampaigns and
// EmailCampaignsExtended) share one data set: the collection of the object with the most fields.
class Dataset {
 public:
  Dataset(const Catalog& catalog, DataOptions options);

  // By structure id (the ids used in routes); nullptr when absent.
  ProfileTable* profile_table(std::string_view id) const noexcept;
  CustomTable* custom_table(std::string_view id) const noexcept;
  // By table name (the control API and in-process tests); nullptr when absent.
  RecordTable* table(std::string_view name) const noexcept;
  std::vector<std::string> table_names() const;

  // A static object of the catalog by name (nullptr when absent or static objects are off).
  GenericCollection* static_object(std::string_view name) const noexcept;
  // A static object or a per-profile-table object ("Customers_Interactions") by object name, with
  // the catalog spec of that name (its `fields` give the object's shape); nullptr when absent.
  GenericCollection* generic_object(std::string_view name,
                                    const ObjectSpec** shape = nullptr) const noexcept;
  std::vector<std::string> generic_object_names() const;
  // A per-profile-table object ("<ProfileTable>_Interactions"...) of one profile table.
  const GenericCollection* profile_table_object(std::string_view name_pattern,
                                                std::string_view table_id) const noexcept;

  const GenericCollection& profile_table_structures() const noexcept {
    return *profile_structures_;
  }
  const GenericCollection& custom_table_structures() const noexcept { return *custom_structures_; }

  // Applies a mutation to a profile or custom table (deleting profiles also deletes the custom
  // records that reference them, contract 3.9 onDelete CASCADE) or to a static / per-profile-table
  // object (deleting a parent, e.g. an EmailCampaigns or Forms row, also deletes its children,
  // counted in `cascaded`). Throws std::invalid_argument for an unknown name or id. Created and
  // updated rows reach the list routes only at their moment + the visibility delay (spec's, else
  // visibility_delay()): see RecordTable and GenericCollection.
  MutationResult mutate(const MutationSpec& spec);

  // Late arrivals (contract 3.6): the delay given to the rows that later mutations write.
  void set_visibility_delay(std::chrono::milliseconds delay) noexcept;
  std::chrono::milliseconds visibility_delay() const noexcept;

  // Run-time structure changes of a profile or custom table (contract 5.5); the structure routes
  // reflect them at once. Throw std::invalid_argument (see RecordTable::add_attribute).
  void add_attribute(std::string_view table, const AttributeSpec& attribute);
  void remove_attribute(std::string_view table, std::string_view attribute);

  MomentClock& clock() noexcept { return clock_; }
  std::int64_t anchor_ms() const noexcept { return anchor_ms_; }

 private:
  struct GenericEntry {
    GenericCollection* collection = nullptr;
    ObjectSpec shape;  // the catalog entry of this name
    StaticRowContext context;
  };
  void build_static_objects(const Catalog& catalog, const DataOptions& options);
  MutationResult mutate_generic(const GenericEntry& entry, const MutationSpec& spec);
  void refresh_structures();

  std::int64_t anchor_ms_;
  std::vector<std::unique_ptr<ProfileTable>> profile_tables_;
  std::vector<std::unique_ptr<CustomTable>> custom_tables_;
  std::unique_ptr<GenericCollection> profile_structures_;
  std::unique_ptr<GenericCollection> custom_structures_;
  std::map<std::string, std::shared_ptr<GenericCollection>, std::less<>> static_objects_;
  // (name pattern, profile table id) -> collection
  std::map<std::pair<std::string, std::string>, std::unique_ptr<GenericCollection>> per_table_;
  std::map<std::string, GenericEntry, std::less<>> generic_by_name_;  // fixed after construction
  MomentClock clock_;
  std::atomic<std::int64_t> visibility_delay_ms_{0};
  std::mutex generic_mutation_mutex_;  // serialises mutate_generic; guards the members below
  Rng generic_rng_{0};
  std::uint32_t generic_version_ = 0;
  std::map<const GenericCollection*, std::int64_t> generic_high_id_;  // ids are never reused
  std::mutex structure_mutex_;  // serialises structure changes and their refresh
};

}  // namespace replicator::actito_sim

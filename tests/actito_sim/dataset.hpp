// All data the simulator serves for its one entity: the generated profile and custom tables, the
// structure collections derived from them, and cross-table mutations (CASCADE deletes).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tests/actito_sim/catalog.hpp"
#include "tests/actito_sim/custom_table.hpp"
#include "tests/actito_sim/generic_collection.hpp"
#include "tests/actito_sim/profile_table.hpp"

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
// table is internally thread-safe. mutate() may run concurrently with reads from any thread.
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
  const GenericCollection* static_object(std::string_view name) const noexcept;
  // A per-profile-table object ("<ProfileTable>_Interactions"...) of one profile table.
  const GenericCollection* profile_table_object(std::string_view name_pattern,
                                                std::string_view table_id) const noexcept;

  const GenericCollection& profile_table_structures() const noexcept {
    return *profile_structures_;
  }
  const GenericCollection& custom_table_structures() const noexcept { return *custom_structures_; }

  // Applies a mutation; deleting profiles also deletes the custom records that reference them
  // (contract 3.9, onDelete CASCADE). Throws std::invalid_argument for an unknown table.
  MutationResult mutate(const MutationSpec& spec);

  MomentClock& clock() noexcept { return clock_; }
  std::int64_t anchor_ms() const noexcept { return anchor_ms_; }

 private:
  void build_static_objects(const Catalog& catalog, const DataOptions& options);

  std::int64_t anchor_ms_;
  std::vector<std::unique_ptr<ProfileTable>> profile_tables_;
  std::vector<std::unique_ptr<CustomTable>> custom_tables_;
  std::unique_ptr<GenericCollection> profile_structures_;
  std::unique_ptr<GenericCollection> custom_structures_;
  std::map<std::string, std::unique_ptr<GenericCollection>, std::less<>> static_objects_;
  // (name pattern, profile table id) -> collection
  std::map<std::pair<std::string, std::string>, std::unique_ptr<GenericCollection>> per_table_;
  MomentClock clock_;
};

}  // namespace replicator::actito_sim

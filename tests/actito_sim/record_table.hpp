// The fast in-memory engine behind the profile and custom tables: compact rows sorted by id, lazily
// rebuilt sort indexes, binary-searched ranges, cached filtered scans, and mutations.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "tests/actito_sim/collection.hpp"
#include "tests/actito_sim/data_generation.hpp"
#include "tests/actito_sim/json_writer.hpp"
#include "tests/actito_sim/timestamp.hpp"

namespace replicator::actito_sim {

// One stored record. Attribute values are not stored: they derive from hash(seed, id, version),
// so 1,000,000 rows take 40 MB.
struct RecordCore {
  std::int64_t id = 0;          // technical id (profileId, custom record id); rows sorted by it
  std::int64_t created_ms = 0;  // creationMoment
  std::int64_t updated_ms = 0;  // updateMoment
  std::int64_t ref = 0;         // foreign-key target (custom records -> profileId), 0 if none
  std::uint32_t version = 0;    // bumped by every update
  std::uint32_t epoch = 0;      // structure epoch of the last write (run-time attributes)
};

// A source of server moments that never goes backwards (contract 3.6: moments come from the
// server clock at ms precision). Thread-safe.
class MomentClock {
 public:
  // Next moment: the system time, or the last moment handed out if the system clock stepped back.
  std::int64_t now() noexcept;
  void advance_to(std::int64_t ms) noexcept;

 private:
  std::mutex mutex_;
  std::int64_t last_ = 0;
};

// What one mutation asks for (the in-process API and POST /_sim/mutate). New members keep a
// default member initialiser so that positional initialisation of the first five stays valid.
struct MutationSpec {
  std::string table;  // table name, e.g. "Customers", or any object name (see `object`)
  std::int64_t creates = 0;
  std::int64_t updates = 0;  // random existing rows (besides update_ids)
  std::int64_t deletes =
      0;  // random existing rows (not among the updated ones; besides delete_ids)
  bool same_moment = false;  // one moment for every row, as a bulk import does (contract 4.5)
  // Alternative to `table`: a static catalog object ("EmailCampaigns", "Forms",
  // "EmailCampaignResults"...) or a per-profile-table object ("Customers_Interactions").
  std::string object{};
  std::vector<std::int64_t> update_ids{};  // explicit rows to update (technical ids / `id`)
  std::vector<std::int64_t> delete_ids{};  // explicit rows to delete
  std::int64_t parent_id = 0;  // creates of a nested object go under this parent (0 = random)
  // Late arrivals (contract 3.6) for the rows this mutation creates or updates: listed only from
  // their moment + this delay. Unset = the simulator's SimOptions::visibility_delay.
  std::optional<std::chrono::milliseconds> visibility_delay{};
};

// A run-time attribute (POST /_sim/structure/attributes, contract 5.5).
struct AttributeSpec {
  std::string name;
  std::string value_type = "STRING";  // STRING INTEGER LONG NUMBER BOOLEAN DATE TIMESTAMP
  bool multi_valued = false;
};

struct MutationResult {
  std::string table;
  std::vector<std::int64_t> created;  // technical ids
  std::vector<std::int64_t> updated;
  std::vector<std::int64_t> deleted;
  std::int64_t cascaded = 0;         // custom records deleted through a CASCADE foreign key
  std::int64_t first_moment_ms = 0;  // 0 when nothing was stamped
  std::int64_t last_moment_ms = 0;
};

// Base of the tables whose rows are RecordCore. Subclasses declare columns (the sortable and
// searchable wire names, each mapped to an int64 key), render rows and resolve record keys.
//
// Late arrivals (contract 3.6): a write made with a visibility delay is held back from
// list_page (rows, totalElements, key scans: every list) until the server clock (system time)
// reaches the row's moment + delay. Until then lists show the version the row had before the
// write, or nothing for a row created meanwhile; deletes are visible at once. get_one, row_json,
// for_each_row and size() read the latest writes at once (the single GET reads the store, lists
// read an index that lags behind it), so they are what a replica must end up holding.
//
// Thread-safety: every public member may be called from any thread; reads share a lock,
// mutations take it exclusively. Owned by the Dataset.
class RecordTable : public Collection {
 public:
  ~RecordTable() override;

  const ObjectSpec& spec() const noexcept override { return spec_; }
  std::int64_t list_page(const ListRequest& request, std::string& out) const override;
  void get_one(std::string_view key, std::string& out) const override;

  const std::string& table_id() const noexcept { return table_id_; }
  const std::string& table_name() const noexcept { return spec_.name; }
  std::size_t size() const;
  std::uint64_t generation() const;

  // Applies creates/updates/deletes. `refs` supplies one foreign-key target per create (only used
  // by tables that have a reference; may be empty otherwise). Created and updated rows are listed
  // only from their moment + `visibility_delay` (see the class comment).
  MutationResult mutate(const MutationSpec& spec, MomentClock& clock,
                        const std::vector<std::int64_t>& refs,
                        std::chrono::milliseconds visibility_delay = std::chrono::milliseconds{0});
  // Rows whose latest write list routes do not show yet (late arrivals in flight).
  std::size_t invisible_count() const;
  // Deletes the rows whose `ref` is in `sorted_refs` (CASCADE); returns how many.
  std::int64_t delete_by_ref(const std::vector<std::int64_t>& sorted_refs);
  // `count` random existing ids (for foreign keys of new custom records).
  std::vector<std::int64_t> random_ids(std::size_t count);
  // Latest moment stored (for the MomentClock at start-up).
  std::int64_t max_moment() const;

  // Streams every row in id order, in single-GET JSON text. Holds the read lock meanwhile: the
  // callback must not call back into this table.
  void for_each_row(const std::function<void(std::string_view json)>& callback) const;
  // The single-GET JSON text of a row, or an empty string when the id does not exist.
  std::string row_json(std::int64_t id) const;

  // Run-time structure changes (contract 5.5). A new attribute is listed by the structure at
  // once; rows written (created or updated) afterwards carry a generated, non-null value for it;
  // older rows do not carry the key at all. A removed attribute disappears from the structure and
  // from every row. Both throw std::invalid_argument (bad, reserved, duplicate or unknown name;
  // attributes the table depends on, such as keys, cannot be removed).
  void add_attribute(const AttributeSpec& attribute);
  void remove_attribute(std::string_view name);
  // The structure object served by the ProfileTables / CustomTables routes, as of now.
  boost::json::object structure() const;

 protected:
  // A filterable/sortable wire name and how to get its int64 key.
  enum class ColumnKind { kId, kCreated, kUpdated, kDerived };
  struct Column {
    std::string wire;
    ColumnKind kind = ColumnKind::kId;
    bool unique = false;    // distinct per row: nothing after it in a sort matters
    bool id_order = false;  // ascending key order equals ascending id order (identity index)
  };
  static constexpr std::int64_t kNullKey = INT64_MIN;  // nulls sort low (contract A05)

  RecordTable(ObjectSpec spec, std::string table_id, std::uint64_t seed, TimestampStyle style);

  // Registers the columns; must cover every sortable and searchable name of the spec.
  void set_columns(std::vector<Column> columns);
  void load_rows(std::vector<RecordCore> rows);

  // Key of a kDerived column (others are handled by the base).
  virtual std::int64_t derived_key(std::size_t column, const RecordCore& row) const;
  // Converts a search literal to a column key. Returns false when no row can match it (e.g. a
  // string key that is not in our canonical form).
  virtual bool literal_key(std::size_t column, const TypedValue& value, std::int64_t& key) const;
  // Bits of the top-level names to render for a request (bit i = projection name i).
  virtual std::uint64_t projection_mask(const ListRequest& request) const = 0;
  virtual void render(const RecordCore& row, std::uint64_t mask, JsonWriter& writer) const = 0;
  // Resolves a single-GET key (already percent-decoded) to a technical id; throws ApiError 404/400.
  virtual std::int64_t resolve_key(std::string_view key) const = 0;
  std::uint64_t seed() const noexcept { return seed_; }
  TimestampStyle style() const noexcept { return style_; }
  void write_timestamp(JsonWriter& writer, std::int64_t ms) const;
  const RecordCore* find_locked(std::int64_t id) const;  // caller holds the lock

  // ---- run-time attributes; every member below is read with the data lock held ----
  struct ExtraAttribute {
    std::string name;
    std::string value_type;
    FieldType type = FieldType::kString;
    bool multi_valued = false;
    std::uint32_t since_epoch = 0;  // rows with epoch >= this carry it
    std::uint64_t salt = 0;
  };
  // Names of the built-in (generated) attributes, in rendering order (at most 64).
  virtual std::vector<std::string_view> builtin_attributes() const = 0;
  // Names that can never be attribute names (technical fields, any letter case).
  virtual std::vector<std::string_view> reserved_names() const = 0;
  // Empty when the built-in attribute may be removed, else the reason it may not.
  virtual std::string unremovable_reason(std::string_view name) const = 0;
  // The structure object; called with the data lock held.
  virtual boost::json::object build_structure() const = 0;
  bool builtin_removed(std::size_t index) const noexcept {
    return (removed_builtins_ >> index) & 1U;
  }
  const std::vector<ExtraAttribute>& extras() const noexcept { return extras_; }
  // Writes `"name":value` for every run-time attribute the row carries.
  void write_extras(const RecordCore& row, JsonWriter& writer) const;

 private:
  struct SortIndex;
  struct Bounds;
  struct View;
  // A row with writes held back from lists: the version lists showed before them (none for a row
  // created meanwhile), then each write in order with the server time it becomes visible at.
  struct HeldWrite {
    RecordCore row;
    std::int64_t visible_at_ms = 0;
  };
  struct HeldRow {
    std::optional<RecordCore> base;
    std::vector<HeldWrite> writes;
  };
  std::int64_t column_key(std::size_t column, const RecordCore& row) const;
  // `rows` is rows_ (view_serial 0) or a View's rows; the caller holds the data lock.
  std::shared_ptr<const SortIndex> index_for(const std::vector<std::pair<std::size_t, bool>>& order,
                                             const std::vector<RecordCore>& rows,
                                             std::uint64_t view_serial) const;
  // The rows lists see at `now_ms` while writes are held back; nullptr when that is rows_ itself.
  // Caller holds the data lock (shared is enough).
  std::shared_ptr<const View> view_at(std::int64_t now_ms) const;
  // Folds the writes visible at `now_ms` into the base versions; caller holds the lock exclusively.
  void release_visible(std::int64_t now_ms);
  std::size_t column_of(std::string_view wire) const;

  ObjectSpec spec_;
  std::string table_id_;
  std::uint64_t seed_;
  TimestampStyle style_;
  std::vector<Column> columns_;

  mutable std::shared_mutex data_mutex_;  // guards rows_ ... removed_builtins_ below
  std::vector<RecordCore> rows_;          // sorted by id
  std::uint64_t generation_ = 0;          // bumped by every mutation; keys the caches
  std::int64_t next_id_ = 1;
  Rng mutation_rng_;
  std::uint32_t epoch_ = 0;             // bumped by every attribute addition
  std::vector<ExtraAttribute> extras_;  // run-time attributes
  std::uint64_t removed_builtins_ = 0;  // bit i: builtin_attributes()[i] was removed
  std::map<std::int64_t, HeldRow> held_;  // by id: rows with writes held back from lists

  mutable std::mutex cache_mutex_;            // guards the caches below
  mutable std::shared_ptr<const View> view_;  // the latest view built (late arrivals)
  mutable std::uint64_t next_view_serial_ = 1;
  mutable std::map<std::string, std::shared_ptr<const SortIndex>> indexes_;
  struct FilterCacheEntry {
    std::string signature;
    std::shared_ptr<const std::vector<std::uint32_t>> positions;
  };
  mutable std::vector<FilterCacheEntry> filter_cache_;  // most recent first
};

}  // namespace replicator::actito_sim

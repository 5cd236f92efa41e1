// A collection of JSON rows with generic filtering, sorting and projection driven by the catalog:
// serves the structure lists (ProfileTables, CustomTables) and suits any small static object.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "tests/actito_sim/collection.hpp"
#include "tests/actito_sim/timestamp.hpp"

namespace replicator::actito_sim {

// Rows are kept in wire shape, except that TIMESTAMP fields may hold epoch milliseconds (an
// integer), rendered at output time in the configured timestamp style.
//
// Late arrivals (contract 3.6): writes reported by edit() are held back from list_page (rows and
// totalElements) until the server clock (system time) reaches their `visible_at_ms`; until then
// lists show the row as it was before, or not at all for a new row. Deletes are visible at once.
// get_one, get_scoped, contains, rendered_rows and size() read the latest writes at once.
//
// Thread-safe: lists share a lock, replace_rows and edit take it exclusively.
class GenericCollection final : public Collection {
 public:
  GenericCollection(ObjectSpec spec, std::vector<boost::json::object> rows, TimestampStyle style);

  const ObjectSpec& spec() const noexcept override { return spec_; }
  std::int64_t list_page(const ListRequest& request, std::string& out) const override;
  void get_one(std::string_view key, std::string& out) const override;

  // Single GET restricted to rows whose `scope_wire` equals `scope_value` (nested objects: the
  // child row must belong to the parent of the path, contract 3.7).
  void get_scoped(std::string_view key, std::string_view scope_wire, std::string_view scope_value,
                  std::string& out) const;
  // Whether a row has `value` (compared as text) in field `wire`.
  bool contains(std::string_view wire, std::string_view value) const;

  // One write of an edit, for late arrivals: row `id` (the numeric value of the last key field)
  // now holds `after`; lists show `before` (nothing when absent) until `visible_at_ms`.
  struct Write {
    std::int64_t id = 0;
    std::optional<boost::json::object> before;
    boost::json::object after;
    std::int64_t visible_at_ms = 0;
  };

  void replace_rows(std::vector<boost::json::object> rows);
  // Runs `edit` on the stored rows under the exclusive lock (mutations). Rows keep the stored
  // shape described above. The callback reports every row it creates or updates in its second
  // argument (rows written without delay too: they end the late writes of their row).
  void edit(
      const std::function<void(std::vector<boost::json::object>&, std::vector<Write>&)>& edit);
  std::size_t size() const;
  // Every row in key order, in single-GET shape (timestamps rendered), restricted to the top-level
  // wire names of `shape`'s fields when `shape` is given (e.g. EmailCampaigns, which shares this
  // collection with EmailCampaignsExtended but has no extended fields).
  std::vector<boost::json::object> rendered_rows(const ObjectSpec* shape = nullptr) const;

 private:
  std::string render(const boost::json::object& row, const ListRequest* projection) const;
  // The numeric value of the last key field (0 when it has none).
  std::int64_t row_id(const boost::json::object& row) const;

  // A row with writes held back from lists: the version lists showed before them, then each write.
  struct HeldRow {
    std::optional<boost::json::object> base;
    std::vector<std::pair<boost::json::object, std::int64_t>> writes;  // row, visible_at_ms
  };

  ObjectSpec spec_;
  TimestampStyle style_;
  mutable std::shared_mutex mutex_;  // guards rows_
  std::vector<boost::json::object> rows_;
  std::map<std::int64_t, HeldRow> held_;  // by row_id; guarded by mutex_
};

}  // namespace replicator::actito_sim

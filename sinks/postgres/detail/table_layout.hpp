// The PostgreSQL shape of a stream (interface.md section 3) and the SQL built from it: DDL, the
// staging table and the change-only upsert. Identifiers are always quoted; no statement here
// contains a value. Private to sinks/postgres.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/engine/ports.hpp"

namespace replicator::sink_postgres::detail {

inline constexpr std::string_view kSyncedAt = "_synced_at";
inline constexpr std::string_view kDeletedAt = "_deleted_at";
inline constexpr std::string_view kOrdinal = "_ord";  // staging only: position in the page
inline constexpr std::string_view kStateTable = "_replication_state";

struct Column {
  std::string name;       // snake_case(field.name)
  std::string_view type;  // pg_type(field)
  std::string field;      // the logical field name, for messages
};

struct TableLayout {
  std::string schema;
  std::string table;             // snake_case(spec.stream)
  std::vector<Column> columns;   // in the order of spec.fields (the row layout)
  std::vector<std::size_t> key;  // positions in `columns`

  std::string qualified() const;  // "schema"."table"
  std::string display() const;    // schema.table, for messages
  // Identifies the column names, types and key: a staging table is reused while it matches.
  std::string signature() const;
};

// Throws model::Error(kPermanent) naming the table when the stream has no key, or when two fields
// map to the same column (or to a metadata column).
TableLayout layout_for(const engine::StreamSpec& spec, std::string_view schema);

std::string create_table_sql(const TableLayout& t);
std::string add_columns_sql(const TableLayout& t, const std::vector<const Column*>& missing);

// CREATE TEMP TABLE <staging> (_ord bigint, <columns with the target types>) ON COMMIT DELETE ROWS
std::string create_staging_sql(const TableLayout& t, std::string_view staging);

// Writes the rows of the staging table that are new or differ from the target, the last
// occurrence of a key winning; unchanged rows are not touched (no lock, no WAL, same
// _synced_at). Written rows get _synced_at = now() and _deleted_at = NULL.
std::string upsert_sql(const TableLayout& t, std::string_view staging);

std::string quoted_state_table(std::string_view schema);
std::string create_state_table_sql(std::string_view schema);

}  // namespace replicator::sink_postgres::detail

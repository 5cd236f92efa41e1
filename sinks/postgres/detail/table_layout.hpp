// The PostgreSQL shape of a stream (interface.md section 3) and the SQL built from it: DDL, the
// staging table and the change-only upsert. Identifiers are always quoted; no statement here
// contains a value. Private to sinks/postgres.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/engine/ports.hpp"

namespace replicator::sink_postgres::detail {

inline constexpr std::string_view kSyncedAt = "_synced_at";
inline constexpr std::string_view kDeletedAt = "_deleted_at";
inline constexpr std::string_view kOrdinal = "_ord";  // staging only: position in the page
inline constexpr std::string_view kStateTable = "_replication_state";
inline constexpr std::string_view kLastDeleteScan = "last_delete_scan";  // added in a later version
// How many times `reset` forgot the stream's state. A cycle writes its state only while the count
// is the one it loaded: a reset during a cycle is not overwritten by the cycle's next commit.
inline constexpr std::string_view kResets = "resets";  // added in a later version
inline constexpr std::string_view kMetadataTable = "_replication_metadata";
// One row per delete-detection scan in progress (UNLOGGED like the sets of seen keys: a crash
// empties both together, so a set that was lost is told apart from a set that is just empty).
inline constexpr std::string_view kKeyScansTable = "_replication_key_scans";
// PostgreSQL truncates longer identifiers (NAMEDATALEN - 1).
inline constexpr std::size_t kMaxIdentifier = 63;

struct Column {
  std::string name;       // snake_case(field.name)
  std::string_view type;  // pg_type(field)
  std::string field;      // the logical field name, for messages
  bool extended = false;  // field.extended (contract 3.8); never set on a key column
};

struct TableLayout {
  std::string schema;
  std::string table;             // snake_case(spec.stream)
  std::vector<Column> columns;   // in the order of spec.fields (the row layout)
  std::vector<std::size_t> key;  // positions in `columns`
  // spec.extended == kKeep: commits leave the stored extended columns as they are (new rows get
  // NULL in them).
  bool keep_extended = false;

  std::string qualified() const;  // "schema"."table"
  std::string display() const;    // schema.table, for messages
  // Identifies the column names, types, key, extended columns and keep_extended: a staging table
  // and the statements built for it are reused while it matches.
  std::string signature() const;
};

// Throws model::Error(kPermanent) naming the table when the stream has no key, or when two fields
// map to the same column (or to a metadata column).
TableLayout layout_for(const engine::StreamSpec& spec, std::string_view schema);

std::string create_table_sql(const TableLayout& t);

// Keys of the stored rows not marked deleted and absent from the set `seen` (what
// mark_deleted_sql would mark), in key order, at most $1 of them: one row per key, a JSON array
// in the tagged form of state_json.hpp (decode_keys("[" + text + "]")). Empty string when a key
// column has a type that form cannot carry back exactly (jsonb, arrays).
std::string unseen_keys_sql(const TableLayout& t, std::string_view seen);
std::string add_columns_sql(const TableLayout& t, const std::vector<const Column*>& missing);

// CREATE TEMP TABLE <staging> (_ord bigint, <columns with the target types>) ON COMMIT DELETE ROWS
std::string create_staging_sql(const TableLayout& t, std::string_view staging);

// Writes the rows of the staging table that are new or differ from the target, the last
// occurrence of a key winning; unchanged rows are not touched (no lock, no WAL, same
// _synced_at). Written rows get _synced_at = now() and _deleted_at = NULL. With keep_extended,
// the extended columns are neither compared nor updated, and new rows get NULL in them.
std::string upsert_sql(const TableLayout& t, std::string_view staging);

// SELECT returning the _ord of every staging row that is new, differs from the target in a
// non-extended column, or whose target row is marked deleted. Each staging row is judged on its
// own (duplicate keys included). Reads the target only.
std::string changed_sql(const TableLayout& t, std::string_view staging);

// `name` cut to at most `max` bytes without splitting a UTF-8 sequence.
std::string truncate_utf8(std::string_view name, std::size_t max);

// The name of the stream's set of seen keys: "_seen_<table>", or, when that is longer than 63
// bytes, a truncated table name plus "_" and 8 hex digits of a hash of the full table name.
std::string seen_table_name(std::string_view table);

// "name type, name type" for the key columns, as format_type() prints them in order (compared
// with an existing set of seen keys).
std::string key_shape(const TableLayout& t);

// CREATE UNLOGGED TABLE schema.<seen> (<key columns> NOT NULL, PRIMARY KEY (<key columns>))
std::string create_seen_sql(const TableLayout& t, std::string_view seen);

// CREATE TEMP TABLE <staging> (<key columns>) ON COMMIT DELETE ROWS
std::string create_key_staging_sql(const TableLayout& t, std::string_view staging);

// INSERT INTO schema.<seen> SELECT <keys> FROM pg_temp.<staging> ON CONFLICT DO NOTHING
std::string add_seen_sql(const TableLayout& t, std::string_view seen, std::string_view staging);

// UPDATE the target SET _deleted_at = $1 where it is NULL and the key is not in schema.<seen>
// (an anti-join on the set's primary key).
std::string mark_deleted_sql(const TableLayout& t, std::string_view seen);

std::string quoted_state_table(std::string_view schema);
std::string create_state_table_sql(std::string_view schema);

std::string create_metadata_table_sql(std::string_view schema);
std::string create_key_scans_table_sql(std::string_view schema);

}  // namespace replicator::sink_postgres::detail

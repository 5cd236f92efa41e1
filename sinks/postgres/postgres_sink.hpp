// The PostgreSQL destination: engine::Sink on libpqxx (interface.md section 3 layout, rows and
// their replication state committed in one transaction).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/engine/ports.hpp"
#include "sinks/postgres/dsn.hpp"

namespace replicator::sink_postgres {

// Options of one sink instance (the daemon fills them from a `destinations:` entry).
//
// | field                  | default             | meaning                                        |
// |------------------------|---------------------|------------------------------------------------|
// | dsn                    | (required)          | libpq conninfo or URI; a secret: never printed |
// |                        |                     | (messages go through redact_message)           |
// | schema                 | "actito"            | schema holding the tables and
// _replication_state| | application_name       | "actito-replicator" | shown in pg_stat_activity,
// unless the DSN sets | |                        |                     | application_name itself |
// | synchronous_commit_off | true                | SET synchronous_commit = off for this session: |
// |                        |                     | a crash may lose the last commits, never split |
// |                        |                     | rows from their state (they commit together)   |
// | connect_timeout        | 10 s                | libpq connect_timeout, unless the DSN or       |
// |                        |                     | PGCONNECT_TIMEOUT sets one                     |
struct PostgresSinkOptions {
  std::string dsn;
  std::string schema = "actito";
  std::string application_name = "actito-replicator";
  bool synchronous_commit_off = true;
  std::chrono::seconds connect_timeout{10};
};

// Writes streams into PostgreSQL tables named snake_case(stream), one column per field, plus
// `_synced_at` / `_deleted_at`, and keeps each stream's state in `<schema>._replication_state`.
//
// commit() runs ONE transaction: COPY the page into a per-session temp staging table, insert or
// update only the rows that are new or differ (last occurrence of a duplicate key wins; unchanged
// rows keep their _synced_at and are not rewritten), then upsert the state row with rows_total
// = state.rows_total + rows written, then COMMIT. Any failure rolls everything back. With
// spec.extended == kKeep the extended columns are neither compared nor updated (a new row gets
// NULL in them); the staging statements are cached per layout signature, which includes the mode.
//
// Errors are model::Error: kTransient for a lost connection (the next call reconnects),
// serialization failures, deadlocks and a COMMIT in doubt (re-read the state before retrying);
// kPermanent for rejected data (SQLSTATE classes 22, 23), schema problems (42, an existing column
// of another type) and invalid values; kAuth for refused credentials. Messages name schema.table
// (and the column when known) and the SQLSTATE, and never contain the DSN or a password.
//
// Thread-safety: none. An instance owns one pqxx::connection, opened lazily on the first call and
// replaced after a broken connection; it must be used by one thread at a time (engine::SinkWorker
// gives each sink its own thread). Use one instance per thread for parallel loads.
class PostgresSink final : public engine::Sink {
 public:
  explicit PostgresSink(PostgresSinkOptions options);
  ~PostgresSink() override;
  PostgresSink(const PostgresSink&) = delete;
  PostgresSink& operator=(const PostgresSink&) = delete;

  // Creates the schema, _replication_state and the stream's table if missing; adds missing
  // columns (nullable); never alters or drops a column: an existing column of another type is a
  // kPermanent error naming table, column, found and expected type. Safe when several processes
  // prepare at once (a transaction-scoped advisory lock serialises the DDL).
  void prepare(const engine::StreamSpec& spec) override;
  engine::StreamState load_state(const std::string& job, const std::string& stream) override;
  engine::CommitResult commit(const engine::StreamSpec& spec, std::span<const model::Row> rows,
                              const engine::StreamState& state) override;
  // Sets last_error and updated_at, creating the state row (and table) if needed.
  void record_failure(const std::string& job, const std::string& stream,
                      const std::string& error) override;
  // Clears watermark, exclusive flag, keys, plateau and last_success; rows and rows_total stay.
  bool reset_state(const std::string& job, const std::string& stream) override;
  std::vector<NamedState> list_states(const std::string& job) override;

  // One COPY of `rows` into the session's staging table and one SELECT against the stored rows
  // (extended columns are never compared). A missing table: every row is new.
  std::vector<bool> changed_rows(const engine::StreamSpec& spec,
                                 std::span<const model::Row> rows) override;

  // The set of seen keys is an UNLOGGED table `<schema>._seen_<table>` (a truncated name plus a
  // hash when longer than 63 bytes) keyed like the stream, plus a marker row in the UNLOGGED
  // `<schema>._replication_key_scans`. A crash of the server empties both; finish_key_scan then
  // refuses (kTransient) instead of marking every row. begin_key_scan creates (or, when the key's
  // columns changed, re-creates) and empties the set; add_seen_keys COPYs the keys through a
  // temp staging table (duplicates are ignored); finish_key_scan marks the rows absent from the
  // set (NOT EXISTS anti-join), writes `state` and empties the set in one transaction.
  void begin_key_scan(const engine::StreamSpec& spec) override;
  void add_seen_keys(const engine::StreamSpec& spec, std::span<const model::Row> keys) override;
  std::int64_t finish_key_scan(const engine::StreamSpec& spec, model::Timestamp at,
                               const engine::StreamState& state) override;
  // The anti-join of finish_key_scan, read-only, keys in key order.
  std::vector<model::Row> unseen_keys(const engine::StreamSpec& spec, std::size_t limit) override;

  // `<schema>._replication_metadata (key, fetched_at, body, updated_at)`, created on the first
  // store. The body never appears in messages or logs.
  std::optional<engine::CachedMetadata> load_metadata(const std::string& key) override;
  void store_metadata(const std::string& key, const engine::CachedMetadata& metadata) override;

  // The lease is a session-level advisory lock (class "actl", key hashtext("<schema>.<key>")) on
  // this sink's connection: it lasts as long as the session, so a killed instance frees it as
  // soon as PostgreSQL notices the closed connection. lease_holder reads pg_locks and
  // pg_stat_activity: "<application_name> (backend pid N, client ADDR, connected since T)".
  bool try_acquire_lease(const std::string& key) override;
  std::string lease_holder(const std::string& key) override;

  // For the `check` command: connects, and verifies that the role can create the schema (or use
  // and create in the existing one) and a table in it, inside a transaction that is rolled back.
  // Throws model::Error with a message saying what is missing.
  void check_privileges();

  const PostgresSinkOptions& options() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Connects and runs `SELECT 1` (readiness probes). Throws model::Error like the sink does.
void probe(const std::string& dsn, std::chrono::seconds connect_timeout = std::chrono::seconds(5));

}  // namespace replicator::sink_postgres

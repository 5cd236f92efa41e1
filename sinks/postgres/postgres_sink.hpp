// The PostgreSQL destination: engine::Sink on libpqxx (interface.md section 3 layout, rows and
// their replication state committed in one transaction).
#pragma once

#include <chrono>
#include <memory>
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
// = state.rows_total + rows written, then COMMIT. Any failure rolls everything back.
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
  void reset_state(const std::string& job, const std::string& stream) override;
  std::vector<NamedState> list_states(const std::string& job) override;

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

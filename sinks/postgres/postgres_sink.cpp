#include "sinks/postgres/postgres_sink.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <map>
#include <optional>
#include <pqxx/pqxx>
#include <utility>

#include "core/model/error.hpp"
#include "core/model/naming.hpp"
#include "sinks/postgres/detail/copy_text.hpp"
#include "sinks/postgres/detail/errors.hpp"
#include "sinks/postgres/detail/pqxx_compat.hpp"
#include "sinks/postgres/detail/state_json.hpp"
#include "sinks/postgres/detail/table_layout.hpp"

namespace replicator::sink_postgres {

namespace {

using detail::TableLayout;
using model::ErrorKind;
using model::quote_ident;

// Advisory lock class for DDL (the second key is hashtext(schema)): "actr".
constexpr int kDdlLockClass = 0x61637472;
// Advisory lock class of the job leases (high availability): "actl".
constexpr int kLeaseLockClass = 0x6163746c;
// COPY data is sent in chunks of about this size.
constexpr std::size_t kCopyChunk = 1 << 20;

const char* nullable(const std::optional<std::string>& s) { return s ? s->c_str() : nullptr; }

std::optional<std::string> opt_timestamp(const std::optional<model::Timestamp>& t) {
  if (!t) return std::nullopt;
  return detail::timestamptz_literal(*t);
}

std::optional<std::string> opt_text(const std::string& s) {
  if (s.empty()) return std::nullopt;
  return s;
}

// A failure to open the connection; guarded() adds what was being done when it happened.
class ConnectFailure : public model::Error {
 public:
  using model::Error::Error;
};

// Forwards server warnings to the log; notices are off (client_min_messages = warning).
class NoticeLogger final : public pqxx::errorhandler {
 public:
  NoticeLogger(pqxx::connection_base& c, std::string dsn) : errorhandler(c), dsn_(std::move(dsn)) {}
  bool operator()(const char msg[]) noexcept override {
    try {
      spdlog::warn("postgres: {}", detail::one_line(redact_message(msg, dsn_)));
    } catch (...) {
    }
    return false;
  }

 private:
  std::string dsn_;
};

// The columns of a state row, in the order row_to_state reads them. `has_delete_scan` is false
// while reading a state table of an earlier version that has no last_delete_scan column yet
// (reads never migrate; the first write of a session does).
std::string state_columns(bool has_delete_scan) {
  std::string cols =
      "job, stream, coalesce(cursor_field, ''), "
      "floor(extract(epoch FROM watermark) * 1000)::bigint, watermark_exclusive, "
      "keys_at_watermark::text, (plateau->>'offset')::bigint, (plateau->>'total')::bigint, "
      "rows_total, floor(extract(epoch FROM last_success) * 1000)::bigint, "
      "coalesce(last_error, ''), ";
  cols += has_delete_scan ? "floor(extract(epoch FROM last_delete_scan) * 1000)::bigint"
                          : "NULL::bigint";
  return cols;
}

engine::Sink::NamedState row_to_state(const pqxx::row& r) {
  engine::Sink::NamedState n;
  n.job = r[0].as<std::string>();
  n.stream = r[1].as<std::string>();
  engine::StreamState& s = n.state;
  s.cursor_field = r[2].as<std::string>();
  if (!r[3].is_null()) s.watermark = model::Timestamp{r[3].as<std::int64_t>()};
  s.watermark_exclusive = r[4].as<bool>();
  s.keys_at_watermark = detail::decode_keys(r[5].c_str());
  if (!r[6].is_null()) {
    s.plateau = engine::PlateauProgress{r[6].as<std::int64_t>(),
                                        r[7].is_null() ? 0 : r[7].as<std::int64_t>()};
  }
  s.rows_total = r[8].as<std::int64_t>();
  if (!r[9].is_null()) s.last_success = model::Timestamp{r[9].as<std::int64_t>()};
  s.last_error = r[10].as<std::string>();
  if (!r[11].is_null()) s.last_delete_scan = model::Timestamp{r[11].as<std::int64_t>()};
  return n;
}

void append_int(std::string& out, std::size_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

}  // namespace

// ---- implementation -----------------------------------------------------------------------------

struct PostgresSink::Impl {
  explicit Impl(PostgresSinkOptions o) : options(std::move(o)) {
    conninfo = options.dsn;
    if (std::getenv("PGCONNECT_TIMEOUT") == nullptr && options.connect_timeout.count() > 0) {
      conninfo = add_conninfo_default(conninfo, "connect_timeout",
                                      std::to_string(options.connect_timeout.count()));
    }
    if (!options.application_name.empty()) {
      conninfo =
          add_conninfo_default(conninfo, "fallback_application_name", options.application_name);
    }
    // A dead server or a cut network is noticed within about a minute, not the system's two
    // hours: a write blocked on it fails, and the job retries or another instance takes over.
    conninfo = add_conninfo_default(conninfo, "keepalives_idle", "30");
    conninfo = add_conninfo_default(conninfo, "keepalives_interval", "10");
    conninfo = add_conninfo_default(conninfo, "keepalives_count", "3");
    conninfo = add_conninfo_default(conninfo, "tcp_user_timeout", "60000");
    state_table = detail::quoted_state_table(options.schema);
    state_display = options.schema + "." + std::string(detail::kStateTable);
    metadata_table = quote_ident(options.schema) + "." + quote_ident(detail::kMetadataTable);
    metadata_display = options.schema + "." + std::string(detail::kMetadataTable);
    key_scans_table = quote_ident(options.schema) + "." + quote_ident(detail::kKeyScansTable);
  }

  ~Impl() { drop_connection(); }

  struct Staging {
    std::string name;       // unquoted, in pg_temp
    std::string signature;  // TableLayout::signature() it was created for; empty: re-create
    std::string upsert;     // the statement that merges it into the target
    std::string changed;    // the statement that lists the rows changed_rows() reports
  };

  PostgresSinkOptions options;
  std::string conninfo;          // the DSN plus our defaults; a secret
  std::string state_table;       // quoted
  std::string state_display;     // schema._replication_state
  std::string metadata_table;    // quoted
  std::string metadata_display;  // schema._replication_metadata
  std::string key_scans_table;   // quoted
  std::unique_ptr<pqxx::connection> conn;
  std::unique_ptr<NoticeLogger> notices;  // destroyed before `conn`
  // By target table, for the current connection. An entry keeps its name after a failure (the
  // table is dropped and re-created under it), so failures never leave temp tables behind.
  std::map<std::string, Staging> staging;
  // The `resets` count load_state read, by (job, stream): write_state stores a state only while
  // the row still has it (a reset during the cycle wins over the cycle).
  std::map<std::pair<std::string, std::string>, std::int64_t> resets_loaded;
  // Key-only staging tables for add_seen_keys, by target table; name and signature as above.
  std::map<std::string, Staging> key_staging;
  int staging_seq = 0;
  // The job lease (try_acquire_lease): wanted from its first success on; held by `conn`?
  std::optional<std::string> lease_key;
  bool lease_held = false;
  bool state_table_ready = false;     // created, or seen and migrated, in this session
  bool metadata_table_ready = false;  // created or seen in this session

  void drop_connection() noexcept {
    lease_held = false;
    staging.clear();
    key_staging.clear();
    state_table_ready = false;
    metadata_table_ready = false;
    notices.reset();
    if (conn) {
      try {
        conn->disconnect();
      } catch (...) {
      }
      conn.reset();
    }
  }

  pqxx::connection& connection() {
    if (!conn || !conn->is_open()) open_connection();
    // A new session holds no lease, and a session that lost the race for it must not write:
    // take it (back) before this session does anything.
    if (lease_key && !lease_held && !take_lease(*conn, *lease_key)) {
      model::fail(ErrorKind::kTransient, "the lease of " + *lease_key + " on schema " + options.schema +
                                             " was lost: another instance runs it now (" +
                                             holder(*conn, *lease_key) + ")");
    }
    return *conn;
  }

  void open_connection() {
    drop_connection();
    try {
      auto c = std::make_unique<pqxx::connection>(conninfo);
      detail::inhibit_reactivation(*c);
      c->set_client_encoding("UTF8");
      // The server-side keepalives decide how soon the server notices this process gone, and so
      // how soon a job's lease (a session advisory lock) frees for a standby instance.
      std::string setup =
          "SET client_min_messages = warning; SET TimeZone = 'UTC'; SET tcp_keepalives_idle = 30; "
          "SET tcp_keepalives_interval = 10; SET tcp_keepalives_count = 3";
      if (options.synchronous_commit_off) setup += "; SET synchronous_commit = off";
      {
        pqxx::nontransaction tx(*c);
        tx.exec(setup);
      }
      notices = std::make_unique<NoticeLogger>(*c, options.dsn);
      conn = std::move(c);
    } catch (...) {
      detail::DbFailure f = detail::classify_current_exception(options.dsn, true);
      drop_connection();
      throw ConnectFailure(f.kind, f.message);
    }
  }

  std::string lease_text(const std::string& key) const { return options.schema + "." + key; }

  bool take_lease(pqxx::connection& c, const std::string& key) {
    pqxx::nontransaction tx(c);
    lease_held = tx.exec_params1("SELECT pg_try_advisory_lock($1::int, hashtext($2))",
                                 std::to_string(kLeaseLockClass), lease_text(key))[0]
                     .as<bool>();
    return lease_held;
  }

  std::string holder(pqxx::connection& c, const std::string& key) {
    pqxx::nontransaction tx(c);
    auto r = tx.exec_params(
        "SELECT coalesce(nullif(a.application_name, ''), 'a session'), l.pid, "
        "coalesce(host(a.client_addr), 'local'), "
        "coalesce(to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), '?') "
        "FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1::int::oid "
        "AND l.objid = hashtext($2)::oid AND l.objsubid = 2 "
        "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        std::to_string(kLeaseLockClass), lease_text(key));
    if (r.empty()) return "";
    return std::string(r[0][0].c_str()) + " (backend pid " + r[0][1].c_str() + ", client " + r[0][2].c_str() +
           ", connected since " + r[0][3].c_str() + ")";
  }

  // Runs `fn`; maps whatever it throws (model::Error passes through) to a model::Error whose
  // message starts with `context`.
  // `context` is read when the failure happens, so a caller may update it step by step.
  template <class F>
  auto guarded(const std::string& context, F&& fn) -> decltype(fn()) {
    try {
      return fn();
    } catch (const ConnectFailure& e) {
      model::fail(e.kind(), context + ": " + e.what());
    } catch (const model::Error&) {
      throw;
    } catch (...) {
      detail::DbFailure f = detail::classify_current_exception(options.dsn, false);
      if (f.connection_lost || (conn && !conn->is_open())) {
        drop_connection();
        if (f.kind == ErrorKind::kPermanent) f.kind = ErrorKind::kTransient;
      }
      model::fail(f.kind, context + ": " + f.message);
    }
  }

  // ---- DDL --------------------------------------------------------------------------------------

  void lock_ddl(pqxx::transaction_base& tx) {
    tx.exec_params("SELECT pg_advisory_xact_lock($1::int, hashtext($2))",
                   std::to_string(kDdlLockClass), options.schema);
  }

  static bool schema_exists(pqxx::transaction_base& tx, const std::string& schema) {
    return !tx.exec_params("SELECT 1 FROM pg_namespace WHERE nspname = $1", schema).empty();
  }

  void ensure_schema(pqxx::transaction_base& tx) {
    if (!schema_exists(tx, options.schema))
      tx.exec0("CREATE SCHEMA " + quote_ident(options.schema));
  }

  // oid and relkind of schema.name, if it exists.
  std::optional<std::pair<std::string, char>> find_relation(pqxx::transaction_base& tx,
                                                            std::string_view name) {
    auto r = tx.exec_params(
        "SELECT c.oid::text, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = "
        "c.relnamespace WHERE n.nspname = $1 AND c.relname = $2",
        options.schema, std::string(name));
    if (r.empty()) return std::nullopt;
    return std::make_pair(r[0][0].as<std::string>(), r[0][1].c_str()[0]);
  }

  static bool has_column(pqxx::transaction_base& tx, const std::string& oid,
                         std::string_view column) {
    return !tx.exec_params(
                  "SELECT 1 FROM pg_attribute WHERE attrelid = $1::oid AND attname = $2 "
                  "AND NOT attisdropped",
                  oid, std::string(column))
                .empty();
  }

  // Creates the state table, or adds the columns later versions introduced. Under the DDL lock.
  void ensure_state_table(pqxx::transaction_base& tx) {
    auto rel = find_relation(tx, detail::kStateTable);
    if (!rel) {
      tx.exec0(detail::create_state_table_sql(options.schema));
      return;
    }
    // Checked first: ALTER TABLE would take an exclusive lock on the state table even when the
    // column exists.
    if (!has_column(tx, rel->first, detail::kLastDeleteScan)) {
      tx.exec0("ALTER TABLE " + state_table + " ADD COLUMN IF NOT EXISTS " +
               quote_ident(detail::kLastDeleteScan) + " timestamp with time zone");
    }
    if (!has_column(tx, rel->first, detail::kResets)) {
      tx.exec0("ALTER TABLE " + state_table + " ADD COLUMN IF NOT EXISTS " + quote_ident(detail::kResets) +
               " bigint NOT NULL DEFAULT 0");
    }
  }

  // Schema and state table, once per session (the first writer of a session pays for the lock).
  void ensure_state_storage(pqxx::transaction_base& tx) {
    if (state_table_ready) return;
    lock_ddl(tx);
    ensure_schema(tx);
    ensure_state_table(tx);
  }

  // has_*: false for a table of an earlier version, not migrated yet (reads never migrate).
  struct StateTableInfo {
    bool exists = false;
    bool has_delete_scan = false;
    bool has_resets = false;
  };

  StateTableInfo state_table_info(pqxx::transaction_base& tx) {
    if (state_table_ready) return {true, true, true};
    auto r = tx.exec_params1(
        "SELECT c IS NOT NULL, "
        "c IS NOT NULL AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c AND a.attname = $2 "
        "AND NOT a.attisdropped), "
        "c IS NOT NULL AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c AND a.attname = $3 "
        "AND NOT a.attisdropped) "
        "FROM to_regclass($1) AS c",
        state_table, std::string(detail::kLastDeleteScan), std::string(detail::kResets));
    return {r[0].as<bool>(), r[1].as<bool>(), r[2].as<bool>()};
  }

  // Schema and metadata table, once per session.
  void ensure_metadata_table(pqxx::transaction_base& tx) {
    if (metadata_table_ready) return;
    lock_ddl(tx);
    ensure_schema(tx);
    tx.exec0(detail::create_metadata_table_sql(options.schema));
  }

  void ensure_table(pqxx::transaction_base& tx, const TableLayout& t) {
    auto rel = find_relation(tx, t.table);
    if (!rel) {
      tx.exec0(detail::create_table_sql(t));
      return;
    }
    if (rel->second != 'r' && rel->second != 'p') {
      model::fail(ErrorKind::kPermanent, t.display() + " exists but is not a table (relkind '" +
                                             std::string(1, rel->second) + "'); drop or rename it");
    }
    std::map<std::string, std::string> found;  // column -> format_type
    for (const auto& r :
         tx.exec_params("SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
                        "WHERE attrelid = $1::oid AND attnum > 0 AND NOT attisdropped",
                        rel->first)) {
      found.emplace(r[0].as<std::string>(), r[1].as<std::string>());
    }

    std::vector<const detail::Column*> missing;
    std::string conflicts;
    auto check = [&](const std::string& column, std::string_view expected, const std::string& why) {
      auto it = found.find(column);
      if (it == found.end()) return false;
      if (it->second != expected) {
        if (!conflicts.empty()) conflicts += "; ";
        conflicts += "column " + column + why + " has type " + it->second + " but " +
                     std::string(expected) + " is expected";
      }
      return true;
    };
    for (const auto& c : t.columns) {
      if (!check(c.name, c.type, " (field " + c.field + ")")) missing.push_back(&c);
    }
    bool has_synced = check(std::string(detail::kSyncedAt), "timestamp with time zone", "");
    bool has_deleted = check(std::string(detail::kDeletedAt), "timestamp with time zone", "");
    if (!conflicts.empty()) {
      model::fail(ErrorKind::kPermanent,
                  t.display() + ": " + conflicts +
                      "; column types are never changed automatically: alter or drop the "
                      "column, then run again");
    }

    // The upsert needs the primary key to be exactly the stream's key.
    std::vector<std::string> pk;
    for (const auto& r : tx.exec_params(
             "SELECT a.attname FROM pg_index i "
             "CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, n) "
             "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
             "WHERE i.indrelid = $1::oid AND i.indisprimary ORDER BY k.n",
             rel->first)) {
      pk.push_back(r[0].as<std::string>());
    }
    std::vector<std::string> expected_pk;
    for (std::size_t k : t.key) expected_pk.push_back(t.columns[k].name);
    auto sorted = [](std::vector<std::string> v) {
      std::sort(v.begin(), v.end());
      return v;
    };
    if (sorted(pk) != sorted(expected_pk)) {
      auto list = [](const std::vector<std::string>& v) {
        std::string s;
        for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
        return s;
      };
      model::fail(ErrorKind::kPermanent, t.display() + ": the primary key is (" + list(pk) +
                                             ") but the stream's key is (" + list(expected_pk) +
                                             "); rows cannot be upserted");
    }

    if (!missing.empty()) tx.exec0(detail::add_columns_sql(t, missing));
    if (!has_synced) {
      const std::string c = quote_ident(detail::kSyncedAt);
      tx.exec0("ALTER TABLE " + t.qualified() + " ADD COLUMN " + c +
               " timestamp with time zone NOT NULL DEFAULT now()");
      tx.exec0("ALTER TABLE " + t.qualified() + " ALTER COLUMN " + c + " DROP DEFAULT");
    }
    if (!has_deleted) {
      tx.exec0("ALTER TABLE " + t.qualified() + " ADD COLUMN " + quote_ident(detail::kDeletedAt) +
               " timestamp with time zone");
    }
  }

  // ---- commit -----------------------------------------------------------------------------------

  // The page in COPY text format: "<ordinal>\t<v1>\t<v2>..." per row, chunked.
  static std::vector<std::string> encode_rows(const TableLayout& t, const engine::StreamSpec& spec,
                                              std::span<const model::Row> rows) {
    std::vector<std::string> chunks;
    std::string cur;
    cur.reserve(std::min<std::size_t>(kCopyChunk + 4096, rows.size() * 256 + 64));
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const model::Row& row = rows[i];
      if (row.size() != t.columns.size()) {
        model::fail(ErrorKind::kPermanent, t.display() + ": row " + std::to_string(i) + " has " +
                                               std::to_string(row.size()) +
                                               " values but the stream has " +
                                               std::to_string(t.columns.size()) + " fields");
      }
      if (!cur.empty()) cur += '\n';
      append_int(cur, i);
      for (std::size_t k = 0; k < row.size(); ++k) {
        cur += '\t';
        try {
          detail::append_copy_value(cur, row[k], spec.fields[k]);
        } catch (const model::Error& e) {
          model::fail(ErrorKind::kPermanent, t.display() + ", column " + t.columns[k].name +
                                                 " (field " + t.columns[k].field + "), row " +
                                                 std::to_string(i) + ": " + e.what());
        }
      }
      if (cur.size() >= kCopyChunk) {
        chunks.push_back(std::move(cur));
        cur = std::string();
        cur.reserve(kCopyChunk + 4096);
      }
    }
    if (!cur.empty()) chunks.push_back(std::move(cur));
    return chunks;
  }

  // The session's staging table for `t`, created (inside `tx`) when missing or outdated.
  Staging& staging_for(pqxx::transaction_base& tx, const TableLayout& t) {
    const std::string signature = t.signature();
    auto it = staging.find(t.display());
    if (it != staging.end() && it->second.signature == signature) return it->second;
    Staging s;
    if (it != staging.end()) {
      s.name = it->second.name;
    } else {
      s.name = "_stage_" + std::to_string(++staging_seq) + "_" + detail::truncate_utf8(t.table, 40);
    }
    s.signature = signature;
    s.upsert = detail::upsert_sql(t, s.name);
    s.changed = detail::changed_sql(t, s.name);
    tx.exec0("DROP TABLE IF EXISTS pg_temp." + quote_ident(s.name));
    tx.exec0(detail::create_staging_sql(t, s.name));
    staging[t.display()] = s;
    return staging[t.display()];
  }

  // The session's key-only staging table for `t` (add_seen_keys), created when missing or outdated.
  Staging& key_staging_for(pqxx::transaction_base& tx, const TableLayout& t) {
    const std::string signature = t.signature();
    auto it = key_staging.find(t.display());
    if (it != key_staging.end() && it->second.signature == signature) return it->second;
    Staging s;
    if (it != key_staging.end()) {
      s.name = it->second.name;
    } else {
      s.name = "_keys_" + std::to_string(++staging_seq) + "_" + detail::truncate_utf8(t.table, 40);
    }
    s.signature = signature;
    s.upsert = detail::add_seen_sql(t, detail::seen_table_name(t.table), s.name);
    tx.exec0("DROP TABLE IF EXISTS pg_temp." + quote_ident(s.name));
    tx.exec0(detail::create_key_staging_sql(t, s.name));
    key_staging[t.display()] = s;
    return key_staging[t.display()];
  }

  // The keys in COPY text format (one line per key, values in key order), chunked.
  static std::vector<std::string> encode_keys(const TableLayout& t, const engine::StreamSpec& spec,
                                              std::span<const model::Row> keys) {
    std::vector<std::string> chunks;
    std::string cur;
    for (std::size_t i = 0; i < keys.size(); ++i) {
      const model::Row& key = keys[i];
      if (key.size() != t.key.size()) {
        model::fail(ErrorKind::kPermanent, t.display() + ": key " + std::to_string(i) + " has " +
                                               std::to_string(key.size()) +
                                               " values but the stream's key has " +
                                               std::to_string(t.key.size()) + " fields");
      }
      if (!cur.empty()) cur += '\n';
      for (std::size_t k = 0; k < key.size(); ++k) {
        if (k > 0) cur += '\t';
        const std::size_t col = t.key[k];
        try {
          detail::append_copy_value(cur, key[k], spec.fields[col]);
        } catch (const model::Error& e) {
          model::fail(ErrorKind::kPermanent, t.display() + ", key column " + t.columns[col].name +
                                                 " (field " + t.columns[col].field + "), key " +
                                                 std::to_string(i) + ": " + e.what());
        }
      }
      if (cur.size() >= kCopyChunk) chunks.push_back(std::exchange(cur, std::string()));
    }
    if (!cur.empty()) chunks.push_back(std::move(cur));
    return chunks;
  }

  // Throws kPermanent naming the state table when a timestamp of `state` cannot be stored.
  void validate_state(const engine::StreamSpec& spec, const engine::StreamState& state) {
    try {
      if (state.watermark) detail::timestamptz_literal(*state.watermark);
      if (state.last_success) detail::timestamptz_literal(*state.last_success);
      if (state.last_delete_scan) detail::timestamptz_literal(*state.last_delete_scan);
    } catch (const model::Error& e) {
      model::fail(ErrorKind::kPermanent, state_display + ": state of " + spec.job + "/" +
                                             spec.stream + " not written: " + e.what());
    }
  }

  void write_state(pqxx::transaction_base& tx, const std::string& job, const std::string& stream,
                   const engine::StreamState& state, std::int64_t written) {
    const auto watermark = opt_timestamp(state.watermark);
    const auto last_success = opt_timestamp(state.last_success);
    const auto last_delete_scan = opt_timestamp(state.last_delete_scan);
    const auto cursor = opt_text(state.cursor_field);
    const auto error = opt_text(detail::sanitize_utf8(state.last_error));
    std::optional<std::string> plateau_offset, plateau_total;
    if (state.plateau) {
      plateau_offset = std::to_string(state.plateau->offset);
      plateau_total = std::to_string(state.plateau->total);
    }
    // The resets count this session loaded for the stream; none (no check) when it did not load it.
    std::optional<std::string> loaded_resets;
    if (auto it = resets_loaded.find({job, stream}); it != resets_loaded.end()) {
      loaded_resets = std::to_string(it->second);
    }
    const pqxx::result written_state = tx.exec_params(
        "INSERT INTO " + state_table +
            " AS r (job, stream, cursor_field, watermark, watermark_exclusive, keys_at_watermark, "
            "plateau, rows_total, last_success, last_error, updated_at, last_delete_scan, resets) "
            "VALUES ($1, $2, $3, $4::timestamptz, $5::boolean, $6::jsonb, "
            "CASE WHEN $7::bigint IS NULL THEN NULL "
            "ELSE jsonb_build_object('offset', $7::bigint, 'total', $8::bigint) END, "
            "$9::bigint, $10::timestamptz, $11, now(), $12::timestamptz, coalesce($13::bigint, 0)) "
            "ON CONFLICT (job, stream) DO UPDATE SET cursor_field = EXCLUDED.cursor_field, "
            "watermark = EXCLUDED.watermark, watermark_exclusive = EXCLUDED.watermark_exclusive, "
            "keys_at_watermark = EXCLUDED.keys_at_watermark, plateau = EXCLUDED.plateau, "
            "rows_total = EXCLUDED.rows_total, last_success = EXCLUDED.last_success, "
            "last_error = EXCLUDED.last_error, updated_at = EXCLUDED.updated_at, "
            "last_delete_scan = EXCLUDED.last_delete_scan "
            "WHERE $13::bigint IS NULL OR r.resets = $13::bigint",
        job, stream, nullable(cursor), nullable(watermark),
        std::string(state.watermark_exclusive ? "true" : "false"),
        detail::encode_keys(state.keys_at_watermark), nullable(plateau_offset),
        nullable(plateau_total), std::to_string(state.rows_total + written), nullable(last_success),
        nullable(error), nullable(last_delete_scan), nullable(loaded_resets));
    if (written_state.affected_rows() == 0) {
      throw engine::StateWasReset(state_display + ": " + job + "/" + stream +
                                  " was reset (actito-replicator reset) after this cycle began: what it read "
                                  "since its last commit is not written");
    }
  }
};

// ---- public API ---------------------------------------------------------------------------------

PostgresSink::PostgresSink(PostgresSinkOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

PostgresSink::~PostgresSink() = default;

const PostgresSinkOptions& PostgresSink::options() const noexcept { return impl_->options; }

void PostgresSink::prepare(const engine::StreamSpec& spec) {
  Impl& m = *impl_;
  const TableLayout layout = detail::layout_for(spec, m.options.schema);
  m.guarded(layout.display() + ": prepare failed", [&] {
    pqxx::work tx(m.connection(), "prepare");
    m.lock_ddl(tx);
    m.ensure_schema(tx);
    m.ensure_state_table(tx);
    m.ensure_table(tx, layout);
    tx.commit();
  });
  m.state_table_ready = true;
}

engine::StreamState PostgresSink::load_state(const std::string& job, const std::string& stream) {
  Impl& m = *impl_;
  return m.guarded(
      m.state_display + ": reading the state of " + job + "/" + stream + " failed", [&] {
        pqxx::read_transaction tx(m.connection(), "load_state");
        const auto info = m.state_table_info(tx);
        // A stream without a row starts at 0 resets: the row its first commit inserts has 0.
        m.resets_loaded.erase({job, stream});  // a failed read leaves no stale count behind
        if (!info.exists) {
          m.resets_loaded[{job, stream}] = 0;
          return engine::StreamState{};
        }
        auto r = tx.exec_params("SELECT " + state_columns(info.has_delete_scan) + ", " +
                                    (info.has_resets ? "resets" : "NULL::bigint") + " FROM " + m.state_table +
                                    " WHERE job = $1 AND stream = $2",
                                job, stream);
        // Without the column (a table of an earlier version): 0, the value the migration gives.
        m.resets_loaded[{job, stream}] = r.empty() || r[0][12].is_null() ? 0 : r[0][12].as<std::int64_t>();
        if (r.empty()) return engine::StreamState{};
        return row_to_state(r[0]).state;
      });
}

engine::CommitResult PostgresSink::commit(const engine::StreamSpec& spec,
                                          std::span<const model::Row> rows,
                                          const engine::StreamState& state) {
  Impl& m = *impl_;
  const TableLayout layout = detail::layout_for(spec, m.options.schema);
  // Encode and validate before touching the database.
  const std::vector<std::string> chunks = Impl::encode_rows(layout, spec, rows);
  m.validate_state(spec, state);

  const std::string prefix = layout.display() + ": commit failed while ";
  std::string context = prefix + "opening the transaction";
  std::int64_t written = 0;
  try {
    m.guarded(context, [&] {
      pqxx::work tx(m.connection(), "commit");
      m.ensure_state_storage(tx);
      if (!rows.empty()) {
        context = prefix + "copying " + std::to_string(rows.size()) + " rows into staging";
        Impl::Staging& staging = m.staging_for(tx, layout);
        detail::copy_text(tx, "pg_temp." + quote_ident(staging.name), chunks);
        context = prefix + "upserting rows";
        written = static_cast<std::int64_t>(tx.exec(staging.upsert).affected_rows());
      }
      context = prefix + "writing " + m.state_display;
      m.write_state(tx, spec.job, spec.stream, state, written);
      context = prefix + "committing";
      tx.commit();
    });
  } catch (...) {
    // A staging table or state table created in the failed transaction is gone with it.
    if (auto it = m.staging.find(layout.display()); it != m.staging.end()) {
      it->second.signature.clear();
    }
    m.state_table_ready = false;
    throw;
  }
  m.state_table_ready = true;
  return engine::CommitResult{written};
}

void PostgresSink::record_failure(const std::string& job, const std::string& stream,
                                  const std::string& error) {
  Impl& m = *impl_;
  m.guarded(m.state_display + ": recording the failure of " + job + "/" + stream + " failed", [&] {
    pqxx::work tx(m.connection(), "record_failure");
    m.ensure_state_storage(tx);
    tx.exec_params("INSERT INTO " + m.state_table +
                       " (job, stream, last_error, updated_at) VALUES ($1, $2, $3, now()) "
                       "ON CONFLICT (job, stream) DO UPDATE SET last_error = EXCLUDED.last_error, "
                       "updated_at = EXCLUDED.updated_at",
                   job, stream, detail::sanitize_utf8(error));
    tx.commit();
  });
  m.state_table_ready = true;
}

bool PostgresSink::reset_state(const std::string& job, const std::string& stream) {
  Impl& m = *impl_;
  bool migrated = false;
  const bool found = m.guarded(
      m.state_display + ": resetting the state of " + job + "/" + stream + " failed", [&] {
        pqxx::work tx(m.connection(), "reset_state");
        if (!m.state_table_info(tx).exists) return false;
        m.ensure_state_storage(tx);  // a table of an earlier version gets the later columns
        migrated = true;
        // resets + 1: a cycle running now cannot write its state over this one (write_state).
        const auto r = tx.exec_params("UPDATE " + m.state_table +
                                          " SET watermark = NULL, watermark_exclusive = false, "
                                          "keys_at_watermark = '[]', plateau = NULL, last_success = NULL, "
                                          "last_delete_scan = NULL, resets = resets + 1, updated_at = now() "
                                          "WHERE job = $1 AND stream = $2",
                                      job, stream);
        tx.commit();
        return r.affected_rows() > 0;
      });
  if (migrated) m.state_table_ready = true;
  return found;
}

std::vector<engine::Sink::NamedState> PostgresSink::list_states(const std::string& job) {
  Impl& m = *impl_;
  return m.guarded(m.state_display + ": listing states failed", [&] {
    std::vector<NamedState> out;
    pqxx::read_transaction tx(m.connection(), "list_states");
    const auto info = m.state_table_info(tx);
    if (!info.exists) return out;
    for (const auto& r :
         tx.exec_params("SELECT " + state_columns(info.has_delete_scan) + " FROM " + m.state_table +
                            " WHERE $1 = '' OR job = $1 ORDER BY job, stream",
                        job)) {
      out.push_back(row_to_state(r));
    }
    return out;
  });
}

std::vector<bool> PostgresSink::changed_rows(const engine::StreamSpec& spec,
                                             std::span<const model::Row> rows) {
  Impl& m = *impl_;
  if (rows.empty()) return {};
  const TableLayout layout = detail::layout_for(spec, m.options.schema);
  const std::vector<std::string> chunks = Impl::encode_rows(layout, spec, rows);
  try {
    return m.guarded(
        layout.display() + ": comparing " + std::to_string(rows.size()) +
            " rows with the stored rows failed",
        [&] {
          std::vector<bool> changed(rows.size(), false);
          // Writes only to the session's temp staging table; the target is only read.
          pqxx::work tx(m.connection(), "changed_rows");
          if (!m.find_relation(tx, layout.table)) {
            changed.assign(rows.size(), true);  // nothing stored yet: every row is new
            return changed;
          }
          Impl::Staging& staging = m.staging_for(tx, layout);
          detail::copy_text(tx, "pg_temp." + quote_ident(staging.name), chunks);
          for (const auto& r : tx.exec(staging.changed)) {
            const auto ord = r[0].as<std::int64_t>();
            if (ord >= 0 && static_cast<std::size_t>(ord) < changed.size()) {
              changed[static_cast<std::size_t>(ord)] = true;
            }
          }
          tx.commit();  // empties the staging table (ON COMMIT DELETE ROWS) and keeps it
          return changed;
        });
  } catch (...) {
    if (auto it = m.staging.find(layout.display()); it != m.staging.end()) {
      it->second.signature.clear();
    }
    throw;
  }
}

void PostgresSink::begin_key_scan(const engine::StreamSpec& spec) {
  Impl& m = *impl_;
  const TableLayout layout = detail::layout_for(spec, m.options.schema);
  const std::string seen = detail::seen_table_name(layout.table);
  const std::string seen_q = quote_ident(m.options.schema) + "." + quote_ident(seen);
  m.guarded(
      layout.display() + ": starting the key scan (" + m.options.schema + "." + seen + ") failed",
      [&] {
        pqxx::work tx(m.connection(), "begin_key_scan");
        m.lock_ddl(tx);
        m.ensure_schema(tx);
        tx.exec0(detail::create_key_scans_table_sql(m.options.schema));
        auto rel = m.find_relation(tx, seen);
        if (rel && rel->second != 'r') {
          model::fail(ErrorKind::kPermanent, layout.display() + ": " + m.options.schema + "." +
                                                 seen + " exists but is not a table (relkind '" +
                                                 std::string(1, rel->second) +
                                                 "'); drop or rename it");
        }
        if (rel) {
          // The key's columns or types changed since the set was created: start afresh.
          const std::string shape =
              tx.exec_params1(
                    "SELECT coalesce(string_agg(attname || ' ' || "
                    "format_type(atttypid, atttypmod), ', ' ORDER BY attnum), '') "
                    "FROM pg_attribute WHERE attrelid = $1::oid AND attnum > 0 "
                    "AND NOT attisdropped",
                    rel->first)[0]
                  .as<std::string>();
          if (shape != detail::key_shape(layout)) {
            tx.exec0("DROP TABLE " + seen_q);
            rel.reset();
          }
        }
        if (rel) {
          tx.exec0("TRUNCATE " + seen_q);
        } else {
          tx.exec0(detail::create_seen_sql(layout, seen));
        }
        tx.exec_params("INSERT INTO " + m.key_scans_table +
                           " (seen_table, started_at) VALUES ($1, now()) ON CONFLICT "
                           "(seen_table) DO UPDATE SET started_at = EXCLUDED.started_at",
                       seen);
        tx.commit();
      });
}

void PostgresSink::add_seen_keys(const engine::StreamSpec& spec, std::span<const model::Row> keys) {
  Impl& m = *impl_;
  if (keys.empty()) return;
  const TableLayout layout = detail::layout_for(spec, m.options.schema);
  const std::vector<std::string> chunks = Impl::encode_keys(layout, spec, keys);
  const std::string seen = detail::seen_table_name(layout.table);
  try {
    m.guarded(layout.display() + ": adding " + std::to_string(keys.size()) + " keys to " +
                  m.options.schema + "." + seen + " failed",
              [&] {
                pqxx::work tx(m.connection(), "add_seen_keys");
                Impl::Staging& staging = m.key_staging_for(tx, layout);
                detail::copy_text(tx, "pg_temp." + quote_ident(staging.name), chunks);
                tx.exec0(staging.upsert);
                tx.commit();
              });
  } catch (...) {
    if (auto it = m.key_staging.find(layout.display()); it != m.key_staging.end()) {
      it->second.signature.clear();
    }
    throw;
  }
}

std::int64_t PostgresSink::finish_key_scan(const engine::StreamSpec& spec, model::Timestamp at,
                                           const engine::StreamState& state) {
  Impl& m = *impl_;
  const TableLayout layout = detail::layout_for(spec, m.options.schema);
  const std::string seen = detail::seen_table_name(layout.table);
  const std::string seen_q = quote_ident(m.options.schema) + "." + quote_ident(seen);
  const std::string at_text = [&] {
    try {
      return detail::timestamptz_literal(at);
    } catch (const model::Error& e) {
      model::fail(ErrorKind::kPermanent,
                  layout.display() + ": deletion time not written: " + std::string(e.what()));
    }
  }();
  m.validate_state(spec, state);

  const std::string prefix = layout.display() + ": finishing the key scan failed while ";
  std::string context = prefix + "opening the transaction";
  std::int64_t marked = 0;
  try {
    m.guarded(context, [&] {
      pqxx::work tx(m.connection(), "finish_key_scan");
      m.ensure_state_storage(tx);
      context = prefix + "checking " + m.options.schema + "." + seen;
      // An UNLOGGED set is emptied by a crash of the server: its marker row goes with it, and
      // then the scan is incomplete (marking every row would be wrong).
      const bool scanning =
          tx.exec_params1("SELECT to_regclass($1) IS NOT NULL AND to_regclass($2) IS NOT NULL",
                          seen_q, m.key_scans_table)[0]
              .as<bool>() &&
          !tx.exec_params("SELECT 1 FROM " + m.key_scans_table + " WHERE seen_table = $1", seen)
               .empty();
      if (!scanning) {
        model::fail(ErrorKind::kTransient,
                    layout.display() + ": the set of keys seen by the scan (" + m.options.schema +
                        "." + seen +
                        ") is missing: the scan was not started, or PostgreSQL restarted and "
                        "emptied it; nothing was marked, the scan must start again");
      }
      if (m.find_relation(tx, layout.table)) {
        context = prefix + "marking the rows not seen";
        tx.exec0("ANALYZE " + seen_q);  // a plan from real counts for the anti-join
        marked = static_cast<std::int64_t>(
            tx.exec_params(detail::mark_deleted_sql(layout, seen), at_text).affected_rows());
      }
      context = prefix + "writing " + m.state_display;
      m.write_state(tx, spec.job, spec.stream, state, 0);
      context = prefix + "emptying " + m.options.schema + "." + seen;
      tx.exec0("TRUNCATE " + seen_q);
      tx.exec_params("DELETE FROM " + m.key_scans_table + " WHERE seen_table = $1", seen);
      context = prefix + "committing";
      tx.commit();
    });
  } catch (...) {
    m.state_table_ready = false;
    throw;
  }
  m.state_table_ready = true;
  return marked;
}

std::vector<model::Row> PostgresSink::unseen_keys(const engine::StreamSpec& spec, std::size_t limit) {
  Impl& m = *impl_;
  const TableLayout layout = detail::layout_for(spec, m.options.schema);
  const std::string sql = detail::unseen_keys_sql(layout, detail::seen_table_name(layout.table));
  if (sql.empty() || limit == 0) return {};
  return m.guarded(layout.display() + ": reading the keys the key scan did not see failed", [&] {
    std::vector<model::Row> keys;
    pqxx::read_transaction tx(m.connection(), "unseen_keys");
    const std::string seen_q =
        quote_ident(m.options.schema) + "." + quote_ident(detail::seen_table_name(layout.table));
    if (!m.find_relation(tx, layout.table) ||
        tx.exec_params1("SELECT to_regclass($1) IS NULL", seen_q)[0].as<bool>()) {
      return keys;
    }
    for (const auto& r : tx.exec_params(sql, static_cast<std::int64_t>(limit))) {
      auto decoded = detail::decode_keys("[" + std::string(r[0].c_str()) + "]");
      if (decoded.size() == 1) keys.push_back(std::move(decoded.front()));
    }
    return keys;
  });
}

std::optional<engine::CachedMetadata> PostgresSink::load_metadata(const std::string& key) {
  Impl& m = *impl_;
  return m.guarded(
      m.metadata_display + ": reading cached metadata failed",
      [&]() -> std::optional<engine::CachedMetadata> {
        pqxx::read_transaction tx(m.connection(), "load_metadata");
        if (!m.metadata_table_ready &&
            tx.exec_params1("SELECT to_regclass($1) IS NULL", m.metadata_table)[0].as<bool>()) {
          return std::nullopt;
        }
        auto r = tx.exec_params(
            "SELECT floor(extract(epoch FROM fetched_at) * 1000)::bigint, body FROM " +
                m.metadata_table + " WHERE key = $1",
            key);
        if (r.empty()) return std::nullopt;
        return engine::CachedMetadata{model::Timestamp{r[0][0].as<std::int64_t>()},
                                      r[0][1].as<std::string>()};
      });
}

void PostgresSink::store_metadata(const std::string& key, const engine::CachedMetadata& metadata) {
  Impl& m = *impl_;
  std::string fetched_at;
  try {
    fetched_at = detail::timestamptz_literal(metadata.fetched_at);
  } catch (const model::Error& e) {
    model::fail(ErrorKind::kPermanent,
                m.metadata_display + ": metadata not cached: " + std::string(e.what()));
  }
  // The body is never part of a message: only its size.
  m.guarded(m.metadata_display + ": caching metadata (" + std::to_string(metadata.body.size()) +
                " bytes) failed",
            [&] {
              pqxx::work tx(m.connection(), "store_metadata");
              m.ensure_metadata_table(tx);
              tx.exec_params("INSERT INTO " + m.metadata_table +
                                 " (key, fetched_at, body, updated_at) "
                                 "VALUES ($1, $2::timestamptz, $3, now()) ON CONFLICT (key) DO "
                                 "UPDATE SET fetched_at = EXCLUDED.fetched_at, body = "
                                 "EXCLUDED.body, updated_at = EXCLUDED.updated_at",
                             key, fetched_at, metadata.body);
              tx.commit();
            });
  m.metadata_table_ready = true;
}

void PostgresSink::check_privileges() {
  Impl& m = *impl_;
  const std::string& schema = m.options.schema;
  m.guarded("schema " + schema + ": privilege check failed", [&] {
    pqxx::work tx(m.connection(), "check_privileges");
    auto who = tx.exec1("SELECT current_user, current_database()");
    const std::string role = who[0].as<std::string>();
    const std::string database = who[1].as<std::string>();
    if (!Impl::schema_exists(tx, schema)) {
      if (!tx.exec1("SELECT has_database_privilege(current_database(), 'CREATE')")[0].as<bool>()) {
        model::fail(ErrorKind::kPermanent,
                    "role " + role + " cannot create schema " + schema + " in database " +
                        database +
                        ": it lacks the CREATE privilege on the database (GRANT "
                        "CREATE ON DATABASE, or create the schema for it)");
      }
      tx.exec0("CREATE SCHEMA " + quote_ident(schema));
    } else if (!tx.exec_params1("SELECT has_schema_privilege($1, 'USAGE') AND "
                                "has_schema_privilege($1, 'CREATE')",
                                schema)[0]
                    .as<bool>()) {
      model::fail(ErrorKind::kPermanent, "role " + role + " cannot create tables in schema " +
                                             schema + " of database " + database +
                                             ": it lacks USAGE or CREATE on the schema");
    }
    tx.exec0("CREATE TABLE " + quote_ident(schema) + "." +
             quote_ident("_replicator_check_" + std::to_string(m.conn->backendpid())) +
             " (id bigint PRIMARY KEY, v jsonb)");
    tx.abort();  // nothing stays behind
  });
}

bool PostgresSink::try_acquire_lease(const std::string& key) {
  Impl& m = *impl_;
  return m.guarded("lease " + key + " on schema " + m.options.schema, [&] {
    if (m.lease_key && *m.lease_key != key) {
      model::fail(ErrorKind::kPermanent, "this sink already holds the lease of " + *m.lease_key);
    }
    try {
      pqxx::connection& c = m.connection();
      if (m.lease_held || m.take_lease(c, key)) {
        m.lease_key = key;
        return true;
      }
      return false;
    } catch (const model::Error& e) {
      // connection() could not take the lease back after a reconnect: another instance has it.
      if (m.conn && m.conn->is_open() && !m.lease_held && m.lease_key) return false;
      throw;
    }
  });
}

std::string PostgresSink::lease_holder(const std::string& key) {
  Impl& m = *impl_;
  return m.guarded("lease holder of " + key, [&] {
    if (m.lease_held && m.lease_key == key) return std::string("this session");
    // A read: no lease needed on the session that asks.
    if (!m.conn || !m.conn->is_open()) m.open_connection();
    return m.holder(*m.conn, key);
  });
}

void probe(const std::string& dsn, std::chrono::seconds connect_timeout) {
  std::string conninfo = dsn;
  if (std::getenv("PGCONNECT_TIMEOUT") == nullptr && connect_timeout.count() > 0) {
    conninfo =
        add_conninfo_default(conninfo, "connect_timeout", std::to_string(connect_timeout.count()));
  }
  bool connecting = true;
  try {
    pqxx::connection c(conninfo);
    connecting = false;
    pqxx::nontransaction tx(c);
    tx.exec("SELECT 1");
  } catch (...) {
    detail::DbFailure f = detail::classify_current_exception(dsn, connecting);
    model::fail(f.kind, f.message);
  }
}

}  // namespace replicator::sink_postgres

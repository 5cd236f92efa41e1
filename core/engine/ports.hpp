// The engine's ports: what replication needs from a source (Actito), a sink (PostgreSQL) and
// time. Adapters implement them; the engine never knows which.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "core/model/catalog.hpp"
#include "core/model/error.hpp"
#include "core/model/value.hpp"

namespace replicator::engine {

using model::Row;
using model::Timestamp;
using model::Value;

// ---- source -------------------------------------------------------------------------------------

struct Constraint {
  std::string field;  // logical field name
  model::FilterOp op;
  std::vector<Value> values;  // one value, several for kIn
};

struct SortKey {
  std::string field;  // logical field name
  bool descending = false;
};

// One list request in the engine's terms; the source renders it for its wire (RSQL for Actito).
struct ListQuery {
  std::vector<Constraint> constraints;
  std::vector<SortKey> sort;
  std::int64_t page = 0;
  int size = 0;
};

struct PageResult {
  std::vector<Row> rows;  // values in the order of the stream's field list
  std::int64_t total_elements = 0;
  bool has_next = false;
  Timestamp server_date;  // the server clock when the page was computed (HTTP Date)
  // A row holds a property the object's descriptor does not declare (a new attribute of a
  // discovered table, contract 5.5): the structures are worth reading again.
  bool undeclared_fields = false;
};

// How a stream obtains the fields marked `extended` (contract 3.8): they are absent from list rows
// and come from one single-record GET per row.
enum class ExtendedFetch {
  kNone,   // the stream holds no extended field
  kFetch,  // one GET per row that is new or changed in this cycle; up-to-date rows cost nothing
  kKeep,   // no GET (suppress_extended_requests): list fields are written, the stored extended
           // values stay as they are (new rows get NULL)
};

// A nested object (contract 3.7): its list route needs a parent id, so a cycle reads the child
// list once per parent.
struct FanOut {
  model::ObjectDescriptor parent;  // listed (key only, every page) when `ids` is not given
  std::string path_param;          // the route placeholder the parent id fills ("campaignId")
  std::string parent_field;        // logical field of the parent holding the id ("Id")
  std::string child_field;         // logical field of the child repeating it ("CampaignId")
  // The parent set taken from the stream's filter (`CampaignId IN (...)`, `FormId = ...`); when
  // absent, every parent is listed.
  std::optional<std::vector<Value>> ids;
};

// Everything the engine knows about one stream.
struct StreamSpec {
  std::string job;
  std::string stream;  // the object's logical name
  model::ObjectDescriptor object;
  std::vector<model::FieldDescriptor> fields;  // the row layout: selected fields, key first
  std::vector<std::size_t> key_index;          // positions of the key fields in `fields`
  std::optional<std::size_t> cursor_index;     // position of the cursor field, if incremental
  model::ReplicationMode mode = model::ReplicationMode::kFullRefresh;
  std::vector<Constraint> pushed_filters;  // the native part of the stream's `where`
  // The rest of `where`, evaluated on each row read (positions of `fields`); empty = none.
  std::function<bool(const Row&)> local_filter;
  // The whole `where` (pushed and local), for a row read on its own (the delete check's GET):
  // whether the row belongs to the stream's selection. Empty without a `where`, and when a field
  // of the `where` is not in the row layout (then a row cannot be told in or out).
  std::function<bool(const Row&)> selection;
  std::string pushed_text;  // the pushed-down part, as predicate text (for --explain and logs)
  std::string local_text;   // the locally applied part, as predicate text
  std::chrono::milliseconds lookback{0};
  int page_size = 0;  // effective page size (<= object max)
  std::optional<FanOut> fan_out;
  ExtendedFetch extended = ExtendedFetch::kNone;  // the extended fields are flagged in `fields`
  // Delete detection (`deletes: detect`): full refresh marks the rows its scan did not return;
  // incremental streams run a key-only scan at most once per `detect_deletes_every`.
  bool detect_deletes = false;
  std::chrono::milliseconds detect_deletes_every{0};
  // For a key-only scan: ask the API for these top-level wire properties only (`fields=`,
  // contract 3.5); empty = no projection.
  std::vector<std::string> projection;
};

// Reads pages of one object. Implementations are bound to one connection and are used from the
// connection's executor only.
class Source {
 public:
  virtual ~Source() = default;
  virtual boost::asio::awaitable<PageResult> list(const StreamSpec& spec, ListQuery query) = 0;
  // One record by key (the single-record route), with every field of `spec.fields`, extended
  // ones included; nullopt when the record no longer exists (404).
  virtual boost::asio::awaitable<std::optional<Row>> get(const StreamSpec& spec, Row key) = 0;
};

// ---- state and sink -----------------------------------------------------------------------------

// Progress inside a timestamp plateau larger than a page (contract 3.10): pages of `c == W`
// already committed, and the plateau's size when they were read.
struct PlateauProgress {
  std::int64_t offset = 0;
  std::int64_t total = 0;
};

// The replication state of one (job, stream). It is committed in the same transaction as the
// rows it covers.
struct StreamState {
  std::string cursor_field;               // logical name; empty for full refresh
  std::optional<Timestamp> watermark;     // every row with cursor < watermark is replicated
  bool watermark_exclusive = false;       // every row with cursor == watermark is too
  std::vector<Row> keys_at_watermark;     // keys already written whose cursor == watermark
  std::optional<PlateauProgress> plateau; // set while a plateau at `watermark` is being read
  std::int64_t rows_total = 0;            // rows written by this stream since its first sync
  std::optional<Timestamp> last_success;  // end of the last successful cycle
  std::string last_error;                 // empty after a success
  std::optional<Timestamp> last_delete_scan;  // when the last complete delete detection ended
};

// A cached copy of discovered table structures (contract 5.5), kept in the destination so that a
// restart within metadata_cache_ttl does not discover again.
struct CachedMetadata {
  Timestamp fetched_at;
  std::string body;  // opaque to the sink (JSON written by discovery)
};

// Thrown by Sink::commit and Sink::finish_key_scan when the stream's state was reset after the
// cycle loaded it. Nothing of the call is written; the cycle starts again from the reset state.
class StateWasReset : public model::Error {
 public:
  explicit StateWasReset(std::string message) : model::Error(model::ErrorKind::kTransient, std::move(message)) {}
};

struct CommitResult {
  std::int64_t rows_written = 0;  // rows inserted or changed (unchanged rows are not rewritten)
};

// Writes streams to one destination. Blocking; every call runs on the sink's own thread and an
// instance is used by one thread at a time.
class Sink {
 public:
  virtual ~Sink() = default;
  // Creates the schema, the table and its columns (adds missing columns). Idempotent.
  virtual void prepare(const StreamSpec& spec) = 0;
  // The committed state, or a default state when the stream never ran.
  virtual StreamState load_state(const std::string& job, const std::string& stream) = 0;
  // Upserts `rows` (only rows that differ are rewritten) and stores `state`, in ONE transaction.
  virtual CommitResult commit(const StreamSpec& spec, std::span<const Row> rows,
                              const StreamState& state) = 0;
  // Records a failed cycle (last_error) without touching the watermark.
  virtual void record_failure(const std::string& job, const std::string& stream,
                              const std::string& error) = 0;
  // Forgets the watermark: the next cycle re-reads from the start. Rows stay. A cycle running
  // meanwhile (another process) cannot store its state over the reset: its next commit or
  // finish_key_scan throws StateWasReset and writes nothing. False when the stream has no state.
  virtual bool reset_state(const std::string& job, const std::string& stream) = 0;
  // All states of a job (for `state`); every job when `job` is empty.
  struct NamedState {
    std::string job;
    std::string stream;
    StreamState state;
  };
  virtual std::vector<NamedState> list_states(const std::string& job) = 0;

  // For extended fields: true at the position of each row that is new, differs from the stored
  // row in a non-extended field, or is marked deleted. Read-only.
  virtual std::vector<bool> changed_rows(const StreamSpec& spec, std::span<const Row> rows) = 0;

  // Delete detection. A scan is: begin_key_scan, add_seen_keys for every page, finish_key_scan.
  // The set of seen keys is kept in the destination between calls (not in memory).
  // Empties the stream's set of seen keys.
  virtual void begin_key_scan(const StreamSpec& spec) = 0;
  // Adds keys (values of the key fields, in key order) to the set.
  virtual void add_seen_keys(const StreamSpec& spec, std::span<const Row> keys) = 0;
  // In ONE transaction: sets _deleted_at = `at` on every row whose key is not in the set and that
  // is not marked yet, stores `state`, empties the set. Returns the number of rows marked.
  virtual std::int64_t finish_key_scan(const StreamSpec& spec, Timestamp at, const StreamState& state) = 0;
  // Up to `limit` keys (key order) of the rows finish_key_scan would mark now: stored, not marked,
  // not in the set. Read-only. A sink that cannot tell returns none.
  virtual std::vector<Row> unseen_keys(const StreamSpec& spec, std::size_t limit) {
    (void)spec;
    (void)limit;
    return {};
  }

  // Metadata cache, by a key naming the Actito account (connection base URL and entity).
  virtual std::optional<CachedMetadata> load_metadata(const std::string& key) = 0;
  virtual void store_metadata(const std::string& key, const CachedMetadata& metadata) = 0;
  // High availability (several instances running one config): a job's lease on the destination.
  // Returns true when this sink holds the lease named `key`, taking it when it is free. Once
  // taken, the sink keeps it for its lifetime, and every later call runs on a session that holds
  // it: after a reconnect the lease is taken again before anything else is done, and when another
  // instance took it meanwhile the call fails (kTransient, "lease ... lost") and nothing is
  // written. A sink that needs no coordination holds every lease.
  virtual bool try_acquire_lease(const std::string& key) {
    (void)key;
    return true;
  }
  // Who holds lease `key` (for status output); "" when it is free or nobody can tell.
  virtual std::string lease_holder(const std::string& key) {
    (void)key;
    return {};
  }
};

// ---- time ---------------------------------------------------------------------------------------

// Injected time (house style rule 19): core code never reads the system clock directly.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual Timestamp now() const = 0;
};

}  // namespace replicator::engine

// The job file (interface.md §2) as plain immutable structs: load, parse, validate.
//
// The only module that reads YAML; nothing here exposes a YAML type. Parsing (`parse_config`,
// `load_config`) checks everything one file can say on its own; `validate` is the separate pass
// that checks references between sections and against the object catalog. Both throw
// model::Error(kConfig) whose message is one line per problem, each
// `FILE:LINE:COLUMN: what was wrong and what was expected` (1-based line and column).
//
// Keys, defaults and meaning (house style rule 24). `${VAR}` in any value is replaced by the
// environment variable VAR (unset: error; `$${` writes a literal `${`). Durations: 500ms, 30s,
// 5m, 2h, 1d. Unknown keys are errors at every level. Cron schedules are evaluated in UTC unless
// the caller of Schedule::next_after passes a zone (the job file has no key for one).
//
// clang-format off
// key                          | default         | meaning
// -----------------------------|-----------------|------------------------------------------------
// server.listen                | 127.0.0.1:9464  | admin HTTP host:port (IPv4, [IPv6], localhost)
// log.level                    | info            | trace | debug | info | warn | error
// log.format                   | auto            | auto (text on a tty, else json) | text | json
// catalog                      | (built-in)      | catalog YAML replacing the built-in one
// connections.NAME             |                 | a connection; NAME: [A-Za-z0-9][A-Za-z0-9_.-]*
//   environment                |                 | ENV-0 | ENV-1 | ENV-3 | PREPROD; or base_url
//   base_url                   |                 | http(s)://host[:port], no path; wins
//   entity                     | (required)      | Actito entity name
//   api_key                    | (this or file)  | API key, a Secret; usually ${VAR}
//   api_key_file               |                 | file with the key; one trailing newline dropped
//   suppress_extended_requests | false           | skip per-row GETs of extended fields (3.8)
//   metadata_cache_ttl         | 1h              | reuse of table structures (contract 5.5)
//   calls_per_minute           | 100             | >= 1; pacing shared by the connection's jobs
//   max_concurrent_requests    | 4               | 1..5 requests in flight
//   request_timeout            | 60s             | >= 1s per request
//   timestamp_zone             | Europe/Brussels | zone of naive wire timestamps
// destinations.NAME            |                 | a PostgreSQL destination
//   type                       | postgres        | postgres only
//   dsn                        | (required)      | libpq conninfo or URI; Secret, password masked
//   schema                     | actito          | target schema, 1..63 bytes
// defaults.schedule            | { every: 15m }  | { every: DURATION>=1s } | { cron: "m h d M w" }
// defaults.lookback            | 2m              | re-read this far behind the watermark
// defaults.page_size           | max             | max | N >= 1 (capped at each object's maximum)
// jobs[].name                  | (required)      | unique; [A-Za-z0-9][A-Za-z0-9_.-]*
// jobs[].connection            | (required)      | a name from connections
// jobs[].destination           | (required)      | a name from destinations
// jobs[].schedule              | defaults'       | as defaults.schedule
// jobs[].lookback, .page_size  | defaults'       | as in defaults
// jobs[].streams[]             | (>= 1 required) | one per object and job
//   object                     | (required)      | static object, or a profile/custom table object
//   mode                       | by object       | incremental (needs a cursor field) | full
//   fields                     | all             | fields kept; key and cursor fields always kept
//   where                      |                 | predicate text, parsed later
//   deletes                    | ignore          | ignore | detect (key scans)
//   detect_deletes_every       | 1d              | >= 1s; only with deletes: detect
//   lookback                   | the job's       | per-stream override
//   page_size                  | the job's       | per-stream override, <= the object's maximum
// clang-format on
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/schedule.hpp"
#include "config/secret.hpp"
#include "core/model/catalog.hpp"
#include "core/model/duration.hpp"

namespace replicator::config {

// Where something was written: file and 1-based line and column.
struct Location {
  std::string file;
  int line = 0;
  int column = 0;
  std::string to_string() const;  // "FILE:LINE:COLUMN"
  friend bool operator==(const Location&, const Location&) = default;
};

// Source positions of a parsed mapping: the mapping itself and the value of each key given, so
// later passes (validate, runtime resolution of dynamic objects) can point at the exact spot.
struct Located {
  Location location;                                           // the mapping (or its name key)
  std::map<std::string, Location, std::less<>> key_locations;  // key -> its value
  // The value's location when `key` was given, else the mapping's.
  const Location& location_of(std::string_view key) const noexcept;
};

// A page size: the object's maximum, or a number.
struct PageSize {
  static constexpr int kMax = 0;
  int number = kMax;  // kMax or >= 1
  bool is_max() const noexcept { return number == kMax; }
  int value() const noexcept { return number; }
  // The size to request from an object whose maximum is `object_max`.
  int resolve(int object_max) const noexcept {
    return is_max() || number > object_max ? object_max : number;
  }
  std::string to_string() const;  // "max" or the number
  friend bool operator==(const PageSize&, const PageSize&) = default;
};

struct ServerConfig : Located {
  std::string listen = "127.0.0.1:9464";
};

struct LogConfig : Located {
  std::string level = "info";   // trace | debug | info | warn | error
  std::string format = "auto";  // auto | text | json
  // A running cycle logs its progress (rows, rows/s, pages, ETA) this often.
  model::Duration progress_interval = std::chrono::seconds(10);
};

struct ConnectionConfig : Located {  // location: the connection's name key
  std::string name;
  std::string environment;  // ENV-0 | ENV-1 | ENV-3 | PREPROD, or empty
  std::string base_url;     // scheme://host[:port], or empty; wins over environment
  std::string entity;
  Secret api_key;  // from api_key or api_key_file
  bool suppress_extended_requests = false;
  model::Duration metadata_cache_ttl = std::chrono::hours(1);
  int calls_per_minute = 100;
  int max_concurrent_requests = 4;
  model::Duration request_timeout = std::chrono::seconds(60);
  std::string timestamp_zone = "Europe/Brussels";  // accepted by model::TimeZone::from_name
};

struct DestinationConfig : Located {  // location: the destination's name key
  std::string name;
  std::string type = "postgres";
  Secret dsn;  // Secret::Kind::kDsn
  std::string schema = "actito";
};

struct DefaultsConfig : Located {
  Schedule schedule;  // every 15m
  model::Duration lookback = std::chrono::minutes(2);
  PageSize page_size;  // max
};

enum class StreamMode { kIncremental, kFull };
enum class DeletesMode { kIgnore, kDetect };
std::string_view to_string(StreamMode mode) noexcept;   // "incremental" | "full"
std::string_view to_string(DeletesMode mode) noexcept;  // "ignore" | "detect"

struct StreamConfig : Located {  // location: the list item
  std::string object;
  std::optional<StreamMode> mode;         // unset: incremental where the object allows it
  std::vector<std::string> fields;        // empty: every field
  std::vector<Location> field_locations;  // one per entry of `fields`
  std::string where;                      // predicate text, empty: none
  DeletesMode deletes = DeletesMode::kIgnore;
  model::Duration detect_deletes_every = std::chrono::hours(24);
  std::optional<model::Duration> lookback;  // unset: the job's
  std::optional<PageSize> page_size;        // unset: the job's
};

struct JobConfig : Located {  // location: the list item
  std::string name;
  std::string connection;
  std::string destination;
  Schedule schedule;         // from defaults unless given
  model::Duration lookback;  // from defaults unless given
  PageSize page_size;        // from defaults unless given
  std::vector<StreamConfig> streams;
};

struct Config : Located {
  std::string path;  // the file it was read from (reload reads it again)
  ServerConfig server;
  LogConfig log;
  std::string catalog_path;                   // empty: the built-in catalog
  std::vector<ConnectionConfig> connections;  // file order; names unique
  std::vector<DestinationConfig> destinations;
  DefaultsConfig defaults;
  std::vector<JobConfig> jobs;  // file order; names unique

  const ConnectionConfig* find_connection(std::string_view name) const noexcept;
  const DestinationConfig* find_destination(std::string_view name) const noexcept;
  const JobConfig* find_job(std::string_view name) const noexcept;
};

// Reads an environment variable: its value, or nullopt when it is not set.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
// The process environment (std::getenv).
EnvLookup process_environment();

// Reads and parses the file. Relative paths inside it (api_key_file, catalog) are relative to
// the file's directory. Throws model::Error(kConfig).
Config load_config(const std::string& path, const EnvLookup& env = process_environment());
// Parses YAML text; `file_name_for_errors` prefixes every message and its directory anchors
// relative paths. Throws model::Error(kConfig).
Config parse_config(std::string_view yaml_text, const std::string& file_name_for_errors,
                    const EnvLookup& env = process_environment());

// The cross-reference pass: names are unique, every job's connection and destination exist, each
// connection's environment has a host in the catalog, and each stream fits its object.
//
// Static objects are checked fully (validate_stream). A name that is not a static object may be a
// dynamic one, which only discovery can resolve: a profile table `N` (objects `N`,
// `N_Interactions`, `N_Scenarios`, `N_SubscriptionInteractions`) or a custom table `N`. Such names
// are accepted here, with mode and page_size checked against every template that could produce
// them; their fields are checked by validate_stream once discovery has resolved the object, and a
// name that does not exist then fails at run time (discovery lists close names). Because a custom
// table may have almost any name, a misspelt static name such as `EmailCampaing` is only caught
// here when it cannot be a table name: a letter-case variant of a static name, a name with no valid
// PostgreSQL table name (snake_case longer than 63 bytes), or a name no template of the catalog
// can produce (contract 5.4: a table named like a static object clashes). Those are rejected with
// the closest static names. Throws model::Error(kConfig) listing every problem found.
void validate(const Config& config, const model::Catalog& catalog);

// Checks one stream against its resolved object (static, or dynamic after discovery): mode
// incremental needs a cursor field, listed fields exist, page_size does not exceed the object's
// maximum. Throws model::Error(kConfig) with the stream's locations.
void validate_stream(const JobConfig& job, const StreamConfig& stream,
                     const model::ObjectDescriptor& object);

// The fields a stream reads, in the object's order: every field when `stream.fields` is empty,
// else the listed ones plus the key and cursor fields, which are always kept. Pattern fields of
// templates are skipped. Precondition: validate_stream passed.
std::vector<std::string> effective_fields(const StreamConfig& stream,
                                          const model::ObjectDescriptor& object);

}  // namespace replicator::config

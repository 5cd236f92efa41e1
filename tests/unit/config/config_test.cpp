// Parsing the job file: defaults, every key, every error class with its file:line:column, ${VAR}
// expansion, api_key_file, and the annotated example config.
#include "config/config.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include "config/catalog_loader.hpp"
#include "tests/unit/config/test_support.hpp"

namespace replicator::config {
namespace {

using namespace std::chrono_literals;
using testing::config_error;
using testing::env_of;
using testing::kApiKey;
using testing::kDsn;
using testing::parse;
using testing::test_env;
namespace fs = std::filesystem;

// Lines 1-5: one connection; the extra line is line 6, its key at column 5.
std::string with_connection_line(const std::string& line) {
  return "connections:\n"
         "  main:\n"
         "    environment: ENV-3\n"
         "    entity: Acme\n"
         "    api_key: ${KEY}\n"
         "    " +
         line + "\n";
}

// Lines 1-14: a full config with one job and one stream (Orders); the extra line is line 15.
// `indent` 8 puts it in the stream (key at column 9), 4 in the job (column 5).
std::string with_job_line(const std::string& line, int indent) {
  return "connections:\n"
         "  main:\n"
         "    environment: ENV-3\n"
         "    entity: Acme\n"
         "    api_key: ${KEY}\n"
         "destinations:\n"
         "  dw:\n"
         "    dsn: ${DSN}\n"
         "jobs:\n"
         "  - name: crm\n"
         "    connection: main\n"
         "    destination: dw\n"
         "    streams:\n"
         "      - object: Orders\n" +
         std::string(static_cast<std::size_t>(indent), ' ') + line + "\n";
}
std::string with_stream_line(const std::string& line) { return with_job_line(line, 8); }

constexpr const char* kMinimal = R"(connections:
  main:
    environment: ENV-3
    entity: Acme
    api_key: ${KEY}
destinations:
  dw:
    dsn: ${DSN}
jobs:
  - name: crm
    connection: main
    destination: dw
    streams:
      - object: EmailCampaigns
)";

TEST(ConfigParse, MinimalConfigTakesTheDefaults) {
  Config c = parse(kMinimal);
  EXPECT_EQ(c.path, "test.yaml");
  EXPECT_EQ(c.server.listen, "127.0.0.1:9464");
  EXPECT_EQ(c.log.level, "info");
  EXPECT_EQ(c.log.format, "auto");
  EXPECT_TRUE(c.catalog_path.empty());
  ASSERT_EQ(c.connections.size(), 1u);
  const ConnectionConfig& conn = c.connections[0];
  EXPECT_EQ(conn.name, "main");
  EXPECT_EQ(conn.environment, "ENV-3");
  EXPECT_EQ(conn.base_url, "");
  EXPECT_EQ(conn.entity, "Acme");
  EXPECT_EQ(conn.api_key.reveal(), kApiKey);
  EXPECT_FALSE(conn.suppress_extended_requests);
  EXPECT_EQ(conn.metadata_cache_ttl, 1h);
  EXPECT_EQ(conn.calls_per_minute, 100);
  EXPECT_EQ(conn.max_concurrent_requests, 4);
  EXPECT_EQ(conn.request_timeout, 60s);
  EXPECT_EQ(conn.timestamp_zone, "Europe/Brussels");
  EXPECT_EQ(conn.location, (Location{"test.yaml", 2, 3}));
  EXPECT_EQ(conn.location_of("entity"), (Location{"test.yaml", 4, 13}));

  ASSERT_EQ(c.destinations.size(), 1u);
  EXPECT_EQ(c.destinations[0].name, "dw");
  EXPECT_EQ(c.destinations[0].type, "postgres");
  EXPECT_EQ(c.destinations[0].schema, "actito");
  EXPECT_EQ(c.destinations[0].dsn.reveal(), kDsn);
  EXPECT_EQ(c.destinations[0].dsn.kind(), Secret::Kind::kDsn);

  EXPECT_TRUE(c.defaults.schedule.is_every());
  EXPECT_EQ(c.defaults.schedule.interval(), 15min);
  EXPECT_EQ(c.defaults.lookback, 2min);
  EXPECT_TRUE(c.defaults.page_size.is_max());

  ASSERT_EQ(c.jobs.size(), 1u);
  const JobConfig& job = c.jobs[0];
  EXPECT_EQ(job.name, "crm");
  EXPECT_EQ(job.connection, "main");
  EXPECT_EQ(job.destination, "dw");
  EXPECT_EQ(job.schedule.to_string(), "every 15m");
  EXPECT_EQ(job.lookback, 2min);
  EXPECT_TRUE(job.page_size.is_max());
  EXPECT_EQ(job.location, (Location{"test.yaml", 10, 5}));
  ASSERT_EQ(job.streams.size(), 1u);
  const StreamConfig& s = job.streams[0];
  EXPECT_EQ(s.object, "EmailCampaigns");
  EXPECT_FALSE(s.mode.has_value());
  EXPECT_TRUE(s.fields.empty());
  EXPECT_TRUE(s.where.empty());
  EXPECT_EQ(s.deletes, DeletesMode::kIgnore);
  EXPECT_EQ(s.detect_deletes_every, 24h);
  EXPECT_FALSE(s.lookback.has_value());
  EXPECT_FALSE(s.page_size.has_value());
  EXPECT_EQ(s.location.to_string(), "test.yaml:14:9");
  EXPECT_EQ(s.location_of("object").to_string(), "test.yaml:14:17");
  EXPECT_EQ(s.location_of("where").to_string(), "test.yaml:14:9");  // not given: the stream

  EXPECT_EQ(c.find_connection("main"), &c.connections[0]);
  EXPECT_EQ(c.find_destination("nope"), nullptr);
  EXPECT_EQ(c.find_job("crm"), &c.jobs[0]);
}

TEST(ConfigParse, EveryKeyIsRead) {
  Config c = parse(R"(server:
  listen: "[::1]:9500"
log:
  level: debug
  format: json
catalog: /etc/actito-replicator/catalog.yaml
connections:
  sim:
    base_url: http://127.0.0.1:8089
    entity: acme
    api_key: literal-key
    suppress_extended_requests: true
    metadata_cache_ttl: 10m
    calls_per_minute: 250
    max_concurrent_requests: 5
    request_timeout: 1500ms
    timestamp_zone: UTC
destinations:
  dw:
    type: postgres
    dsn: "host=db dbname=w password=x"
    schema: raw_actito
defaults:
  schedule: { cron: "*/10 * * * *" }
  lookback: 30s
  page_size: 100
jobs:
  - name: all.things-1
    connection: sim
    destination: dw
    schedule: { every: 1h }
    lookback: 0s
    page_size: max
    streams:
      - object: Orders
        mode: incremental
        fields: [OrderId, Amount]
        where: "Amount > 10"
        deletes: detect
        detect_deletes_every: 12h
        lookback: 5m
        page_size: 500
)");
  EXPECT_EQ(c.server.listen, "[::1]:9500");
  EXPECT_EQ(c.log.level, "debug");
  EXPECT_EQ(c.log.format, "json");
  EXPECT_EQ(c.catalog_path, "/etc/actito-replicator/catalog.yaml");
  const ConnectionConfig& conn = c.connections.at(0);
  EXPECT_EQ(conn.base_url, "http://127.0.0.1:8089");
  EXPECT_EQ(conn.environment, "");
  EXPECT_EQ(conn.api_key.reveal(), "literal-key");
  EXPECT_TRUE(conn.suppress_extended_requests);
  EXPECT_EQ(conn.metadata_cache_ttl, 10min);
  EXPECT_EQ(conn.calls_per_minute, 250);
  EXPECT_EQ(conn.max_concurrent_requests, 5);
  EXPECT_EQ(conn.request_timeout, 1500ms);
  EXPECT_EQ(conn.timestamp_zone, "UTC");
  EXPECT_EQ(c.destinations.at(0).schema, "raw_actito");
  EXPECT_TRUE(c.defaults.schedule.is_cron());
  EXPECT_EQ(c.defaults.schedule.cron_expression().text(), "*/10 * * * *");
  EXPECT_EQ(c.defaults.lookback, 30s);
  EXPECT_EQ(c.defaults.page_size.value(), 100);
  const JobConfig& job = c.jobs.at(0);
  EXPECT_EQ(job.name, "all.things-1");
  EXPECT_EQ(job.schedule.interval(), 1h);
  EXPECT_EQ(job.lookback, 0ms);
  EXPECT_TRUE(job.page_size.is_max());
  const StreamConfig& s = job.streams.at(0);
  EXPECT_EQ(s.mode, StreamMode::kIncremental);
  EXPECT_EQ(s.fields, (std::vector<std::string>{"OrderId", "Amount"}));
  ASSERT_EQ(s.field_locations.size(), 2u);
  EXPECT_EQ(s.field_locations[1].to_string(), "test.yaml:37:27");
  EXPECT_EQ(s.where, "Amount > 10");
  EXPECT_EQ(s.deletes, DeletesMode::kDetect);
  EXPECT_EQ(s.detect_deletes_every, 12h);
  EXPECT_EQ(s.lookback, 5min);
  ASSERT_TRUE(s.page_size.has_value());
  EXPECT_EQ(s.page_size->value(), 500);
  EXPECT_EQ(s.page_size->resolve(200), 200);
  EXPECT_EQ(PageSize{}.resolve(1000), 1000);
}

TEST(ConfigParse, JobsInheritDefaultsWhereverTheSectionsAre) {
  Config c = parse(R"(jobs:
  - name: a
    connection: main
    destination: dw
    streams: [{object: Orders}]
  - name: b
    connection: main
    destination: dw
    lookback: 1m
    streams: [{object: Orders}]
defaults:
  schedule: { every: 2m }
  lookback: 7m
  page_size: 300
)");
  ASSERT_EQ(c.jobs.size(), 2u);
  EXPECT_EQ(c.jobs[0].schedule.interval(), 2min);
  EXPECT_EQ(c.jobs[0].lookback, 7min);
  EXPECT_EQ(c.jobs[0].page_size.value(), 300);
  EXPECT_EQ(c.jobs[1].lookback, 1min);
  EXPECT_EQ(c.jobs[1].page_size.value(), 300);
}

TEST(ConfigParse, DurationsInEveryUnit) {
  const std::pair<const char*, model::Duration> cases[] = {
      {"500ms", 500ms}, {"30s", 30s}, {"5m", 5min}, {"2h", 2h}, {"1d", 24h}, {"0s", 0ms}};
  for (const auto& [text, expected] : cases) {
    SCOPED_TRACE(text);
    EXPECT_EQ(parse(std::string("defaults:\n  lookback: ") + text + "\n").defaults.lookback,
              expected);
  }
  EXPECT_EQ(parse(with_stream_line("detect_deletes_every: 36h\n        deletes: detect"))
                .jobs[0]
                .streams[0]
                .detect_deletes_every,
            36h);
}

// ---- unknown keys ---------------------------------------------------------------------------

TEST(ConfigErrors, UnknownTopLevelKeySuggestsTheClosest) {
  EXPECT_PARSE_ERROR("jobz: []\n", "test.yaml:1:1: ",
                     "top level: unknown key \"jobz\" (did you mean \"jobs\"?); allowed keys: "
                     "server, log, catalog, connections, destinations, defaults, jobs");
}

TEST(ConfigErrors, TypoInJobKey) {
  EXPECT_PARSE_ERROR(with_job_line("shedule: { every: 5m }", 4), "test.yaml:15:5: ",
                     "jobs[0]: unknown key \"shedule\" (did you mean \"schedule\"?); allowed keys: "
                     "name, connection, destination, schedule, lookback, page_size, streams");
}

TEST(ConfigErrors, TypoInConnectionKey) {
  EXPECT_PARSE_ERROR(with_connection_line("request_timout: 5s"), "test.yaml:6:5: ",
                     "connections.main: unknown key \"request_timout\" (did you mean "
                     "\"request_timeout\"?)");
}

TEST(ConfigErrors, UnknownKeysInEveryMapping) {
  EXPECT_PARSE_ERROR("server:\n  listn: 1.2.3.4:5\n",
                     "test.yaml:2:3: ", "server: unknown key \"listn\" (did you mean \"listen\"?)");
  EXPECT_PARSE_ERROR("log:\n  lvl: info\n", "test.yaml:2:3: ", "log: unknown key \"lvl\"");
  EXPECT_PARSE_ERROR("destinations:\n  dw:\n    dsn: x\n    schemas: a\n", "test.yaml:4:5: ",
                     "destinations.dw: unknown key \"schemas\" (did you mean \"schema\"?)");
  EXPECT_PARSE_ERROR("defaults:\n  lookbak: 1m\n", "test.yaml:2:3: ",
                     "defaults: unknown key \"lookbak\" (did you mean \"lookback\"?)");
  EXPECT_PARSE_ERROR(with_stream_line("feilds: [A]"), "test.yaml:15:9: ",
                     "jobs[0].streams[0]: unknown key \"feilds\" (did you mean \"fields\"?)");
  EXPECT_PARSE_ERROR(with_job_line("schedule: { evry: 5m }", 4), "test.yaml:15:17: ",
                     "jobs[0].schedule: unknown key \"evry\" (did you mean \"every\"?)");
}

// ---- types, values, ranges --------------------------------------------------------------------

TEST(ConfigErrors, WrongTypes) {
  EXPECT_PARSE_ERROR("connections:\n  - main\n", "test.yaml:2:3: ",
                     "connections: expected a mapping of connection names to their settings, got a "
                     "list");
  EXPECT_PARSE_ERROR("jobs:\n  name: crm\n",
                     "test.yaml:2:3: ", "jobs: expected a list of jobs, got a mapping");
  EXPECT_PARSE_ERROR("jobs:\n  - name: j\n    streams:\n      object: X\n", "test.yaml:4:7: ",
                     "jobs[0].streams: expected a list of streams (each a mapping with at least "
                     "object:), got a mapping");
  EXPECT_PARSE_ERROR(with_connection_line("suppress_extended_requests: yes"), "test.yaml:6:33: ",
                     "connections.main.suppress_extended_requests: expected true or false, got "
                     "\"yes\"");
  EXPECT_PARSE_ERROR(with_connection_line("timestamp_zone: [a, b]"), "test.yaml:6:21: ",
                     "connections.main.timestamp_zone: expected a string, got a list");
  EXPECT_PARSE_ERROR(with_connection_line("calls_per_minute: many"),
                     "test.yaml:6:23: ", "expected an integer from 1 to 1000000, got \"many\"");
  EXPECT_PARSE_ERROR(with_stream_line("fields: Amount"), "test.yaml:15:17: ",
                     "jobs[0].streams[0].fields: expected a list of names, got \"Amount\"");
  EXPECT_PARSE_ERROR(
      with_job_line("schedule: 5m", 4), "test.yaml:15:15: ",
      "jobs[0].schedule: expected { every: DURATION } or { cron: \"m h dom mon dow\" "
      "}, got \"5m\"");
}

TEST(ConfigErrors, EmptyValueIsReportedAtItsKey) {
  EXPECT_PARSE_ERROR("connections:\n  main:\n    entity:\n",
                     "test.yaml:3:5: ", "connections.main.entity: expected a string, got nothing");
}

TEST(ConfigErrors, BadDurations) {
  EXPECT_PARSE_ERROR(with_stream_line("lookback: 15 minutes"), "test.yaml:15:19: ",
                     "jobs[0].streams[0].lookback: expected a duration such as 500ms, 30s, 5m, 2h "
                     "or 1d, got \"15 minutes\"");
  EXPECT_PARSE_ERROR(with_connection_line("request_timeout: 500ms"), "test.yaml:6:22: ",
                     "request_timeout: expected a duration of at least 1s, got \"500ms\"");
  EXPECT_PARSE_ERROR(with_job_line("schedule: { every: 999ms }", 4), "test.yaml:15:24: ",
                     "jobs[0].schedule.every: expected a duration of at least 1s");
  EXPECT_PARSE_ERROR(with_connection_line("metadata_cache_ttl: -1h"),
                     "test.yaml:6:25: ", "expected a duration such as");
  EXPECT_PARSE_ERROR("defaults:\n  lookback: 2 m\n", "test.yaml:2:13: ", "got \"2 m\"");
}

TEST(ConfigErrors, BadEnumValues) {
  EXPECT_PARSE_ERROR(
      with_stream_line("mode: ful"), "test.yaml:15:15: ",
      "jobs[0].streams[0].mode: expected one of incremental | full, got \"ful\" (did "
      "you mean \"full\"?)");
  EXPECT_PARSE_ERROR(with_stream_line("deletes: soft"),
                     "test.yaml:15:18: ", "expected one of ignore | detect, got \"soft\"");
  EXPECT_PARSE_ERROR("log:\n  level: verbose\n", "test.yaml:2:10: ",
                     "log.level: expected one of trace | debug | info | warn | error");
  EXPECT_PARSE_ERROR("log:\n  format: yaml\n",
                     "test.yaml:2:11: ", "expected one of auto | text | json, got \"yaml\"");
  EXPECT_PARSE_ERROR("log:\n  progress_interval: 500ms\n", "test.yaml:2:22: ", "log.progress_interval");
  EXPECT_PARSE_ERROR("destinations:\n  dw:\n    type: mysql\n    dsn: x\n",
                     "test.yaml:3:11: ", "destinations.dw.type: expected one of postgres");
}

TEST(ConfigErrors, UnknownEnvironment) {
  std::string yaml = with_connection_line("request_timeout: 5s");
  yaml.replace(yaml.find("ENV-3"), 5, "ENV-2");
  EXPECT_PARSE_ERROR(yaml, "test.yaml:3:18: ",
                     "connections.main.environment: expected one of ENV-0 | ENV-1 | ENV-3 | "
                     "PREPROD, got \"ENV-2\"");
}

TEST(ConfigErrors, OutOfRangeNumbers) {
  EXPECT_PARSE_ERROR(with_connection_line("max_concurrent_requests: 6"), "test.yaml:6:30: ",
                     "connections.main.max_concurrent_requests: expected an integer from 1 to 5, "
                     "got \"6\"");
  EXPECT_PARSE_ERROR(with_connection_line("max_concurrent_requests: 0"),
                     "test.yaml:6:30: ", "expected an integer from 1 to 5, got \"0\"");
  EXPECT_PARSE_ERROR(with_connection_line("calls_per_minute: 0"), "test.yaml:6:23: ",
                     "connections.main.calls_per_minute: expected an integer from 1 to 1000000, "
                     "got \"0\"");
  EXPECT_PARSE_ERROR(with_stream_line("page_size: 0"), "test.yaml:15:20: ",
                     "jobs[0].streams[0].page_size: expected max or an integer from 1 to 100000, "
                     "got \"0\"");
  EXPECT_PARSE_ERROR("defaults:\n  page_size: maximum\n", "test.yaml:2:14: ",
                     "expected max or an integer from 1 to 100000, got \"maximum\"");
}

TEST(ConfigErrors, MissingRequiredKeys) {
  EXPECT_PARSE_ERROR(
      "connections:\n  main:\n    environment: ENV-3\n    api_key: k\n",
      "test.yaml:2:3: ", "connections.main: missing required key entity (the Actito entity name)");
  EXPECT_PARSE_ERROR("connections:\n  main:\n    environment: ENV-3\n    entity: e\n",
                     "test.yaml:2:3: ", "connections.main: missing api_key or api_key_file");
  EXPECT_PARSE_ERROR("connections:\n  main:\n    entity: e\n    api_key: k\n", "test.yaml:2:3: ",
                     "connections.main: missing environment (one of ENV-0, ENV-1, ENV-3, PREPROD) "
                     "or base_url");
  EXPECT_PARSE_ERROR("destinations:\n  dw:\n    schema: s\n",
                     "test.yaml:2:3: ", "destinations.dw: missing required key dsn");
  EXPECT_PARSE_ERROR("jobs:\n  - name: j\n    destination: dw\n    streams: [{object: A}]\n",
                     "test.yaml:2:5: ", "jobs[0]: missing required key connection");
  EXPECT_PARSE_ERROR("jobs:\n  - name: j\n    connection: c\n    streams: [{object: A}]\n",
                     "test.yaml:2:5: ", "jobs[0]: missing required key destination");
  EXPECT_PARSE_ERROR("jobs:\n  - connection: c\n    destination: d\n    streams: [{object: A}]\n",
                     "test.yaml:2:5: ", "jobs[0]: missing required key name");
  EXPECT_PARSE_ERROR("jobs:\n  - name: j\n    connection: c\n    destination: d\n",
                     "test.yaml:2:5: ", "jobs[0]: missing required key streams");
  EXPECT_PARSE_ERROR(with_job_line("- mode: full", 6),
                     "test.yaml:15:9: ", "jobs[0].streams[1]: missing required key object");
  EXPECT_PARSE_ERROR("jobs:\n  - name: j\n    connection: c\n    destination: d\n    streams: []\n",
                     "test.yaml:5:14: ", "expected at least one stream");
}

TEST(ConfigErrors, DuplicateNames) {
  EXPECT_PARSE_ERROR("connections:\n  a:\n    x: 1\n  a:\n    y: 2\n", "test.yaml:4:3: ",
                     "connections: duplicate key \"a\" (first given at line 2, column 3)");
  std::string two_jobs = with_job_line("- name: crm", 2) +
                         "    connection: main\n"
                         "    destination: dw\n"
                         "    streams: [{object: Orders}]\n";
  EXPECT_PARSE_ERROR(two_jobs, "test.yaml:15:11: ",
                     "jobs: duplicate job name \"crm\" (first used at line 10, column 11)");
  EXPECT_PARSE_ERROR(with_job_line("- object: Orders", 6), "test.yaml:15:17: ",
                     "jobs[0]: object \"Orders\" has two streams in this job (first at line 14, "
                     "column 17)");
  EXPECT_PARSE_ERROR(with_stream_line("fields: [A, B, A]"),
                     "test.yaml:15:24: ", "jobs[0].streams[0].fields: field \"A\" is listed twice");
}

TEST(ConfigErrors, BadNames) {
  EXPECT_PARSE_ERROR("connections:\n  bad name:\n    entity: e\n",
                     "test.yaml:2:3: ", "connections: bad connection name \"bad name\"");
  EXPECT_PARSE_ERROR("jobs:\n  - name: -x\n",
                     "test.yaml:2:11: ", "jobs[0].name: bad job name \"-x\"");
}

TEST(ConfigErrors, ApiKeyAndApiKeyFileTogether) {
  std::string yaml = with_connection_line("api_key_file: k.txt");
  EXPECT_PARSE_ERROR(
      yaml, "test.yaml:6:5: ", "connections.main: give either api_key or api_key_file, not both");
}

TEST(ConfigErrors, MalformedBaseUrl) {
  const std::pair<const char*, const char*> cases[] = {
      {"http://127.0.0.1:8089/api", "it must not have a path or a trailing slash"},
      {"https://api.example/", "it must not have a path or a trailing slash"},
      {"ftp://host", "the scheme must be http:// or https://"},
      {"127.0.0.1:8089", "the scheme must be http:// or https://"},
      {"http://host:99999", "the port must be a number from 1 to 65535"},
      {"http://host:", "the port must be a number from 1 to 65535"},
      {"http://user:pw@host", "it must not hold user information"},
      {"http://", "the host is missing"},
      {"http://host?x=1", "it must not have a query or fragment"},
  };
  for (const auto& [url, why] : cases) {
    SCOPED_TRACE(url);
    EXPECT_PARSE_ERROR(with_connection_line(std::string("base_url: \"") + url + "\""),
                       "test.yaml:6:15: ",
                       std::string("connections.main.base_url: expected scheme://host[:port] with "
                                   "scheme http or https and no path"));
    EXPECT_PARSE_ERROR(with_connection_line(std::string("base_url: \"") + url + "\""),
                       "test.yaml:6:15: ", why);
  }
  Config ok = parse(with_connection_line("base_url: https://[::1]:8443"));
  EXPECT_EQ(ok.connections.at(0).base_url, "https://[::1]:8443");
}

TEST(ConfigErrors, BadListenAddress) {
  const std::pair<const char*, const char*> cases[] = {
      {"9464", "the port is missing"},
      {"example.com:80", "the host must be an IPv4 address, [IPv6 address] or localhost"},
      {"1.2.3:80", "the host must be an IPv4 address"},
      {"256.1.1.1:80", "the host must be an IPv4 address"},
      {"127.0.0.1:65536", "the port must be a number from 0 to 65535"},
      {"[::1]9464", "an IPv6 address is written [address]:port"},
  };
  for (const auto& [listen, why] : cases) {
    SCOPED_TRACE(listen);
    EXPECT_PARSE_ERROR(std::string("server:\n  listen: \"") + listen + "\"\n", "test.yaml:2:11: ",
                       std::string("server.listen: expected host:port such as 127.0.0.1:9464 or "
                                   "[::1]:9464, got \"") +
                           listen + "\": " + why);
  }
  EXPECT_EQ(parse("server:\n  listen: localhost:0\n").server.listen, "localhost:0");
  EXPECT_EQ(parse("server:\n  listen: 0.0.0.0:9464\n").server.listen, "0.0.0.0:9464");
}

TEST(ConfigErrors, BadTimestampZone) {
  EXPECT_PARSE_ERROR(with_connection_line("timestamp_zone: Mars/Olympus"), "test.yaml:6:21: ",
                     "connections.main.timestamp_zone: unsupported timestamp_zone "
                     "\"Mars/Olympus\"");
  EXPECT_EQ(parse(with_connection_line("timestamp_zone: \"+02:00\"")).connections[0].timestamp_zone,
            "+02:00");
}

TEST(ConfigErrors, BadSchemaAndWhere) {
  EXPECT_PARSE_ERROR("destinations:\n  dw:\n    dsn: x\n    schema: \"\"\n",
                     "test.yaml:4:13: ", "destinations.dw.schema: expected a non-empty string");
  EXPECT_PARSE_ERROR("destinations:\n  dw:\n    dsn: x\n    schema: " + std::string(64, 's') + "\n",
                     "test.yaml:4:13: ", "expected a PostgreSQL schema name of at most 63 bytes");
  EXPECT_PARSE_ERROR(with_stream_line("where: \"  \""),
                     "test.yaml:15:16: ", "jobs[0].streams[0].where: expected a predicate");
  EXPECT_PARSE_ERROR(with_stream_line("detect_deletes_every: 1h"), "test.yaml:15:31: ",
                     "detect_deletes_every has no effect without deletes: detect");
  EXPECT_PARSE_ERROR(with_stream_line("fields: []"),
                     "test.yaml:15:17: ", "expected at least one field name");
}

TEST(ConfigErrors, YamlSyntaxErrorsCarryTheirMark) {
  EXPECT_PARSE_ERROR("jobs: [1\nlog: 2\n", "test.yaml:2:4: ", "YAML syntax error: ");
  EXPECT_PARSE_ERROR("log:\n  level: info\n   format: json\n",
                     "test.yaml:3:10: ", "YAML syntax error: illegal map value");
  EXPECT_PARSE_ERROR("", "test.yaml:1:1: ", "the file is empty");
  EXPECT_PARSE_ERROR("# only a comment\n", "test.yaml:1:1: ", "the file is empty");
  EXPECT_PARSE_ERROR("log: {level: info}\n---\njobs: []\n", "test.yaml:3:1: ",
                     "the file holds several YAML documents (---); expected one");
  EXPECT_PARSE_ERROR("- a\n- b\n", "test.yaml:1:1: ", "expected a mapping of sections");
}

TEST(ConfigErrors, SeveralProblemsAreAllReportedEachWithItsLocation) {
  std::string message = config_error([] {
    (void)parse("log:\n  level: loud\nserver:\n  listen: nowhere\ndefaults:\n  lookbak: 1m\n");
  });
  EXPECT_NE(message.find("test.yaml:4:11: server.listen:"), std::string::npos) << message;
  EXPECT_NE(message.find("\ntest.yaml:2:10: log.level:"), std::string::npos) << message;
  EXPECT_NE(message.find("\ntest.yaml:6:3: defaults: unknown key \"lookbak\""), std::string::npos)
      << message;
}

// ---- ${VAR} -------------------------------------------------------------------------------------

TEST(ConfigEnv, VariablesAreExpandedInEveryValue) {
  Config c = parse(with_connection_line("calls_per_minute: ${CPM}"),
                   env_of({{"KEY", "k-${NOT_EXPANDED_AGAIN}"}, {"CPM", "42"}}));
  EXPECT_EQ(c.connections[0].api_key.reveal(), "k-${NOT_EXPANDED_AGAIN}");
  EXPECT_EQ(c.connections[0].calls_per_minute, 42);
  Config d = parse(with_connection_line("timestamp_zone: ${A}${B}"),
                   env_of({{"KEY", "k"}, {"A", "Europe/"}, {"B", "Paris"}}));
  EXPECT_EQ(d.connections[0].timestamp_zone, "Europe/Paris");
}

TEST(ConfigEnv, MissingVariableIsNamedWithItsLocation) {
  EXPECT_PARSE_ERROR(with_connection_line("calls_per_minute: ${CPM}"), "test.yaml:6:23: ",
                     "connections.main.calls_per_minute: environment variable CPM is not set");
  EXPECT_ERROR_AT(
      config_error([] {
        (void)parse(kMinimal, env_of({{"DSN", "x"}}));
      }),
      "test.yaml:5:14: ", "connections.main.api_key: environment variable KEY is not set");
}

TEST(ConfigEnv, DoubleDollarEscapes) {
  Config c = parse(with_stream_line("where: \"Name = '$${literal}' AND Cost = '$5'\""), test_env());
  EXPECT_EQ(c.jobs[0].streams[0].where, "Name = '${literal}' AND Cost = '$5'");
}

TEST(ConfigEnv, MalformedReferences) {
  EXPECT_PARSE_ERROR(with_connection_line("timestamp_zone: \"${1X}\""),
                     "test.yaml:6:21: ", "bad environment reference \"${1X}\": expected ${NAME}");
  EXPECT_PARSE_ERROR(with_connection_line("timestamp_zone: \"${OPEN\""),
                     "test.yaml:6:21: ", "bad environment reference \"${OPEN\"");
}

// ---- api_key_file -------------------------------------------------------------------------------

class ApiKeyFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("config_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  void write(const std::string& name, const std::string& content) {
    std::ofstream(dir_ / name, std::ios::binary) << content;
  }
  // Writes replicator.yaml with `key_line` as line 5 of the connection and loads it.
  Config load(const std::string& key_line) {
    write(
        "replicator.yaml",
        "connections:\n  main:\n    environment: ENV-3\n    entity: Acme\n    " + key_line + "\n");
    return load_config((dir_ / "replicator.yaml").string(), test_env());
  }
  std::string config_path() const { return (dir_ / "replicator.yaml").string(); }

  fs::path dir_;
};

TEST_F(ApiKeyFile, RelativePathIsRelativeToTheConfigFile) {
  write("key.txt", "from-file\n");
  EXPECT_EQ(load("api_key_file: key.txt").connections[0].api_key.reveal(), "from-file");
  write("crlf.txt", "with-crlf\r\n");
  EXPECT_EQ(load("api_key_file: crlf.txt").connections[0].api_key.reveal(), "with-crlf");
  write("bare.txt", "no-newline");
  EXPECT_EQ(load("api_key_file: bare.txt").connections[0].api_key.reveal(), "no-newline");
  EXPECT_EQ(load("api_key_file: " + (dir_ / "key.txt").string()).connections[0].api_key.reveal(),
            "from-file");
}

TEST_F(ApiKeyFile, UnreadableOrEmptyFilesAreErrorsWithTheirLocation) {
  write("empty.txt", "\n");
  write("two.txt", "line1\nline2\n");
  fs::create_directories(dir_ / "sub");
  const std::string where = config_path() + ":5:19: ";
  EXPECT_ERROR_AT(config_error([&] { (void)load("api_key_file: missing.txt"); }), where,
                  "connections.main.api_key_file: cannot read the key file");
  EXPECT_ERROR_AT(config_error([&] { (void)load("api_key_file: missing.txt"); }), where,
                  "it does not exist");
  EXPECT_ERROR_AT(config_error([&] { (void)load("api_key_file: empty.txt"); }), where, "is empty");
  EXPECT_ERROR_AT(config_error([&] { (void)load("api_key_file: two.txt"); }), where,
                  "holds several lines");
  EXPECT_ERROR_AT(config_error([&] { (void)load("api_key_file: sub"); }), where, "is a directory");
}

TEST_F(ApiKeyFile, CatalogPathIsRelativeToTheConfigFile) {
  write("replicator.yaml", "catalog: my-catalog.yaml\n");
  Config c = load_config(config_path(), test_env());
  EXPECT_EQ(c.catalog_path, (dir_ / "my-catalog.yaml").string());
  EXPECT_ERROR_AT(config_error([&] { (void)load_catalog(c); }),
                  config_path() + ":1:10: ", "catalog: the file");
  fs::copy_file(fs::path(REPLICATOR_SOURCE_DIR) / "core/actito/catalog.yaml",
                dir_ / "my-catalog.yaml");
  EXPECT_EQ(load_catalog(c).objects.size(), builtin_catalog().objects.size());
}

TEST(ConfigLoad, MissingFile) {
  EXPECT_ERROR_AT(config_error([] { (void)load_config("/nonexistent/replicator.yaml"); }),
                  "/nonexistent/replicator.yaml: ", "cannot read the config file");
}

// ---- the annotated example ---------------------------------------------------------------------

TEST(ConfigExample, LoadsAndValidatesAgainstTheBuiltInCatalog) {
  const std::string path = std::string(REPLICATOR_SOURCE_DIR) + "/config/examples/replicator.yaml";
  Config c = load_config(path, env_of({{"ACTITO_API_KEY", kApiKey}, {"PG_DSN", kDsn}}));
  EXPECT_NO_THROW(validate(c, load_catalog(c)));
  EXPECT_EQ(c.server.listen, "127.0.0.1:9464");
  EXPECT_EQ(c.log.progress_interval, 10s);
  ASSERT_NE(c.find_connection("actito-main"), nullptr);
  EXPECT_EQ(c.find_connection("actito-main")->environment, "ENV-3");
  EXPECT_EQ(c.find_connection("actito-main")->api_key.reveal(), kApiKey);
  ASSERT_NE(c.find_destination("warehouse"), nullptr);
  EXPECT_EQ(c.find_destination("warehouse")->dsn.reveal(), kDsn);
  const JobConfig* job = c.find_job("crm");
  ASSERT_NE(job, nullptr);
  EXPECT_EQ(job->schedule.interval(), 5min);
  ASSERT_EQ(job->streams.size(), 5u);
  EXPECT_EQ(job->streams[2].where, "Status = 'SENT' AND CreatedAt >= '2025-01-01'");
  EXPECT_EQ(job->streams[4].object, "Orders");
  EXPECT_EQ(job->streams[4].mode, StreamMode::kFull);
  EXPECT_EQ(job->streams[4].deletes, DeletesMode::kDetect);
  EXPECT_EQ(job->streams[4].detect_deletes_every, 24h);
  EXPECT_EQ(job->streams[4].fields.size(), 5u);
}

TEST(ConfigExample, NeedsItsVariables) {
  const std::string path = std::string(REPLICATOR_SOURCE_DIR) + "/config/examples/replicator.yaml";
  std::string message = config_error([&] { (void)load_config(path, env_of({})); });
  EXPECT_NE(message.find("environment variable ACTITO_API_KEY is not set"), std::string::npos);
  EXPECT_NE(message.find("environment variable PG_DSN is not set"), std::string::npos);
}

}  // namespace
}  // namespace replicator::config

#include "tests/actito_sim/cli.hpp"

#include <algorithm>
#include <charconv>
#include <functional>
#include <map>

#include <fmt/format.h>

namespace replicator::actito_sim {
namespace {

std::int64_t parse_integer(std::string_view flag, std::string_view text, std::int64_t min) {
  std::int64_t value = 0;
  const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || result.ec != std::errc() || result.ptr != text.data() + text.size()) {
    throw CliError(fmt::format("{}: '{}' is not an integer", flag, text));
  }
  if (value < min) throw CliError(fmt::format("{}: {} is below the minimum {}", flag, value, min));
  return value;
}

double parse_fraction(std::string_view flag, std::string_view text) {
  double value = 0;
  const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || result.ec != std::errc() || result.ptr != text.data() + text.size() ||
      value < 0 || value > 1) {
    throw CliError(fmt::format("{}: '{}' must be a number between 0 and 1", flag, text));
  }
  return value;
}

}  // namespace

std::chrono::milliseconds parse_duration(std::string_view text) {
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  std::int64_t value = 0;
  const auto result = std::from_chars(text.data(), text.data() + digits, value);
  if (digits == 0 || result.ec != std::errc()) {
    throw CliError(fmt::format("'{}' is not a duration (e.g. 500ms, 2s, 5m, 1h)", text));
  }
  const std::string_view unit = text.substr(digits);
  if (unit == "ms") return std::chrono::milliseconds(value);
  if (unit.empty() || unit == "s") return std::chrono::seconds(value);
  if (unit == "m") return std::chrono::minutes(value);
  if (unit == "h") return std::chrono::hours(value);
  throw CliError(fmt::format("'{}' is not a duration (e.g. 500ms, 2s, 5m, 1h)", text));
}

std::string usage() {
  return R"(actito-sim - an HTTP simulator of the Actito API (actito-wire-contract.md)

Usage: actito-sim [flags]            flags take "--flag value" or "--flag=value"

Server
  --bind ADDR                 listen address (default 127.0.0.1)
  --port N                    listen port; 0 = ephemeral (default 8089)
  --port-file PATH            write the bound port to PATH once listening
  --threads N                 server threads (default 2)
  --entity NAME               the one entity served (default acme)
  --api-key KEY               accepted API key; repeatable (default: sim-api-key)
  --catalog PATH              catalog YAML (default: the source tree's core/actito/catalog.yaml)
  --idle-timeout DURATION     close idle keep-alive connections after this (default 120s)
  --log-level LEVEL           trace|debug|info|warn|error|off (default info; debug logs every call)

Data (deterministic for a seed; moments spread over the past, with bulk plateaus)
  --seed N                    seed of the generated data (default 42)
  --profiles N                rows per profile table (default 1000)
  --custom-records N          rows per custom table (default 1000)
  --profile-tables N          number of profile tables: Customers(16), Customers2(17)... (default 1)
  --custom-tables N           number of custom tables: Orders, Orders2... (default 1)
  --profile-table-name NAME   (default Customers)      --profile-table-id ID   (default 16)
  --custom-table-name NAME    (default Orders)
  --history-days N            seeded moments cover this many days before start-up (default 400)
  --plateau-share F           share of rows in bulk plateaus sharing one moment (default 0.2)
  --plateau-max N             largest plateau (default 5000)
  --timestamp-style STYLE     iso-utc (default) | naive-brussels (yyyy-MM-dd HH:mm:ss, contract 4.3)
  --static-rows N             rows of each static object and scenario list (default 12)
  --interaction-rows N        rows of the interaction objects (default 200)
  --no-static-objects         serve only the structures, profiles and custom records

Auth and limits (contract 2.4, 2.5)
  --token-ttl DURATION        token lifetime, sent as expiresIn (default 900s)
  --max-concurrent N          in-flight requests before an immediate 429 (default 5, 0 = off)
  --calls-per-minute N        calls per window before requests are delayed (default 100, 0 = off)
  --rate-window DURATION      sliding window length (default 60s)
  --limits on|off             off = --max-concurrent 0 --calls-per-minute 0

Faults
  --latency DURATION          added to every request (default 0)
  --latency-jitter DURATION   plus a random delay up to this (default 0)
  --fail-next N               fail the next N requests
  --fail-every N              fail every Nth request
  --fail-status CODE          status of injected failures (default 503; 429 is possible)
  --fail-route PREFIX         only fail/close requests whose path starts with PREFIX
  --retry-after SECONDS       send Retry-After with injected failures
  --close-next N              close the connection of the next N requests without answering

Consistency (contract 3.6)
  --visibility-delay DURATION late arrivals: rows created or updated by mutations are listed only
                              from their moment + DURATION; lists show the previous version (new
                              rows: none) until then; single GETs show writes at once (default 0)

Scripted mutations (demo)
  --mutate-every DURATION     apply a mutation to each table this often (default off)
  --mutate-creates N          rows created per mutation
  --mutate-updates N          random rows updated per mutation
  --mutate-deletes N          random rows deleted per mutation (profile deletes cascade)
  --mutate-same-moment        stamp all rows of a mutation with one moment (bulk import)
  --mutate-table NAME         only mutate this table; repeatable (default: every table)

  --help                      this text

Control API (no auth): GET /_sim/stats, POST /_sim/stats/reset, POST /_sim/mutate,
GET|POST /_sim/faults, GET|POST /_sim/limits, GET|POST /_sim/visibility, POST /_sim/tokens/expire,
POST /_sim/keys/revoke, POST /_sim/keys/add, GET /_sim/tables, GET /_sim/tables/{name}/count,
GET /_sim/health
)";
}

CliOptions parse_command_line(const std::vector<std::string_view>& args) {
  CliOptions cli;
  SimOptions& o = cli.sim;
  o.port = 8089;
  bool default_keys = true;
  using Handler = std::function<void(std::string_view flag, std::string_view value)>;
  const std::map<std::string_view, Handler> with_value = {
      {"--bind", [&](auto, auto v) { o.bind = std::string(v); }},
      {"--port",
       [&](auto f, auto v) {
         const auto port = parse_integer(f, v, 0);
         if (port > 65535) throw CliError(fmt::format("{}: {} is not a port", f, port));
         o.port = static_cast<std::uint16_t>(port);
       }},
      {"--port-file", [&](auto, auto v) { cli.port_file = std::string(v); }},
      {"--threads",
       [&](auto f, auto v) { o.threads = static_cast<std::size_t>(parse_integer(f, v, 1)); }},
      {"--entity", [&](auto, auto v) { o.entity = std::string(v); }},
      {"--api-key",
       [&](auto f, auto v) {
         if (v.empty()) throw CliError(fmt::format("{}: the key must not be empty", f));
         if (default_keys) o.api_keys.clear();
         default_keys = false;
         o.api_keys.emplace_back(v);
       }},
      {"--catalog", [&](auto, auto v) { o.catalog_path = std::string(v); }},
      {"--idle-timeout",
       [&](auto, auto v) {
         o.idle_timeout = std::chrono::duration_cast<std::chrono::seconds>(parse_duration(v));
       }},
      {"--log-level",
       [&](auto f, auto v) {
         static const std::vector<std::string_view> kLevels = {"trace", "debug", "info",
                                                               "warn",  "error", "off"};
         if (std::find(kLevels.begin(), kLevels.end(), v) == kLevels.end()) {
           throw CliError(
               fmt::format("{}: '{}' is not one of trace, debug, info, warn, error, off", f, v));
         }
         o.log_level = std::string(v);
       }},
      {"--seed",
       [&](auto f, auto v) { o.data.seed = static_cast<std::uint64_t>(parse_integer(f, v, 0)); }},
      {"--profiles",
       [&](auto f, auto v) { o.data.profiles = static_cast<std::size_t>(parse_integer(f, v, 0)); }},
      {"--custom-records",
       [&](auto f, auto v) {
         o.data.custom_records = static_cast<std::size_t>(parse_integer(f, v, 0));
       }},
      {"--profile-tables",
       [&](auto f, auto v) {
         o.data.profile_tables = static_cast<std::size_t>(parse_integer(f, v, 0));
       }},
      {"--custom-tables",
       [&](auto f, auto v) {
         o.data.custom_tables = static_cast<std::size_t>(parse_integer(f, v, 0));
       }},
      {"--profile-table-name", [&](auto, auto v) { o.data.profile_table_name = std::string(v); }},
      {"--profile-table-id",
       [&](auto f, auto v) {
         parse_integer(f, v, 1);
         o.data.profile_table_id = std::string(v);
       }},
      {"--custom-table-name", [&](auto, auto v) { o.data.custom_table_name = std::string(v); }},
      {"--history-days",
       [&](auto f, auto v) { o.data.history.history_days = parse_integer(f, v, 1); }},
      {"--plateau-share",
       [&](auto f, auto v) { o.data.history.plateau_share = parse_fraction(f, v); }},
      {"--plateau-max",
       [&](auto f, auto v) { o.data.history.plateau_max = parse_integer(f, v, 2); }},
      {"--static-rows",
       [&](auto f, auto v) {
         o.data.static_rows = static_cast<std::size_t>(parse_integer(f, v, 1));
       }},
      {"--interaction-rows",
       [&](auto f, auto v) {
         o.data.interaction_rows = static_cast<std::size_t>(parse_integer(f, v, 0));
       }},
      {"--timestamp-style",
       [&](auto f, auto v) {
         if (v == "iso-utc")
           o.data.style = TimestampStyle::kIsoUtc;
         else if (v == "naive-brussels")
           o.data.style = TimestampStyle::kNaiveBrussels;
         else
           throw CliError(fmt::format("{}: '{}' is not iso-utc or naive-brussels", f, v));
       }},
      {"--token-ttl",
       [&](auto f, auto v) {
         o.token_ttl_s =
             std::chrono::duration_cast<std::chrono::seconds>(parse_duration(v)).count();
         if (o.token_ttl_s < 1) throw CliError(fmt::format("{}: the TTL must be at least 1s", f));
       }},
      {"--max-concurrent",
       [&](auto f, auto v) { o.limits.max_concurrent = parse_integer(f, v, 0); }},
      {"--calls-per-minute",
       [&](auto f, auto v) { o.limits.calls_per_minute = parse_integer(f, v, 0); }},
      {"--rate-window",
       [&](auto f, auto v) {
         o.limits.window = parse_duration(v);
         if (o.limits.window.count() <= 0) throw CliError(fmt::format("{}: must be positive", f));
       }},
      {"--limits",
       [&](auto f, auto v) {
         if (v == "off") {
           o.limits.max_concurrent = 0;
           o.limits.calls_per_minute = 0;
         } else if (v == "on") {
           o.limits = LimitOptions{};
         } else {
           throw CliError(fmt::format("{}: '{}' is not on or off", f, v));
         }
       }},
      {"--latency", [&](auto, auto v) { o.faults.latency = parse_duration(v); }},
      {"--visibility-delay", [&](auto, auto v) { o.visibility_delay = parse_duration(v); }},
      {"--latency-jitter", [&](auto, auto v) { o.faults.latency_jitter = parse_duration(v); }},
      {"--fail-next", [&](auto f, auto v) { o.faults.fail_next = parse_integer(f, v, 0); }},
      {"--fail-every", [&](auto f, auto v) { o.faults.fail_every = parse_integer(f, v, 0); }},
      {"--fail-status",
       [&](auto f, auto v) {
         const auto status = parse_integer(f, v, 400);
         if (status > 599)
           throw CliError(fmt::format("{}: {} is not an HTTP error status", f, status));
         o.faults.fail_status = static_cast<int>(status);
       }},
      {"--fail-route", [&](auto, auto v) { o.faults.route_prefix = std::string(v); }},
      {"--retry-after", [&](auto f, auto v) { o.faults.retry_after_s = parse_integer(f, v, 0); }},
      {"--close-next", [&](auto f, auto v) { o.faults.close_next = parse_integer(f, v, 0); }},
      {"--mutate-every", [&](auto, auto v) { o.mutations.every = parse_duration(v); }},
      {"--mutate-creates", [&](auto f, auto v) { o.mutations.creates = parse_integer(f, v, 0); }},
      {"--mutate-updates", [&](auto f, auto v) { o.mutations.updates = parse_integer(f, v, 0); }},
      {"--mutate-deletes", [&](auto f, auto v) { o.mutations.deletes = parse_integer(f, v, 0); }},
      {"--mutate-table", [&](auto, auto v) { o.mutations.tables.emplace_back(v); }},
  };
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg == "--help" || arg == "-h") {
      cli.help = true;
      continue;
    }
    if (arg == "--mutate-same-moment") {
      o.mutations.same_moment = true;
      continue;
    }
    if (arg == "--no-static-objects") {
      o.data.static_objects = false;
      continue;
    }
    std::string_view value;
    bool inline_value = false;
    if (const std::size_t eq = arg.find('=');
        arg.starts_with("--") && eq != std::string_view::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      inline_value = true;
    }
    const auto handler = with_value.find(arg);
    if (handler == with_value.end()) {
      throw CliError(fmt::format("unknown flag '{}' (see --help)", arg));
    }
    if (!inline_value) {
      if (i + 1 >= args.size()) throw CliError(fmt::format("{} needs a value", arg));
      value = args[++i];
    }
    handler->second(arg, value);
  }
  return cli;
}

}  // namespace replicator::actito_sim

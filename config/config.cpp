#include "config/config.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <span>
#include <sstream>

#include "config/detail/address.hpp"
#include "config/detail/text.hpp"
#include "config/detail/yaml_reader.hpp"
#include "core/model/error.hpp"
#include "core/model/timestamp.hpp"

namespace replicator::config {

using detail::in_quotes;
using detail::Item;
using detail::join;
using detail::Problem;
using detail::Problems;
using detail::Reader;
using detail::where_text;
namespace fs = std::filesystem;

std::string Location::to_string() const { return fmt::format("{}:{}:{}", file, line, column); }

const Location& Located::location_of(std::string_view key) const noexcept {
  auto it = key_locations.find(key);
  return it == key_locations.end() ? location : it->second;
}

std::string PageSize::to_string() const { return is_max() ? "max" : std::to_string(number); }

std::string_view to_string(StreamMode mode) noexcept {
  return mode == StreamMode::kIncremental ? "incremental" : "full";
}

std::string_view to_string(DeletesMode mode) noexcept {
  return mode == DeletesMode::kDetect ? "detect" : "ignore";
}

namespace {

template <typename T>
const T* find_named(const std::vector<T>& items, std::string_view name) noexcept {
  for (const auto& i : items) {
    if (i.name == name) return &i;
  }
  return nullptr;
}

}  // namespace

const ConnectionConfig* Config::find_connection(std::string_view name) const noexcept {
  return find_named(connections, name);
}
const DestinationConfig* Config::find_destination(std::string_view name) const noexcept {
  return find_named(destinations, name);
}
const JobConfig* Config::find_job(std::string_view name) const noexcept {
  return find_named(jobs, name);
}

EnvLookup process_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

namespace {

constexpr std::string_view kTopKeys[] = {"server",       "log",      "catalog", "connections",
                                         "destinations", "defaults", "jobs"};
constexpr std::string_view kServerKeys[] = {"listen"};
constexpr std::string_view kLogKeys[] = {"level", "format", "progress_interval"};
constexpr std::string_view kLogLevels[] = {"trace", "debug", "info", "warn", "error"};
constexpr std::string_view kLogFormats[] = {"auto", "text", "json"};
constexpr std::string_view kConnectionKeys[] = {"environment",
                                                "base_url",
                                                "entity",
                                                "api_key",
                                                "api_key_file",
                                                "suppress_extended_requests",
                                                "metadata_cache_ttl",
                                                "calls_per_minute",
                                                "max_concurrent_requests",
                                                "request_timeout",
                                                "timestamp_zone"};
// contract 2.1: the environments of the Actito user menu; hosts come from the catalog.
constexpr std::string_view kEnvironments[] = {"ENV-0", "ENV-1", "ENV-3", "PREPROD"};
constexpr std::string_view kDestinationKeys[] = {"type", "dsn", "schema"};
constexpr std::string_view kDestinationTypes[] = {"postgres"};
constexpr std::string_view kDefaultsKeys[] = {"schedule", "lookback", "page_size"};
constexpr std::string_view kScheduleKeys[] = {"every", "cron"};
constexpr std::string_view kJobKeys[] = {"name",     "connection", "destination", "schedule",
                                         "lookback", "page_size",  "streams"};
constexpr std::string_view kStreamKeys[] = {"object",   "mode",     "fields",
                                            "where",    "deletes",  "detect_deletes_every",
                                            "lookback", "page_size"};
constexpr std::string_view kModes[] = {"incremental", "full"};
constexpr std::string_view kDeletes[] = {"ignore", "detect"};

constexpr int kMaxPageSizeNumber = 100'000;
constexpr std::size_t kMaxIdentifierBytes = 63;  // PostgreSQL NAMEDATALEN - 1

std::string any_of(std::span<const std::string_view> names) {
  return join(std::vector<std::string>(names.begin(), names.end()), ", ");
}

// Names of connections, destinations and jobs: used on the command line, in metric labels and in
// the state table.
bool valid_name(std::string_view n) {
  if (n.empty() || !std::isalnum(static_cast<unsigned char>(n[0]))) return false;
  return std::all_of(n.begin(), n.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  });
}
constexpr const char* kNameRule =
    "letters, digits, '_', '-' and '.', starting with a letter or digit";

class Parser {
 public:
  Parser(const std::string& file, const EnvLookup& env)
      : reader_(file, &env), base_dir_(fs::path(file).parent_path()) {}

  Config parse(std::string_view text) {
    Config c;
    c.path = reader_.file();
    problems_.guard([&] { parse_root(text, c); });
    problems_.throw_if_any();
    return c;
  }

 private:
  [[noreturn]] void fail(const Item& item, std::string message) const {
    reader_.fail(item, std::move(message));
  }
  void problem(const Location& at, const std::string& path, std::string message) {
    problems_.add(Problem(at, where_text(path) + ": " + std::move(message)));
  }
  // Records what `f` throws and moves on: one mistake per key is reported, all keys are read.
  template <typename F>
  void each(const std::vector<Item>& items, Located& target, F&& f) {
    for (const auto& kv : items) {
      if (!kv.key.empty()) target.key_locations[kv.key] = kv.at;
      problems_.guard([&] { f(kv); });
    }
  }

  fs::path relative_to_config(const std::string& p) const {
    fs::path path(p);
    if (path.is_relative() && !base_dir_.empty()) path = base_dir_ / path;
    return path;
  }

  void parse_root(std::string_view text, Config& c) {
    Item root = reader_.load(text);
    c.location = root.at;
    if (reader_.is_null(root)) {
      fail(root, "the file is empty; expected a mapping with some of: " + any_of(kTopKeys));
    }
    auto entries =
        reader_.entries(root, "sections (" + any_of(kTopKeys) + ")", kTopKeys, problems_);
    auto find = [&](std::string_view key) -> const Item* {
      for (const auto& e : entries) {
        if (e.key == key) return &e;
      }
      return nullptr;
    };
    for (const auto& e : entries) c.key_locations[e.key] = e.at;
    // Fixed order: jobs inherit from defaults wherever the sections are in the file.
    if (auto* e = find("server")) problems_.guard([&] { c.server = parse_server(*e); });
    if (auto* e = find("log")) problems_.guard([&] { c.log = parse_log(*e); });
    if (auto* e = find("catalog")) {
      problems_.guard([&] { c.catalog_path = relative_to_config(reader_.text(*e)).string(); });
    }
    if (auto* e = find("connections")) {
      for (const auto& n : reader_.entries(*e, "connection names to their settings")) {
        problems_.guard([&] { c.connections.push_back(parse_connection(n)); });
      }
    }
    if (auto* e = find("destinations")) {
      for (const auto& n : reader_.entries(*e, "destination names to their settings")) {
        problems_.guard([&] { c.destinations.push_back(parse_destination(n)); });
      }
    }
    if (auto* e = find("defaults")) problems_.guard([&] { c.defaults = parse_defaults(*e); });
    if (auto* e = find("jobs")) parse_jobs(*e, c);
  }

  ServerConfig parse_server(const Item& item) {
    ServerConfig s;
    s.location = item.at;
    each(reader_.entries(item, "server settings", kServerKeys, problems_), s, [&](const Item& kv) {
      std::string v = reader_.text(kv);
      if (std::string why = detail::listen_problem(v); !why.empty()) {
        fail(kv, fmt::format("expected host:port such as 127.0.0.1:9464 or [::1]:9464, got {}: {}",
                             in_quotes(v), why));
      }
      s.listen = v;
    });
    return s;
  }

  LogConfig parse_log(const Item& item) {
    LogConfig l;
    l.location = item.at;
    each(reader_.entries(item, "log settings", kLogKeys, problems_), l, [&](const Item& kv) {
      if (kv.key == "level") l.level = reader_.choice(kv, kLogLevels);
      if (kv.key == "format") l.format = reader_.choice(kv, kLogFormats);
      if (kv.key == "progress_interval") l.progress_interval = reader_.duration(kv, std::chrono::seconds(1));
    });
    return l;
  }

  Secret read_key_file(const Item& item) {
    fs::path path = relative_to_config(reader_.text(item));
    std::error_code ec;
    auto status = fs::status(path, ec);
    if (ec || !fs::exists(status)) {
      fail(item,
           fmt::format("cannot read the key file {}: it does not exist", in_quotes(path.string())));
    }
    if (fs::is_directory(status)) {
      fail(item,
           fmt::format("cannot read the key file {}: it is a directory", in_quotes(path.string())));
    }
    errno = 0;
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      fail(item, fmt::format("cannot read the key file {}: {}", in_quotes(path.string()),
                             errno ? std::strerror(errno) : "open failed"));
    }
    std::ostringstream content;
    content << in.rdbuf();
    std::string key = content.str();
    // One trailing newline (LF or CRLF) is how editors and `echo` end a file.
    if (!key.empty() && key.back() == '\n') key.pop_back();
    if (!key.empty() && key.back() == '\r') key.pop_back();
    if (key.empty()) fail(item, fmt::format("the key file {} is empty", in_quotes(path.string())));
    if (key.find_first_of("\r\n") != std::string::npos) {
      fail(item, fmt::format("the key file {} holds several lines; expected the key alone",
                             in_quotes(path.string())));
    }
    return Secret(std::move(key));
  }

  ConnectionConfig parse_connection(const Item& e) {
    if (!valid_name(e.key)) {
      reader_.fail(e.key_at, "connections",
                   fmt::format("bad connection name {}: use {}", in_quotes(e.key), kNameRule));
    }
    ConnectionConfig c;
    c.name = e.key;
    c.location = e.key_at;
    const Item* key_item = nullptr;
    auto keys = reader_.entries(e, "connection settings", kConnectionKeys, problems_);
    each(keys, c, [&](const Item& kv) {
      const std::string& k = kv.key;
      if (k == "api_key" || k == "api_key_file") {
        if (key_item) {
          reader_.fail(kv.key_at, e.path, "give either api_key or api_key_file, not both");
        }
        key_item = &kv;
        c.api_key = k == "api_key" ? Secret(reader_.secret_text(kv)) : read_key_file(kv);
      } else if (k == "environment") {
        c.environment = reader_.choice(kv, kEnvironments);
      } else if (k == "base_url") {
        std::string v = reader_.text(kv);
        if (std::string why = detail::base_url_problem(v); !why.empty()) {
          fail(kv, fmt::format("expected scheme://host[:port] with scheme http or https and no "
                               "path (e.g. http://127.0.0.1:8089), got {}: {}",
                               in_quotes(v), why));
        }
        c.base_url = v;
      } else if (k == "entity") {
        c.entity = reader_.text(kv);
      } else if (k == "suppress_extended_requests") {
        c.suppress_extended_requests = reader_.boolean(kv);
      } else if (k == "metadata_cache_ttl") {
        c.metadata_cache_ttl = reader_.duration(kv, model::Duration(0));
      } else if (k == "calls_per_minute") {
        c.calls_per_minute = static_cast<int>(reader_.integer(kv, 1, 1'000'000));
      } else if (k == "max_concurrent_requests") {
        // contract 2.5: Actito allows at most 5 requests in flight.
        c.max_concurrent_requests = static_cast<int>(reader_.integer(kv, 1, 5));
      } else if (k == "request_timeout") {
        c.request_timeout = reader_.duration(kv, std::chrono::seconds(1));
      } else if (k == "timestamp_zone") {
        std::string v = reader_.text(kv);
        try {
          (void)model::TimeZone::from_name(v);
        } catch (const model::Error& error) {
          fail(kv, error.what());
        }
        c.timestamp_zone = v;
      }
    });
    auto given = [&](std::string_view k) { return c.key_locations.count(k) > 0; };
    if (!given("entity"))
      problem(c.location, e.path, "missing required key entity (the Actito entity name)");
    if (!given("api_key") && !given("api_key_file")) {
      problem(c.location, e.path, "missing api_key or api_key_file");
    }
    if (!given("environment") && !given("base_url")) {
      problem(c.location, e.path,
              "missing environment (one of " + any_of(kEnvironments) + ") or base_url");
    }
    return c;
  }

  DestinationConfig parse_destination(const Item& e) {
    if (!valid_name(e.key)) {
      reader_.fail(e.key_at, "destinations",
                   fmt::format("bad destination name {}: use {}", in_quotes(e.key), kNameRule));
    }
    DestinationConfig d;
    d.name = e.key;
    d.location = e.key_at;
    each(reader_.entries(e, "destination settings", kDestinationKeys, problems_), d,
         [&](const Item& kv) {
           if (kv.key == "type") {
             d.type = reader_.choice(kv, kDestinationTypes);
           } else if (kv.key == "dsn") {
             d.dsn = Secret::dsn(reader_.secret_text(kv));
           } else if (kv.key == "schema") {
             std::string v = reader_.text(kv);
             if (v.size() > kMaxIdentifierBytes || v.find('\0') != std::string::npos) {
               fail(kv, fmt::format("expected a PostgreSQL schema name of at most {} bytes, got {}",
                                    kMaxIdentifierBytes, in_quotes(v)));
             }
             d.schema = v;
           }
         });
    if (!d.key_locations.count("dsn")) {
      problem(d.location, e.path, "missing required key dsn (a libpq conninfo or URI)");
    }
    return d;
  }

  Schedule parse_schedule(const Item& item) {
    constexpr const char* kExpected = "{ every: DURATION } or { cron: \"m h dom mon dow\" }";
    if (!item.node || !item.node.IsMap()) {
      fail(item, fmt::format("expected {}, got {}", kExpected, Reader::describe(item.node)));
    }
    auto kv = reader_.entries(item, kExpected);
    std::vector<std::string> allowed(std::begin(kScheduleKeys), std::end(kScheduleKeys));
    for (const auto& e : kv) {
      if (e.key != "every" && e.key != "cron") {
        reader_.fail(e.key_at, item.path,
                     fmt::format("unknown key {}{}; expected {}", in_quotes(e.key),
                                 detail::did_you_mean(e.key, allowed), kExpected));
      }
    }
    if (kv.empty()) fail(item, fmt::format("expected {}, got an empty mapping", kExpected));
    if (kv.size() > 1) {
      reader_.fail(kv[1].key_at, item.path, "give either every or cron, not both");
    }
    const Item& e = kv[0];
    if (e.key == "every") return Schedule::every(reader_.duration(e, std::chrono::seconds(1)));
    std::string text = reader_.text(e);
    try {
      return Schedule::cron(CronExpression::parse(text));
    } catch (const model::Error& error) {
      fail(e, error.what());
    }
  }

  PageSize parse_page_size(const Item& item) {
    std::string v = reader_.text(item, true);
    if (v == "max") return PageSize{};
    int n = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (v.empty() || ec != std::errc() || p != v.data() + v.size() || n < 1 ||
        n > kMaxPageSizeNumber) {
      fail(item, fmt::format("expected max or an integer from 1 to {}, got {}", kMaxPageSizeNumber,
                             in_quotes(v)));
    }
    return PageSize{n};
  }

  DefaultsConfig parse_defaults(const Item& item) {
    DefaultsConfig d;
    d.location = item.at;
    each(reader_.entries(item, "defaults", kDefaultsKeys, problems_), d, [&](const Item& kv) {
      if (kv.key == "schedule") d.schedule = parse_schedule(kv);
      if (kv.key == "lookback") d.lookback = reader_.duration(kv, model::Duration(0));
      if (kv.key == "page_size") d.page_size = parse_page_size(kv);
    });
    return d;
  }

  void parse_jobs(const Item& item, Config& c) {
    std::vector<Item> items;
    if (!problems_.guard([&] { items = reader_.elements(item, "jobs"); })) return;
    for (const auto& e : items) {
      problems_.guard([&] { c.jobs.push_back(parse_job(e, c.defaults)); });
    }
    for (std::size_t i = 0; i < c.jobs.size(); ++i) {
      for (std::size_t j = 0; j < i; ++j) {
        if (!c.jobs[i].name.empty() && c.jobs[i].name == c.jobs[j].name) {
          const Location& first = c.jobs[j].location_of("name");
          problem(c.jobs[i].location_of("name"), "jobs",
                  fmt::format("duplicate job name {} (first used at line {}, column {})",
                              in_quotes(c.jobs[i].name), first.line, first.column));
          break;
        }
      }
    }
  }

  JobConfig parse_job(const Item& e, const DefaultsConfig& defaults) {
    JobConfig j;
    j.location = e.at;
    j.schedule = defaults.schedule;
    j.lookback = defaults.lookback;
    j.page_size = defaults.page_size;
    each(reader_.entries(e, "job settings", kJobKeys, problems_), j, [&](const Item& kv) {
      const std::string& k = kv.key;
      if (k == "name") {
        std::string v = reader_.text(kv);
        if (!valid_name(v))
          fail(kv, fmt::format("bad job name {}: use {}", in_quotes(v), kNameRule));
        j.name = v;
      } else if (k == "connection") {
        j.connection = reader_.text(kv);
      } else if (k == "destination") {
        j.destination = reader_.text(kv);
      } else if (k == "schedule") {
        j.schedule = parse_schedule(kv);
      } else if (k == "lookback") {
        j.lookback = reader_.duration(kv, model::Duration(0));
      } else if (k == "page_size") {
        j.page_size = parse_page_size(kv);
      } else if (k == "streams") {
        auto items = reader_.elements(kv, "streams (each a mapping with at least object:)");
        if (items.empty()) fail(kv, "expected at least one stream, got an empty list");
        for (const auto& s : items) {
          problems_.guard([&] { j.streams.push_back(parse_stream(s)); });
        }
      }
    });
    for (std::string_view required : {"name", "connection", "destination", "streams"}) {
      if (!j.key_locations.count(required)) {
        problem(j.location, e.path, fmt::format("missing required key {}", required));
      }
    }
    for (std::size_t i = 0; i < j.streams.size(); ++i) {
      for (std::size_t k = 0; k < i; ++k) {
        if (j.streams[i].object == j.streams[k].object) {
          const Location& first = j.streams[k].location_of("object");
          problem(j.streams[i].location_of("object"), e.path,
                  fmt::format("object {} has two streams in this job (first at line {}, column {})",
                              in_quotes(j.streams[i].object), first.line, first.column));
          break;
        }
      }
    }
    return j;
  }

  StreamConfig parse_stream(const Item& e) {
    StreamConfig s;
    s.location = e.at;
    each(reader_.entries(e, "stream settings", kStreamKeys, problems_), s, [&](const Item& kv) {
      const std::string& k = kv.key;
      if (k == "object") {
        std::string v = reader_.text(kv);
        if (std::isspace(static_cast<unsigned char>(v.front())) ||
            std::isspace(static_cast<unsigned char>(v.back()))) {
          fail(kv, fmt::format("object name {} has leading or trailing spaces", in_quotes(v)));
        }
        s.object = v;
      } else if (k == "mode") {
        s.mode =
            reader_.choice(kv, kModes) == "full" ? StreamMode::kFull : StreamMode::kIncremental;
      } else if (k == "fields") {
        auto list = reader_.string_list(kv);
        if (list.empty())
          fail(kv, "expected at least one field name (leave fields out to keep all)");
        for (std::size_t i = 0; i < list.size(); ++i) {
          for (std::size_t p = 0; p < i; ++p) {
            if (list[i].first == list[p].first) {
              reader_.fail(list[i].second, kv.path,
                           fmt::format("field {} is listed twice", in_quotes(list[i].first)));
            }
          }
          s.fields.push_back(list[i].first);
          s.field_locations.push_back(list[i].second);
        }
      } else if (k == "where") {
        std::string v = reader_.text(kv);
        if (std::all_of(v.begin(), v.end(),
                        [](char ch) { return std::isspace(static_cast<unsigned char>(ch)); })) {
          fail(kv, "expected a predicate such as \"Status = 'SENT'\", got only spaces");
        }
        s.where = v;
      } else if (k == "deletes") {
        s.deletes =
            reader_.choice(kv, kDeletes) == "detect" ? DeletesMode::kDetect : DeletesMode::kIgnore;
      } else if (k == "detect_deletes_every") {
        s.detect_deletes_every = reader_.duration(kv, std::chrono::seconds(1));
      } else if (k == "lookback") {
        s.lookback = reader_.duration(kv, model::Duration(0));
      } else if (k == "page_size") {
        s.page_size = parse_page_size(kv);
      }
    });
    if (!s.key_locations.count("object")) {
      problem(s.location, e.path, "missing required key object (the Actito object to replicate)");
    }
    if (s.key_locations.count("detect_deletes_every") && s.deletes != DeletesMode::kDetect) {
      problem(s.location_of("detect_deletes_every"), e.path,
              "detect_deletes_every has no effect without deletes: detect");
    }
    return s;
  }

  Reader reader_;
  Problems problems_;
  fs::path base_dir_;
};

}  // namespace

Config parse_config(std::string_view yaml_text, const std::string& file_name_for_errors,
                    const EnvLookup& env) {
  return Parser(file_name_for_errors, env).parse(yaml_text);
}

Config load_config(const std::string& path, const EnvLookup& env) {
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  std::error_code ec;
  if (!in || fs::is_directory(path, ec)) {
    const char* why = fs::is_directory(path, ec) ? "it is a directory"
                      : errno                    ? std::strerror(errno)
                                                 : "open failed";
    throw model::Error(model::ErrorKind::kConfig,
                       fmt::format("{}: cannot read the config file: {}", path, why));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse_config(text.str(), path, env);
}

}  // namespace replicator::config

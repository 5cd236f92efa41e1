#include "tests/actito_sim/simulator.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/parser.hpp>
#include <boost/json/serialize.hpp>

#include "tests/actito_sim/api_error.hpp"
#include "tests/actito_sim/fault_injector.hpp"
#include "tests/actito_sim/json_writer.hpp"
#include "tests/actito_sim/list_request.hpp"
#include "tests/actito_sim/request_limiter.hpp"
#include "tests/actito_sim/token_store.hpp"

#ifndef ACTITO_SIM_DEFAULT_CATALOG
#define ACTITO_SIM_DEFAULT_CATALOG "core/actito/catalog.yaml"
#endif

namespace replicator::actito_sim {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using Request = http::request<http::string_body>;

constexpr std::size_t kHeaderLimit = 64 * 1024;    // request line + headers
constexpr std::size_t kMaxTargetLength = 8192;     // contract A25: longer URL -> 414
constexpr std::uint64_t kBodyLimit = 1024 * 1024;  // contract A25: larger body -> 413
constexpr auto kWriteTimeout = std::chrono::seconds(30);
constexpr std::size_t kMaxIdsInMutationReply = 1000;

std::shared_ptr<spdlog::logger> logger() {
  static const auto instance = [] {
    auto created = spdlog::stderr_color_mt("actito-sim");
    created->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ actito-sim: %v");
    return created;
  }();
  return instance;
}

// An answer before it becomes a Beast response.
struct Reply {
  int status = 200;
  std::string body;  // JSON text; empty for no body
  std::vector<std::pair<std::string, std::string>> headers;
  bool drop_connection = false;  // fault: close without answering
};

Reply error_reply(const ApiError& e) {
  return Reply{e.status(), error_body(e.status(), e.code(), e.message(), e.errors()), {}, false};
}

Reply json_reply(const json::value& value, int status = 200) {
  return Reply{status, json::serialize(value), {}, false};
}

// What a contract route does.
enum class RouteKind { kToken, kEntities, kList, kGet };
// Where a list or single route finds its collection.
enum class Source {
  kNone,
  kProfileTableStructures,
  kCustomTableStructures,
  kProfiles,         // <ProfileTable> records of the table in the path
  kRecords,          // <CustomTable> records of the table in the path
  kStatic,           // a static object of the catalog (Route::object)
  kPerProfileTable,  // <ProfileTable>_Interactions... of the table in the path (Route::object)
};

struct Route {
  std::string pattern;                // the catalog's template, used in stats
  std::vector<std::string> segments;  // literal segments and {params}
  RouteKind kind = RouteKind::kList;
  Source source = Source::kNone;
  std::string table_param;  // path parameter holding a table id (or a parent id)
  std::string key_param;    // path parameter holding the record key (kGet)
  std::string object;       // kStatic: object name; kPerProfileTable: the template's name pattern
};

using PathParams = std::map<std::string, std::string, std::less<>>;

std::vector<std::string> split_pattern(std::string_view pattern) {
  std::vector<std::string> out;
  std::size_t start = 1;
  while (start <= pattern.size()) {
    const std::size_t end = pattern.find('/', start);
    out.emplace_back(pattern.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return out;
}

bool is_param(std::string_view segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

// The contract routes the simulator serves, built from the catalog's templates.
class Router {
 public:
  Router(const Catalog& catalog, bool static_objects) {
    add("/auth/token", RouteKind::kToken, Source::kNone);
    add("/entities/v5/entities", RouteKind::kEntities, Source::kNone);
    const auto& profile_tables = catalog.object("ProfileTables");
    add(profile_tables.list_route, RouteKind::kList, Source::kProfileTableStructures);
    add(profile_tables.get_route, RouteKind::kGet, Source::kProfileTableStructures);
    const auto& custom_tables = catalog.object("CustomTables");
    add(custom_tables.list_route, RouteKind::kList, Source::kCustomTableStructures);
    add(custom_tables.get_route, RouteKind::kGet, Source::kCustomTableStructures);
    const auto& profiles = catalog.dynamic("<ProfileTable>");
    add(profiles.list_route, RouteKind::kList, Source::kProfiles);
    add(profiles.get_route, RouteKind::kGet, Source::kProfiles);
    const auto& records = catalog.dynamic("<CustomTable>");
    add(records.list_route, RouteKind::kList, Source::kRecords);
    add(records.get_route, RouteKind::kGet, Source::kRecords);
    if (!static_objects) return;
    for (const auto& spec : catalog.objects()) {
      if (spec.name == "ProfileTables" || spec.name == "CustomTables") continue;
      // Objects sharing a route (EmailCampaigns, EmailCampaignsExtended) are served by the one
      // with the most fields, so that the single GET returns the extended fields (contract 3.8).
      for (const auto& [pattern, kind] : {std::pair{spec.list_route, RouteKind::kList},
                                          std::pair{spec.get_route, RouteKind::kGet}}) {
        if (pattern.empty()) continue;
        const auto existing = std::find_if(routes_.begin(), routes_.end(),
                                           [&](const Route& r) { return r.pattern == pattern; });
        if (existing == routes_.end()) {
          add(pattern, kind, Source::kStatic, spec.name);
        } else if (spec.fields.size() > catalog.object(existing->object).fields.size()) {
          existing->object = spec.name;
        }
      }
    }
    for (const char* pattern : {"<ProfileTable>_Scenarios", "<ProfileTable>_Interactions",
                                "<ProfileTable>_SubscriptionInteractions"}) {
      const auto& t = catalog.dynamic(pattern);
      add(t.list_route, RouteKind::kList, Source::kPerProfileTable, pattern);
      add(t.get_route, RouteKind::kGet, Source::kPerProfileTable, pattern);
    }
  }

  const Route* match(const std::vector<std::string>& segments, PathParams& params) const {
    for (const auto& route : routes_) {
      if (route.segments.size() != segments.size()) continue;
      PathParams found;
      bool ok = true;
      for (std::size_t i = 0; i < segments.size() && ok; ++i) {
        const std::string& p = route.segments[i];
        if (is_param(p)) {
          ok = !segments[i].empty();
          found[p.substr(1, p.size() - 2)] = segments[i];
        } else {
          ok = p == segments[i];
        }
      }
      if (ok) {
        params = std::move(found);
        return &route;
      }
    }
    return nullptr;
  }

 private:
  void add(const std::string& pattern, RouteKind kind, Source source, std::string object = {}) {
    if (pattern.empty()) return;
    Route route;
    route.pattern = pattern;
    route.object = std::move(object);
    route.segments = split_pattern(pattern);
    route.kind = kind;
    route.source = source;
    std::vector<std::string> names;
    for (const auto& s : route.segments) {
      if (is_param(s) && s != "{entity}") names.push_back(s.substr(1, s.size() - 2));
    }
    if (kind == RouteKind::kGet && !names.empty()) {
      route.key_param = names.back();
      names.pop_back();
    }
    if (!names.empty()) route.table_param = names.front();
    routes_.push_back(std::move(route));
  }

  std::vector<Route> routes_;
};

// Contract 2.3: a missing Accept is */*; a value that excludes JSON gets 406.
void check_accept(std::string_view accept) {
  if (accept.empty()) return;
  auto trimmed_lower = [](std::string_view text) {
    std::string out;
    for (const char c : text) {
      if (c != ' ' && c != '\t')
        out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
    return out;
  };
  std::size_t start = 0;
  while (start <= accept.size()) {
    std::size_t end = accept.find(',', start);
    if (end == std::string_view::npos) end = accept.size();
    const std::string range = trimmed_lower(accept.substr(start, end - start));
    start = end + 1;
    const std::size_t semicolon = range.find(';');
    const std::string type = range.substr(0, semicolon);
    double quality = 1.0;
    for (std::size_t p = semicolon; p != std::string::npos; p = range.find(';', p + 1)) {
      if (range.compare(p + 1, 2, "q=") == 0) quality = std::strtod(range.c_str() + p + 3, nullptr);
    }
    if (quality > 0 && (type == "*/*" || type == "application/*" || type == "application/json" ||
                        type.ends_with("+json"))) {
      return;
    }
  }
  throw ApiError(406, "", fmt::format("Accept '{}' excludes application/json", accept));
}

std::int64_t json_int(const json::object& body, std::string_view key, std::int64_t fallback) {
  const json::value* v = body.if_contains(key);
  if (v == nullptr || v->is_null()) return fallback;
  if (!v->is_int64() && !v->is_uint64()) {
    throw std::invalid_argument(fmt::format("'{}' must be an integer", key));
  }
  return v->to_number<std::int64_t>();
}

bool json_bool(const json::object& body, std::string_view key, bool fallback) {
  const json::value* v = body.if_contains(key);
  if (v == nullptr || v->is_null()) return fallback;
  if (!v->is_bool()) throw std::invalid_argument(fmt::format("'{}' must be true or false", key));
  return v->get_bool();
}

std::string json_string(const json::object& body, std::string_view key, std::string fallback) {
  const json::value* v = body.if_contains(key);
  if (v == nullptr || v->is_null()) return fallback;
  if (!v->is_string()) throw std::invalid_argument(fmt::format("'{}' must be a string", key));
  return std::string(v->get_string());
}

void reject_unknown_keys(const json::object& body, std::initializer_list<std::string_view> known) {
  for (const auto& [key, value] : body) {
    if (std::find(known.begin(), known.end(), std::string_view(key)) == known.end()) {
      throw std::invalid_argument(fmt::format("unknown key '{}' (known: {})", std::string_view(key),
                                              fmt::join(known, ", ")));
    }
  }
}

std::vector<std::int64_t> json_ids(const json::object& body, std::string_view key) {
  std::vector<std::int64_t> ids;
  const json::value* v = body.if_contains(key);
  if (v == nullptr || v->is_null()) return ids;
  if (!v->is_array()) throw std::invalid_argument(fmt::format("'{}' must be an array of ids", key));
  for (const auto& id : v->get_array()) {
    if (!id.is_int64() && !id.is_uint64()) {
      throw std::invalid_argument(fmt::format("'{}' must hold integers", key));
    }
    ids.push_back(id.to_number<std::int64_t>());
  }
  return ids;
}

json::object parse_body(const Request& request) {
  if (request.body().empty()) return {};
  boost::system::error_code ec;
  json::value value = json::parse(request.body(), ec);
  if (ec || !value.is_object()) {
    throw std::invalid_argument("the request body must be a JSON object");
  }
  return std::move(value.get_object());
}

json::object faults_to_json(const FaultSpec& f) {
  return json::object{
      {"latency_ms", f.latency.count()}, {"latency_jitter_ms", f.latency_jitter.count()},
      {"fail_next", f.fail_next},        {"fail_every", f.fail_every},
      {"fail_status", f.fail_status},    {"retry_after_s", f.retry_after_s},
      {"route_prefix", f.route_prefix},  {"close_next", f.close_next},
      {"token_ttl_s", f.token_ttl_s}};
}

FaultSpec faults_from_json(FaultSpec base, const json::object& body) {
  reject_unknown_keys(
      body, {"clear", "latency_ms", "latency_jitter_ms", "fail_next", "fail_every", "fail_status",
             "retry_after_s", "route_prefix", "close_next", "token_ttl_s"});
  if (json_bool(body, "clear", false)) base = FaultSpec{};
  base.latency = std::chrono::milliseconds(json_int(body, "latency_ms", base.latency.count()));
  base.latency_jitter =
      std::chrono::milliseconds(json_int(body, "latency_jitter_ms", base.latency_jitter.count()));
  base.fail_next = json_int(body, "fail_next", base.fail_next);
  base.fail_every = json_int(body, "fail_every", base.fail_every);
  base.fail_status = static_cast<int>(json_int(body, "fail_status", base.fail_status));
  base.retry_after_s = json_int(body, "retry_after_s", base.retry_after_s);
  base.route_prefix = json_string(body, "route_prefix", base.route_prefix);
  base.close_next = json_int(body, "close_next", base.close_next);
  base.token_ttl_s = json_int(body, "token_ttl_s", base.token_ttl_s);
  if (base.fail_status < 400 || base.fail_status > 599) {
    throw std::invalid_argument("fail_status must be an HTTP error status (400-599)");
  }
  return base;
}

json::object mutation_to_json(const MutationResult& r) {
  auto ids = [](const std::vector<std::int64_t>& v) {
    json::array out;
    for (std::size_t i = 0; i < v.size() && i < kMaxIdsInMutationReply; ++i) out.push_back(v[i]);
    return out;
  };
  json::object out{{"table", r.table},
                   {"created", r.created.size()},
                   {"updated", r.updated.size()},
                   {"deleted", r.deleted.size()},
                   {"cascaded", r.cascaded},
                   {"created_ids", ids(r.created)},
                   {"updated_ids", ids(r.updated)},
                   {"deleted_ids", ids(r.deleted)}};
  out["moment"] = r.first_moment_ms == 0 ? json::value(nullptr)
                                         : json::value(format_iso_utc(r.first_moment_ms));
  out["last_moment"] =
      r.last_moment_ms == 0 ? json::value(nullptr) : json::value(format_iso_utc(r.last_moment_ms));
  return out;
}

// Counts a request as in flight for its lifetime (released before the answer is written, so a
// client that starts its next call as soon as it reads an answer is never refused).
class InFlight {
 public:
  explicit InFlight(RequestLimiter& limiter) : limiter_(limiter) {}
  ~InFlight() { limiter_.leave(); }
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;

 private:
  RequestLimiter& limiter_;
};

}  // namespace

DataOptions data_options(const SimOptions& options) {
  DataOptions data = options.data;
  data.entity = options.entity;
  return data;
}

std::string default_catalog_path() {
  const std::filesystem::path compiled(ACTITO_SIM_DEFAULT_CATALOG);
  std::error_code ec;
  if (std::filesystem::exists(compiled, ec)) return compiled.string();
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const auto installed =
        self.parent_path().parent_path() / "share" / "actito-replicator" / "catalog.yaml";
    if (std::filesystem::exists(installed, ec)) return installed.string();
  }
  return compiled.string();
}

struct Simulator::Impl {
  explicit Impl(SimOptions opts)
      : options(std::move(opts)),
        catalog(Catalog::load_file(options.catalog_path.empty() ? default_catalog_path()
                                                                : options.catalog_path)),
        dataset(catalog, data_options(options)),
        router(catalog, options.data.static_objects),
        tokens(options.api_keys, options.token_ttl_s),
        limiter(options.limits),
        faults(options.faults),
        call_log(options.call_log_capacity) {
    if (options.threads == 0) options.threads = 1;
    tokens.set_ttl_override(options.faults.token_ttl_s);
    dataset.set_visibility_delay(options.visibility_delay);
    logger()->set_level(spdlog::level::from_str(options.log_level));
  }

  ~Impl() { stop(); }

  // ---- lifecycle ----
  void start();
  void stop();

  // ---- serving ----
  asio::awaitable<void> listen();
  asio::awaitable<void> run_session(tcp::socket socket);
  // `request` is owned by the calling session's frame, which awaits this coroutine.
  asio::awaitable<Reply> handle_contract(const Request& request);
  Reply dispatch(const Route* route, const PathParams& params, const Request& request,
                 const Target& target);
  Reply control(const Request& request);
  asio::awaitable<void> run_mutations();
  void finish(const std::string& route, const Reply& reply, bool token_call,
              std::chrono::steady_clock::time_point started, std::string_view method,
              std::string_view target, const Target* parsed);

  const Collection& collection(const Route& route, const PathParams& params) const;

  SimOptions options;
  Catalog catalog;
  Dataset dataset;
  Router router;
  TokenStore tokens;
  RequestLimiter limiter;
  FaultInjector faults;
  StatsRecorder stats;
  CallLog call_log;

  std::mutex lifecycle_mutex;  // guards start/stop and the members below
  std::unique_ptr<asio::io_context> ioc;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::vector<std::thread> threads;
  std::atomic<std::uint16_t> port{0};
  std::atomic<bool> running{false};
};

void Simulator::Impl::start() {
  std::lock_guard lock(lifecycle_mutex);
  if (running) return;
  ioc = std::make_unique<asio::io_context>(static_cast<int>(options.threads));
  acceptor = std::make_unique<tcp::acceptor>(*ioc);
  try {
    const tcp::endpoint endpoint(asio::ip::make_address(options.bind), options.port);
    acceptor->open(endpoint.protocol());
    acceptor->set_option(asio::socket_base::reuse_address(true));
    acceptor->bind(endpoint);
    acceptor->listen(asio::socket_base::max_listen_connections);
  } catch (const boost::system::system_error& e) {
    acceptor.reset();
    ioc.reset();
    throw std::runtime_error(
        fmt::format("cannot listen on {}:{}: {}", options.bind, options.port, e.code().message()));
  }
  port = acceptor->local_endpoint().port();
  auto log_failure = [](const char* what) {
    return [what](std::exception_ptr error) {
      if (!error) return;
      try {
        std::rethrow_exception(error);
      } catch (const std::exception& e) {
        logger()->error("{} stopped: {}", what, e.what());
      }
    };
  };
  asio::co_spawn(*ioc, listen(), log_failure("the listener"));
  if (options.mutations.every.count() > 0) {
    asio::co_spawn(*ioc, run_mutations(), log_failure("the mutation schedule"));
  }
  work.emplace(ioc->get_executor());
  for (std::size_t i = 0; i < options.threads; ++i) {
    threads.emplace_back([context = ioc.get()] {
      for (;;) {
        try {
          context->run();
          return;
        } catch (const std::exception& e) {
          logger()->error("server thread: unexpected exception: {}", e.what());
        }
      }
    });
  }
  running = true;
}

void Simulator::Impl::stop() {
  std::lock_guard lock(lifecycle_mutex);
  if (!running) return;
  work.reset();
  ioc->stop();
  for (auto& t : threads) t.join();
  threads.clear();
  boost::system::error_code ignored;
  acceptor->close(ignored);
  acceptor.reset();
  ioc.reset();  // destroys the pending sessions, timers and their coroutine frames
  running = false;
}

asio::awaitable<void> Simulator::Impl::listen() {
  for (;;) {
    auto [ec, socket] = co_await acceptor->async_accept(asio::make_strand(*ioc),
                                                        asio::as_tuple(asio::use_awaitable));
    if (ec == asio::error::operation_aborted) co_return;
    if (ec) {
      logger()->warn("accept failed: {}", ec.message());
      continue;
    }
    const auto executor = socket.get_executor();
    asio::co_spawn(executor, run_session(std::move(socket)), [](std::exception_ptr error) {
      if (!error) return;
      try {
        std::rethrow_exception(error);
      } catch (const std::exception& e) {
        logger()->warn("connection ended by an exception: {}", e.what());
      }
    });
  }
}

asio::awaitable<void> Simulator::Impl::run_session(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  boost::system::error_code option_error;
  stream.socket().set_option(tcp::no_delay(true), option_error);
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(kHeaderLimit);
    parser.body_limit(kBodyLimit);
    stream.expires_after(options.idle_timeout);
    auto [read_error, read_bytes] =
        co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
    Reply reply;
    bool keep_alive = true;
    unsigned version = 11;
    const auto started = std::chrono::steady_clock::now();
    if (read_error) {
      // Answer what can be answered (contract A25), then close.
      if (read_error == http::error::body_limit) {
        reply = error_reply(
            ApiError(413, "", fmt::format("request body larger than {} bytes", kBodyLimit)));
      } else if (read_error == http::error::header_limit) {
        reply = error_reply(ApiError(
            414, "", fmt::format("request line and headers larger than {} bytes", kHeaderLimit)));
      } else if (read_error.category() ==
                     http::make_error_code(http::error::bad_target).category() &&
                 read_error != http::error::end_of_stream &&
                 read_error != http::error::partial_message) {
        reply = error_reply(
            ApiError(400, "", fmt::format("malformed HTTP request: {}", read_error.message())));
      } else {
        break;  // end of stream, reset, idle timeout
      }
      keep_alive = false;
      finish("(unparsed request)", reply, false, started, "?", "?", nullptr);
    } else {
      const Request& request = parser.get();
      keep_alive = request.keep_alive();
      version = request.version();
      const std::string_view target(request.target().data(), request.target().size());
      if (target == "/_sim" || target.starts_with("/_sim/")) {
        reply = control(request);
      } else {
        reply = co_await handle_contract(request);
      }
      if (reply.drop_connection) {
        boost::system::error_code ignored;
        stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
        stream.socket().close(ignored);
        co_return;
      }
    }
    http::response<http::string_body> response{static_cast<http::status>(reply.status), version};
    response.set(http::field::server, "actito-sim");
    response.set(http::field::date, http_date(system_now_ms()));  // contract 2.3, A07
    if (!reply.body.empty()) response.set(http::field::content_type, "application/json");
    for (const auto& [name, value] : reply.headers) response.set(name, value);
    response.keep_alive(keep_alive);
    response.body() = std::move(reply.body);
    response.prepare_payload();
    stream.expires_after(kWriteTimeout);
    auto [write_error, written] =
        co_await http::async_write(stream, response, asio::as_tuple(asio::use_awaitable));
    if (write_error || !keep_alive) break;
  }
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

void Simulator::Impl::finish(const std::string& route, const Reply& reply, bool token_call,
                             std::chrono::steady_clock::time_point started, std::string_view method,
                             std::string_view target, const Target* parsed) {
  stats.record(route, reply.drop_connection ? 0 : reply.status, token_call);
  CallRecord call;
  call.time_ms = system_now_ms();
  call.method = std::string(method);
  call.route = route;
  call.status = reply.drop_connection ? 0 : reply.status;
  if (parsed != nullptr && !parsed->raw_path.empty()) {
    for (const auto& segment : parsed->segments) {
      call.path.push_back('/');
      call.path += segment;
    }
    call.query = parsed->params;
  } else {
    call.path = std::string(target.substr(0, target.find('?')));
  }
  call_log.record(std::move(call));
  if (logger()->should_log(spdlog::level::debug)) {
    const auto elapsed =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started);
    logger()->debug("{} {} -> {} ({:.2f} ms, {} bytes)", method, target,
                    reply.drop_connection ? std::string("dropped") : std::to_string(reply.status),
                    elapsed.count(), reply.body.size());
  }
}

asio::awaitable<Reply> Simulator::Impl::handle_contract(const Request& request) {
  const auto started = std::chrono::steady_clock::now();
  const std::string_view method(request.method_string().data(), request.method_string().size());
  const std::string_view raw_target(request.target().data(), request.target().size());
  std::string route_name = fmt::format("{} (unmatched)", method);
  const Route* route = nullptr;
  PathParams params;
  Target target;
  std::optional<ApiError> early_error;
  try {
    if (raw_target.size() > kMaxTargetLength) {
      throw ApiError(414, "",
                     fmt::format("URL of {} bytes is longer than {} bytes", raw_target.size(),
                                 kMaxTargetLength));
    }
    target = parse_target(raw_target);
    route = router.match(target.segments, params);
    if (route != nullptr) route_name = fmt::format("{} {}", method, route->pattern);
  } catch (const ApiError& e) {
    early_error = e;
  }
  const bool token_call = route != nullptr && route->kind == RouteKind::kToken;

  // Contract A09 step 1: more than max_concurrent in flight -> 429 at once, not counted.
  if (!limiter.try_enter()) {
    stats.record_rejection();
    Reply reply =
        error_reply(ApiError(429, "CONCURRENCY_LIMIT",
                             fmt::format("More than {} concurrent requests for licence sim-licence",
                                         limiter.options().max_concurrent)));
    finish(route_name, reply, token_call, started, method, raw_target, &target);
    co_return reply;
  }
  InFlight in_flight(limiter);
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer timer(executor);

  // Step 2: the sliding window; a request over the limit waits, keeping its slot.
  const auto admitted_at = limiter.admit();
  if (admitted_at > std::chrono::steady_clock::now()) {
    const auto waited_from = std::chrono::steady_clock::now();
    timer.expires_at(admitted_at);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    stats.record_delay(std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::steady_clock::now() - waited_from)
                           .count());
  }

  const auto fault = faults.decide(target.raw_path.empty() ? raw_target : target.raw_path);
  if (fault.delay.count() > 0) {
    timer.expires_after(fault.delay);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  Reply reply;
  if (fault.close) {
    stats.record_fault();
    reply.drop_connection = true;
  } else if (fault.fail_status != 0) {
    stats.record_fault();
    const int status = fault.fail_status;
    reply =
        error_reply(ApiError(status, status == 429 ? "CONCURRENCY_LIMIT" : "",
                             fmt::format("injected fault: {} {}", status, reason_phrase(status))));
    if (fault.retry_after_s >= 0)
      reply.headers.emplace_back("Retry-After", std::to_string(fault.retry_after_s));
  } else if (early_error) {
    reply = error_reply(*early_error);
  } else {
    try {
      reply = dispatch(route, params, request, target);
    } catch (const ApiError& e) {
      reply = error_reply(e);
    } catch (const std::exception& e) {
      logger()->error("{} {}: internal error: {}", method, raw_target, e.what());
      reply = error_reply(ApiError(500, "", fmt::format("internal simulator error: {}", e.what())));
    }
  }
  finish(route_name, reply, token_call, started, method, raw_target, &target);
  co_return reply;
}

const Collection& Simulator::Impl::collection(const Route& route, const PathParams& params) const {
  auto table_id = [&]() -> const std::string& { return params.find(route.table_param)->second; };
  switch (route.source) {
    case Source::kProfileTableStructures:
      return dataset.profile_table_structures();
    case Source::kCustomTableStructures:
      return dataset.custom_table_structures();
    case Source::kProfiles:
      if (const ProfileTable* t = dataset.profile_table(table_id())) return *t;
      throw ApiError(404, "TABLE_NOT_FOUND",
                     fmt::format("no profile table with id '{}'", table_id()));
    case Source::kRecords:
      if (const CustomTable* t = dataset.custom_table(table_id())) return *t;
      throw ApiError(404, "TABLE_NOT_FOUND",
                     fmt::format("no custom table with id '{}'", table_id()));
    case Source::kStatic:
      if (const GenericCollection* c = dataset.static_object(route.object)) return *c;
      break;
    case Source::kPerProfileTable:
      if (const GenericCollection* c = dataset.profile_table_object(route.object, table_id()))
        return *c;
      throw ApiError(404, "TABLE_NOT_FOUND",
                     fmt::format("no profile table with id '{}'", table_id()));
    case Source::kNone:
      break;
  }
  throw std::logic_error("route without a collection");
}

Reply Simulator::Impl::dispatch(const Route* route, const PathParams& params,
                                const Request& request, const Target& target) {
  const std::string_view method(request.method_string().data(), request.method_string().size());
  if (route == nullptr) {
    throw ApiError(404, "ROUTE_NOT_FOUND",
                   fmt::format("no route for {} {}", method, target.raw_path));
  }
  if (request.method() != http::verb::get) {
    throw ApiError(405, "",
                   fmt::format("{} is not supported on {} (the simulator serves the read "
                               "routes of the contract)",
                               method, route->pattern));
  }
  const auto header = [&](http::field field) {
    const auto value = request[field];
    return std::string_view(value.data(), value.size());
  };
  check_accept(header(http::field::accept));
  if (route->kind == RouteKind::kToken) {
    check_plain_params(target.params, {});
    const IssuedToken issued = tokens.issue(header(http::field::authorization));
    return json_reply(json::object{{"accessToken", issued.access_token},
                                   {"tokenType", "bearer"},
                                   {"expiresIn", fmt::format("{}s", issued.ttl_s)},
                                   {"scope", "read write"},
                                   {"jti", issued.jti}});
  }
  tokens.check(header(http::field::authorization));
  if (const auto entity = params.find("entity");
      entity != params.end() && entity->second != options.entity) {
    throw ApiError(404, "ENTITY_NOT_FOUND", fmt::format("no entity '{}'", entity->second));
  }
  switch (route->kind) {
    case RouteKind::kEntities:
      check_plain_params(target.params, {});
      return json_reply(json::object{
          {"entities",
           json::array{json::object{{"id", 1}, {"name", options.entity}, {"comment", nullptr}}}}});
    case RouteKind::kList: {
      const Collection& c = collection(*route, params);
      ListRequest list = parse_list_request(c.spec(), target.params);
      if (route->source == Source::kStatic && !c.spec().parent_object.empty()) {
        // Nested object (contract 3.7): the parent must exist; its id scopes the rows.
        const std::string& parent_id = params.find(route->table_param)->second;
        const ObjectSpec& spec = c.spec();
        const GenericCollection* parent = dataset.static_object(spec.parent_object);
        if (parent == nullptr || !parent->contains(spec.parent_key_wire, parent_id)) {
          throw ApiError(404, "RECORD_NOT_FOUND",
                         fmt::format("no {} with {} '{}'", spec.parent_object, spec.parent_key_wire,
                                     parent_id));
        }
        const FieldSpec* child = spec.field(spec.child_field_wire);
        list.constraints.push_back(Constraint{child, Op::kEq, {typed_value(*child, parent_id)}});
      }
      Reply reply;
      reply.body.reserve(static_cast<std::size_t>(list.size) * 900 + 512);
      begin_envelope(reply.body, c.spec());
      const std::int64_t total = c.list_page(list, reply.body);
      finish_envelope(reply.body, target.raw_path, list, total);
      return reply;
    }
    case RouteKind::kGet: {
      const Collection& c = collection(*route, params);
      check_plain_params(target.params, c.single_get_params());
      Reply reply;
      const std::string& key = params.find(route->key_param)->second;
      if (route->source == Source::kStatic && !c.spec().parent_object.empty()) {
        static_cast<const GenericCollection&>(c).get_scoped(
            key, c.spec().child_field_wire, params.find(route->table_param)->second, reply.body);
      } else {
        c.get_one(key, reply.body);
      }
      return reply;
    }
    case RouteKind::kToken:
      break;
  }
  throw std::logic_error("unhandled route kind");
}

Reply Simulator::Impl::control(const Request& request) {
  try {
    const std::string_view raw(request.target().data(), request.target().size());
    const Target target = parse_target(raw);
    std::vector<std::string> path(target.segments.begin() + 1, target.segments.end());
    const bool get = request.method() == http::verb::get;
    const bool post = request.method() == http::verb::post;
    auto is = [&](std::initializer_list<std::string_view> parts) {
      return path.size() == parts.size() && std::equal(parts.begin(), parts.end(), path.begin());
    };
    if (get && (is({"health"}) || path.empty())) return json_reply(json::object{{"status", "ok"}});
    if (get && is({"stats"})) {
      StatsSnapshot s = stats.snapshot();
      s.max_in_flight = limiter.max_in_flight();
      return json_reply(s.to_json());
    }
    if (post && is({"stats", "reset"})) {
      stats.reset();
      call_log.clear();
      limiter.reset_max_in_flight();
      return json_reply(json::object{{"reset", true}});
    }
    if (post && is({"mutate"})) {
      const json::object body = parse_body(request);
      reject_unknown_keys(body, {"table", "object", "creates", "updates", "deletes", "same_moment",
                                 "update_ids", "delete_ids", "parent_id", "visibility_delay_ms"});
      MutationSpec spec;
      spec.table = json_string(body, "table", "");
      spec.object = json_string(body, "object", "");
      spec.creates = json_int(body, "creates", 0);
      spec.updates = json_int(body, "updates", 0);
      spec.deletes = json_int(body, "deletes", 0);
      spec.same_moment = json_bool(body, "same_moment", false);
      spec.update_ids = json_ids(body, "update_ids");
      spec.delete_ids = json_ids(body, "delete_ids");
      spec.parent_id = json_int(body, "parent_id", 0);
      if (const json::value* d = body.if_contains("visibility_delay_ms"); d && !d->is_null()) {
        const std::int64_t delay = json_int(body, "visibility_delay_ms", 0);
        if (delay < 0) throw std::invalid_argument("visibility_delay_ms must be >= 0");
        spec.visibility_delay = std::chrono::milliseconds(delay);
      }
      if (spec.table.empty() && spec.object.empty()) {
        throw std::invalid_argument("'table' or 'object' is required");
      }
      if (!spec.table.empty() && !spec.object.empty()) {
        throw std::invalid_argument("give 'table' or 'object', not both");
      }
      return json_reply(mutation_to_json(dataset.mutate(spec)));
    }
    if (get && is({"calls"})) {
      std::int64_t after = 0, limit = 0;
      std::string path_prefix;
      check_plain_params(target.params, {"after", "limit", "path_prefix"});
      for (const auto& [name, value] : target.params) {
        if (name == "path_prefix") {
          path_prefix = value;
          continue;
        }
        std::int64_t& slot = name == "after" ? after : limit;
        try {
          slot = std::stoll(value);
        } catch (const std::exception&) {
          throw std::invalid_argument(fmt::format("'{}' must be an integer", name));
        }
      }
      json::array calls;
      for (const auto& call : call_log.calls(after)) {
        if (!call.path.starts_with(path_prefix)) continue;
        calls.push_back(call.to_json());
      }
      if (limit > 0 && calls.size() > static_cast<std::size_t>(limit)) {
        calls.erase(calls.begin(), calls.end() - limit);  // the latest `limit`
      }
      return json_reply(json::object{{"calls", std::move(calls)},
                                     {"last_seq", call_log.last_seq()},
                                     {"dropped", call_log.dropped()},
                                     {"capacity", options.call_log_capacity}});
    }
    if (post && is({"calls", "reset"})) {
      call_log.clear();
      return json_reply(json::object{{"reset", true}});
    }
    if (get && is({"objects"})) {
      json::array objects;
      for (const auto& name : dataset.generic_object_names()) {
        objects.push_back(
            json::object{{"name", name}, {"count", dataset.generic_object(name)->size()}});
      }
      return json_reply(json::object{{"objects", std::move(objects)}});
    }
    if (post && path.size() == 3 && path[0] == "tables" && path[2] == "attributes") {
      const json::object body = parse_body(request);
      reject_unknown_keys(body, {"name", "valueType", "multiValued"});
      AttributeSpec attribute;
      attribute.name = json_string(body, "name", "");
      attribute.value_type = json_string(body, "valueType", "STRING");
      attribute.multi_valued = json_bool(body, "multiValued", false);
      dataset.add_attribute(path[1], attribute);
      return json_reply(json::object{{"table", path[1]}, {"added", attribute.name}});
    }
    if (request.method() == http::verb::delete_ && path.size() == 4 && path[0] == "tables" &&
        path[2] == "attributes") {
      dataset.remove_attribute(path[1], path[3]);
      return json_reply(json::object{{"table", path[1]}, {"removed", path[3]}});
    }
    if (get && is({"faults"})) return json_reply(faults_to_json(faults.get()));
    if (post && is({"faults"})) {
      FaultSpec spec = faults_from_json(faults.get(), parse_body(request));
      faults.set(spec);
      tokens.set_ttl_override(spec.token_ttl_s);
      return json_reply(faults_to_json(spec));
    }
    if (is({"visibility"}) && (get || post)) {
      if (post) {
        const json::object body = parse_body(request);
        reject_unknown_keys(body, {"visibility_delay_ms"});
        const std::int64_t delay =
            json_int(body, "visibility_delay_ms", dataset.visibility_delay().count());
        if (delay < 0) throw std::invalid_argument("visibility_delay_ms must be >= 0");
        dataset.set_visibility_delay(std::chrono::milliseconds(delay));
      }
      return json_reply(json::object{{"visibility_delay_ms", dataset.visibility_delay().count()}});
    }
    if (get && is({"limits"})) {
      const LimitOptions l = limiter.options();
      return json_reply(json::object{{"max_concurrent", l.max_concurrent},
                                     {"calls_per_minute", l.calls_per_minute},
                                     {"window_ms", l.window.count()}});
    }
    if (post && is({"limits"})) {
      const json::object body = parse_body(request);
      reject_unknown_keys(body, {"max_concurrent", "calls_per_minute", "window_ms"});
      LimitOptions l = limiter.options();
      l.max_concurrent = json_int(body, "max_concurrent", l.max_concurrent);
      l.calls_per_minute = json_int(body, "calls_per_minute", l.calls_per_minute);
      l.window = std::chrono::milliseconds(json_int(body, "window_ms", l.window.count()));
      if (l.window.count() <= 0) throw std::invalid_argument("window_ms must be > 0");
      limiter.set_options(l);
      return json_reply(json::object{{"max_concurrent", l.max_concurrent},
                                     {"calls_per_minute", l.calls_per_minute},
                                     {"window_ms", l.window.count()}});
    }
    if (post && is({"tokens", "expire"})) {
      return json_reply(json::object{{"expired", tokens.expire_all()}});
    }
    if (post && (is({"keys", "revoke"}) || is({"keys", "add"}))) {
      const json::object body = parse_body(request);
      reject_unknown_keys(body, {"key"});
      const std::string key = json_string(body, "key", "");
      if (key.empty()) throw std::invalid_argument("'key' is required");
      if (path[1] == "add") {
        tokens.add_key(key);
        return json_reply(json::object{{"added", true}});
      }
      return json_reply(json::object{{"revoked", tokens.revoke_key(key)}});
    }
    if (get && is({"tables"})) {
      json::array tables;
      for (const auto& name : dataset.table_names()) {
        const RecordTable* t = dataset.table(name);
        tables.push_back(json::object{
            {"name", name},
            {"id", t->table_id()},
            {"object", t->spec().collection_key == "profiles" ? "profile_table" : "custom_table"},
            {"count", t->size()},
            {"invisible", t->invisible_count()}});
      }
      return json_reply(json::object{{"tables", std::move(tables)}});
    }
    if (get && path.size() == 3 && path[0] == "tables" && path[2] == "count") {
      const RecordTable* t = dataset.table(path[1]);
      if (t == nullptr)
        throw ApiError(404, "TABLE_NOT_FOUND", fmt::format("no table named '{}'", path[1]));
      return json_reply(json::object{{"table", path[1]},
                                     {"id", t->table_id()},
                                     {"count", t->size()},
                                     {"invisible", t->invisible_count()}});
    }
    throw ApiError(
        404, "ROUTE_NOT_FOUND",
        fmt::format(
            "no control route {} {}",
            std::string_view(request.method_string().data(), request.method_string().size()), raw));
  } catch (const ApiError& e) {
    return error_reply(e);
  } catch (const std::invalid_argument& e) {
    return error_reply(ApiError(400, "VALIDATION_FAILED", e.what()));
  } catch (const std::exception& e) {
    return error_reply(ApiError(500, "", e.what()));
  }
}

asio::awaitable<void> Simulator::Impl::run_mutations() {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  const MutationSchedule& schedule = options.mutations;
  std::vector<std::string> tables =
      schedule.tables.empty() ? dataset.table_names() : schedule.tables;
  for (;;) {
    timer.expires_after(schedule.every);
    co_await timer.async_wait(asio::use_awaitable);
    for (const auto& table : tables) {
      MutationSpec spec{table, schedule.creates, schedule.updates, schedule.deletes,
                        schedule.same_moment};
      try {
        const MutationResult r = dataset.mutate(spec);
        const RecordTable* t = dataset.table(table);
        logger()->info(
            "mutation table={} created={} updated={} deleted={} cascaded={} moment={} rows={}",
            table, r.created.size(), r.updated.size(), r.deleted.size(), r.cascaded,
            r.first_moment_ms == 0 ? std::string("-") : format_iso_utc(r.first_moment_ms),
            t != nullptr ? t->size() : 0);
      } catch (const std::exception& e) {
        logger()->error("mutation of table {} failed: {}", table, e.what());
      }
    }
  }
}

// ---- Simulator ----

Simulator::Simulator(SimOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Simulator::~Simulator() = default;

void Simulator::start() { impl_->start(); }
void Simulator::stop() { impl_->stop(); }
bool Simulator::running() const { return impl_->running; }
std::uint16_t Simulator::port() const { return impl_->port; }

std::string Simulator::base_url() const {
  const std::string host = impl_->options.bind == "0.0.0.0" ? "127.0.0.1" : impl_->options.bind;
  return fmt::format("http://{}:{}", host, port());
}

const SimOptions& Simulator::options() const { return impl_->options; }

StatsSnapshot Simulator::stats() const {
  StatsSnapshot s = impl_->stats.snapshot();
  s.max_in_flight = impl_->limiter.max_in_flight();
  return s;
}

void Simulator::reset_stats() {
  impl_->stats.reset();
  impl_->call_log.clear();
  impl_->limiter.reset_max_in_flight();
}

MutationResult Simulator::mutate(const MutationSpec& spec) { return impl_->dataset.mutate(spec); }

void Simulator::add_attribute(std::string_view table, const AttributeSpec& attribute) {
  impl_->dataset.add_attribute(table, attribute);
}

void Simulator::remove_attribute(std::string_view table, std::string_view attribute) {
  impl_->dataset.remove_attribute(table, attribute);
}

std::vector<CallRecord> Simulator::calls(std::int64_t after_seq) const {
  return impl_->call_log.calls(after_seq);
}

std::int64_t Simulator::last_call_seq() const { return impl_->call_log.last_seq(); }
void Simulator::clear_calls() { impl_->call_log.clear(); }

void Simulator::set_faults(const FaultSpec& faults) {
  impl_->faults.set(faults);
  impl_->tokens.set_ttl_override(faults.token_ttl_s);
}

FaultSpec Simulator::faults() const { return impl_->faults.get(); }
void Simulator::clear_faults() { set_faults(FaultSpec{}); }
void Simulator::set_limits(const LimitOptions& limits) { impl_->limiter.set_options(limits); }

void Simulator::set_visibility_delay(std::chrono::milliseconds delay) {
  impl_->dataset.set_visibility_delay(delay);
}

std::chrono::milliseconds Simulator::visibility_delay() const {
  return impl_->dataset.visibility_delay();
}
LimitOptions Simulator::limits() const { return impl_->limiter.options(); }
bool Simulator::revoke_api_key(std::string_view key) { return impl_->tokens.revoke_key(key); }
void Simulator::add_api_key(std::string key) { impl_->tokens.add_key(std::move(key)); }
std::size_t Simulator::expire_all_tokens() { return impl_->tokens.expire_all(); }

Dataset& Simulator::dataset() { return impl_->dataset; }
const Dataset& Simulator::dataset() const { return impl_->dataset; }

std::string Simulator::profile_table_id() const {
  const auto names = impl_->dataset.table_names();
  for (const auto& name : names) {
    if (auto* t = dynamic_cast<const ProfileTable*>(impl_->dataset.table(name)))
      return t->table_id();
  }
  return {};
}

std::string Simulator::custom_table_id() const {
  for (const auto& name : impl_->dataset.table_names()) {
    if (auto* t = dynamic_cast<const CustomTable*>(impl_->dataset.table(name)))
      return t->table_id();
  }
  return {};
}

std::size_t Simulator::row_count(std::string_view table) const {
  if (const RecordTable* t = impl_->dataset.table(table)) return t->size();
  if (const GenericCollection* c = impl_->dataset.generic_object(table)) return c->size();
  throw std::invalid_argument(fmt::format("unknown table or object '{}'", table));
}

void Simulator::for_each_row(std::string_view table,
                             const std::function<void(const json::object&)>& callback) const {
  const RecordTable* t = impl_->dataset.table(table);
  if (t == nullptr) {
    const ObjectSpec* shape = nullptr;
    const GenericCollection* c = impl_->dataset.generic_object(table, &shape);
    if (c == nullptr)
      throw std::invalid_argument(fmt::format("unknown table or object '{}'", table));
    for (const auto& row : c->rendered_rows(shape)) callback(row);
    return;
  }
  json::parser parser;
  t->for_each_row([&](std::string_view text) {
    parser.reset();
    parser.write(text.data(), text.size());
    json::value value = parser.release();
    callback(value.as_object());
  });
}

std::vector<json::object> Simulator::rows(std::string_view table) const {
  std::vector<json::object> out;
  for_each_row(table, [&](const json::object& row) { out.push_back(row); });
  return out;
}

}  // namespace replicator::actito_sim

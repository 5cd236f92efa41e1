#include "core/actito/client.hpp"

#include <array>
#include <random>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include "core/actito/rsql.hpp"
#include "core/engine/call_budget.hpp"
#include "core/engine/metrics.hpp"
#include "core/http/client.hpp"

namespace replicator::actito {

namespace asio = boost::asio;
namespace json = boost::json;
using model::ErrorKind;
using steady = std::chrono::steady_clock;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::chrono::seconds kRefreshMargin{60};  // refresh when age >= expiresIn - 60 s (2.4)

// The error body of contract 2.6, read leniently: any body (HTML, empty) is accepted.
struct ErrorBody {
  std::string code;
  std::string message;
};

ErrorBody read_error_body(std::string_view body) {
  ErrorBody out;
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (!ec && v.is_object()) {
    const auto& o = v.get_object();
    if (auto* c = o.if_contains("code"); c && c->is_string()) out.code = std::string(c->get_string());
    if (auto* m = o.if_contains("message"); m && m->is_string()) out.message = std::string(m->get_string());
    if (auto* e = o.if_contains("errors"); e && e->is_array()) {
      for (const auto& item : e->get_array()) {
        if (!item.is_object()) continue;
        const auto& io = item.get_object();
        std::string field, msg;
        if (auto* f = io.if_contains("field"); f && f->is_string()) field = std::string(f->get_string());
        if (auto* m = io.if_contains("message"); m && m->is_string()) msg = std::string(m->get_string());
        out.message += "; " + field + ": " + msg;
      }
    }
  }
  if (out.message.empty()) out.message = std::string(body.substr(0, 1024));  // log at most 1 KiB
  if (out.message.size() > 1024) out.message.resize(1024);
  return out;
}

std::chrono::seconds parse_expires_in(const json::value& v) {
  // "900s" per the contract; a bare integer is accepted too.
  std::int64_t s = -1;
  if (v.is_string()) {
    std::string_view t = v.get_string();
    if (!t.empty() && t.back() == 's') t.remove_suffix(1);
    s = 0;
    for (char c : t) {
      if (c < '0' || c > '9') return std::chrono::seconds(-1);
      s = s * 10 + (c - '0');
    }
    if (t.empty()) s = -1;
  } else if (v.is_int64()) {
    s = v.get_int64();
  } else if (v.is_uint64()) {
    s = static_cast<std::int64_t>(v.get_uint64());
  }
  return std::chrono::seconds(s);
}

}  // namespace

std::optional<model::Timestamp> parse_http_date(std::string_view t) {
  // "Sun, 06 Nov 1994 08:49:37 GMT"
  if (t.size() != 29 || t[3] != ',' || t.substr(26) != "GMT") return std::nullopt;
  static constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                               "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  auto num = [&](std::size_t pos, std::size_t n) {
    int v = 0;
    for (std::size_t i = 0; i < n; ++i) {
      char c = t[pos + i];
      if (c < '0' || c > '9') return -1;
      v = v * 10 + (c - '0');
    }
    return v;
  };
  int day = num(5, 2), year = num(12, 4), h = num(17, 2), m = num(20, 2), s = num(23, 2);
  unsigned month = 0;
  for (unsigned i = 0; i < 12; ++i) {
    if (kMonths[i] == t.substr(8, 3)) month = i + 1;
  }
  if (day < 1 || year < 0 || h < 0 || m < 0 || s < 0 || month == 0) return std::nullopt;
  std::int64_t days = model::days_from_civil(year, month, static_cast<unsigned>(day));
  return model::Timestamp{(days * 86400 + h * 3600 + m * 60 + s) * 1000};
}

struct ActitoClient::Impl {
  asio::any_io_executor executor;
  ConnectionOptions options;
  std::string entity_segment;
  http::Client http;
  engine::CallBudget budget;
  std::mt19937_64 rng{std::random_device{}()};

  std::string token;
  steady::time_point token_obtained{};
  std::chrono::seconds token_ttl{0};
  bool refreshing = false;
  std::shared_ptr<asio::steady_timer> refresh_done;  // cancelled when a refresh ends
  std::int64_t calls = 0;
  std::int64_t token_calls = 0;
  double throttled_reported = 0;

  Impl(asio::any_io_executor ex, ConnectionOptions opts)
      : executor(ex),
        options(std::move(opts)),
        entity_segment(percent_encode(options.entity)),
        http(ex, http::ClientOptions{.base_url = options.base_url,
                                     .step_timeout = options.request_timeout,
                                     .max_idle_connections =
                                         static_cast<std::size_t>(options.max_concurrent_requests),
                                     .user_agent = options.user_agent,
                                     .ca_file = options.ca_file}),
        budget(ex, options.calls_per_minute, options.max_concurrent_requests, options.budget_window) {
    // Series that exist from the start, so dashboards and alerts see 0 rather than nothing.
    if (options.metrics) {
      options.metrics->api_throttled_seconds.Add({{"connection", options.name}});
      options.metrics->token_refreshes.Add({{"connection", options.name}});
    }
  }

  void count(const std::string& object, int status, double seconds) {
    if (!options.metrics) return;
    auto& m = *options.metrics;
    m.api_requests.Add({{"connection", options.name}, {"object", object}, {"code", std::to_string(status)}})
        .Increment();
    m.api_request_duration.Add({{"connection", options.name}}, engine::Metrics::api_buckets())
        .Observe(seconds);
    double throttled = budget.throttled_seconds();
    if (throttled > throttled_reported) {
      m.api_throttled_seconds.Add({{"connection", options.name}}).Increment(throttled - throttled_reported);
      throttled_reported = throttled;
    }
  }

  void count_retry(std::string_view reason) {
    if (options.metrics) {
      options.metrics->api_retries.Add({{"connection", options.name}, {"reason", std::string(reason)}})
          .Increment();
    }
  }

  asio::awaitable<void> sleep(std::chrono::milliseconds d) {
    asio::steady_timer t(executor, d);
    co_await t.async_wait(kTuple);
  }

  // One request with retries on 429, 5xx and network errors. 401 is returned to the caller.
  asio::awaitable<ApiResponse> send(std::string target, std::string authorization, std::string object) {
    int failures = 0;
    int throttled = 0;
    for (;;) {
      http::Request req;
      req.target = target;
      req.headers = {{"Accept", "application/json"}, {"Authorization", authorization}};
      http::Response resp;
      std::exception_ptr network_failure;
      std::string network_message;
      auto permit = co_await budget.acquire();
      ++calls;
      auto t0 = steady::now();
      try {
        resp = co_await http.send(std::move(req));
      } catch (const model::Error& e) {
        if (!e.retryable()) throw;
        network_failure = std::current_exception();
        network_message = e.what();
      }
      permit.release();
      double seconds = std::chrono::duration<double>(steady::now() - t0).count();
      if (network_failure) {
        count(object, 0, seconds);
        if (++failures >= options.backoff.max_attempts) std::rethrow_exception(network_failure);
        count_retry("network");
        co_await sleep(engine::backoff_delay(options.backoff, failures - 1, rng));
        continue;
      }
      count(object, resp.status, seconds);
      ApiResponse out;
      out.status = resp.status;
      auto date = parse_http_date(resp.header("Date"));
      out.date = date ? *date
                      : model::Timestamp{std::chrono::duration_cast<std::chrono::milliseconds>(
                                             std::chrono::system_clock::now().time_since_epoch())
                                             .count()};
      if (resp.status == 429 || resp.status >= 500) {
        std::chrono::milliseconds retry_after{0};
        std::string_view ra = resp.header("Retry-After");
        int ra_s = 0;
        bool ra_ok = !ra.empty();
        for (char c : ra) {
          if (c < '0' || c > '9') ra_ok = false;
          else ra_s = ra_s * 10 + (c - '0');
        }
        if (ra_ok) retry_after = std::chrono::seconds(std::min(ra_s, 120));
        if (resp.status == 429) budget.on_rejected();
        bool give_up = resp.status == 429 ? ++throttled >= options.rate_limit_backoff.max_attempts
                                          : ++failures >= options.backoff.max_attempts;
        if (give_up) {
          auto body = read_error_body(resp.body);
          throw ApiError(resp.status == 429 ? ErrorKind::kRateLimited : ErrorKind::kTransient, resp.status,
                         body.code,
                         "Actito answered " + std::to_string(resp.status) + " to GET " + object +
                             " after " + std::to_string(failures + throttled) + " attempts: " + body.message);
        }
        count_retry(resp.status == 429 ? "429" : "5xx");
        const auto& policy = resp.status == 429 ? options.rate_limit_backoff : options.backoff;
        int n = resp.status == 429 ? throttled - 1 : failures - 1;
        co_await sleep(engine::backoff_delay(policy, n, rng, retry_after));
        continue;
      }
      budget.on_success();
      out.body = std::move(resp.body);
      co_return out;
    }
  }

  asio::awaitable<void> refresh_token() {
    refreshing = true;
    refresh_done = std::make_shared<asio::steady_timer>(executor, asio::steady_timer::time_point::max());
    auto done = refresh_done;
    std::exception_ptr failure;
    try {
      ++token_calls;
      if (options.metrics) options.metrics->token_refreshes.Add({{"connection", options.name}}).Increment();
      ApiResponse r = co_await send("/auth/token", options.api_key, "auth");
      if (r.status != 200) {
        auto body = read_error_body(r.body);
        ErrorKind kind = r.status == 401 || r.status == 403 ? ErrorKind::kAuth : ErrorKind::kPermanent;
        throw ApiError(kind, r.status, body.code,
                       "connection " + options.name + ": Actito refused the API key (" +
                           std::to_string(r.status) + (body.code.empty() ? "" : " " + body.code) +
                           "): " + body.message);
      }
      boost::system::error_code ec;
      json::value v = json::parse(r.body, ec);
      const json::value* access = (!ec && v.is_object()) ? v.get_object().if_contains("accessToken") : nullptr;
      const json::value* expires = (!ec && v.is_object()) ? v.get_object().if_contains("expiresIn") : nullptr;
      if (!access || !access->is_string() || access->get_string().empty() ||
          access->get_string().size() > 4096) {
        throw ApiError(ErrorKind::kPermanent, r.status, "",
                       "connection " + options.name + ": /auth/token answered without a usable accessToken");
      }
      auto ttl = expires ? parse_expires_in(*expires) : std::chrono::seconds(900);
      if (ttl.count() <= 0) {
        throw ApiError(ErrorKind::kPermanent, r.status, "",
                       "connection " + options.name + ": /auth/token answered an unreadable expiresIn");
      }
      token = std::string(access->get_string());
      token_ttl = ttl;
      token_obtained = steady::now();
    } catch (...) {
      failure = std::current_exception();
    }
    refreshing = false;
    done->cancel();
    if (failure) std::rethrow_exception(failure);
  }

  bool token_fresh() const {
    if (token.empty()) return false;
    auto age = steady::now() - token_obtained;
    auto usable = token_ttl > kRefreshMargin * 2 ? token_ttl - kRefreshMargin : token_ttl / 2;
    return age < usable;
  }

  // A valid token; at most one refresh runs at a time and everybody else waits for it.
  asio::awaitable<std::string> ensure_token() {
    while (refreshing) {
      auto done = refresh_done;
      co_await done->async_wait(kTuple);
    }
    if (!token_fresh()) co_await refresh_token();
    co_return token;
  }
};

ActitoClient::ActitoClient(asio::any_io_executor executor, ConnectionOptions options)
    : impl_(std::make_unique<Impl>(std::move(executor), std::move(options))) {}

ActitoClient::~ActitoClient() = default;

const ConnectionOptions& ActitoClient::options() const noexcept { return impl_->options; }
const std::string& ActitoClient::entity_segment() const noexcept { return impl_->entity_segment; }
std::int64_t ActitoClient::calls() const noexcept { return impl_->calls; }
std::int64_t ActitoClient::token_calls() const noexcept { return impl_->token_calls; }
engine::CallBudget& ActitoClient::budget() noexcept { return impl_->budget; }

asio::awaitable<void> ActitoClient::authenticate() { co_await impl_->ensure_token(); }

asio::awaitable<ApiResponse> ActitoClient::get(std::string target, std::string object) {
  Impl& impl = *impl_;
  bool reauthenticated = false;
  for (;;) {
    std::string used = co_await impl.ensure_token();
    ApiResponse r = co_await impl.send(target, "Bearer " + used, object);
    if (r.status >= 200 && r.status < 300) co_return r;
    auto body = read_error_body(r.body);
    if (r.status == 401 && !reauthenticated) {
      // Expired or revoked token: one refresh (shared with concurrent callers), one retry (2.4).
      reauthenticated = true;
      if (impl.token == used) impl.token.clear();
      impl.count_retry("401");
      continue;
    }
    ErrorKind kind = r.status == 401 || r.status == 403 ? ErrorKind::kAuth : ErrorKind::kPermanent;
    std::string what = "connection " + impl.options.name + ": GET " + object + " answered " +
                       std::to_string(r.status) + (body.code.empty() ? "" : " " + body.code) + ": " +
                       body.message;
    if (r.status == 401) what += " (the token was refreshed once and refused again: check the API key)";
    throw ApiError(kind, r.status, body.code, what);
  }
}

}  // namespace replicator::actito

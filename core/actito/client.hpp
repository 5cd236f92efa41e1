// The Actito API client of one connection: token management (contract 2.4), the connection's
// call budget shared by every job (2.5), retries with capped exponential backoff and jitter, and
// classification of HTTP answers into error kinds (2.6). Generic over routes: it knows nothing
// about particular objects.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "core/engine/backoff.hpp"
#include "core/model/error.hpp"
#include "core/model/timestamp.hpp"

namespace replicator::engine {
class Metrics;
class CallBudget;
}  // namespace replicator::engine

namespace replicator::actito {

struct ConnectionOptions {
  std::string name;      // the connection's name in the job file (metrics label)
  std::string base_url;  // scheme://host[:port]
  std::string entity;
  std::string api_key;  // the secret itself: never logged
  int calls_per_minute = 100;
  int max_concurrent_requests = 4;
  std::chrono::milliseconds request_timeout{60'000};
  model::TimeZone zone = model::TimeZone::utc();
  engine::BackoffPolicy backoff;          // 5xx and network errors (at most 5 attempts, 2.6)
  engine::BackoffPolicy rate_limit_backoff{std::chrono::seconds(1), std::chrono::seconds(30), 8};  // 429s (2.5)
  std::chrono::milliseconds budget_window{60'000};
  std::string user_agent = "actito-replicator";
  std::string ca_file;  // extra CA bundle (tests)
  engine::Metrics* metrics = nullptr;  // optional
};

// An answer with a non-2xx status after retries; `status` tells callers what it means in their
// context (a 404 on a child list is an empty list, contract 3.7).
class ApiError : public model::Error {
 public:
  ApiError(model::ErrorKind kind, int status, std::string code, std::string message)
      : model::Error(kind, std::move(message)), status_(status), code_(std::move(code)) {}
  int status() const noexcept { return status_; }
  const std::string& code() const noexcept { return code_; }

 private:
  int status_;
  std::string code_;
};

struct ApiResponse {
  int status = 0;
  std::string body;
  model::Timestamp date;  // the server clock (Date header), or the local clock when absent
};

// Thread-safety: use from ONE executor (single-threaded context or strand).
class ActitoClient {
 public:
  ActitoClient(boost::asio::any_io_executor executor, ConnectionOptions options);
  ~ActitoClient();
  ActitoClient(const ActitoClient&) = delete;
  ActitoClient& operator=(const ActitoClient&) = delete;

  // GET `target` (path and query, '/'-rooted) with a valid token, retried per the contract.
  // `object` labels the metrics. Returns 2xx answers; throws ApiError for others, model::Error
  // for network failures that outlived the retries.
  boost::asio::awaitable<ApiResponse> get(std::string target, std::string object);
  // Makes sure a token is held (obtaining one if needed): the `check` command's probe.
  boost::asio::awaitable<void> authenticate();

  const ConnectionOptions& options() const noexcept;
  // The entity as an encoded path segment.
  const std::string& entity_segment() const noexcept;
  // Requests sent (token calls included) since construction.
  std::int64_t calls() const noexcept;
  std::int64_t token_calls() const noexcept;
  engine::CallBudget& budget() noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Parses an HTTP-date (IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT"); nullopt when malformed.
std::optional<model::Timestamp> parse_http_date(std::string_view text);

}  // namespace replicator::actito

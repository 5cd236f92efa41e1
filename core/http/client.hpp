// A generic HTTP/1.1 client over Beast: keep-alive connection reuse, verified TLS for https,
// a deadline on every step, bounded responses, and network failures mapped to model::Error.
// It knows nothing about Actito.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

namespace replicator::http {

// scheme://host[:port] (no path): the base of every request of one client.
struct Origin {
  std::string scheme;  // "http" or "https"
  std::string host;
  std::uint16_t port = 0;

  // Throws model::Error(kConfig) when `url` is not scheme://host[:port] with an optional "/".
  static Origin parse(std::string_view url);
  std::string to_string() const;
};

struct Request {
  std::string method = "GET";
  std::string target;  // path and query, starting with '/'
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct Response {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Case-insensitive header lookup; empty when absent.
  std::string_view header(std::string_view name) const noexcept;
};

struct ClientOptions {
  std::string base_url;                             // scheme://host[:port]
  std::chrono::milliseconds step_timeout{60'000};   // resolve, connect, handshake, write, read
  std::size_t body_limit = 256ull * 1024 * 1024;    // larger responses fail as permanent
  std::uint32_t header_limit = 64 * 1024;
  std::size_t max_idle_connections = 5;
  std::string user_agent = "actito-replicator";
  std::string ca_file;  // extra CA bundle for https (tests); the system store is always used
};

// Thread-safety: one Client is used from one executor (strand or single-threaded io_context).
// Several requests may be in flight at once; each takes its own connection.
class Client {
 public:
  Client(boost::asio::any_io_executor executor, ClientOptions options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Sends one request. Any HTTP status is returned as a Response; network errors, timeouts,
  // truncated or oversized responses throw model::Error (kTransient, or kPermanent for a body
  // over the limit). A request on a reused keep-alive connection that fails before any byte of
  // the answer is retried once on a fresh connection.
  boost::asio::awaitable<Response> send(Request request);

  const Origin& origin() const noexcept;
  // Drops idle connections (e.g. after a fork or a long pause).
  void close_idle() noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace replicator::http

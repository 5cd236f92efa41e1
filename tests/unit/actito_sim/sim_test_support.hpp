// Test support of the simulator tests: a minimal Beast HTTP/1.1 client (deliberately not the
// project's client code) and a harness running an in-process Simulator with a token.
#pragma once

#include <algorithm>
#include <cctype>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "tests/actito_sim/api_error.hpp"
#include "tests/actito_sim/list_request.hpp"
#include "tests/actito_sim/simulator.hpp"

namespace replicator::actito_sim::sim_test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

inline constexpr const char* kKey = "sim-api-key";
inline constexpr const char* kProfiles = "/profiles/v5/entities/acme/profile-tables/16/profiles";
inline constexpr const char* kProfilesRoute =
    "GET /profiles/v5/entities/{entity}/profile-tables/{profileTableId}/profiles";

// ---- a minimal HTTP/1.1 test client --------------------------------------------------------

struct HttpResult {
  int status = 0;     // 0 when the connection failed or closed without an answer
  std::string error;  // transport error text when status == 0
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names

  json::object object() const { return json::parse(body).as_object(); }
  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
  std::string code() const {
    const auto o = object();
    return o.contains("code") ? std::string(o.at("code").as_string()) : std::string();
  }
};

// One keep-alive connection; reconnects after the server closed it. Every step has a deadline.
class TestClient {
 public:
  explicit TestClient(std::uint16_t port) : port_(port), stream_(ioc_) {}

  HttpResult get(const std::string& target,
                 const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    return send(http::verb::get, target, headers, "");
  }

  HttpResult send(http::verb method, const std::string& target,
                  const std::vector<std::pair<std::string, std::string>>& headers,
                  const std::string& body) {
    HttpResult result;
    if (!open_) {
      beast::error_code ec;
      stream_.socket().close(ec);
      stream_.expires_after(5s);
      stream_.socket().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_), ec);
      if (ec) {
        result.error = ec.message();
        return result;
      }
      open_ = true;
      buffer_.clear();
    }
    http::request<http::string_body> request{method, target, 11};
    request.set(http::field::host, "127.0.0.1");
    request.set(http::field::accept, "application/json");
    for (const auto& [name, value] : headers) request.set(name, value);
    if (!body.empty()) {
      request.set(http::field::content_type, "application/json; charset=utf-8");
      request.body() = body;
    }
    request.prepare_payload();
    beast::error_code ec;
    stream_.expires_after(10s);
    http::async_write(stream_, request, [&](beast::error_code e, std::size_t) { ec = e; });
    run();
    if (ec) return fail(result, ec);
    http::response_parser<http::string_body> parser;
    parser.body_limit(256 * 1024 * 1024);
    stream_.expires_after(20s);
    http::async_read(stream_, buffer_, parser, [&](beast::error_code e, std::size_t) { ec = e; });
    run();
    if (ec) return fail(result, ec);
    auto response = parser.release();
    result.status = static_cast<int>(response.result_int());
    result.body = std::move(response.body());
    for (const auto& field : response) {
      std::string name(field.name_string());
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return std::tolower(c); });
      result.headers[name] = std::string(field.value());
    }
    if (!response.keep_alive()) open_ = false;
    return result;
  }

 private:
  void run() {
    ioc_.restart();
    ioc_.run();
  }
  HttpResult& fail(HttpResult& result, beast::error_code ec) {
    result.error = ec.message();
    open_ = false;
    return result;
  }

  std::uint16_t port_;
  asio::io_context ioc_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  bool open_ = false;
};

inline SimOptions small_options(std::size_t profiles = 1000) {
  SimOptions o;
  o.port = 0;
  o.threads = 2;
  o.log_level = "warn";
  o.data.profiles = profiles;
  o.data.custom_records = 500;
  o.limits.max_concurrent = 0;  // most tests are not about limits
  o.limits.calls_per_minute = 0;
  return o;
}

inline std::string fetch_token(TestClient& client) {
  const HttpResult r = client.get("/auth/token", {{"Authorization", kKey}});
  EXPECT_EQ(r.status, 200) << r.body;
  return std::string(r.object().at("accessToken").as_string());
}

inline std::vector<std::pair<std::string, std::string>> bearer(const std::string& token) {
  return {{"Authorization", "Bearer " + token}};
}

inline std::string encode(std::string_view text) { return percent_encode(text); }

// A running simulator plus an authenticated client.
struct Harness {
  explicit Harness(SimOptions options) : sim(std::move(options)) {
    sim.start();
    client = std::make_unique<TestClient>(sim.port());
    token = fetch_token(*client);
  }
  HttpResult get(const std::string& target) { return client->get(target, bearer(token)); }
  json::object ok(const std::string& target) {
    const HttpResult r = get(target);
    EXPECT_EQ(r.status, 200) << target << " -> " << r.body;
    return r.status == 200 ? r.object() : json::object{};
  }

  Simulator sim;
  std::unique_ptr<TestClient> client;
  std::string token;
};

template <class F>
inline void expect_api_error(F&& f, int status, const std::string& code) {
  try {
    f();
    ADD_FAILURE() << "expected ApiError " << status << " " << code;
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status(), status) << e.message();
    EXPECT_EQ(e.code(), code) << e.message();
  }
}

}  // namespace replicator::actito_sim::sim_test

#include "core/http/client.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <deque>
#include <optional>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "core/model/error.hpp"

namespace replicator::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using asio::ip::tcp;
using model::ErrorKind;
using namespace asio::experimental::awaitable_operators;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

Origin Origin::parse(std::string_view url) {
  auto bad = [&](std::string_view why) -> Origin {
    model::fail(ErrorKind::kConfig, "invalid base URL \"" + std::string(url) + "\": " + std::string(why) +
                                        " (expected scheme://host[:port], e.g. http://127.0.0.1:8089)");
  };
  Origin o;
  auto sep = url.find("://");
  if (sep == std::string_view::npos) return bad("no scheme");
  o.scheme = std::string(url.substr(0, sep));
  if (o.scheme != "http" && o.scheme != "https") return bad("scheme must be http or https");
  std::string_view rest = url.substr(sep + 3);
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find('/') != std::string_view::npos) return bad("a base URL has no path");
  if (rest.find('@') != std::string_view::npos) return bad("credentials do not belong in the URL");
  std::string_view host = rest;
  o.port = o.scheme == "https" ? 443 : 80;
  if (!rest.empty() && rest.front() == '[') {
    auto close = rest.find(']');
    if (close == std::string_view::npos) return bad("unterminated IPv6 address");
    host = rest.substr(1, close - 1);
    rest = rest.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return bad("unexpected text after the host");
  } else {
    auto colon = rest.rfind(':');
    host = rest.substr(0, colon);
    rest = colon == std::string_view::npos ? std::string_view{} : rest.substr(colon);
  }
  if (!rest.empty()) {
    std::string_view p = rest.substr(1);
    unsigned v = 0;
    auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), v);
    if (ec != std::errc() || ptr != p.data() + p.size() || v == 0 || v > 65535) return bad("bad port");
    o.port = static_cast<std::uint16_t>(v);
  }
  if (host.empty()) return bad("no host");
  o.host = std::string(host);
  return o;
}

std::string Origin::to_string() const {
  bool v6 = host.find(':') != std::string::npos;
  return scheme + "://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string_view Response::header(std::string_view name) const noexcept {
  for (const auto& [k, v] : headers) {
    if (iequals(k, name)) return v;
  }
  return {};
}

// One keep-alive connection: plain TCP or TLS over TCP.
struct Connection {
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;
  bool name_mismatch = false;  // the certificate chain was trusted but names another host

  beast::tcp_stream& tcp() { return plain ? *plain : beast::get_lowest_layer(*tls); }
};

struct Client::Impl {
  asio::any_io_executor executor;
  ClientOptions options;
  Origin origin;
  asio::ssl::context ssl{asio::ssl::context::tls_client};
  std::deque<std::unique_ptr<Connection>> idle;

  Impl(asio::any_io_executor ex, ClientOptions opts)
      : executor(std::move(ex)), options(std::move(opts)), origin(Origin::parse(options.base_url)) {
    if (origin.scheme == "https") {
      ssl.set_default_verify_paths();
      if (!options.ca_file.empty()) ssl.load_verify_file(options.ca_file);
      ssl.set_verify_mode(asio::ssl::verify_peer);
      ssl.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                      asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                      asio::ssl::context::no_tlsv1_1);
    }
  }

  [[noreturn]] void network_error(std::string_view step, const beast::error_code& ec) const {
    std::string where = origin.to_string();
    if (ec == beast::error::timeout || ec == asio::error::operation_aborted) {
      model::fail(ErrorKind::kTransient,
                  std::string(step) + " " + where + " timed out after " +
                      std::to_string(options.step_timeout.count()) + " ms");
    }
    if (ec == bhttp::error::body_limit) {
      model::fail(ErrorKind::kPermanent, "response from " + where + " exceeds the body limit of " +
                                             std::to_string(options.body_limit) + " bytes");
    }
    if (ec == bhttp::error::header_limit) {
      model::fail(ErrorKind::kPermanent, "response headers from " + where + " exceed " +
                                             std::to_string(options.header_limit) + " bytes");
    }
    model::fail(ErrorKind::kTransient, std::string(step) + " " + where + " failed: " + ec.message());
  }

  // Why the server's certificate was refused, in words.
  std::string certificate_problem(Connection& conn) const {
    if (conn.name_mismatch) return "it is not issued for " + origin.host;
    const long result = SSL_get_verify_result(conn.tls->native_handle());
    if (result != X509_V_OK) {
      return std::string(X509_verify_cert_error_string(result)) +
             " (trust comes from the system's CA store; SSL_CERT_FILE or SSL_CERT_DIR point elsewhere)";
    }
    return "rejected during verification";
  }

  asio::awaitable<std::unique_ptr<Connection>> connect() {
    tcp::resolver resolver(executor);
    asio::steady_timer timer(executor, options.step_timeout);
    auto result = co_await (resolver.async_resolve(origin.host, std::to_string(origin.port), kTuple) ||
                            timer.async_wait(kTuple));
    if (result.index() == 1) network_error("resolving", beast::error::timeout);
    auto [rec, endpoints] = std::get<0>(result);
    if (rec) network_error("resolving", rec);

    auto conn = std::make_unique<Connection>();
    if (origin.scheme == "https") {
      conn->tls.emplace(executor, ssl);
    } else {
      conn->plain.emplace(executor);
    }
    auto& tcp_stream = conn->tcp();
    tcp_stream.expires_after(options.step_timeout);
    auto [cec, ep] = co_await tcp_stream.async_connect(endpoints, kTuple);
    if (cec) network_error("connecting to", cec);
    tcp_stream.socket().set_option(tcp::no_delay(true));
    if (conn->tls) {
      // SNI, then peer and host-name verification (house style rule 13).
      if (!SSL_set_tlsext_host_name(conn->tls->native_handle(), origin.host.c_str())) {
        model::fail(ErrorKind::kTransient, "cannot set TLS SNI for " + origin.host);
      }
      // Host-name verification, remembering a mismatch to explain a refusal.
      conn->tls->set_verify_callback(
          [check = asio::ssl::host_name_verification(origin.host), c = conn.get()](
              bool preverified, asio::ssl::verify_context& ctx) mutable {
            const bool ok = check(preverified, ctx);
            if (preverified && !ok) c->name_mismatch = true;
            return ok;
          });
      tcp_stream.expires_after(options.step_timeout);
      auto [hec] = co_await conn->tls->async_handshake(asio::ssl::stream_base::client, kTuple);
      if (hec) {
        // A certificate that is not accepted stays so: say why, and do not retry.
        if (hec.category() == asio::error::get_ssl_category() &&
            ERR_GET_REASON(static_cast<unsigned long>(hec.value())) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
          model::fail(ErrorKind::kPermanent, "TLS certificate of " + origin.to_string() +
                                                 " not accepted (certificate verify failed): " +
                                                 certificate_problem(*conn));
        }
        network_error("TLS handshake with", hec);
      }
    }
    co_return conn;
  }

  template <class Stream>
  asio::awaitable<std::pair<beast::error_code, bool>> exchange(
      Stream& stream, Connection& conn, bhttp::request<bhttp::string_body>& req, Response& out) {
    conn.tcp().expires_after(options.step_timeout);
    auto [wec, wn] = co_await bhttp::async_write(stream, req, kTuple);
    if (wec) co_return std::make_pair(wec, false);
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(options.body_limit);
    parser.header_limit(options.header_limit);
    conn.tcp().expires_after(options.step_timeout);
    auto [rec, rn] = co_await bhttp::async_read(stream, conn.buffer, parser, kTuple);
    if (rec) co_return std::make_pair(rec, parser.got_some());
    auto msg = parser.release();
    out.status = static_cast<int>(msg.result_int());
    for (const auto& f : msg) out.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    out.body = std::move(msg.body());
    co_return std::make_pair(beast::error_code{}, msg.keep_alive());
  }
};

Client::Client(asio::any_io_executor executor, ClientOptions options)
    : impl_(std::make_unique<Impl>(std::move(executor), std::move(options))) {}

Client::~Client() = default;

const Origin& Client::origin() const noexcept { return impl_->origin; }

void Client::close_idle() noexcept { impl_->idle.clear(); }

asio::awaitable<Response> Client::send(Request request) {
  Impl& impl = *impl_;
  bhttp::verb verb = bhttp::string_to_verb(request.method);
  if (verb == bhttp::verb::unknown) model::fail(ErrorKind::kPermanent, "unknown HTTP method " + request.method);
  bhttp::request<bhttp::string_body> req{verb, request.target, 11};
  std::string host = impl.origin.host;
  bool default_port = (impl.origin.scheme == "https" && impl.origin.port == 443) ||
                      (impl.origin.scheme == "http" && impl.origin.port == 80);
  req.set(bhttp::field::host, default_port ? host : host + ":" + std::to_string(impl.origin.port));
  req.set(bhttp::field::user_agent, impl.options.user_agent);
  req.keep_alive(true);
  for (auto& [k, v] : request.headers) req.set(k, v);
  if (!request.body.empty() || verb == bhttp::verb::post || verb == bhttp::verb::put ||
      verb == bhttp::verb::patch) {
    req.body() = std::move(request.body);
    req.prepare_payload();
  }

  for (int attempt = 0;; ++attempt) {
    std::unique_ptr<Connection> conn;
    bool reused = false;
    if (!impl.idle.empty()) {
      conn = std::move(impl.idle.front());
      impl.idle.pop_front();
      reused = true;
    } else {
      conn = co_await impl.connect();
    }
    Response out;
    std::pair<beast::error_code, bool> r;
    if (conn->plain) {
      r = co_await impl.exchange(*conn->plain, *conn, req, out);
    } else {
      r = co_await impl.exchange(*conn->tls, *conn, req, out);
    }
    auto [ec, flag] = r;
    if (ec) {
      // A keep-alive connection the server closed meanwhile: retry once on a fresh one, but only
      // when no byte of an answer arrived (the request was not processed).
      if (reused && attempt == 0 && !flag && ec != beast::error::timeout) continue;
      impl.network_error("request to", ec);
    }
    if (flag && impl.idle.size() < impl.options.max_idle_connections) {
      impl.idle.push_back(std::move(conn));
    } else if (conn->plain) {
      beast::error_code ignored;
      conn->plain->socket().shutdown(tcp::socket::shutdown_both, ignored);
    }
    co_return out;
  }
}

}  // namespace replicator::http

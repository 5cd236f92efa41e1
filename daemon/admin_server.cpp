#include "daemon/admin_server.hpp"

#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

#include "core/model/error.hpp"

namespace replicator::daemon {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using asio::ip::tcp;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

tcp::endpoint parse_listen(const std::string& listen) {
  auto fail = [&](const std::string& why) -> tcp::endpoint {
    model::fail(model::ErrorKind::kConfig, "server.listen \"" + listen + "\": " + why +
                                               " (expected host:port, e.g. 127.0.0.1:9464)");
  };
  std::string host, port;
  if (!listen.empty() && listen.front() == '[') {
    auto close = listen.find(']');
    if (close == std::string::npos || close + 1 >= listen.size() || listen[close + 1] != ':') return fail("bad IPv6 form");
    host = listen.substr(1, close - 1);
    port = listen.substr(close + 2);
  } else {
    auto colon = listen.rfind(':');
    if (colon == std::string::npos) return fail("no port");
    host = listen.substr(0, colon);
    port = listen.substr(colon + 1);
  }
  if (host == "localhost") host = "127.0.0.1";
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(host, ec);
  if (ec) return fail("the host must be an IP address");
  unsigned long p = 0;
  try {
    std::size_t used = 0;
    p = std::stoul(port, &used);
    if (used != port.size() || p > 65535) return fail("bad port");
  } catch (const std::exception&) {
    return fail("bad port");
  }
  return tcp::endpoint(addr, static_cast<unsigned short>(p));
}

// One connection: keep-alive, small bounded requests, a deadline per read and write.
asio::awaitable<void> serve(beast::tcp_stream stream, AdminHandler handler) {
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::empty_body> parser;
    parser.header_limit(16 * 1024);
    stream.expires_after(std::chrono::seconds(30));
    auto [ec, n] = co_await http::async_read(stream, buffer, parser, kTuple);
    if (ec) break;
    auto req = parser.release();
    AdminResponse r;
    std::string target(req.target());
    std::string path = target.substr(0, target.find('?'));
    if (req.method() != http::verb::get && req.method() != http::verb::head) {
      r = AdminResponse{405, "text/plain; charset=utf-8", "method not allowed\n"};
    } else {
      try {
        r = handler(path, std::string(req[http::field::accept]));
      } catch (const std::exception& e) {
        spdlog::error("admin endpoint {} failed: {}", path, e.what());
        r = AdminResponse{500, "text/plain; charset=utf-8", "internal error\n"};
      }
    }
    http::response<http::string_body> res{static_cast<http::status>(r.status), req.version()};
    res.set(http::field::server, "actito-replicator");
    res.set(http::field::content_type, r.content_type);
    res.set(http::field::cache_control, "no-store");
    res.set(http::field::vary, "Accept");  // /status answers HTML or JSON by the Accept header
    res.keep_alive(req.keep_alive());
    if (req.method() != http::verb::head) res.body() = std::move(r.body);
    res.prepare_payload();
    stream.expires_after(std::chrono::seconds(30));
    auto [wec, wn] = co_await http::async_write(stream, res, kTuple);
    if (wec || !res.keep_alive()) break;
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

}  // namespace

struct AdminServer::Impl {
  std::string listen;
  AdminHandler handler;
  asio::io_context ctx{1};
  tcp::acceptor acceptor{ctx};
  std::thread thread;
  std::uint16_t port = 0;

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(asio::make_strand(ctx), kTuple);
      if (ec == asio::error::operation_aborted) co_return;
      if (ec) {
        spdlog::warn("admin server: accept failed: {}", ec.message());
        continue;
      }
      asio::co_spawn(socket.get_executor(), serve(beast::tcp_stream(std::move(socket)), handler),
                     [](std::exception_ptr e) {
                       if (!e) return;
                       try {
                         std::rethrow_exception(e);
                       } catch (const std::exception& ex) {
                         spdlog::warn("admin connection ended with an error: {}", ex.what());
                       }
                     });
    }
  }
};

AdminServer::AdminServer(std::string listen, AdminHandler handler) : impl_(std::make_unique<Impl>()) {
  impl_->listen = std::move(listen);
  impl_->handler = std::move(handler);
}

AdminServer::~AdminServer() { stop(); }

void AdminServer::start() {
  auto ep = parse_listen(impl_->listen);
  boost::system::error_code ec;
  impl_->acceptor.open(ep.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(ep, ec);
  if (!ec) impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    model::fail(model::ErrorKind::kConfig, "cannot listen on " + impl_->listen + ": " + ec.message());
  }
  impl_->port = impl_->acceptor.local_endpoint().port();
  asio::co_spawn(impl_->ctx, impl_->accept_loop(), [](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      spdlog::error("admin server stopped: {}", ex.what());
    }
  });
  impl_->thread = std::thread([this] { impl_->ctx.run(); });
}

void AdminServer::stop() {
  if (!impl_ || !impl_->thread.joinable()) return;
  asio::post(impl_->ctx, [this] {
    boost::system::error_code ignored;
    impl_->acceptor.close(ignored);
  });
  impl_->ctx.stop();
  impl_->thread.join();
}

std::uint16_t AdminServer::port() const noexcept { return impl_->port; }

std::string AdminServer::address() const {
  auto ep = impl_->acceptor.local_endpoint();
  auto a = ep.address().to_string();
  return (ep.address().is_v6() ? "[" + a + "]" : a) + ":" + std::to_string(ep.port());
}

}  // namespace replicator::daemon

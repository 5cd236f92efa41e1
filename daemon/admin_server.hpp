// The admin HTTP server (/metrics, /healthz, /readyz, /status): its own thread and io_context,
// so it answers while jobs are saturated or stuck (house style rule 9).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace replicator::daemon {

struct AdminResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

// Called on the server's thread; must be thread-safe and must not block on replication work.
using AdminHandler = std::function<AdminResponse(const std::string& path, const std::string& accept)>;

// Thread-safety: start/stop from the owning thread; the handler runs on the server thread.
class AdminServer {
 public:
  // `listen` is host:port ("127.0.0.1:9464", "[::1]:9464", port 0 = any free port).
  AdminServer(std::string listen, AdminHandler handler);
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // Binds (throws model::Error(kConfig) when the address is unusable) and serves on a new thread.
  void start();
  void stop();
  std::uint16_t port() const noexcept;
  // The address actually bound, e.g. "127.0.0.1:9464".
  std::string address() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace replicator::daemon

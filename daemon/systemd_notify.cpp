#include "daemon/systemd_notify.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string>

#include <spdlog/spdlog.h>

namespace replicator::daemon {

namespace {

std::optional<std::chrono::microseconds> watchdog_from_environment() {
  const char* usec = std::getenv("WATCHDOG_USEC");
  if (!usec || !*usec) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const unsigned long long value = std::strtoull(usec, &end, 10);
  if (errno != 0 || *end != '\0' || value == 0) {
    spdlog::warn("WATCHDOG_USEC={} is not a positive number of microseconds: watchdog off", usec);
    return std::nullopt;
  }
  if (const char* pid = std::getenv("WATCHDOG_PID"); pid && *pid) {
    // The watchdog is meant for another process (a wrapper that exec'd us keeps its own pid).
    if (std::strtoll(pid, nullptr, 10) != static_cast<long long>(::getpid())) return std::nullopt;
  }
  return std::chrono::microseconds(static_cast<std::int64_t>(value));
}

// A status line must stay one line: the protocol is newline-separated assignments.
std::string one_line(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return out;
}

}  // namespace

SystemdNotifier SystemdNotifier::from_environment() {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  return SystemdNotifier(socket ? socket : "", watchdog_from_environment());
}

SystemdNotifier::SystemdNotifier(std::string socket_path, std::optional<std::chrono::microseconds> watchdog)
    : path_(std::move(socket_path)) {
  if (path_.empty()) return;
  if (path_[0] != '/' && path_[0] != '@') {
    spdlog::warn("NOTIFY_SOCKET={} is neither a path nor an abstract socket: not notifying systemd", path_);
    return;
  }
  if (path_.size() >= sizeof(sockaddr_un::sun_path)) {
    spdlog::warn("NOTIFY_SOCKET is {} bytes long, more than a socket address holds: not notifying systemd",
                 path_.size());
    return;
  }
  fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    spdlog::warn("cannot create the systemd notification socket: {}", std::strerror(errno));
    return;
  }
  watchdog_ = watchdog;
}

SystemdNotifier::~SystemdNotifier() {
  if (fd_ >= 0) ::close(fd_);
}

SystemdNotifier::SystemdNotifier(SystemdNotifier&& other) noexcept
    : path_(std::move(other.path_)), watchdog_(other.watchdog_), fd_(other.fd_), warned_(other.warned_.load()) {
  other.fd_ = -1;
}

SystemdNotifier& SystemdNotifier::operator=(SystemdNotifier&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    path_ = std::move(other.path_);
    watchdog_ = other.watchdog_;
    fd_ = other.fd_;
    warned_ = other.warned_.load();
    other.fd_ = -1;
  }
  return *this;
}

bool SystemdNotifier::send(std::string_view message) {
  if (fd_ < 0) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path_.data(), path_.size());
  if (path_[0] == '@') addr.sun_path[0] = '\0';  // abstract namespace
  const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path_.size());
  ssize_t sent;
  do {
    sent = ::sendto(fd_, message.data(), message.size(), MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&addr), len);
  } while (sent < 0 && errno == EINTR);
  if (sent == static_cast<ssize_t>(message.size())) return true;
  if (!warned_.exchange(true)) {
    spdlog::warn("cannot notify systemd through {}: {} (further failures are not logged)", path_,
                 sent < 0 ? std::strerror(errno) : "short write");
  }
  return false;
}

void SystemdNotifier::ready(std::string_view status) { send("READY=1\nSTATUS=" + one_line(status)); }

void SystemdNotifier::reloading() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  const auto usec = static_cast<long long>(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000;
  send("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec) + "\nSTATUS=reloading the configuration");
}

void SystemdNotifier::stopping() { send("STOPPING=1\nSTATUS=stopping: finishing the pages in flight"); }

void SystemdNotifier::status(std::string_view text) { send("STATUS=" + one_line(text)); }

void SystemdNotifier::watchdog_ping() {
  if (watchdog_) send("WATCHDOG=1");
}

}  // namespace replicator::daemon

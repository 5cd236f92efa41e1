// The service side of systemd's notify protocol (sd_notify(3)): readiness, reload, stop, status
// text and watchdog keep-alives, sent as datagrams to the socket named by $NOTIFY_SOCKET.
// Written here rather than linking libsystemd: the protocol is one sendto() per message, and the
// daemon must not need systemd's libraries in a container.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace replicator::daemon {

// Thread-safety: every member is safe to call from any thread (each call is one sendto() on a
// socket created at construction). When $NOTIFY_SOCKET is unset every call does nothing.
class SystemdNotifier {
 public:
  // Reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID. The watchdog is on only when
  // WATCHDOG_USEC is a positive number and WATCHDOG_PID is unset or this process's pid.
  static SystemdNotifier from_environment();
  // A notifier for `socket_path` ("/run/..." or "@abstract"; empty = disabled).
  explicit SystemdNotifier(std::string socket_path,
                           std::optional<std::chrono::microseconds> watchdog = std::nullopt);
  ~SystemdNotifier();
  SystemdNotifier(SystemdNotifier&& other) noexcept;
  SystemdNotifier& operator=(SystemdNotifier&& other) noexcept;
  SystemdNotifier(const SystemdNotifier&) = delete;
  SystemdNotifier& operator=(const SystemdNotifier&) = delete;

  bool enabled() const noexcept { return fd_ >= 0; }
  // The interval systemd expects keep-alives within (WatchdogSec=), when the watchdog is on.
  std::optional<std::chrono::microseconds> watchdog_interval() const noexcept { return watchdog_; }

  // READY=1 with a status line: the config is loaded and the destinations answer.
  void ready(std::string_view status);
  // RELOADING=1 with MONOTONIC_USEC (SIGHUP received); follow with ready() once done.
  void reloading();
  // STOPPING=1 (SIGTERM/SIGINT received).
  void stopping();
  // STATUS=<text>: shown by `systemctl status`.
  void status(std::string_view text);
  // WATCHDOG=1: the scheduler loop is turning.
  void watchdog_ping();

  // Sends `message` as is ("KEY=value" lines). Returns false (and logs once) when the send fails;
  // a notification is never worth stopping the daemon for.
  bool send(std::string_view message);

 private:
  std::string path_;
  std::optional<std::chrono::microseconds> watchdog_;
  int fd_ = -1;
  std::atomic<bool> warned_{false};
};

}  // namespace replicator::daemon

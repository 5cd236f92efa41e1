// The application: builds every component from a Config and runs the subcommands of
// interface.md section 1. The only place that knows every module (house style rule 1).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"

namespace replicator::daemon {

struct OnceOptions {
  std::optional<std::string> job;
  std::optional<std::string> stream;
  bool explain = false;
};

struct DiscoverOptions {
  std::optional<std::string> connection;
  std::string format = "table";  // table | json | yaml
};

// Exit codes of interface.md section 1.
enum ExitCode : int { kExitOk = 0, kExitFailure = 1, kExitConfig = 2 };

// Thread-safety: one App per process, driven from the main thread.
class App {
 public:
  explicit App(config::Config config);
  ~App();
  App(const App&) = delete;
  App& operator=(const App&) = delete;

  int run();  // the daemon; returns when SIGTERM/SIGINT arrived and the jobs stopped
  int once(const OnceOptions& options);
  int check();
  int discover(const DiscoverOptions& options);
  int state(const std::optional<std::string>& job);
  int reset(const std::string& job, const std::optional<std::string>& stream, bool assume_yes);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace replicator::daemon

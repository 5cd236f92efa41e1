// Helpers of the end-to-end tests: run the real actito-replicator binary, write job files,
// read replicated tables, talk to the admin endpoints.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace replicator::e2e {

struct ProcessResult {
  int exit_code = -1;  // -signal when killed by a signal
  std::string out;
  std::string err;
};

// Runs the daemon binary with `args` and waits (up to `timeout`, then SIGKILL).
ProcessResult run_binary(const std::vector<std::string>& args,
                         std::chrono::seconds timeout = std::chrono::seconds(180));

// A daemon process running in the background; killed (SIGKILL) on destruction if still alive.
class Daemon {
 public:
  explicit Daemon(const std::vector<std::string>& args);
  ~Daemon();
  int pid() const { return pid_; }
  void signal(int sig);
  // Waits for the exit; returns the exit code (or -signal).
  int wait(std::chrono::seconds timeout = std::chrono::seconds(90));
  bool alive();
  std::string stderr_text() const;

 private:
  int pid_ = -1;
  std::string err_path_;
  std::optional<int> status_;
};

// Polls `pred` every 100 ms until it holds or `seconds` pass; returns whether it held.
template <class Pred>
bool wait_until(Pred pred, int seconds) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

// A private temporary directory, removed on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

void write_file(const std::string& path, const std::string& text);
std::string read_file(const std::string& path);
// Replaces the first `from` in the file at `path` by `to`; throws, naming the file, when `from`
// is not there (a test editing a job file must not go on with the unedited one).
void edit_file(const std::string& path, const std::string& from, const std::string& to);
std::uint16_t free_port();
// Starts `argv` (argv[0] looked up in PATH) with stdin from /dev/null and stdout/stderr into the
// files `out` and `err` ("/dev/null" to drop them); returns its pid. Throws naming the program
// when it cannot start.
int spawn_program(const std::vector<std::string>& argv, const std::string& out, const std::string& err);

// GET http://127.0.0.1:port/path; returns {status, body}; status 0 when nothing answered.
std::pair<int, std::string> http_get(std::uint16_t port, const std::string& path);

// The same with an Accept header ("" = none) and the answer's Content-Type; status 0 when
// nothing answered.
struct HttpAnswer {
  int status = 0;
  std::string content_type;
  std::string body;
};
HttpAnswer http_get(std::uint16_t port, const std::string& path, const std::string& accept);

// Prometheus text format 0.0.4 check: every sample line is `name{labels} value`, every family has
// HELP and TYPE before its samples. Returns a list of problems (empty = valid) and fills `names`.
std::vector<std::string> check_exposition(const std::string& text, std::vector<std::string>* names);

// The value of the first sample of metric `name` in a Prometheus exposition whose labels contain
// every `labels` entry (written `key="value"`); -1 when there is none.
double metric_value(const std::string& exposition, const std::string& name, const std::vector<std::string>& labels);

}  // namespace replicator::e2e

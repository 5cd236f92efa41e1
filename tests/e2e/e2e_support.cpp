#include "tests/e2e/e2e_support.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

extern char** environ;

namespace replicator::e2e {

namespace {

// A child's captured output; "" while the file is not there yet.
std::string read_output(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int spawn(const std::vector<std::string>& args, const std::string& out, const std::string& err) {
  std::vector<std::string> full = {REPLICATOR_BINARY};
  full.insert(full.end(), args.begin(), args.end());
  return spawn_program(full, out, err);
}

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return -WTERMSIG(status);
  return -1000;
}

}  // namespace

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "actito-e2e.XXXXXX").string();
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

int spawn_program(const std::vector<std::string>& args, const std::string& out, const std::string& err) {
  std::vector<std::string> copy = args;
  std::vector<char*> argv;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) throw std::runtime_error("cannot start " + args.front() + ": " + std::strerror(rc));
  return pid;
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  out.close();
  if (!out) throw std::runtime_error("cannot write " + path);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void edit_file(const std::string& path, const std::string& from, const std::string& to) {
  std::string text = read_file(path);
  const auto at = text.find(from);
  if (at == std::string::npos) throw std::runtime_error(path + " does not contain \"" + from + "\"");
  text.replace(at, from.size(), to);
  write_file(path, text);
}

ProcessResult run_binary(const std::vector<std::string>& args, std::chrono::seconds timeout) {
  TempDir dir;
  int pid = spawn(args, dir.file("out"), dir.file("err"));
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  for (;;) {
    int r = waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return ProcessResult{decode_status(status), read_output(dir.file("out")), read_output(dir.file("err"))};
}

Daemon::Daemon(const std::vector<std::string>& args) {
  char tmpl[] = "/tmp/actito-e2e-daemon.XXXXXX";
  int fd = mkstemp(tmpl);
  if (fd >= 0) close(fd);
  err_path_ = tmpl;
  pid_ = spawn(args, "/dev/null", err_path_);
}

Daemon::~Daemon() {
  if (!status_) {
    kill(pid_, SIGKILL);
    int st = 0;
    waitpid(pid_, &st, 0);
  }
  std::remove(err_path_.c_str());
}

void Daemon::signal(int sig) { kill(pid_, sig); }

bool Daemon::alive() {
  if (status_) return false;
  int st = 0;
  if (waitpid(pid_, &st, WNOHANG) == pid_) {
    status_ = decode_status(st);
    return false;
  }
  return true;
}

int Daemon::wait(std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (alive()) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid_, SIGKILL);
      int st = 0;
      waitpid(pid_, &st, 0);
      status_ = decode_status(st);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return *status_;
}

std::string Daemon::stderr_text() const { return read_output(err_path_); }

std::uint16_t free_port() {
  boost::asio::io_context ctx;
  boost::asio::ip::tcp::acceptor a(ctx, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

HttpAnswer http_get(std::uint16_t port, const std::string& path, const std::string& accept) {
  namespace beast = boost::beast;
  namespace http = beast::http;
  try {
    boost::asio::io_context ctx;
    beast::tcp_stream stream(ctx);
    stream.expires_after(std::chrono::seconds(10));
    stream.connect({boost::asio::ip::make_address("127.0.0.1"), port});
    http::request<http::empty_body> req{http::verb::get, path, 11};
    req.set(http::field::host, "127.0.0.1");
    if (!accept.empty()) req.set(http::field::accept, accept);
    http::write(stream, req);
    beast::flat_buffer buf;
    http::response<http::string_body> res;
    http::read(stream, buf, res);
    return {static_cast<int>(res.result_int()), std::string(res[http::field::content_type]), res.body()};
  } catch (const std::exception&) {
    return {};
  }
}

std::pair<int, std::string> http_get(std::uint16_t port, const std::string& path) {
  HttpAnswer a = http_get(port, path, "");
  return {a.status, std::move(a.body)};
}

std::vector<std::string> check_exposition(const std::string& text, std::vector<std::string>* names) {
  std::vector<std::string> problems;
  std::set<std::string> typed;
  static const std::regex kSample(
      R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*"(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*")*,?)?\})? (-?[0-9.eE+-]+|NaN|\+Inf|-Inf)( -?[0-9]+)?$)");
  std::istringstream in(text);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) continue;
    if (line.rfind("# TYPE ", 0) == 0) {
      std::istringstream ls(line.substr(7));
      std::string name, type;
      ls >> name >> type;
      typed.insert(name);
      if (names) names->push_back(name);
      continue;
    }
    if (line[0] == '#') continue;
    std::smatch m;
    if (!std::regex_match(line, m, kSample)) {
      problems.push_back("line " + std::to_string(n) + " is not a sample: " + line);
      continue;
    }
    std::string name = m[1];
    std::string family = name;
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      std::string s = suffix;
      if (family.size() > s.size() && family.compare(family.size() - s.size(), s.size(), s) == 0 &&
          typed.count(family.substr(0, family.size() - s.size()))) {
        family = family.substr(0, family.size() - s.size());
      }
    }
    if (!typed.count(family)) problems.push_back("line " + std::to_string(n) + ": no TYPE before " + name);
  }
  return problems;
}

double metric_value(const std::string& exposition, const std::string& name, const std::vector<std::string>& labels) {
  std::istringstream in(exposition);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name + "{", 0) != 0) continue;
    const auto close = line.find('}');
    if (close == std::string::npos) continue;
    const std::string label_text = line.substr(0, close);
    bool all = true;
    for (const auto& l : labels) all = all && label_text.find(l) != std::string::npos;
    if (all) return std::stod(line.substr(close + 1));
  }
  return -1;
}

}  // namespace replicator::e2e

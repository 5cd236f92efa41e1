// The systemd side of the service, without systemd: this test plays the NOTIFY_SOCKET end of the
// notify protocol against SystemdNotifier and against the real daemon, and checks the shipped
// unit with systemd-analyze (verify, and the offline security assessment).
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "config/catalog_loader.hpp"
#include "config/config.hpp"
#include "daemon/systemd_notify.hpp"
#include "tests/e2e/e2e_support.hpp"
#include "tests/e2e/world.hpp"

namespace replicator {
namespace {

using Clock = std::chrono::steady_clock;
using daemon::SystemdNotifier;
using e2e::read_file;
using e2e::TempDir;

// The service manager's end: a datagram socket bound to a path or an abstract name.
class NotifySocket {
 public:
  explicit NotifySocket(std::string name) : name_(std::move(name)) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error("socket: " + std::string(std::strerror(errno)));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, name_.data(), name_.size());
    if (name_[0] == '@') addr.sun_path[0] = '\0';
    auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name_.size());
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0) {
      throw std::runtime_error("bind " + name_ + ": " + std::strerror(errno));
    }
  }
  ~NotifySocket() { ::close(fd_); }
  const std::string& name() const { return name_; }

  // The next datagram, or nullopt after `timeout`.
  std::optional<std::string> receive(std::chrono::milliseconds timeout) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return std::nullopt;
    char buf[4096];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n < 0) return std::nullopt;
    return std::string(buf, static_cast<std::size_t>(n));
  }

  // Datagrams until one contains `needle` (returned), or nullopt after `timeout`; every
  // datagram seen goes to `seen`.
  std::optional<std::string> wait_for(const std::string& needle, std::chrono::milliseconds timeout,
                                      std::vector<std::string>* seen = nullptr) {
    auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      auto m = receive(std::max(left, std::chrono::milliseconds(1)));
      if (!m) continue;
      if (seen) seen->push_back(*m);
      if (m->find(needle) != std::string::npos) return m;
    }
    return std::nullopt;
  }

 private:
  std::string name_;
  int fd_ = -1;
};

// Sets an environment variable for the scope (the daemon inherits the test's environment).
class ScopedEnv {
 public:
  ScopedEnv(std::string name, const std::string& value) : name_(std::move(name)) {
    if (const char* old = ::getenv(name_.c_str())) old_ = old;
    ::setenv(name_.c_str(), value.c_str(), 1);
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;
  ~ScopedEnv() {
    if (old_) ::setenv(name_.c_str(), old_->c_str(), 1);
    else ::unsetenv(name_.c_str());
  }

 private:
  std::string name_;
  std::optional<std::string> old_;
};

// Runs a shell command; returns {exit code, stdout+stderr}.
std::pair<int, std::string> shell(const std::string& command) {
  std::string out;
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (!p) return {-1, "popen failed"};
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  int status = ::pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

const std::string kSource = REPLICATOR_SOURCE_DIR;

// ---- SystemdNotifier against a socket of ours -----------------------------------------------------

TEST(SystemdNotifier, SendsEachMessageToAPathSocket) {
  TempDir dir;
  NotifySocket sock(dir.file("notify"));
  SystemdNotifier n(sock.name(), std::chrono::seconds(10));
  ASSERT_TRUE(n.enabled());
  n.ready("2 job(s)\nsecond line");
  EXPECT_EQ(sock.receive(std::chrono::seconds(1)), "READY=1\nSTATUS=2 job(s) second line");
  n.watchdog_ping();
  EXPECT_EQ(sock.receive(std::chrono::seconds(1)), "WATCHDOG=1");
  n.reloading();
  auto reload = sock.receive(std::chrono::seconds(1));
  ASSERT_TRUE(reload);
  EXPECT_TRUE(std::regex_search(*reload, std::regex("^RELOADING=1\nMONOTONIC_USEC=[0-9]+\n"))) << *reload;
  n.stopping();
  auto stop = sock.receive(std::chrono::seconds(1));
  ASSERT_TRUE(stop);
  EXPECT_EQ(stop->rfind("STOPPING=1\n", 0), 0u) << *stop;
}

TEST(SystemdNotifier, ReachesAnAbstractSocket) {
  NotifySocket sock("@actito-replicator-test-" + std::to_string(::getpid()));
  SystemdNotifier n(sock.name());
  n.status("cycling");
  EXPECT_EQ(sock.receive(std::chrono::seconds(1)), "STATUS=cycling");
}

TEST(SystemdNotifier, WatchdogFollowsTheEnvironment) {
  TempDir dir;
  NotifySocket sock(dir.file("notify"));
  ScopedEnv socket("NOTIFY_SOCKET", sock.name());
  {
    ScopedEnv usec("WATCHDOG_USEC", "250000");
    ScopedEnv pid("WATCHDOG_PID", std::to_string(::getpid()));
    auto n = SystemdNotifier::from_environment();
    EXPECT_EQ(n.watchdog_interval(), std::chrono::microseconds(250000));
    n.watchdog_ping();
    EXPECT_EQ(sock.receive(std::chrono::seconds(1)), "WATCHDOG=1");
  }
  {
    // Meant for another process (WATCHDOG_PID of a parent): no keep-alives from us.
    ScopedEnv usec("WATCHDOG_USEC", "250000");
    ScopedEnv pid("WATCHDOG_PID", std::to_string(::getppid()));
    auto n = SystemdNotifier::from_environment();
    EXPECT_FALSE(n.watchdog_interval());
    n.watchdog_ping();
    EXPECT_FALSE(sock.receive(std::chrono::milliseconds(200)));
  }
  {
    ScopedEnv usec("WATCHDOG_USEC", "soon");
    EXPECT_FALSE(SystemdNotifier::from_environment().watchdog_interval());
  }
}

TEST(SystemdNotifier, DoesNothingWithoutASocketAndSurvivesAGoneOne) {
  ::unsetenv("NOTIFY_SOCKET");
  auto off = SystemdNotifier::from_environment();
  EXPECT_FALSE(off.enabled());
  EXPECT_FALSE(off.send("READY=1"));

  TempDir dir;
  SystemdNotifier gone(dir.file("nobody-listens"));
  EXPECT_TRUE(gone.enabled());
  EXPECT_FALSE(gone.send("READY=1"));
  EXPECT_FALSE(gone.send("READY=1"));  // still no exception, no crash
}

// ---- the daemon, as systemd sees it ---------------------------------------------------------------

TEST(DaemonUnderSystemd, ReadyAfterTheDestinationAnswersThenWatchdogReloadAndStop) {
  e2e::Simulator sim(e2e::sim_options(30, 30));
  sim.start();
  e2e::World w(sim);
  TempDir dir;
  NotifySocket sock(dir.file("notify"));
  const std::uint16_t port = e2e::free_port();
  auto cfg = w.config("      - object: Customers\n", "", port);
  ScopedEnv socket("NOTIFY_SOCKET", sock.name());
  ScopedEnv usec("WATCHDOG_USEC", "400000");  // keep-alives expected within 0.4 s
  e2e::Daemon d({"run", "-c", cfg});

  std::vector<std::string> seen;
  auto ready = sock.wait_for("READY=1", std::chrono::seconds(20), &seen);
  ASSERT_TRUE(ready) << d.stderr_text();
  EXPECT_NE(ready->find("STATUS=1 job(s), admin on http://127.0.0.1:" + std::to_string(port)), std::string::npos)
      << *ready;
  // Ready means the destination was reached: /readyz agrees.
  EXPECT_EQ(e2e::http_get(port, "/readyz").first, 200);

  // Keep-alives come from the scheduler loop, well within the interval.
  std::vector<Clock::time_point> pings;
  auto until = Clock::now() + std::chrono::milliseconds(1500);
  while (Clock::now() < until) {
    auto m = sock.receive(std::chrono::milliseconds(100));
    if (m && *m == "WATCHDOG=1") pings.push_back(Clock::now());
  }
  ASSERT_GE(pings.size(), 5u) << "WATCHDOG=1 is not sent often enough for WatchdogSec";
  for (std::size_t i = 1; i < pings.size(); ++i) {
    EXPECT_LT(pings[i] - pings[i - 1], std::chrono::milliseconds(300)) << "gap before keep-alive " << i;
  }

  // A cycle reports its outcome as STATUS=.
  EXPECT_TRUE(sock.wait_for("STATUS=1 stream(s): 1 idle, 0 running, 0 failed; last cycle: job crm",
                            std::chrono::seconds(20)))
      << d.stderr_text();

  // SIGHUP: RELOADING=1, then READY=1 again once the new config runs.
  d.signal(SIGHUP);
  EXPECT_TRUE(sock.wait_for("RELOADING=1", std::chrono::seconds(10)));
  auto reloaded = sock.wait_for("READY=1", std::chrono::seconds(20));
  ASSERT_TRUE(reloaded) << d.stderr_text();
  EXPECT_NE(reloaded->find("configuration reloaded"), std::string::npos) << *reloaded;
  // The heartbeat survives a reload (jobs stop and restart, the loop keeps turning).
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  std::size_t after_reload = 0;
  auto window = Clock::now() + std::chrono::seconds(1);
  while (Clock::now() < window) {
    auto m = sock.receive(std::chrono::milliseconds(100));
    if (m && *m == "WATCHDOG=1") ++after_reload;
  }
  EXPECT_GE(after_reload, 3u) << "keep-alives stopped after the reload: systemd would restart the service";

  // SIGTERM: STOPPING=1 and a clean exit.
  d.signal(SIGTERM);
  EXPECT_TRUE(sock.wait_for("STOPPING=1", std::chrono::seconds(10)));
  EXPECT_EQ(d.wait(), 0) << d.stderr_text();
}

TEST(DaemonUnderSystemd, NotReadyWhileTheDestinationIsDownAndSaysWhy) {
  e2e::Simulator sim(e2e::sim_options(10, 10));
  sim.start();
  TempDir dir;
  NotifySocket sock(dir.file("notify"));
  const std::uint16_t pg_port = e2e::free_port();  // nothing listens there
  const std::string yaml =
      "server:\n  listen: 127.0.0.1:" + std::to_string(e2e::free_port()) +
      "\nconnections:\n  sim:\n    base_url: " + sim.base_url() +
      "\n    entity: acme\n    api_key: sim-api-key\n"
      "destinations:\n  pg:\n    dsn: \"host=127.0.0.1 port=" + std::to_string(pg_port) +
      " dbname=x user=u password=hunter2-secret connect_timeout=2\"\n"
      "jobs:\n  - name: crm\n    connection: sim\n    destination: pg\n    schedule: { every: 1h }\n"
      "    streams:\n      - object: Customers\n";
  e2e::write_file(dir.file("r.yaml"), yaml);
  ScopedEnv socket("NOTIFY_SOCKET", sock.name());
  e2e::Daemon d({"run", "-c", dir.file("r.yaml")});

  std::vector<std::string> seen;
  auto ready = sock.wait_for("READY=1", std::chrono::seconds(4), &seen);
  EXPECT_FALSE(ready) << "READY=1 although the destination cannot be reached";
  bool said_why = false;
  for (const auto& m : seen) {
    EXPECT_EQ(m.find("hunter2-secret"), std::string::npos) << "the password reached systemd: " << m;
    said_why = said_why || m.find("STATUS=waiting for destination pg: ") != std::string::npos;
  }
  EXPECT_TRUE(said_why) << "no STATUS= naming the destination; got " << seen.size() << " message(s)";
  d.signal(SIGTERM);
  EXPECT_EQ(d.wait(), 0) << d.stderr_text();
}

// ---- the shipped unit ------------------------------------------------------------------------------

// The unit with ExecStart pointing at the binary just built (verify checks the file exists).
std::string unit_for_this_build(const TempDir& dir) {
  std::string unit = read_file(kSource + "/systemd/actito-replicator.service");
  const std::string installed = "/usr/local/bin/actito-replicator";
  std::size_t replaced = 0;
  for (auto at = unit.find(installed); at != std::string::npos; at = unit.find(installed, at)) {
    unit.replace(at, installed.size(), REPLICATOR_BINARY);
    at += std::strlen(REPLICATOR_BINARY);
    ++replaced;
  }
  EXPECT_GE(replaced, 1u) << "ExecStart no longer names " << installed;
  const std::string path = dir.file("actito-replicator.service");
  e2e::write_file(path, unit);
  return path;
}

TEST(ServiceUnit, SystemdAnalyzeVerifyPasses) {
  ASSERT_EQ(::access("/usr/bin/systemd-analyze", X_OK), 0)
      << "systemd-analyze is missing: scripts/bootstrap.sh installs the systemd package";
  TempDir dir;
  auto [rc, out] = shell("systemd-analyze verify " + unit_for_this_build(dir));
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(out, "") << "verify printed warnings";
}

TEST(ServiceUnit, HardeningKeepsTheExposureLow) {
  TempDir dir;
  auto [rc, out] = shell("systemd-analyze security --offline=yes --no-pager " + unit_for_this_build(dir));
  ASSERT_EQ(rc, 0) << out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(out, m, std::regex("Overall exposure level for [^:]+: ([0-9.]+)"))) << out;
  EXPECT_LE(std::stod(m[1]), 2.0) << out;
}

TEST(ServiceUnit, DeclaresWhatTheDaemonReliesOn) {
  const std::string unit = read_file(kSource + "/systemd/actito-replicator.service");
  for (const char* line : {"Type=notify\n", "NotifyAccess=main\n", "ExecReload=/bin/kill -HUP $MAINPID\n",
                           "Restart=on-failure\n", "RestartPreventExitStatus=2\n", "DynamicUser=yes\n",
                           "ProtectSystem=strict\n", "ProtectHome=yes\n", "NoNewPrivileges=yes\n",
                           "PrivateTmp=yes\n", "CapabilityBoundingSet=\n",
                           "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX\n",
                           "LoadCredential=api_key:/etc/actito-replicator/api_key\n"}) {
    EXPECT_NE(unit.find(std::string("\n") + line), std::string::npos) << "missing " << line;
  }
  std::smatch m;
  ASSERT_TRUE(std::regex_search(unit, m, std::regex("\nWatchdogSec=([0-9]+)s\n")));
  // The daemon's keep-alives come at most every second: any WatchdogSec of 2 s or more holds.
  EXPECT_GE(std::stoi(m[1]), 2);
  // The daemon abandons pages after 60 s; systemd must not kill it before.
  ASSERT_TRUE(std::regex_search(unit, m, std::regex("\nTimeoutStopSec=([0-9]+)s\n")));
  EXPECT_GT(std::stoi(m[1]), 60);
}

// The example job file of the unit loads and validates with the credential directory and env file
// the unit gives it.
TEST(ServiceUnit, ExampleConfigLoadsWithTheCredentialAndEnvFile) {
  TempDir creds;
  e2e::write_file(creds.file("api_key"), "example-key\n");
  ScopedEnv dir("CREDENTIALS_DIRECTORY", creds.path());
  std::vector<std::unique_ptr<ScopedEnv>> env;
  std::istringstream envfile(read_file(kSource + "/systemd/actito-replicator.env"));
  std::string line;
  int vars = 0;
  while (std::getline(envfile, line)) {
    if (line.empty() || line[0] == '#') continue;
    auto eq = line.find('=');
    ASSERT_NE(eq, std::string::npos) << line;
    env.push_back(std::make_unique<ScopedEnv>(line.substr(0, eq), line.substr(eq + 1)));
    ++vars;
  }
  EXPECT_GE(vars, 2);
  config::Config c = config::load_config(kSource + "/systemd/replicator.yaml");
  config::validate(c, config::builtin_catalog());
  ASSERT_EQ(c.connections.size(), 1u);
  EXPECT_EQ(c.connections[0].api_key.reveal(), "example-key");
  EXPECT_EQ(c.connections[0].entity, "MyEntity");
  EXPECT_EQ(c.server.listen.rfind("127.0.0.1:", 0), 0u) << "the admin server must stay on loopback";
}

}  // namespace
}  // namespace replicator

// End to end: the /status page as a person sees it in a real browser (headless Chromium) while
// the real binary replicates from the simulator into PostgreSQL: every stream's state, watermark,
// rows and next run as the database and the JSON say, a failing stream's error (holding markup)
// shown as text, and a later load showing the later cycle.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <cstdlib>
#include <cstring>
#include <map>
#include <pqxx/pqxx>
#include <sstream>
#include <thread>

#include "tests/e2e/e2e_support.hpp"
#include "tests/e2e/world.hpp"
#include "tests/support/html_probe.hpp"

extern char** environ;

namespace replicator::e2e {
namespace {

namespace json = boost::json;
using testsupport::html_element;
using testsupport::html_element_text;
using testsupport::html_tags;
using Match = std::vector<std::pair<std::string, std::string>>;

// Chromium from the Debian package `chromium` (scripts/bootstrap.sh installs it); "" if absent.
std::string find_chromium() {
  std::vector<std::string> dirs = {"/usr/bin"};
  if (const char* path = std::getenv("PATH")) {
    std::stringstream ss(path);
    for (std::string d; std::getline(ss, d, ':');) {
      if (!d.empty()) dirs.push_back(d);
    }
  }
  for (const auto& d : dirs) {
    for (const char* name : {"chromium", "chromium-browser"}) {
      const std::string candidate = d + "/" + name;
      if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    }
  }
  return "";
}

struct BrowserResult {
  int exit_code = -1;
  std::string dom;  // the document after load, as Chromium serialises it
  std::string err;
};

// Loads `url` in a fresh headless Chromium (own profile and HOME in a temporary directory; no
// sandbox, as CI runs as root) and returns the DOM after the load event (--dump-dom).
BrowserResult browse(const std::string& chromium, const std::string& url) {
  TempDir home;
  std::vector<std::string> args = {chromium,
                                   "--headless=new",
                                   "--no-sandbox",
                                   "--disable-gpu",
                                   "--disable-dev-shm-usage",
                                   "--no-first-run",
                                   "--no-default-browser-check",
                                   "--disable-extensions",
                                   "--disable-background-networking",
                                   "--disable-component-update",
                                   "--no-proxy-server",
                                   "--user-data-dir=" + home.file("profile"),
                                   "--dump-dom",
                                   url};
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    const std::string_view v(*e);
    if (v.rfind("HOME=", 0) == 0 || v.rfind("XDG_", 0) == 0) continue;
    env.emplace_back(v);
  }
  env.push_back("HOME=" + home.path());
  env.push_back("XDG_CONFIG_HOME=" + home.file(".config"));
  env.push_back("XDG_CACHE_HOME=" + home.file(".cache"));
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

  const std::string out_path = home.file("dom.html"), err_path = home.file("stderr.txt");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);  // its own group: its helpers die with it
  posix_spawnattr_setpgroup(&attr, 0);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0], &fa, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  BrowserResult r;
  if (rc != 0) {
    r.err = "cannot start " + chromium + ": " + std::strerror(rc);
    return r;
  }
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(45);
  for (;;) {
    if (::waitpid(pid, &status, WNOHANG) == pid) break;
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(-pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      r.err = "chromium did not finish within 45 s\n";
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(-pid, SIGKILL);  // helpers of the group still around, if any
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.dom = read_file(out_path);
  r.err += read_file(err_path);
  return r;
}

// The /status JSON (what scripts get: no Accept header), or null when unreadable.
json::value status_json(std::uint16_t port) {
  auto [code, body] = http_get(port, "/status");
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  return code == 200 && !ec ? v : json::value(nullptr);
}

const json::object* stream_of(const json::value& status, const std::string& job,
                              const std::string& stream) {
  if (!status.is_object()) return nullptr;
  const auto* streams = status.get_object().if_contains("streams");
  if (!streams || !streams->is_array()) return nullptr;
  for (const auto& s : streams->get_array()) {
    const auto& o = s.get_object();
    if (o.at("job") == json::value(job) && o.at("stream") == json::value(stream)) return &o;
  }
  return nullptr;
}

std::string text_of(const json::object& o, const char* key) {
  const auto& v = o.at(key);
  return v.is_string() ? std::string(v.get_string()) : json::serialize(v);
}

// A stream that finished a cycle successfully and is waiting for the next one.
bool settled(const json::value& status, const std::string& job, const std::string& stream) {
  const auto* s = stream_of(status, job, stream);
  return s && s->at("state") == json::value("idle") && s->at("last_success").is_string() &&
         s->at("next_run").is_string();
}

// The text of td.<cls> in the row of job/stream, as a person reads it.
std::string cell(const std::string& dom, const std::string& job, const std::string& stream,
                 const std::string& cls) {
  auto row = html_element(dom, "tr", Match{{"data-job", job}, {"data-stream", stream}});
  if (!row) return "<no row " + job + "/" + stream + ">";
  return html_element_text(*row, "td", Match{{"class", cls}}).value_or("<no cell " + cls + ">");
}

std::string first_word(const std::string& text) { return text.substr(0, text.find(' ')); }

std::int64_t count_of(const std::string& digits_and_commas) {
  std::string digits;
  for (char c : digits_and_commas) {
    if (c != ',') digits += c;
  }
  return digits.empty() ? -1 : std::stoll(digits);
}

struct StateRow {
  std::string watermark;
  std::int64_t rows_total = -1;
};

StateRow state_row(const World& w, const std::string& job, const std::string& stream) {
  pqxx::connection c(World::dsn());
  pqxx::work tx(c);
  auto r = tx.exec_params1(
      "SELECT to_char(watermark AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), "
      "rows_total "
      "FROM \"" +
          w.schema() + "\"._replication_state WHERE job = $1 AND stream = $2",
      job, stream);
  return {r[0].is_null() ? "" : r[0].c_str(), r[1].as<std::int64_t>()};
}

// The replicated streams and their tables.
const std::vector<std::pair<std::string, std::string>> kStreams = {{"Customers", "customers"},
                                                                   {"Orders", "orders"}};

TEST(StatusPageE2E, ABrowserSeesEachStreamItsErrorAsTextAndTheNextCycle) {
  const std::string chromium = find_chromium();
  ASSERT_FALSE(chromium.empty())
      << "chromium not found (/usr/bin/chromium or on PATH): this test shows the /status page "
         "to a real browser; install the Debian package chromium (scripts/bootstrap.sh does)";

  Simulator sim(sim_options(40, 40, 81));
  sim.start();
  World w(sim);
  TempDir dir;
  const std::uint16_t port = free_port();
  // A second connection whose entity holds markup: Actito answers 404 "no entity '<img ...>'",
  // and that text becomes the failing stream's last error.
  const std::string evil_entity = "<img src=x onerror=\"document.title='pwned'\">R&D";
  const std::string cfg = dir.file("replicator.yaml");
  write_file(
      cfg,
      "server:\n  listen: 127.0.0.1:" + std::to_string(port) +
          "\nlog:\n  level: info\n  format: json\n"
          "connections:\n"
          "  sim:\n    base_url: " +
          sim.base_url() +
          "\n    entity: acme\n    api_key: sim-api-key\n"
          "  broken:\n    base_url: " +
          sim.base_url() +
          "\n    entity: '<img src=x onerror=\"document.title=''pwned''\">R&D'\n"
          "    api_key: sim-api-key\n"
          "destinations:\n  pg:\n    dsn: \"" +
          World::dsn() + "\"\n    schema: " + w.schema() +
          "\njobs:\n"
          // One cycle at start, the next in an hour: the page is still while we look.
          "  - name: crm\n    connection: sim\n    destination: pg\n    schedule: { every: 1h }\n"
          "    lookback: 0s\n    streams:\n      - object: Customers\n      - object: Orders\n"
          "  - name: broken\n    connection: broken\n    destination: pg\n"
          "    schedule: { every: 1h }\n    streams:\n      - object: Orders\n");
  Daemon d({"run", "-c", cfg});

  auto failed = [](const json::value& st) {
    const auto* s = stream_of(st, "broken", "Orders");
    return s && s->at("last_error").is_string();
  };
  ASSERT_TRUE(wait_until(
      [&] {
        auto st = status_json(port);
        return settled(st, "crm", "Customers") && settled(st, "crm", "Orders") && failed(st);
      },
      30))
      << json::serialize(status_json(port)) << d.stderr_text();

  // Content negotiation: scripts get JSON, browsers the page; the suffixes choose either way.
  const std::string browser_accept =
      "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
  EXPECT_EQ(http_get(port, "/status", "").content_type, "application/json");
  EXPECT_EQ(http_get(port, "/status", "*/*").content_type, "application/json");
  EXPECT_EQ(http_get(port, "/status", browser_accept).content_type, "text/html; charset=utf-8");
  EXPECT_EQ(http_get(port, "/status.json", browser_accept).content_type, "application/json");
  EXPECT_EQ(http_get(port, "/status.html", "application/json").content_type, "text/html; charset=utf-8");

  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/status";
  const BrowserResult first = browse(chromium, url);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  ASSERT_NE(first.dom.find("</html>"), std::string::npos) << "no document:\n"
                                                          << first.dom << first.err;
  const json::value status1 = status_json(port);

  // Each replicated stream: ok, with the watermark and rows the database holds.
  std::map<std::string, std::string> last_run1;
  for (const auto& [stream, table] : kStreams) {
    SCOPED_TRACE(stream);
    const auto* js = stream_of(status1, "crm", stream);
    ASSERT_NE(js, nullptr);
    const StateRow db = state_row(w, "crm", stream);
    ASSERT_FALSE(db.watermark.empty());
    EXPECT_EQ(cell(first.dom, "crm", stream, "state"), "ok") << first.dom;
    const std::string watermark = cell(first.dom, "crm", stream, "watermark");
    EXPECT_EQ(first_word(watermark), db.watermark) << watermark;
    EXPECT_EQ(first_word(watermark), text_of(*js, "watermark"));
    EXPECT_NE(watermark.find(" ago"), std::string::npos) << watermark;
    const std::string rows = cell(first.dom, "crm", stream, "rows");
    EXPECT_EQ(count_of(first_word(rows)), db.rows_total) << rows;
    EXPECT_EQ(count_of(first_word(rows)),
              w.scalar("SELECT count(*) FROM \"" + w.schema() + "\"." + table));
    EXPECT_EQ(count_of(first_word(rows)), static_cast<std::int64_t>(sim.row_count(stream)));
    const std::string next = cell(first.dom, "crm", stream, "next-run");
    EXPECT_EQ(first_word(next), text_of(*js, "next_run")) << next;
    EXPECT_NE(next.find(" in "), std::string::npos) << "an hour ahead: " << next;
    const std::string lag = cell(first.dom, "crm", stream, "lag");
    EXPECT_FALSE(lag.empty() || lag == "no watermark") << lag;
    last_run1[stream] = first_word(cell(first.dom, "crm", stream, "last-run"));
    EXPECT_EQ(last_run1[stream], text_of(*js, "last_run_finished"));
  }

  // The failing stream: its error in full, as text; the markup in it made no element.
  const auto* broken = stream_of(status1, "broken", "Orders");
  ASSERT_NE(broken, nullptr);
  const std::string state = cell(first.dom, "broken", "Orders", "state");
  // "running" only if the browser looked during one of its (millisecond) retries.
  EXPECT_TRUE(state == "failing" || state.rfind("running", 0) == 0) << state;
  auto error_row =
      html_element(first.dom, "tr", Match{{"data-job", "broken"}, {"data-error-for", "Orders"}});
  ASSERT_TRUE(error_row) << first.dom;
  const auto error = html_element_text(*error_row, "pre", Match{{"class", "error"}});
  ASSERT_TRUE(error);
  EXPECT_EQ(*error, text_of(*broken, "last_error"));
  EXPECT_NE(error->find("no entity '" + evil_entity + "'"), std::string::npos) << *error;
  for (const auto& tag : html_tags(first.dom)) {
    EXPECT_NE(tag.name, "img") << "the error's markup became an element";
    EXPECT_EQ(tag.attribute("onerror"), nullptr);
  }
  const auto title = html_element_text(first.dom, "title", {});
  ASSERT_TRUE(title);
  EXPECT_EQ(title->find("pwned"), std::string::npos) << "a script from the data ran: " << *title;
  EXPECT_NE(title->find("actito-replicator status"), std::string::npos) << *title;
  const auto summary = html_element_text(first.dom, "p", Match{{"class", "summary"}});
  EXPECT_NE(summary.value_or("").find("3 streams in 2 jobs"), std::string::npos)
      << summary.value_or("");

  // The browser was told to reload the page by itself.
  auto head = html_element(first.dom, "head", {});
  ASSERT_TRUE(head);
  bool refresh = false;
  for (const auto& tag : html_tags(*head))
    refresh = refresh || (tag.name == "meta" && tag.has("http-equiv", "refresh"));
  EXPECT_TRUE(refresh) << *head;

  // New rows, and a further cycle (SIGHUP reloads the job file; the jobs restart with a cycle).
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  sim.mutate(MutationSpec{"Customers", 3, 0, 0, false});
  sim.mutate(MutationSpec{"Orders", 2, 0, 0, false});
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));  // past the settle window
  d.signal(SIGHUP);
  auto caught_up = [&](const std::string& stream, const std::string& table) {
    auto st = status_json(port);
    const auto* s = stream_of(st, "crm", stream);
    return settled(st, "crm", stream) && text_of(*s, "last_run_finished") > last_run1[stream] &&
           w.scalar("SELECT count(*) FROM \"" + w.schema() + "\"." + table) ==
               static_cast<std::int64_t>(sim.row_count(stream));
  };
  ASSERT_TRUE(wait_until(
      [&] { return caught_up("Customers", "customers") && caught_up("Orders", "orders"); }, 30))
      << json::serialize(status_json(port)) << d.stderr_text();

  const BrowserResult second = browse(chromium, url);
  ASSERT_EQ(second.exit_code, 0) << second.err;
  const json::value status2 = status_json(port);
  for (const auto& [stream, table] : kStreams) {
    SCOPED_TRACE(stream);
    const auto* js = stream_of(status2, "crm", stream);
    ASSERT_NE(js, nullptr);
    const std::string last_run = first_word(cell(second.dom, "crm", stream, "last-run"));
    EXPECT_GT(last_run, last_run1[stream]) << "the later load shows the later cycle";
    EXPECT_EQ(last_run, text_of(*js, "last_run_finished"));
    EXPECT_EQ(cell(second.dom, "crm", stream, "state"), "ok");
    const std::string rows = cell(second.dom, "crm", stream, "rows");
    EXPECT_EQ(count_of(first_word(rows)), state_row(w, "crm", stream).rows_total) << rows;
    EXPECT_EQ(count_of(first_word(rows)),
              w.scalar("SELECT count(*) FROM \"" + w.schema() + "\"." + table));
    EXPECT_EQ(first_word(cell(second.dom, "crm", stream, "watermark")),
              state_row(w, "crm", stream).watermark);
  }

  d.signal(SIGTERM);
  EXPECT_EQ(d.wait(), 0) << d.stderr_text();
}

}  // namespace
}  // namespace replicator::e2e

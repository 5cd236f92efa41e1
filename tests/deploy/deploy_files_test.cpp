// The files of deploy/ without a running stack: promtool on the Prometheus config and rules,
// the dashboard and Grafana provisioning, the compose file against scripts/demo.sh, the
// Dockerfile against the scripts CI runs, the runtime package list against `ldd`, and the job
// files the image and the compose stack ship.
#include <fnmatch.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <boost/json.hpp>
#include <filesystem>
#include <regex>
#include <set>
#include <sstream>

#include "tests/deploy/deploy_support.hpp"
#include "tests/e2e/e2e_support.hpp"
#include "tests/e2e/world.hpp"

namespace replicator::deploy {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

std::vector<std::string> words_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : " ") + s;
  return out;
}

std::vector<std::string> strings_of(const YAML::Node& node) {
  std::vector<std::string> out;
  for (const auto& n : node) out.push_back(n.as<std::string>());
  return out;
}

// Port of "host:port".
std::string port_of(const std::string& address) { return address.substr(address.rfind(':') + 1); }

// ---- promtool ------------------------------------------------------------------------------------

TEST(DeployPrometheus, PromtoolAcceptsTheShippedConfigAndRules) {
  auto config = run_command({"promtool", "check", "config", source_file("deploy/prometheus/prometheus.yml")});
  EXPECT_EQ(config.exit_code, 0) << config.out << config.err;
  auto rules = run_command({"promtool", "check", "rules", source_file("deploy/prometheus/alerts.yml")});
  EXPECT_EQ(rules.exit_code, 0) << rules.out << rules.err;
}

TEST(DeployPrometheus, AlertUnitTestsPass) {
  // alerts_test.yml feeds synthetic series and expects the failing-cycle, no-success, lag,
  // throttling, 429, down and absent alerts to fire (and not to fire) at given times, with their
  // rendered annotations.
  auto r = run_command({"promtool", "test", "rules", source_file("deploy/prometheus/alerts_test.yml")});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("SUCCESS"), std::string::npos) << r.out << r.err;
  const std::string tests = read_text(source_file("deploy/prometheus/alerts_test.yml"));
  for (const char* alert : {"ActitoReplicatorDown", "ActitoReplicatorAbsent", "ActitoReplicatorCycleFailing",
                            "ActitoReplicatorNoSuccessfulCycle", "ActitoReplicatorLagHigh",
                            "ActitoReplicatorApiThrottled", "ActitoReplicatorApiRateLimited"}) {
    EXPECT_NE(tests.find(std::string("alertname: ") + alert), std::string::npos) << alert << " has no unit test";
  }
}

TEST(DeployPrometheus, EveryAlertIsAnnotatedAndWatchesTheShippedScrapeJob) {
  const YAML::Node config = YAML::LoadFile(source_file("deploy/prometheus/prometheus.yml"));
  ASSERT_EQ(config["scrape_configs"].size(), 1u);
  const std::string job = config["scrape_configs"][0]["job_name"].as<std::string>();
  ASSERT_EQ(strings_of(config["rule_files"]), std::vector<std::string>{"alerts.yml"});

  const YAML::Node rules = YAML::LoadFile(source_file("deploy/prometheus/alerts.yml"));
  std::set<std::string> names;
  for (const auto& group : rules["groups"]) {
    for (const auto& rule : group["rules"]) {
      ASSERT_TRUE(rule["alert"]) << "only alerting rules here";
      const std::string name = rule["alert"].as<std::string>();
      EXPECT_TRUE(names.insert(name).second) << name << " twice";
      EXPECT_TRUE(rule["labels"]["severity"]) << name;
      for (const char* a : {"summary", "description"}) {
        ASSERT_TRUE(rule["annotations"][a]) << name << " has no " << a;
        // Each names what it is about through the series' labels.
        EXPECT_NE(rule["annotations"][a].as<std::string>().find("{{ $labels."), std::string::npos) << name << " " << a;
      }
      // Every selector of Prometheus's own `up` names the shipped scrape job.
      for (const auto& s : promql_selectors(rule["expr"].as<std::string>())) {
        if (s.metric == "up") {
          EXPECT_EQ(s.matchers, "job=\"" + job + "\"") << name;
        }
      }
    }
  }
  EXPECT_EQ(names.size(), 7u);
}

// ---- PromQL extraction (what the metric-name checks rely on) -------------------------------------

TEST(DeployPromql, SelectorsAreTheMetricsAndOnlyThem) {
  auto names = [](const std::string& e) {
    std::vector<std::string> out;
    for (const auto& s : promql_selectors(e)) out.push_back(s.text());
    return out;
  };
  EXPECT_EQ(names("sum by (job, instance, connection) (rate(a_total{code=\"429\"}[10m])) > 0"),
            std::vector<std::string>{"a_total{code=\"429\"}"});
  EXPECT_EQ(names("histogram_quantile(0.95, sum by (le) (rate(h_bucket{x=~\"$v\"}[$__rate_interval])))"),
            std::vector<std::string>{"h_bucket{x=~\"$v\"}"});
  EXPECT_EQ(names("increase(c[15m]) > 0 or (c unless c offset 15m) and on (job, instance) (u offset 15m)"),
            (std::vector<std::string>{"c", "c", "c", "u"}));
  EXPECT_EQ(names("time() - g > 6 * 3600"), std::vector<std::string>{"g"});
  EXPECT_EQ(names("sum without (op) (x) / ignoring(op) group_left(stream) y or vector(0)"),
            (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(names("absent(up{job=\"a,b\"}) == bool 1"), std::vector<std::string>{"up{job=\"a,b\"}"});
  EXPECT_EQ(names("{__name__=~\"actito_.*\"}"), std::vector<std::string>{"{__name__=~\"actito_.*\"}"});
}

TEST(DeployPromql, AMisspelledMetricIsReported) {
  const std::map<std::string, std::string> families = {{"actito_replicator_rows_total", "counter"},
                                                       {"actito_replicator_cycle_duration_seconds", "histogram"}};
  std::vector<Query> good = {
      {"p1", "rate(actito_replicator_rows_total[1m])"},
      {"p2", "histogram_quantile(0.5, rate(actito_replicator_cycle_duration_seconds_bucket[5m]))"},
      {"p3", "up{job=\"actito-replicator\"} == 0"}};
  EXPECT_TRUE(unknown_metrics(good, families).empty());
  std::vector<Query> bad = {{"panel 'Rows' A", "rate(actito_replicator_row_total[1m])"},
                            {"panel 'Cycles' B", "actito_replicator_rows_total_bucket"},
                            {"panel 'Empty' C", "vector(1)"}};
  EXPECT_EQ(unknown_metrics(bad, families),
            (std::vector<std::string>{"panel 'Rows' A: actito_replicator_row_total",
                                      "panel 'Cycles' B: actito_replicator_rows_total_bucket",
                                      "panel 'Empty' C: no metric in `vector(1)`"}));
}

// ---- Grafana ---------------------------------------------------------------------------------------

TEST(DeployGrafana, DashboardIsValidAndUsesTheProvisionedDataSource) {
  const YAML::Node ds = YAML::LoadFile(source_file("deploy/grafana/provisioning/datasources/prometheus.yml"));
  ASSERT_EQ(ds["datasources"].size(), 1u);
  const std::string uid = ds["datasources"][0]["uid"].as<std::string>();
  EXPECT_EQ(ds["datasources"][0]["type"].as<std::string>(), "prometheus");

  boost::system::error_code ec;
  const boost::json::value dash =
      boost::json::parse(read_text(source_file("deploy/grafana/dashboards/actito-replicator.json")), ec);
  ASSERT_FALSE(ec) << "the dashboard is not valid JSON: " << ec.message();
  const auto& d = dash.as_object();
  EXPECT_EQ(d.at("uid").as_string(), "actito-replicator");
  EXPECT_FALSE(d.at("title").as_string().empty());

  auto expect_source = [&](const boost::json::value& v, const std::string& where) {
    ASSERT_TRUE(v.is_object()) << where << ": datasource must be {type, uid}";
    EXPECT_EQ(v.as_object().at("uid").as_string(), uid) << where;
    EXPECT_EQ(v.as_object().at("type").as_string(), "prometheus") << where;
  };
  std::set<std::int64_t> ids;
  std::set<std::string> titles;
  std::size_t targets = 0;
  for (const auto& pv : d.at("panels").as_array()) {
    const auto& p = pv.as_object();
    const std::string title(p.at("title").as_string());
    EXPECT_TRUE(ids.insert(p.at("id").as_int64()).second) << "panel id used twice: " << title;
    const auto& grid = p.at("gridPos").as_object();
    EXPECT_LE(grid.at("x").as_int64() + grid.at("w").as_int64(), 24) << title;
    if (p.at("type").as_string() == "row") continue;
    EXPECT_TRUE(titles.insert(title).second) << "two panels titled " << title;
    EXPECT_FALSE(p.at("description").as_string().empty()) << title;
    expect_source(p.at("datasource"), title);
    std::set<std::string> refs;
    ASSERT_FALSE(p.at("targets").as_array().empty()) << title;
    for (const auto& tv : p.at("targets").as_array()) {
      const auto& t = tv.as_object();
      expect_source(t.at("datasource"), title);
      EXPECT_TRUE(refs.insert(std::string(t.at("refId").as_string())).second) << title;
      EXPECT_FALSE(t.at("expr").as_string().empty()) << title;
      ++targets;
    }
  }
  EXPECT_GE(targets, 15u);
  for (const auto& vv : d.at("templating").as_object().at("list").as_array()) {
    expect_source(vv.as_object().at("datasource"), "variable");
  }
  // The panels the issue asks for, by the metric each is built on.
  std::set<std::string> metrics;
  for (const auto& q : dashboard_queries(dash)) {
    for (const auto& s : promql_selectors(q.expr)) metrics.insert(s.metric);
  }
  for (const char* m : {"actito_replicator_rows_total", "actito_replicator_lag_seconds",
                        "actito_replicator_api_requests_total", "actito_replicator_api_throttled_seconds_total",
                        "actito_replicator_cycle_duration_seconds_bucket", "actito_replicator_cycles_total",
                        "actito_replicator_api_retries_total", "actito_replicator_last_success_timestamp_seconds"}) {
    EXPECT_TRUE(metrics.count(m)) << "no panel uses " << m;
  }
}

// ---- compose -----------------------------------------------------------------------------------

// A service's key, looking through `<<: *anchor` merges (yaml-cpp does not apply them).
YAML::Node service_key(const YAML::Node& service, const std::string& key) {
  if (service[key]) return service[key];
  if (service["<<"] && service["<<"][key]) return service["<<"][key];
  return YAML::Node();
}

// Target of the service's bind mount whose source is `source` ("" when none).
std::string mount_target(const YAML::Node& service, const std::string& source) {
  for (const auto& v : service["volumes"]) {
    const std::string spec = v.as<std::string>();
    const auto parts = [&] {
      std::vector<std::string> out;
      std::stringstream ss(spec);
      std::string part;
      while (std::getline(ss, part, ':')) out.push_back(part);
      return out;
    }();
    if (parts.size() >= 2 && parts[0] == source) return parts[1];
  }
  return "";
}

struct DemoCommands {
  std::vector<std::string> sim_args;
  std::vector<std::string> daemon_args;
  std::string config;
};

// Sources scripts/demo-commands.sh in bash (DEMO_* unset: the defaults) and reads its arrays.
DemoCommands demo_commands() {
  const std::string script =
      "root=\"$1\"; unset DEMO_PROFILES DEMO_RECORDS; source \"$1/scripts/demo-commands.sh\"; "
      "printf '%s\\n' \"${demo_sim_args[@]}\"; echo ---; printf '%s\\n' \"${demo_daemon_args[@]}\"; "
      "echo ---; echo \"$demo_config\"";
  auto r = run_command({"bash", "-c", script, "demo", source_dir()});
  if (r.exit_code != 0) throw std::runtime_error("scripts/demo-commands.sh: " + r.err);
  std::vector<std::vector<std::string>> parts(1);
  for (const auto& line : lines_of(r.out)) {
    if (line == "---")
      parts.emplace_back();
    else
      parts.back().push_back(line);
  }
  if (parts.size() != 3 || parts[2].size() != 1) throw std::runtime_error("unexpected output: " + r.out);
  DemoCommands out;
  out.sim_args = parts[0];
  out.daemon_args = parts[1];
  out.config = parts[2][0];
  return out;
}

class DeployCompose : public ::testing::Test {
 protected:
  void SetUp() override {
    compose_ = YAML::LoadFile(source_file("deploy/docker-compose.yml"));
    services_ = compose_["services"];
  }
  YAML::Node compose_;
  YAML::Node services_;
};

TEST_F(DeployCompose, HasTheFiveServices) {
  std::set<std::string> names;
  for (const auto& s : services_) names.insert(s.first.as<std::string>());
  EXPECT_EQ(names, (std::set<std::string>{"postgres", "actito-sim", "actito-replicator", "prometheus", "grafana"}));
  // The simulator and the daemon run the image of deploy/Dockerfile.
  for (const char* s : {"actito-sim", "actito-replicator"}) {
    const YAML::Node build = service_key(services_[s], "build");
    ASSERT_TRUE(build) << s;
    EXPECT_EQ(build["context"].as<std::string>(), "..") << s;
    EXPECT_EQ(build["dockerfile"].as<std::string>(), "deploy/Dockerfile") << s;
    EXPECT_TRUE(fs::exists(
        source_file("deploy/" + build["context"].as<std::string>() + "/" + build["dockerfile"].as<std::string>())));
  }
  EXPECT_EQ(service_key(services_["actito-sim"], "image").as<std::string>(),
            service_key(services_["actito-replicator"], "image").as<std::string>());
  // Every bind mount's source exists (paths are relative to deploy/).
  for (const auto& s : services_) {
    for (const auto& v : s.second["volumes"]) {
      const std::string spec = v.as<std::string>();
      if (spec.rfind("./", 0) != 0) continue;
      EXPECT_TRUE(fs::exists(source_file("deploy/" + spec.substr(2, spec.find(':') - 2)))) << spec;
    }
  }
}

TEST_F(DeployCompose, SimulatorRunsTheDemosCommandLine) {
  const DemoCommands demo = demo_commands();
  ASSERT_FALSE(demo.sim_args.empty());
  std::vector<std::string> compose_cmd = strings_of(services_["actito-sim"]["entrypoint"]);
  for (const auto& a : strings_of(services_["actito-sim"]["command"])) compose_cmd.push_back(a);
  // Compose adds only where to listen: every interface of the container, on a fixed port.
  ASSERT_GE(compose_cmd.size(), 5u);
  std::vector<std::string> expected = {"actito-sim", "--bind", "0.0.0.0", "--port", compose_cmd[4]};
  expected.insert(expected.end(), demo.sim_args.begin(), demo.sim_args.end());
  EXPECT_EQ(joined(compose_cmd), joined(expected));
  // And demo.sh runs exactly these arrays.
  const std::string demo_sh = read_text(source_file("scripts/demo.sh"));
  EXPECT_NE(demo_sh.find("\"$sim\" --port \"$sim_port\" \"${demo_sim_args[@]}\""), std::string::npos);
  EXPECT_NE(demo_sh.find("\"$bin\" \"${demo_daemon_args[@]}\""), std::string::npos);
  EXPECT_NE(demo_sh.find("source \"$root/scripts/demo-commands.sh\""), std::string::npos);
}

TEST_F(DeployCompose, DaemonRunsTheDemosCommandLineOnTheSameJobFile) {
  const DemoCommands demo = demo_commands();
  EXPECT_EQ(demo.config, source_file("deploy/compose/replicator.yaml"));
  const YAML::Node daemon = services_["actito-replicator"];
  EXPECT_FALSE(daemon["entrypoint"]) << "the image's ENTRYPOINT (actito-replicator) runs the daemon";
  const std::string target = mount_target(daemon, "./compose/replicator.yaml");
  ASSERT_FALSE(target.empty()) << "compose/replicator.yaml is not mounted";
  std::vector<std::string> expected = demo.daemon_args;
  std::replace(expected.begin(), expected.end(), demo.config, target);
  EXPECT_EQ(joined(strings_of(daemon["command"])), joined(expected));
}

TEST_F(DeployCompose, AddressesAgreeAcrossServicesAndFiles) {
  const YAML::Node daemon = services_["actito-replicator"];
  const YAML::Node env = daemon["environment"];
  // Every ${VAR} of the job file is set.
  const std::string job_file = read_text(source_file("deploy/compose/replicator.yaml"));
  std::set<std::string> vars;
  static const std::regex kVar(R"(\$\{([A-Za-z_][A-Za-z0-9_]*)\})");
  for (std::sregex_iterator it(job_file.begin(), job_file.end(), kVar), end; it != end; ++it) {
    const std::string line_start = job_file.substr(job_file.rfind('\n', it->position()) + 1, 2);
    if (line_start != "# ") vars.insert((*it)[1]);
  }
  EXPECT_EQ(vars, (std::set<std::string>{"REPLICATOR_LISTEN", "ACTITO_BASE_URL", "ACTITO_API_KEY", "PG_DSN"}));
  for (const auto& v : vars) EXPECT_TRUE(env[v]) << v << " is not set for the daemon";

  // The daemon reaches the simulator on the port the simulator listens on.
  const auto sim_cmd = strings_of(services_["actito-sim"]["command"]);
  const auto port_at = std::find(sim_cmd.begin(), sim_cmd.end(), "--port");
  ASSERT_NE(port_at, sim_cmd.end());
  EXPECT_EQ(env["ACTITO_BASE_URL"].as<std::string>(), "http://actito-sim:" + *(port_at + 1));
  // The API key is one the simulator accepts (its default key; no --api-key given).
  EXPECT_EQ(std::find(sim_cmd.begin(), sim_cmd.end(), "--api-key"), sim_cmd.end());
  EXPECT_EQ(env["ACTITO_API_KEY"].as<std::string>(), "sim-api-key");

  // PostgreSQL: the service, with its user, password and database.
  const YAML::Node pg = services_["postgres"]["environment"];
  const std::string dsn = env["PG_DSN"].as<std::string>();
  EXPECT_EQ(dsn, "host=postgres port=5432 dbname=" + pg["POSTGRES_DB"].as<std::string>() + " user=" +
                     pg["POSTGRES_USER"].as<std::string>() + " password=" + pg["POSTGRES_PASSWORD"].as<std::string>());

  // Prometheus scrapes the daemon's listen port, under the daemon's service name.
  const YAML::Node prom = YAML::LoadFile(source_file("deploy/prometheus/prometheus.yml"));
  const std::string target = prom["scrape_configs"][0]["static_configs"][0]["targets"][0].as<std::string>();
  const std::string listen = env["REPLICATOR_LISTEN"].as<std::string>();
  EXPECT_EQ(listen.substr(0, listen.rfind(':')), "0.0.0.0");
  EXPECT_EQ(target, "actito-replicator:" + port_of(listen));
  // ... from the folder mounted where its --config.file points.
  const YAML::Node prometheus = services_["prometheus"];
  const std::string prom_dir = mount_target(prometheus, "./prometheus");
  ASSERT_FALSE(prom_dir.empty());
  const auto prom_cmd = strings_of(prometheus["command"]);
  EXPECT_NE(std::find(prom_cmd.begin(), prom_cmd.end(), "--config.file=" + prom_dir + "/prometheus.yml"),
            prom_cmd.end());

  // Grafana: provisioning where Grafana reads it, dashboards where the provider looks, the data
  // source pointing at the Prometheus service.
  const YAML::Node grafana = services_["grafana"];
  EXPECT_EQ(mount_target(grafana, "./grafana/provisioning"), "/etc/grafana/provisioning");
  const YAML::Node providers = YAML::LoadFile(source_file("deploy/grafana/provisioning/dashboards/dashboards.yml"));
  EXPECT_EQ(mount_target(grafana, "./grafana/dashboards"),
            providers["providers"][0]["options"]["path"].as<std::string>());
  const std::string home = grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"].as<std::string>();
  EXPECT_EQ(home, providers["providers"][0]["options"]["path"].as<std::string>() + "/actito-replicator.json");
  const YAML::Node ds = YAML::LoadFile(source_file("deploy/grafana/provisioning/datasources/prometheus.yml"));
  EXPECT_EQ(ds["datasources"][0]["url"].as<std::string>(), "http://prometheus:9090");
  EXPECT_EQ(ds["datasources"][0]["jsonData"]["timeInterval"].as<std::string>(),
            prom["global"]["scrape_interval"].as<std::string>());
}

// ---- Dockerfile ----------------------------------------------------------------------------------

struct Instruction {
  std::string keyword;  // upper case
  std::string args;
};

// Instructions of a Dockerfile, continuation lines joined, comments dropped.
std::vector<Instruction> dockerfile(const std::string& text) {
  std::vector<Instruction> out;
  std::istringstream in(text);
  std::string line, current;
  while (std::getline(in, line)) {
    const auto first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;
    const bool more = !line.empty() && line.back() == '\\';
    std::string part = line.substr(first, line.size() - first - (more ? 1 : 0));
    while (!part.empty() && (part.back() == ' ' || part.back() == '\t')) part.pop_back();
    current += (current.empty() ? "" : " ") + part;
    if (more) continue;
    const auto space = current.find(' ');
    out.push_back({current.substr(0, space), current.substr(space + 1)});
    current.clear();
  }
  return out;
}

std::vector<std::string> json_strings(const std::string& text) {
  std::vector<std::string> out;
  const boost::json::value parsed = boost::json::parse(text);
  for (const auto& v : parsed.as_array()) out.emplace_back(v.as_string());
  return out;
}

// Whether .dockerignore excludes `path` (relative to the repository root): a pattern matches the
// path or one of its parent folders; `**/` matches any number of folders.
bool docker_ignored(const std::vector<std::string>& patterns, const std::string& path) {
  bool ignored = false;
  for (std::string p : patterns) {
    bool negate = false;
    if (!p.empty() && p[0] == '!') {
      negate = true;
      p = p.substr(1);
    }
    while (!p.empty() && p[0] == '/') p = p.substr(1);
    while (!p.empty() && p.back() == '/') p.pop_back();
    std::vector<std::string> candidates;  // the path and its parents
    for (std::size_t at = path.find('/'); at != std::string::npos; at = path.find('/', at + 1)) {
      candidates.push_back(path.substr(0, at));
    }
    candidates.push_back(path);
    bool match = false;
    for (const auto& c : candidates) {
      if (p.rfind("**/", 0) == 0) {
        const std::string rest = p.substr(3);
        for (std::size_t at = 0;; at = c.find('/', at) + 1) {
          if (fnmatch(rest.c_str(), c.substr(at).c_str(), FNM_PATHNAME) == 0) match = true;
          if (c.find('/', at) == std::string::npos) break;
        }
      } else if (fnmatch(p.c_str(), c.c_str(), FNM_PATHNAME) == 0) {
        match = true;
      }
    }
    if (match) ignored = !negate;
  }
  return ignored;
}

TEST(DeployDockerfile, BuildsWithCIsScriptsAndRunsSlimAsNonRoot) {
  const auto all = dockerfile(read_text(source_file("deploy/Dockerfile")));
  std::vector<std::vector<Instruction>> stages;
  for (const auto& i : all) {
    if (i.keyword == "FROM") stages.emplace_back();
    ASSERT_FALSE(stages.empty()) << "an instruction before FROM: " << i.keyword;
    stages.back().push_back(i);
  }
  ASSERT_EQ(stages.size(), 2u);
  EXPECT_EQ(stages[0][0].args, "debian:12 AS build");
  EXPECT_EQ(stages[1][0].args, "debian:12-slim");

  auto runs = [](const std::vector<Instruction>& stage) {
    std::vector<std::string> out;
    for (const auto& i : stage) {
      if (i.keyword == "RUN") out.push_back(i.args);
    }
    return out;
  };
  // Build stage: exactly CI's install, then CI's build (scripts/test.sh's flags) of the two
  // binaries the image ships.
  const auto build_runs = runs(stages[0]);
  ASSERT_EQ(build_runs.size(), 2u);
  EXPECT_EQ(build_runs[0], "bash scripts/bootstrap.sh");
  const auto words = words_of(build_runs[1]);
  ASSERT_GE(words.size(), 4u);
  EXPECT_EQ(words[0], "REPLICATOR_TARGETS=\"actito-replicator");
  EXPECT_EQ(words[1], "actito-sim\"");
  EXPECT_EQ(words[2], "scripts/build.sh");
  EXPECT_EQ(words[3], "build");
  std::set<std::string> image_flags;
  for (std::size_t i = 4; i < words.size() && words[i] != "&&"; ++i) image_flags.insert(words[i]);
  std::set<std::string> ci_flags;
  for (const auto& line : lines_of(read_text(source_file("scripts/test.sh")))) {
    const auto w = words_of(line);
    if (w.size() >= 2 && w[0] == "scripts/build.sh" && w[1] == "build") ci_flags.insert(w.begin() + 2, w.end());
  }
  ASSERT_FALSE(ci_flags.empty()) << "scripts/test.sh no longer has its `scripts/build.sh build` line";
  EXPECT_EQ(image_flags, ci_flags) << "the image must be built as CI builds";
  EXPECT_NE(build_runs[1].find("cmake --install build --prefix /opt/actito-replicator"), std::string::npos);

  // Runtime stage.
  const auto& rt = stages[1];
  const auto rt_runs = runs(rt);
  ASSERT_EQ(rt_runs.size(), 1u);
  EXPECT_EQ(rt_runs[0].rfind("bash /tmp/bootstrap.sh --runtime && ", 0), 0u) << rt_runs[0];
  std::map<std::string, std::string> copies;  // destination -> source (context files only)
  std::string user, healthcheck, entrypoint, cmd, expose;
  std::map<std::string, std::string> env;
  for (const auto& i : rt) {
    if (i.keyword == "COPY" && i.args.rfind("--from=", 0) != 0) {
      const auto w = words_of(i.args);
      ASSERT_EQ(w.size(), 2u) << i.args;
      copies[w[1]] = w[0];
    }
    if (i.keyword == "COPY" && i.args.rfind("--from=", 0) == 0) {
      EXPECT_EQ(i.args, "--from=build /opt/actito-replicator/ /usr/local/");
    }
    if (i.keyword == "USER") user = i.args;
    if (i.keyword == "HEALTHCHECK") healthcheck = i.args;
    if (i.keyword == "ENTRYPOINT") entrypoint = i.args;
    if (i.keyword == "CMD") cmd = i.args;
    if (i.keyword == "EXPOSE") expose = i.args;
    if (i.keyword == "ENV") env[i.args.substr(0, i.args.find('='))] = i.args.substr(i.args.find('=') + 1);
  }
  EXPECT_EQ(copies["/tmp/bootstrap.sh"], "scripts/bootstrap.sh");
  ASSERT_FALSE(user.empty()) << "the image must not run as root";
  EXPECT_NE(user.substr(0, user.find(':')), "0");
  EXPECT_NE(user.substr(0, user.find(':')), "root");
  EXPECT_NE(rt_runs[0].find("--uid " + user.substr(0, user.find(':'))), std::string::npos)
      << "USER is the created user";
  // Health: the script, installed under the name the HEALTHCHECK runs, asking the admin port.
  const auto hc = healthcheck.find("CMD ");
  ASSERT_NE(hc, std::string::npos) << healthcheck;
  const auto hc_cmd = json_strings(healthcheck.substr(hc + 4));
  ASSERT_EQ(hc_cmd.size(), 1u);
  EXPECT_EQ(copies["/usr/local/bin/" + hc_cmd[0]], "deploy/healthcheck.sh");
  EXPECT_EQ(json_strings(entrypoint), std::vector<std::string>{"actito-replicator"});
  const auto cmd_args = json_strings(cmd);
  ASSERT_EQ(cmd_args.size(), 3u);
  EXPECT_EQ(cmd_args[0], "run");
  EXPECT_EQ(cmd_args[1], "-c");
  EXPECT_EQ(cmd_args[2], "/etc/actito-replicator/replicator.yaml");
  EXPECT_EQ(copies[cmd_args[2]], "deploy/replicator.yaml");
  // The default job file listens on every interface, on the exposed port the health check asks.
  const YAML::Node job = YAML::LoadFile(source_file("deploy/replicator.yaml"));
  const std::string listen = job["server"]["listen"].as<std::string>();
  EXPECT_EQ(listen, "0.0.0.0:" + expose);
  EXPECT_EQ(env["ACTITO_REPLICATOR_ADMIN"], "127.0.0.1:" + expose);

  // Every file copied from the context exists and survives .dockerignore.
  std::vector<std::string> patterns;
  for (const auto& line : lines_of(read_text(source_file(".dockerignore")))) {
    if (line[0] != '#') patterns.push_back(line);
  }
  std::vector<std::string> sources;
  for (const auto& [dst, src] : copies) sources.push_back(src);
  sources.push_back("scripts/bootstrap.sh");
  for (const auto& src : sources) {
    EXPECT_TRUE(fs::exists(source_file(src))) << src;
    EXPECT_FALSE(docker_ignored(patterns, src)) << src << " is excluded by .dockerignore";
  }
}

TEST(DeployDockerfile, DockerignoreKeepsEverySourceAndDropsBuildTrees) {
  std::vector<std::string> patterns;
  for (const auto& line : lines_of(read_text(source_file(".dockerignore")))) {
    if (line[0] != '#') patterns.push_back(line);
  }
  for (const char* p : {"build", "build/CMakeCache.txt", "build-asan/x", ".git/HEAD", "tests/x.swp"}) {
    EXPECT_TRUE(docker_ignored(patterns, p)) << p;
  }
  auto files = run_command({"git", "-C", source_dir(), "ls-files"});
  ASSERT_EQ(files.exit_code, 0) << files.err;
  std::size_t n = 0;
  for (const auto& f : lines_of(files.out)) {
    ++n;
    EXPECT_FALSE(docker_ignored(patterns, f)) << f << " is in git but not in the image's build context";
  }
  EXPECT_GT(n, 100u);
  EXPECT_FALSE(docker_ignored(patterns, "scripts/build.sh"));
}

TEST(DeployDockerfile, InstallShipsOnlyTheTwoBinariesTheImageBuilds) {
  // `cmake --install` in the image installs every install(TARGETS): each must be built there.
  auto files = run_command({"git", "-C", source_dir(), "ls-files", "*CMakeLists.txt"});
  ASSERT_EQ(files.exit_code, 0) << files.err;
  static const std::regex kInstall(
      R"(install\s*\(\s*TARGETS\s+([^)]*?)\s+(RUNTIME|LIBRARY|ARCHIVE|DESTINATION|EXPORT))");
  std::set<std::string> installed;
  for (const auto& f : lines_of(files.out)) {
    const std::string text = read_text(source_file(f));
    for (std::sregex_iterator it(text.begin(), text.end(), kInstall), end; it != end; ++it) {
      for (const auto& t : words_of((*it)[1])) installed.insert(t);
    }
  }
  EXPECT_EQ(installed, (std::set<std::string>{"actito-replicator", "actito-sim"}));
}

// ---- runtime libraries -----------------------------------------------------------------------------

std::string package_name(std::string p) { return p.substr(0, p.find(':')); }

// Installed packages: name -> dependencies (first alternative of each Depends/Pre-Depends group,
// virtual names resolved to their installed provider).
std::map<std::string, std::vector<std::string>> installed_dependencies() {
  auto r = run_command(
      {"dpkg-query", "-W", "-f=${db:Status-Abbrev}\t${Package}\t${Depends}, ${Pre-Depends}\t${Provides}\n"});
  if (r.exit_code != 0) throw std::runtime_error("dpkg-query: " + r.err);
  std::map<std::string, std::string> raw;
  std::map<std::string, std::string> provider;
  for (const auto& line : lines_of(r.out)) {
    std::vector<std::string> f;
    std::stringstream ss(line);
    std::string part;
    while (std::getline(ss, part, '\t')) f.push_back(part);
    if (f.size() < 3 || f[0].rfind("ii", 0) != 0) continue;
    raw[f[1]] = f[2];
    if (f.size() >= 4) {
      std::stringstream ps(f[3]);
      while (std::getline(ps, part, ',')) {
        const auto w = words_of(part);
        if (!w.empty()) provider.emplace(package_name(w[0]), f[1]);
      }
    }
  }
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& [pkg, deps] : raw) {
    auto& list = out[pkg];
    std::stringstream ds(deps);
    std::string group;
    while (std::getline(ds, group, ',')) {
      std::stringstream as(group);
      std::string alternative;
      while (std::getline(as, alternative, '|')) {
        const auto w = words_of(alternative);
        if (w.empty()) continue;
        const std::string name = package_name(w[0]);
        if (raw.count(name)) {
          list.push_back(name);
          break;
        }
        if (provider.count(name)) {
          list.push_back(provider[name]);
          break;
        }
      }
    }
  }
  return out;
}

// The packages owning library files, by path as ldd prints it. dpkg may have recorded a file
// under another path (merged /usr: /lib/x86_64-linux-gnu is /usr/lib/x86_64-linux-gnu; a
// symlink's target): every variant is asked, in one dpkg call.
std::map<std::string, std::string> owners_of(const std::set<std::string>& paths) {
  std::map<std::string, std::vector<std::string>> variants;
  std::vector<std::string> argv = {"dpkg", "-S"};
  for (const auto& path : paths) {
    auto& v = variants[path];
    v.push_back(path);
    std::error_code ec;
    const fs::path parent = fs::canonical(fs::path(path).parent_path(), ec);
    if (!ec) v.push_back((parent / fs::path(path).filename()).string());
    const fs::path real = fs::canonical(path, ec);
    if (!ec) v.push_back(real.string());
    argv.insert(argv.end(), v.begin(), v.end());
  }
  // Exit code 1 when some variant is unknown: expected.
  auto r = run_command(argv);
  std::map<std::string, std::string> by_file;
  for (const auto& line : lines_of(r.out)) {
    const auto colon = line.find(": ");
    if (colon == std::string::npos || line.find(", ") < colon) continue;  // "diversion by", several owners
    by_file[line.substr(colon + 2)] = package_name(line.substr(0, colon));
  }
  std::map<std::string, std::string> out;
  for (const auto& [path, vs] : variants) {
    for (const auto& v : vs) {
      if (by_file.count(v)) {
        out[path] = by_file[v];
        break;
      }
    }
  }
  return out;
}

TEST(DeployRuntime, EveryLibraryTheBinariesLoadComesFromTheRuntimeList) {
  auto list = run_command({"bash", source_file("scripts/bootstrap.sh"), "--list-runtime"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  const auto runtime_list = lines_of(list.out);
  ASSERT_FALSE(runtime_list.empty());
  // In every Debian image, the slim one included.
  const std::set<std::string> base = {"libc6", "libgcc-s1", "libstdc++6"};
  std::set<std::string> direct_ok(runtime_list.begin(), runtime_list.end());
  direct_ok.insert(base.begin(), base.end());

  const auto deps = installed_dependencies();
  for (const auto& p : runtime_list) {
    EXPECT_TRUE(deps.count(p)) << p << " (runtime list) is not an installed package name";
    EXPECT_EQ(p.find("-dev"), std::string::npos) << p << ": no development package at run time";
  }
  // What `apt-get install` of the list brings into the slim image: the list, the base, and
  // everything they depend on.
  std::set<std::string> closure;
  std::vector<std::string> todo(direct_ok.begin(), direct_ok.end());
  while (!todo.empty()) {
    const std::string p = todo.back();
    todo.pop_back();
    if (!closure.insert(p).second) continue;
    auto it = deps.find(p);
    if (it != deps.end()) todo.insert(todo.end(), it->second.begin(), it->second.end());
  }

  for (const std::string& binary : {std::string(REPLICATOR_BINARY), std::string(ACTITO_SIM_BINARY)}) {
    SCOPED_TRACE(binary);
    auto ldd = run_command({"ldd", binary});
    ASSERT_EQ(ldd.exit_code, 0) << ldd.out << ldd.err;
    EXPECT_EQ(ldd.out.find("not found"), std::string::npos) << ldd.out;
    std::map<std::string, std::string> path_of;  // soname -> resolved path
    for (const auto& line : lines_of(ldd.out)) {
      const auto w = words_of(line);
      if (w.size() >= 3 && w[1] == "=>" && w[2][0] == '/')
        path_of[w[0]] = w[2];
      else if (!w.empty() && w[0][0] == '/')
        path_of[fs::path(w[0]).filename().string()] = w[0];
    }
    ASSERT_GE(path_of.size(), 4u) << ldd.out;
    // Libraries the binary names itself (NEEDED) come from a package named in the list.
    auto elf = run_command({"readelf", "-d", binary});
    ASSERT_EQ(elf.exit_code, 0) << elf.err;
    std::set<std::string> needed;
    static const std::regex kNeeded(R"(\(NEEDED\)\s+Shared library: \[([^\]]+)\])");
    for (std::sregex_iterator it(elf.out.begin(), elf.out.end(), kNeeded), end; it != end; ++it) {
      needed.insert((*it)[1]);
    }
    ASSERT_FALSE(needed.empty());
    std::set<std::string> paths;
    for (const auto& [soname, path] : path_of) paths.insert(path);
    auto owners = owners_of(paths);
    for (const auto& soname : needed) {
      ASSERT_TRUE(path_of.count(soname)) << soname << " is NEEDED but ldd does not list it";
      const std::string pkg = owners[path_of[soname]];
      EXPECT_TRUE(direct_ok.count(pkg)) << binary << " links " << soname << " (" << path_of[soname]
                                        << ") from package '" << pkg
                                        << "', which scripts/bootstrap.sh's runtime_packages does not name";
    }
    // Every library ldd lists, indirect ones included, is installed with the list.
    for (const auto& [soname, path] : path_of) {
      const std::string pkg = owners[path];
      EXPECT_FALSE(pkg.empty()) << "no package owns " << path;
      EXPECT_TRUE(closure.count(pkg)) << soname << " (" << path << ", package '" << pkg
                                      << "') would be missing from the slim image";
    }
  }
}

// ---- the shipped job files ---------------------------------------------------------------------

TEST(DeployJobFiles, TheImagesDefaultJobFileLoads) {
  // `once --explain` loads and validates the file and sends nothing (static objects only); the
  // destination is a closed local port, so nothing leaves this machine.
  auto r = run_command(
      {REPLICATOR_BINARY, "once", "--explain", "-c", source_file("deploy/replicator.yaml")}, "",
      {{"ACTITO_ENVIRONMENT", "ENV-3"},
       {"ACTITO_ENTITY", "MyEntity"},
       {"ACTITO_API_KEY", "key"},
       {"PG_DSN", "host=127.0.0.1 port=" + std::to_string(e2e::free_port()) + " dbname=x connect_timeout=2"}});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("campaigns/EmailCampaigns"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("campaigns/EmailCampaignResults"), std::string::npos) << r.out;
}

TEST(DeployJobFiles, TheComposeJobFileReplicatesTheSimulatorsTables) {
  e2e::Simulator sim(e2e::sim_options(10, 10));
  sim.start();
  auto r = run_command(
      {REPLICATOR_BINARY, "once", "--explain", "-c", source_file("deploy/compose/replicator.yaml")}, "",
      {{"REPLICATOR_LISTEN", "127.0.0.1:" + std::to_string(e2e::free_port())},
       {"ACTITO_BASE_URL", sim.base_url()},
       {"ACTITO_API_KEY", "sim-api-key"},
       {"PG_DSN", "host=127.0.0.1 port=" + std::to_string(e2e::free_port()) + " dbname=x connect_timeout=2"}});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("crm/Customers  -> table actito.customers"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("crm/Orders  -> table actito.orders"), std::string::npos) << r.out;
  // Without its variables the file is refused as a configuration error (exit 2).
  auto unset = run_command(
      {"env", "-u", "ACTITO_API_KEY", REPLICATOR_BINARY, "check", "-c", source_file("deploy/compose/replicator.yaml")},
      "", {{"REPLICATOR_LISTEN", "127.0.0.1:1"}, {"ACTITO_BASE_URL", sim.base_url()}, {"PG_DSN", "x"}});
  EXPECT_EQ(unset.exit_code, 2) << unset.out << unset.err;
  EXPECT_NE((unset.out + unset.err).find("ACTITO_API_KEY"), std::string::npos) << unset.out << unset.err;
}

}  // namespace
}  // namespace replicator::deploy

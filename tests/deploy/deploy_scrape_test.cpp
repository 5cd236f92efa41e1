// One daemon replicating the simulator into PostgreSQL, scraped by a real Prometheus that runs
// the shipped deploy/prometheus/prometheus.yml (only its target and intervals rewritten) and
// alerts.yml. The simulator answers some requests with 429 and one with 400, so retries, API
// errors and a failed cycle show in the metrics like they would in production.
#include <gtest/gtest.h>
#include <signal.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <boost/json.hpp>
#include <memory>
#include <set>

#include "core/actito/rsql.hpp"  // percent_encode
#include "tests/deploy/deploy_support.hpp"
#include "tests/e2e/e2e_support.hpp"
#include "tests/e2e/world.hpp"

namespace replicator::deploy {
namespace {

using e2e::Daemon;
using e2e::free_port;
using e2e::http_get;
using e2e::Simulator;
using e2e::TempDir;
using e2e::wait_until;
using e2e::World;

const char* const kScrapeJob = "actito-replicator";

// The shipped prometheus.yml with only what a test must change: the scrape target (the test's
// daemon), the intervals (1 s instead of 15 s) and the rule files' folder (relative paths are
// resolved against the config file's folder, which is a temporary one here).
std::string derived_prometheus_config(std::uint16_t daemon_port) {
  YAML::Node cfg = YAML::LoadFile(source_file("deploy/prometheus/prometheus.yml"));
  cfg["global"]["scrape_interval"] = "1s";
  cfg["global"]["evaluation_interval"] = "1s";
  YAML::Node rules = cfg["rule_files"];
  for (std::size_t i = 0; i < rules.size(); ++i) {
    rules[i] = source_file("deploy/prometheus/" + rules[i].as<std::string>());
  }
  YAML::Node jobs = cfg["scrape_configs"];
  if (jobs.size() != 1 || jobs[0]["job_name"].as<std::string>() != kScrapeJob) {
    throw std::runtime_error("prometheus.yml: expected one scrape job named actito-replicator");
  }
  if (jobs[0]["scrape_interval"]) jobs[0]["scrape_interval"] = "1s";
  YAML::Node statics = jobs[0]["static_configs"];
  if (statics.size() != 1 || statics[0]["targets"].size() != 1) {
    throw std::runtime_error("prometheus.yml: expected one static target");
  }
  statics[0]["targets"][0] = "127.0.0.1:" + std::to_string(daemon_port);
  YAML::Emitter out;
  out << cfg;
  return std::string(out.c_str()) + "\n";
}

// The stack every test of this file looks at; set up once (a daemon cycle and a Prometheus scrape
// take seconds, the checks milliseconds).
struct Stack {
  Simulator sim;
  World world;
  std::uint16_t daemon_port = free_port();
  std::unique_ptr<Daemon> daemon;
  TempDir prom_dir;
  std::uint16_t prom_port = free_port();
  std::unique_ptr<Process> prometheus;
  std::string metrics;  // /metrics once a cycle failed and both streams succeeded

  static e2e::SimOptions options() {
    e2e::SimOptions o = e2e::sim_options(150, 150, 91);
    // The first requests are rejected as over the licence's limit: the daemon retries them.
    o.faults.fail_next = 3;
    o.faults.fail_status = 429;
    o.faults.retry_after_s = 0;
    return o;
  }

  Stack() : sim(options()), world((sim.start(), sim)) {}

  std::string get_metrics() { return http_get(daemon_port, "/metrics").second; }

  // One of the next requests answered 400: the cycle it belongs to fails (a permanent error).
  void fail_one_request() {
    actito_sim::FaultSpec f;
    f.fail_next = 1;
    f.fail_status = 400;
    sim.set_faults(f);
  }

  bool failure_counted(double at_least) {
    std::istringstream in(get_metrics());
    std::string line;
    double failures = 0;
    while (std::getline(in, line)) {
      if (line.rfind("actito_replicator_cycles_total{", 0) == 0 &&
          line.find("result=\"failure\"") != std::string::npos) {
        failures += std::stod(line.substr(line.rfind(' ') + 1));
      }
    }
    return failures >= at_least;
  }

  void start() {
    const std::string cfg = world.config("      - object: Customers\n      - object: Orders\n", "", daemon_port);
    daemon = std::make_unique<Daemon>(std::vector<std::string>{"run", "-c", cfg});
    // The series exist at 0 from the start: wait for the counts to move.
    auto successes = [&](const std::string& stream) {
      return e2e::metric_value(get_metrics(), "actito_replicator_cycles_total",
                               {"stream=\"" + stream + "\"", "result=\"success\""});
    };
    auto both_above = [&](double customers, double orders) {
      return [&, customers, orders] { return successes("Customers") > customers && successes("Orders") > orders; };
    };
    if (!wait_until(both_above(0, 0), 60)) throw std::runtime_error("no successful cycles: " + daemon->stderr_text());
    const double customers = successes("Customers"), orders = successes("Orders");
    fail_one_request();
    if (!wait_until([&] { return failure_counted(1); }, 30)) {
      throw std::runtime_error("the injected 400 failed no cycle: " + daemon->stderr_text());
    }
    sim.clear_faults();
    if (!wait_until(both_above(customers, orders), 30)) {
      throw std::runtime_error("no recovery: " + daemon->stderr_text());
    }
    metrics = get_metrics();

    e2e::write_file(prom_dir.file("prometheus.yml"), derived_prometheus_config(daemon_port));
    prometheus = std::make_unique<Process>(
        std::vector<std::string>{"prometheus", "--config.file=" + prom_dir.file("prometheus.yml"),
                                 "--storage.tsdb.path=" + prom_dir.file("data"),
                                 "--web.listen-address=127.0.0.1:" + std::to_string(prom_port)},
        prom_dir.file("prometheus.log"));
    if (!wait_until([&] { return http_get(prom_port, "/-/ready").first == 200; }, 30)) {
      throw std::runtime_error("Prometheus did not start: " + prometheus->log());
    }
  }
};

class DeployScrape : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    try {
      stack_ = new Stack();
      stack_->start();
    } catch (const std::exception& e) {
      setup_error_ = e.what();
    }
  }
  static void TearDownTestSuite() {
    if (!stack_) return;
    if (stack_->daemon && stack_->daemon->alive()) {
      stack_->daemon->signal(SIGTERM);
      stack_->daemon->wait();
    }
    delete stack_;
    stack_ = nullptr;
  }
  void SetUp() override { ASSERT_TRUE(setup_error_.empty()) << setup_error_; }

  static Stack& stack() { return *stack_; }

  // GET on Prometheus's HTTP API; the `data` member of a successful answer.
  static boost::json::value api(const std::string& path) {
    auto [status, body] = http_get(stack().prom_port, path);
    if (status != 200) throw std::runtime_error(path + " answered " + std::to_string(status) + ": " + body);
    auto v = boost::json::parse(body);
    if (v.as_object().at("status").as_string() != "success") throw std::runtime_error(path + ": " + body);
    return v.as_object().at("data");
  }
  // The result vector of an instant query.
  static boost::json::array query(const std::string& expr) {
    return api("/api/v1/query?query=" + actito::percent_encode(expr)).as_object().at("result").as_array();
  }
  static bool has_series(const std::string& expr) {
    try {
      return !query(expr).empty();
    } catch (const std::exception&) {
      return false;
    }
  }

  static std::vector<Query> shipped_queries() {
    auto out = alert_queries(YAML::LoadFile(source_file("deploy/prometheus/alerts.yml")));
    for (const auto& q : dashboard_queries(
             boost::json::parse(read_text(source_file("deploy/grafana/dashboards/actito-replicator.json"))))) {
      out.push_back(q);
    }
    return out;
  }

  static inline Stack* stack_ = nullptr;
  static inline std::string setup_error_;
};

TEST_F(DeployScrape, MetricsPassPromtoolCheckMetrics) {
  const auto [status, body] = http_get(stack().daemon_port, "/metrics");
  ASSERT_EQ(status, 200);
  auto r = run_command({"promtool", "check", "metrics"}, body);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out + r.err, "") << "promtool's lint found problems";
  std::vector<std::string> names;
  EXPECT_TRUE(e2e::check_exposition(body, &names).empty());
}

TEST_F(DeployScrape, HealthcheckScriptAnswersForTheDaemonAndTheSimulator) {
  const std::string script = source_file("deploy/healthcheck.sh");
  const std::string daemon = "127.0.0.1:" + std::to_string(stack().daemon_port);
  auto r = run_command({script, daemon});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = run_command({script}, "", {{"ACTITO_REPLICATOR_ADMIN", daemon}});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = run_command({script, "127.0.0.1:" + std::to_string(stack().sim.port()), "/_sim/health"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = run_command({script, daemon, "/no-such-page"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("answered 404"), std::string::npos) << r.err;
  r = run_command({script, "127.0.0.1:" + std::to_string(free_port())});
  EXPECT_NE(r.exit_code, 0) << "nothing listens there";
}

TEST_F(DeployScrape, EveryMetricOfTheDashboardAndTheAlertsIsExported) {
  const auto families = exposed_families(stack().metrics);
  ASSERT_GE(families.size(), 14u) << stack().metrics;
  const auto queries = shipped_queries();
  ASSERT_GE(queries.size(), 25u);
  const auto problems = unknown_metrics(queries, families);
  std::string list;
  for (const auto& p : problems) list += "\n  " + p;
  EXPECT_TRUE(problems.empty()) << "metrics the daemon does not export:" << list;

  // The same check catches a panel with a misspelled metric.
  auto dashboard = boost::json::parse(read_text(source_file("deploy/grafana/dashboards/actito-replicator.json")));
  boost::json::object panel;
  panel["type"] = "timeseries";
  panel["title"] = "Typo";
  panel["targets"] = boost::json::array{
      boost::json::object{{"refId", "A"}, {"expr", "sum(rate(actito_replicator_row_total[$__rate_interval]))"}}};
  dashboard.as_object()["panels"].as_array().push_back(panel);
  EXPECT_EQ(unknown_metrics(dashboard_queries(dashboard), families),
            std::vector<std::string>{"panel 'Typo' A: actito_replicator_row_total"});
}

TEST_F(DeployScrape, PrometheusStoresTheSeriesWithTheirLabels) {
  const std::string job = std::string("job=\"") + kScrapeJob + "\"";
  ASSERT_TRUE(
      wait_until([&] { return has_series("actito_replicator_cycles_total{" + job + ",result=\"failure\"}"); }, 30))
      << stack().prometheus->log();
  auto expect_labels = [&](const std::string& expr, const std::set<std::string>& labels) {
    const auto result = query(expr);
    ASSERT_FALSE(result.empty()) << expr;
    for (const auto& series : result) {
      std::set<std::string> names;
      for (const auto& [k, v] : series.as_object().at("metric").as_object()) names.insert(std::string(k));
      for (const auto& l : labels) EXPECT_TRUE(names.count(l)) << expr << " has no label " << l;
    }
  };
  // The daemon's job label arrives as exported_job (prometheus.yml says why).
  expect_labels("actito_replicator_rows_total{" + job + ",exported_job=\"crm\",stream=\"Customers\",op=\"upsert\"}",
                {"job", "instance", "exported_job", "stream", "op"});
  expect_labels("actito_replicator_rows_total{" + job + ",exported_job=\"crm\",stream=\"Orders\",op=\"delete\"}",
                {"job", "instance", "exported_job", "stream", "op"});
  expect_labels("actito_replicator_watermark_timestamp_seconds{" + job + ",exported_job=\"crm\",stream=\"Customers\"}",
                {"job", "instance", "exported_job", "stream"});
  expect_labels("actito_replicator_up{" + job + "}", {"job", "instance", "version"});
  EXPECT_EQ(query("actito_replicator_up{" + job + "}")[0].as_object().at("value").as_array()[1].as_string(), "1");
  EXPECT_EQ(query("up{" + job + "}")[0].as_object().at("value").as_array()[1].as_string(), "1");
  // The upserted rows: every generated profile, at least.
  const auto rows = query("actito_replicator_rows_total{" + job + ",stream=\"Customers\",op=\"upsert\"}");
  EXPECT_GE(std::stod(std::string(rows[0].as_object().at("value").as_array()[1].as_string())), 150.0);
}

TEST_F(DeployScrape, PrometheusLoadsTheAlertRulesHealthy) {
  std::set<std::string> shipped;
  for (const auto& q : alert_queries(YAML::LoadFile(source_file("deploy/prometheus/alerts.yml")))) {
    shipped.insert(q.where.substr(std::string("alert ").size()));
  }
  std::set<std::string> loaded;
  std::string unhealthy;
  auto all_ok = [&] {
    loaded.clear();
    unhealthy.clear();
    const boost::json::value rules = api("/api/v1/rules");
    for (const auto& g : rules.as_object().at("groups").as_array()) {
      for (const auto& rv : g.as_object().at("rules").as_array()) {
        const auto& r = rv.as_object();
        loaded.insert(std::string(r.at("name").as_string()));
        if (r.at("type").as_string() != "alerting")
          unhealthy += " not-an-alert:" + std::string(r.at("name").as_string());
        if (r.at("health").as_string() != "ok") {
          unhealthy += " " + std::string(r.at("name").as_string()) + "=" + std::string(r.at("health").as_string());
          if (const auto* e = r.if_contains("lastError")) unhealthy += "(" + std::string(e->as_string()) + ")";
        }
      }
    }
    return loaded == shipped && unhealthy.empty();
  };
  EXPECT_TRUE(wait_until(all_ok, 30)) << "unhealthy:" << unhealthy << "\n" << stack().prometheus->log();
  EXPECT_EQ(loaded, shipped);

  // The daemon is up and scraped under the job the alerts watch: neither down alert is active
  // (a job name that did not match would leave ActitoReplicatorAbsent pending).
  auto quiet = [&] {
    const boost::json::value alerts = api("/api/v1/alerts");
    for (const auto& a : alerts.as_object().at("alerts").as_array()) {
      const auto name = a.as_object().at("labels").as_object().at("alertname").as_string();
      if (name == "ActitoReplicatorDown" || name == "ActitoReplicatorAbsent") return false;
    }
    return has_series("up{job=\"actito-replicator\"} == 1");
  };
  EXPECT_TRUE(wait_until(quiet, 20)) << boost::json::serialize(api("/api/v1/alerts"));
}

TEST_F(DeployScrape, EverySelectorOfTheDashboardAndTheAlertsFindsSeries) {
  // Label values count too: result="failure", code="429", code=~"0|[45]..", op, stream...
  ASSERT_TRUE(wait_until([&] { return has_series("actito_replicator_api_retries_total"); }, 30));
  for (const auto& q : shipped_queries()) {
    const std::string expr = grafana_to_promql(q.expr);
    // The whole expression is valid PromQL (once Grafana's variables are replaced).
    EXPECT_NO_THROW(query(expr)) << q.where << ": " << expr;
    for (const auto& s : promql_selectors(expr)) {
      EXPECT_TRUE(has_series("count(" + s.text() + ")")) << q.where << ": no series for " << s.text();
    }
  }
}

// Last: it makes another cycle fail.
TEST_F(DeployScrape, CycleFailingAlertFiresOnARealFailure) {
  // Prometheus has seen the first failure (1); a second one is an increase it alerts on.
  ASSERT_TRUE(wait_until([&] { return has_series("actito_replicator_cycles_total{result=\"failure\"} >= 1"); }, 30));
  stack().fail_one_request();
  ASSERT_TRUE(wait_until([&] { return stack().failure_counted(2); }, 30)) << stack().daemon->stderr_text();
  stack().sim.clear_faults();
  boost::json::object alert;
  auto firing = [&] {
    const boost::json::value alerts = api("/api/v1/alerts");
    for (const auto& a : alerts.as_object().at("alerts").as_array()) {
      const auto& o = a.as_object();
      if (o.at("labels").as_object().at("alertname").as_string() == "ActitoReplicatorCycleFailing" &&
          o.at("state").as_string() == "firing") {
        alert = o;
        return true;
      }
    }
    return false;
  };
  ASSERT_TRUE(wait_until(firing, 30)) << boost::json::serialize(api("/api/v1/alerts"));
  const auto& labels = alert.at("labels").as_object();
  EXPECT_EQ(labels.at("exported_job").as_string(), "crm");
  EXPECT_EQ(labels.at("job").as_string(), kScrapeJob);
  EXPECT_EQ(labels.at("severity").as_string(), "warning");
  const std::string stream(labels.at("stream").as_string());
  EXPECT_TRUE(stream == "Customers" || stream == "Orders") << stream;
  EXPECT_EQ(alert.at("annotations").as_object().at("summary").as_string(),
            "Replication of crm/" + stream + " is failing");
}

}  // namespace
}  // namespace replicator::deploy

// Helpers of the deploy/ tests: run tools (promtool, prometheus, ldd, dpkg, bash), read the
// shipped files, and pull metric selectors out of PromQL (alert rules, dashboard queries).
#pragma once

#include <yaml-cpp/yaml.h>

#include <boost/json.hpp>
#include <chrono>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace replicator::deploy {

// The repository root and a file under it ("deploy/prometheus/alerts.yml").
std::string source_dir();
std::string source_file(const std::string& relative);
std::string read_text(const std::string& path);  // throws when the file cannot be read

struct CommandResult {
  int exit_code = -1;  // -signal when killed by a signal
  std::string out;
  std::string err;
};

// Runs argv[0] (looked up in PATH) with `stdin_text` on its standard input and `env` added to
// (or replacing in) the environment; kills it after `timeout`.
CommandResult run_command(const std::vector<std::string>& argv, const std::string& stdin_text = "",
                          const std::map<std::string, std::string>& env = {},
                          std::chrono::seconds timeout = std::chrono::seconds(120));

// A background process (Prometheus); SIGTERM, then SIGKILL, on destruction.
class Process {
 public:
  Process(const std::vector<std::string>& argv, const std::string& log_path);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  bool alive();
  std::string log() const;

 private:
  int pid_ = -1;
  bool exited_ = false;
  std::string log_path_;
};

// ---- PromQL ------------------------------------------------------------------------------------

// One vector selector of an expression: the metric name and the text between its braces.
struct Selector {
  std::string metric;
  std::string matchers;  // `result="failure"`, or "" without braces
  std::string text() const { return matchers.empty() ? metric : metric + "{" + matchers + "}"; }
};

// Every vector selector of a PromQL expression, in order. Function and aggregation names, label
// lists of by/without/on/ignoring/group_left/group_right, keywords, numbers, durations, strings
// and range brackets are not selectors.
std::vector<Selector> promql_selectors(const std::string& expr);

// A PromQL query of a shipped file, named for messages ("alert X", "panel 'Y' A").
struct Query {
  std::string where;
  std::string expr;
};

// Every expression of an alert rule file (groups[].rules[].expr).
std::vector<Query> alert_queries(const YAML::Node& rule_file);

// Every query of a Grafana dashboard: panel targets (rows' nested panels too) and the metric
// selector of `label_values(selector, label)` variables. Grafana's variables are left as is.
std::vector<Query> dashboard_queries(const boost::json::value& dashboard);

// A dashboard query as Prometheus can run it: $__rate_interval and friends become 1m, every
// other $var / ${var} becomes .* (the dashboard uses them only in =~ matchers).
std::string grafana_to_promql(const std::string& expr);

// ---- the exposition ----------------------------------------------------------------------------

// Family name -> type of the families of a /metrics text that have at least one sample.
std::map<std::string, std::string> exposed_families(const std::string& metrics_text);

// The selectors of `queries` whose metric the scrape does not expose: one "where: name" line
// each. A histogram family covers its _bucket, _sum and _count series; `up` is Prometheus's own.
std::vector<std::string> unknown_metrics(const std::vector<Query>& queries,
                                         const std::map<std::string, std::string>& families);

}  // namespace replicator::deploy

#include "tests/deploy/deploy_support.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "tests/e2e/e2e_support.hpp"

extern char** environ;

namespace replicator::deploy {

namespace {

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return -WTERMSIG(status);
  return -1000;
}

// Spawns argv (PATH lookup) with stdin/stdout/stderr redirected to files and `env` merged into
// the environment.
int spawn(const std::vector<std::string>& args, const std::string& in, const std::string& out, const std::string& err,
          const std::map<std::string, std::string>& env) {
  if (args.empty()) throw std::invalid_argument("spawn: empty command");
  std::vector<std::string> argv_storage = args;
  std::vector<char*> argv;
  for (auto& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);

  std::vector<std::string> env_storage;
  for (char** e = environ; *e; ++e) {
    std::string entry = *e;
    const std::string name = entry.substr(0, entry.find('='));
    if (!env.count(name)) env_storage.push_back(entry);
  }
  for (const auto& [name, value] : env) env_storage.push_back(name + "=" + value);
  std::vector<char*> envp;
  for (auto& e : env_storage) envp.push_back(e.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, in.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) throw std::runtime_error("cannot start " + args[0]);
  return pid;
}

bool is_ident_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':'; }
bool is_ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == ':'; }

// Index just past the quoted string starting at `i` (e[i] is the quote).
std::size_t skip_string(const std::string& e, std::size_t i) {
  const char quote = e[i++];
  while (i < e.size() && e[i] != quote) {
    if (e[i] == '\\' && quote != '`') ++i;
    ++i;
  }
  return i + 1;
}

// Index just past the bracket group opening at `i` (e[i] is `open`), strings respected.
std::size_t skip_group(const std::string& e, std::size_t i, char open, char close) {
  int depth = 0;
  while (i < e.size()) {
    const char c = e[i];
    if (c == '"' || c == '\'' || c == '`') {
      i = skip_string(e, i);
      continue;
    }
    if (c == open) ++depth;
    if (c == close && --depth == 0) return i + 1;
    ++i;
  }
  return i;
}

std::size_t skip_space(const std::string& e, std::size_t i) {
  while (i < e.size() && std::isspace(static_cast<unsigned char>(e[i]))) ++i;
  return i;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

void collect_panels(const boost::json::array& panels, std::vector<Query>& out) {
  for (const auto& pv : panels) {
    const auto& panel = pv.as_object();
    const std::string title = panel.contains("title") ? std::string(panel.at("title").as_string()) : "?";
    if (const auto* targets = panel.if_contains("targets")) {
      for (const auto& tv : targets->as_array()) {
        const auto& t = tv.as_object();
        const std::string ref = t.contains("refId") ? std::string(t.at("refId").as_string()) : "?";
        const auto* expr = t.if_contains("expr");
        out.push_back(
            {"panel '" + title + "' " + ref, expr && expr->is_string() ? std::string(expr->as_string()) : ""});
      }
    }
    if (const auto* nested = panel.if_contains("panels")) collect_panels(nested->as_array(), out);
  }
}

}  // namespace

std::string source_dir() { return REPLICATOR_SOURCE_DIR; }
std::string source_file(const std::string& relative) { return source_dir() + "/" + relative; }

std::string read_text(const std::string& path) { return e2e::read_file(path); }

CommandResult run_command(const std::vector<std::string>& argv, const std::string& stdin_text,
                          const std::map<std::string, std::string>& env, std::chrono::seconds timeout) {
  e2e::TempDir dir;
  e2e::write_file(dir.file("in"), stdin_text);
  const int pid = spawn(argv, dir.file("in"), dir.file("out"), dir.file("err"), env);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  for (;;) {
    if (waitpid(pid, &status, WNOHANG) == pid) break;
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return {decode_status(status), read_text(dir.file("out")), read_text(dir.file("err"))};
}

Process::Process(const std::vector<std::string>& argv, const std::string& log_path) : log_path_(log_path) {
  pid_ = spawn(argv, "/dev/null", log_path, log_path + ".err", {});
}

Process::~Process() {
  if (exited_) return;
  kill(pid_, SIGTERM);
  int status = 0;
  for (int i = 0; i < 100; ++i) {
    if (waitpid(pid_, &status, WNOHANG) == pid_) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, &status, 0);
}

bool Process::alive() {
  if (exited_) return false;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == pid_) exited_ = true;
  return !exited_;
}

std::string Process::log() const {
  std::string text;
  for (const auto& p : {log_path_, log_path_ + ".err"}) {
    try {
      text += read_text(p);
    } catch (const std::exception&) {
    }
  }
  return text;
}

std::vector<Selector> promql_selectors(const std::string& e) {
  static const std::set<std::string> kLabelLists = {"by", "without", "on", "ignoring", "group_left", "group_right"};
  static const std::set<std::string> kKeywords = {"bool", "and", "or", "unless", "offset", "atan2", "inf", "nan"};
  static const std::set<std::string> kAggregations = {"sum",    "min",      "max",    "avg",          "group",
                                                      "stddev", "stdvar",   "count",  "count_values", "bottomk",
                                                      "topk",   "quantile", "limitk", "limit_ratio"};
  std::vector<Selector> out;
  std::size_t i = 0;
  while (i < e.size()) {
    const char c = e[i];
    if (c == '"' || c == '\'' || c == '`') {
      i = skip_string(e, i);
    } else if (c == '[') {
      i = skip_group(e, i, '[', ']');
    } else if (c == '{') {
      // A selector without a metric name ({__name__=~"..."}): name it by its matchers.
      const std::size_t end = skip_group(e, i, '{', '}');
      out.push_back({"", e.substr(i + 1, end - i - 2)});
      i = end;
    } else if (c == '$') {
      ++i;
      if (i < e.size() && e[i] == '{') i = skip_group(e, i, '{', '}');
      while (i < e.size() && is_ident_char(e[i])) ++i;
    } else if (std::isdigit(static_cast<unsigned char>(c)) ||
               (c == '.' && i + 1 < e.size() && std::isdigit(static_cast<unsigned char>(e[i + 1])))) {
      while (i < e.size() && (std::isalnum(static_cast<unsigned char>(e[i])) || e[i] == '.')) ++i;
    } else if (is_ident_start(c)) {
      std::size_t end = i;
      while (end < e.size() && is_ident_char(e[end])) ++end;
      const std::string ident = e.substr(i, end - i);
      const std::string low = lower(ident);
      i = end;
      const std::size_t next = skip_space(e, i);
      if (kLabelLists.count(low)) {
        if (next < e.size() && e[next] == '(') i = skip_group(e, next, '(', ')');
        continue;
      }
      if (kKeywords.count(low)) continue;
      if (next < e.size() && e[next] == '(') continue;  // a function or an aggregation
      if (kAggregations.count(low)) {
        std::size_t w = next;
        while (w < e.size() && is_ident_char(e[w])) ++w;
        const std::string word = lower(e.substr(next, w - next));
        if (word == "by" || word == "without") continue;  // `sum by (x) (...)`
      }
      Selector s{ident, ""};
      if (next < e.size() && e[next] == '{') {
        const std::size_t close = skip_group(e, next, '{', '}');
        s.matchers = e.substr(next + 1, close - next - 2);
        i = close;
      }
      out.push_back(std::move(s));
    } else {
      ++i;
    }
  }
  return out;
}

std::vector<Query> alert_queries(const YAML::Node& rule_file) {
  std::vector<Query> out;
  for (const auto& group : rule_file["groups"]) {
    for (const auto& rule : group["rules"]) {
      const std::string name =
          rule["alert"] ? "alert " + rule["alert"].as<std::string>() : "record " + rule["record"].as<std::string>("?");
      out.push_back({name, rule["expr"].as<std::string>("")});
    }
  }
  return out;
}

std::vector<Query> dashboard_queries(const boost::json::value& dashboard) {
  std::vector<Query> out;
  const auto& d = dashboard.as_object();
  if (const auto* panels = d.if_contains("panels")) collect_panels(panels->as_array(), out);
  if (const auto* templating = d.if_contains("templating")) {
    for (const auto& vv : templating->as_object().at("list").as_array()) {
      const auto& v = vv.as_object();
      if (v.at("type").as_string() != "query") continue;
      const auto& q = v.at("query");
      std::string text =
          q.is_string() ? std::string(q.as_string()) : std::string(q.as_object().at("query").as_string());
      const std::string name = "variable $" + std::string(v.at("name").as_string());
      // label_values(selector, label) -> selector; label_values(label) has none.
      const std::string head = "label_values(";
      if (text.rfind(head, 0) == 0 && text.back() == ')') {
        const std::string args = text.substr(head.size(), text.size() - head.size() - 1);
        const std::size_t comma = args.rfind(',');
        if (comma == std::string::npos) continue;
        text = args.substr(0, comma);
      }
      out.push_back({name, text});
    }
  }
  return out;
}

std::string grafana_to_promql(const std::string& expr) {
  std::string out;
  std::size_t i = 0;
  while (i < expr.size()) {
    if (expr[i] != '$') {
      out += expr[i++];
      continue;
    }
    std::size_t j = i + 1;
    std::string name;
    if (j < expr.size() && expr[j] == '{') {
      const std::size_t close = expr.find('}', j);
      name = expr.substr(j + 1, close - j - 1);
      j = close + 1;
    } else {
      while (j < expr.size() && is_ident_char(expr[j])) name += expr[j++];
    }
    out += name.rfind("__", 0) == 0 ? "1m" : ".*";
    i = j;
  }
  return out;
}

std::map<std::string, std::string> exposed_families(const std::string& metrics_text) {
  std::map<std::string, std::string> types;
  std::set<std::string> sampled;
  std::istringstream in(metrics_text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("# TYPE ", 0) == 0) {
      std::istringstream ls(line.substr(7));
      std::string name, type;
      ls >> name >> type;
      types[name] = type;
      continue;
    }
    if (line.empty() || line[0] == '#') continue;
    std::size_t end = 0;
    while (end < line.size() && is_ident_char(line[end])) ++end;
    std::string name = line.substr(0, end);
    for (const std::string suffix : {"_bucket", "_sum", "_count"}) {
      if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
        const std::string base = name.substr(0, name.size() - suffix.size());
        auto t = types.find(base);
        if (t != types.end() && (t->second == "histogram" || t->second == "summary")) name = base;
      }
    }
    sampled.insert(name);
  }
  std::map<std::string, std::string> out;
  for (const auto& [name, type] : types) {
    if (sampled.count(name)) out[name] = type;
  }
  return out;
}

std::vector<std::string> unknown_metrics(const std::vector<Query>& queries,
                                         const std::map<std::string, std::string>& families) {
  std::vector<std::string> problems;
  for (const auto& q : queries) {
    const auto selectors = promql_selectors(q.expr);
    if (selectors.empty()) problems.push_back(q.where + ": no metric in `" + q.expr + "`");
    for (const auto& s : selectors) {
      if (s.metric == "up") continue;  // Prometheus's own, one per target
      std::string family = s.metric;
      for (const std::string suffix : {"_bucket", "_sum", "_count"}) {
        if (family.size() > suffix.size() &&
            family.compare(family.size() - suffix.size(), suffix.size(), suffix) == 0) {
          const std::string base = family.substr(0, family.size() - suffix.size());
          auto t = families.find(base);
          if (t != families.end() && t->second == "histogram") family = base;
        }
      }
      if (s.metric.empty() || !families.count(family)) {
        problems.push_back(q.where + ": " + (s.metric.empty() ? "{" + s.matchers + "}" : s.metric));
      }
    }
  }
  return problems;
}

}  // namespace replicator::deploy

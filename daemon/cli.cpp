#include "daemon/cli.hpp"

#include <algorithm>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "config/catalog_loader.hpp"
#include "config/config.hpp"
#include "core/model/error.hpp"
#include "daemon/app.hpp"
#include "daemon/logging.hpp"
#include "daemon/version.hpp"

namespace replicator::daemon {

namespace {

constexpr const char* kDefaultConfig = "/etc/actito-replicator/replicator.yaml";

const char* kUsage =
    "Usage: actito-replicator [--version] [--help] <command> [options]\n"
    "\n"
    "Keeps a PostgreSQL copy of an Actito account fresh, incrementally.\n"
    "\n"
    "Commands:\n"
    "  run        run the daemon: schedule every job, serve /metrics /healthz /readyz /status\n"
    "  once       one replication cycle of the selected jobs/streams, then exit\n"
    "  check      validate the config, authenticate to Actito, reach each destination\n"
    "  discover   list every object a connection can read\n"
    "  state      print each stream's watermark, last success and rows\n"
    "  reset      forget watermark(s): the next cycle re-reads from the start\n"
    "\n"
    "Options of every command:\n"
    "  -c, --config FILE    job file (default /etc/actito-replicator/replicator.yaml)\n"
    "  --log-format F       auto | text | json (overrides log.format)\n"
    "  --log-level L        trace | debug | info | warn | error (overrides log.level)\n"
    "  -h, --help           help of the command\n"
    "\n"
    "Exit codes: 0 success, 1 failure, 2 bad configuration or usage.\n";

struct CommandHelp {
  const char* usage;
  std::vector<std::string> flags;   // options taking no value
  std::vector<std::string> values;  // options taking a value
};

const std::map<std::string, CommandHelp>& commands() {
  static const std::map<std::string, CommandHelp> kCommands = {
      {"run",
       {"Usage: actito-replicator run [-c FILE]\n\n"
        "Runs every job on its schedule until SIGTERM or SIGINT (graceful: the page in flight\n"
        "finishes, nothing half-done is committed). SIGHUP reloads the config; an invalid new\n"
        "config is logged and the running one kept.\n",
        {},
        {}}},
      {"once",
       {"Usage: actito-replicator once [-c FILE] [--job J] [--stream OBJ] [--explain]\n\n"
        "Runs one cycle of the selected jobs and streams and prints a summary table.\n"
        "  --job J        only this job\n"
        "  --stream OBJ   only this stream (object name)\n"
        "  --explain      print the requests a cycle would start with; send nothing but discovery\n"
        "Exit codes: 0 all streams succeeded, 1 any failed, 2 bad config.\n",
        {"--explain"},
        {"--job", "--stream"}}},
      {"check",
       {"Usage: actito-replicator check [-c FILE]\n\n"
        "Validates the config, gets a token from each Actito connection and checks the entity,\n"
        "connects to each destination and checks it can create the schema and tables.\n"
        "Prints one line per check. Exit codes: 0 all pass, 1 any fails, 2 bad config.\n",
        {},
        {}}},
      {"discover",
       {"Usage: actito-replicator discover [-c FILE] [--connection C] [--format table|json|yaml]\n\n"
        "Lists every object the connection can read: static ones and those derived from its\n"
        "profile and custom tables, with key, fields, cursor, native filters and DML support.\n",
        {},
        {"--connection", "--format"}}},
      {"state",
       {"Usage: actito-replicator state [-c FILE] [--job J]\n\n"
        "Prints each stream's watermark, last success and rows so far.\n",
        {},
        {"--job"}}},
      {"reset",
       {"Usage: actito-replicator reset [-c FILE] --job J [--stream OBJ] [--yes]\n\n"
        "Forgets the watermark(s) of a job or one of its streams: the next cycle re-reads from\n"
        "the start. Rows already replicated stay. Asks for confirmation unless --yes.\n",
        {"--yes"},
        {"--job", "--stream"}}},
  };
  return kCommands;
}

struct Usage : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace

int run_cli(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::cerr << kUsage;
    return kExitConfig;
  }
  if (args[0] == "--version" || args[0] == "version") {
    std::cout << "actito-replicator " << kVersion << "\n";
    return kExitOk;
  }
  if (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::cout << kUsage;
    return kExitOk;
  }
  const std::string command = args[0];
  auto it = commands().find(command);
  try {
    if (it == commands().end()) throw Usage("unknown command \"" + command + "\"");
    const CommandHelp& help = it->second;
    std::string config_path = kDefaultConfig;
    std::optional<std::string> log_format, log_level;
    std::map<std::string, std::string> values;
    std::map<std::string, bool> flags;
    for (std::size_t i = 1; i < args.size(); ++i) {
      const std::string& a = args[i];
      if (a == "-h" || a == "--help") {
        std::cout << help.usage;
        return kExitOk;
      }
      std::string name = a, value;
      bool inline_value = false;
      if (auto eq = a.find('='); a.rfind("--", 0) == 0 && eq != std::string::npos) {
        name = a.substr(0, eq);
        value = a.substr(eq + 1);
        inline_value = true;
      }
      auto take_value = [&]() -> std::string {
        if (inline_value) return value;
        if (i + 1 >= args.size()) throw Usage(name + " needs a value");
        return args[++i];
      };
      if (name == "-c" || name == "--config") {
        config_path = take_value();
      } else if (name == "--log-format") {
        log_format = take_value();
      } else if (name == "--log-level") {
        log_level = take_value();
      } else if (std::find(help.flags.begin(), help.flags.end(), name) != help.flags.end()) {
        if (inline_value) throw Usage(name + " takes no value");
        flags[name] = true;
      } else if (std::find(help.values.begin(), help.values.end(), name) != help.values.end()) {
        values[name] = take_value();
      } else {
        throw Usage("unknown option " + a + " for " + command);
      }
    }
    auto opt = [&](const std::string& k) -> std::optional<std::string> {
      auto v = values.find(k);
      return v == values.end() ? std::nullopt : std::optional<std::string>(v->second);
    };

    // Logging first with the command-line overrides, so config errors are logged properly too.
    setup_logging(log_level.value_or("info"), log_format.value_or("auto"));
    config::Config cfg = config::load_config(config_path);
    model::Catalog catalog =
        cfg.catalog_path.empty() ? config::builtin_catalog() : config::load_catalog_file(cfg.catalog_path);
    config::validate(cfg, catalog);
    setup_logging(log_level.value_or(cfg.log.level), log_format.value_or(cfg.log.format));

    App app(std::move(cfg));
    if (command == "run") return app.run();
    if (command == "once") return app.once(OnceOptions{opt("--job"), opt("--stream"), flags.count("--explain") > 0});
    if (command == "check") return app.check();
    if (command == "discover") return app.discover(DiscoverOptions{opt("--connection"), opt("--format").value_or("table")});
    if (command == "state") return app.state(opt("--job"));
    if (command == "reset") {
      auto job = opt("--job");
      if (!job) throw Usage("reset needs --job J");
      return app.reset(*job, opt("--stream"), flags.count("--yes") > 0);
    }
    throw Usage("unknown command \"" + command + "\"");
  } catch (const Usage& e) {
    std::cerr << "actito-replicator: " << e.what() << "\n\n"
              << (it == commands().end() ? kUsage : it->second.usage);
    return kExitConfig;
  } catch (const model::Error& e) {
    if (e.kind() == model::ErrorKind::kConfig) {
      std::cerr << "actito-replicator: configuration error: " << e.what() << "\n";
      return kExitConfig;
    }
    std::cerr << "actito-replicator: " << e.what() << "\n";
    return kExitFailure;
  } catch (const std::exception& e) {
    std::cerr << "actito-replicator: fatal: " << e.what() << "\n";
    return kExitFailure;
  }
}

}  // namespace replicator::daemon

// actito-sim: parse flags, build the Simulator, serve until SIGINT/SIGTERM.
#include <pthread.h>
#include <signal.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "tests/actito_sim/cli.hpp"
#include "tests/actito_sim/simulator.hpp"

int main(int argc, char** argv) {
  using namespace replicator::actito_sim;
  CliOptions cli;
  try {
    cli = parse_command_line(std::vector<std::string_view>(argv + 1, argv + argc));
  } catch (const CliError& e) {
    std::cerr << "actito-sim: " << e.what() << "\n";
    return 2;
  }
  if (cli.help) {
    std::cout << usage();
    return 0;
  }
  // Block the stop signals before any thread starts, then wait for them synchronously.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  try {
    Simulator simulator(cli.sim);
    simulator.start();
    if (!cli.port_file.empty()) {  // written then renamed, so a script never reads half a port
      const std::string temporary = cli.port_file + ".tmp";
      std::ofstream(temporary) << simulator.port() << "\n";
      std::filesystem::rename(temporary, cli.port_file);
    }
    const auto& o = simulator.options();
    std::string tables;
    for (const auto& name : simulator.dataset().table_names()) {
      const auto* table = simulator.dataset().table(name);
      tables += fmt::format("{}{}({})", tables.empty() ? "" : ",", name, table->table_id());
    }
    std::cout << fmt::format(
                     "actito-sim listening on {} entity={} profiles={} custom_records={} tables={} "
                     "seed={} limits={}/{}per{}ms timestamp_style={} visibility_delay={}ms",
                     simulator.base_url(), o.entity, o.data.profiles, o.data.custom_records, tables,
                     o.data.seed, o.limits.max_concurrent, o.limits.calls_per_minute,
                     o.limits.window.count(),
                     o.data.style == TimestampStyle::kIsoUtc ? "iso-utc" : "naive-brussels",
                     o.visibility_delay.count())
              << std::endl;
    int received = 0;
    sigwait(&stop_signals, &received);
    std::cerr << "actito-sim: signal " << received << ", stopping\n";
    simulator.stop();
  } catch (const std::exception& e) {
    std::cerr << "actito-sim: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

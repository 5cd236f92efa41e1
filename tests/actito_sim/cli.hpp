// Command line of the `actito-sim` executable: flags -> SimOptions (in the library so tests can
// check it).
#pragma once

#include <chrono>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "tests/actito_sim/sim_options.hpp"

namespace replicator::actito_sim {

// A bad flag or value; main prints it with the usage hint and exits 2.
class CliError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct CliOptions {
  SimOptions sim;         // port defaults to 8089 here
  std::string port_file;  // write the bound port there after start
  bool help = false;
};

// Parses argv[1..]; accepts "--flag value" and "--flag=value". Throws CliError.
CliOptions parse_command_line(const std::vector<std::string_view>& args);
std::string usage();

// "500ms", "2s", "5m", "1h"; a bare number is seconds. Throws CliError.
std::chrono::milliseconds parse_duration(std::string_view text);

}  // namespace replicator::actito_sim

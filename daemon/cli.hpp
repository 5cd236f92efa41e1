// The command line of interface.md section 1: parses arguments, loads the config, sets up logging,
// runs one subcommand and maps every failure to its exit code.
#pragma once

namespace replicator::daemon {

int run_cli(int argc, char** argv);

}  // namespace replicator::daemon

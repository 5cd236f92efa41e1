// actito-replicator: parse, build, run, map to an exit code. Everything else lives in libraries.
#include "daemon/cli.hpp"

int main(int argc, char** argv) { return replicator::daemon::run_cli(argc, argv); }

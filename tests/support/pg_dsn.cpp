#include "tests/support/pg_dsn.hpp"

#include <cstdlib>
#include <fstream>
#include <stdexcept>

#ifndef REPLICATOR_TEST_PG_DSN_FILE_DEFAULT
#define REPLICATOR_TEST_PG_DSN_FILE_DEFAULT ""
#endif

namespace replicator::testsupport {

namespace {
std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}
}  // namespace

std::string test_pg_dsn() {
  if (const char* dsn = std::getenv("REPLICATOR_TEST_PG_DSN"); dsn != nullptr && *dsn != '\0') {
    return dsn;
  }
  const char* env_file = std::getenv("REPLICATOR_TEST_PG_DSN_FILE");
  std::string file =
      env_file != nullptr && *env_file != '\0' ? env_file : REPLICATOR_TEST_PG_DSN_FILE_DEFAULT;
  if (!file.empty()) {
    std::ifstream in(file);
    std::string line;
    if (in && std::getline(in, line) && !trim(line).empty()) return trim(line);
  }
  throw std::runtime_error(
      "no PostgreSQL for this test: the DSN file '" + file +
      "' does not exist and REPLICATOR_TEST_PG_DSN is not set. Run the tests with ctest (the "
      "pg_cluster_start fixture starts a throwaway cluster), or start one with "
      "`scripts/pg-temp.sh start DIR` and export REPLICATOR_TEST_PG_DSN_FILE=DIR/dsn (or "
      "REPLICATOR_TEST_PG_DSN=<libpq DSN>).");
}

}  // namespace replicator::testsupport

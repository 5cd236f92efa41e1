// Where the PostgreSQL tests find their database.
#pragma once

#include <string>

namespace replicator::testsupport {

// The DSN of the test database: $REPLICATOR_TEST_PG_DSN if set; else the first line of
// $REPLICATOR_TEST_PG_DSN_FILE, or of the file the ctest fixture `pg_cluster_start` writes
// (<build>/pgtest/dsn, compiled in). Throws std::runtime_error explaining how to get a database
// when there is none, so a test fails loudly instead of being skipped.
std::string test_pg_dsn();

}  // namespace replicator::testsupport

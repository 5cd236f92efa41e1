// The two libpqxx 6.4 facilities the sink needs that 6.4 marks deprecated, kept in one place.
// Private to sinks/postgres.
#pragma once

#include <pqxx/connection_base>
#include <pqxx/transaction_base>
#include <string>
#include <vector>

namespace replicator::sink_postgres::detail {

// Stops libpqxx from silently reconnecting a broken connection at the next BEGIN: a silent
// reconnect would lose the session's temp staging tables and settings. The sink replaces the
// connection itself instead.
void inhibit_reactivation(pqxx::connection_base& connection);

// COPY <table> FROM STDIN with data already encoded in text format. Each chunk holds whole rows
// separated by '\n', without a trailing newline. `table` is an already quoted name. Server-side
// errors surface when the copy is completed, as pqxx::sql_error.
void copy_text(pqxx::transaction_base& tx, const std::string& table,
               const std::vector<std::string>& chunks);

}  // namespace replicator::sink_postgres::detail

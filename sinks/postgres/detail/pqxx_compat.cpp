#include "sinks/postgres/detail/pqxx_compat.hpp"

#include <pqxx/tablewriter>

namespace replicator::sink_postgres::detail {

// libpqxx 6.4 deprecates both calls below without a replacement that fits:
// - inhibit_reactivation(): the documented way to keep temp tables and session settings from
//   being lost behind the caller's back (see connection_base.hxx);
// - tablewriter: its successor stream_to re-escapes every field itself (non-ASCII bytes as
//   octal escapes) and keeps write_raw_line() private, so pre-encoded COPY text cannot be sent
//   through it. tablewriter::write_raw_line() hands our lines to PQputCopyData unchanged.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

void inhibit_reactivation(pqxx::connection_base& connection) {
  connection.inhibit_reactivation(true);
}

void copy_text(pqxx::transaction_base& tx, const std::string& table,
               const std::vector<std::string>& chunks) {
  pqxx::tablewriter writer(tx, table);
  for (const std::string& chunk : chunks) writer.write_raw_line(chunk);
  writer.complete();
}

#pragma GCC diagnostic pop

}  // namespace replicator::sink_postgres::detail

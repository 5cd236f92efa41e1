// libpqxx exceptions to model::Error kinds (house style rule 15), mapped once at this boundary.
// Private to sinks/postgres.
#pragma once

#include <string>
#include <string_view>

#include "core/model/error.hpp"

namespace replicator::sink_postgres::detail {

// What a SQLSTATE means for the caller: 40001/40P01 and connection, resource, shutdown and lock
// classes are transient; 22 (data), 23 (integrity), 42 (syntax, undefined object, privilege) and
// everything unknown are permanent; 28 (authorization) is an auth error.
model::ErrorKind kind_for_sqlstate(std::string_view sqlstate) noexcept;

// A failure to connect (libpq reports no SQLSTATE there): refused credentials are kAuth, a
// database or role that does not exist is kPermanent, the rest (refused, timeout, DNS) transient.
model::ErrorKind kind_for_connect_failure(std::string_view message) noexcept;

// libpq's multi-line message ("ERROR:  x\nDETAIL:  y\n") as one line ("x; DETAIL: y"),
// shortened to about `limit` bytes.
std::string one_line(std::string_view message, std::size_t limit = 600);

struct DbFailure {
  model::ErrorKind kind;
  std::string message;   // redacted, without context; ends with (SQLSTATE xxxxx) when known
  bool connection_lost;  // the connection must be dropped
};

// Classifies the exception being handled; call only inside a catch block. `dsn` is used to
// redact the message; `connecting` says the failure happened while opening the connection.
DbFailure classify_current_exception(std::string_view dsn, bool connecting);

}  // namespace replicator::sink_postgres::detail

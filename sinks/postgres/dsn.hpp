// libpq connection strings: password redaction for messages, and the parameters the sink adds.
#pragma once

#include <string>
#include <string_view>

namespace replicator::sink_postgres {

// The DSN with every password replaced by "***", in both libpq forms:
//   "host=db user=u password='s e c' dbname=x" -> "host=db user=u password=*** dbname=x"
//   "postgresql://u:secret@db/x?password=p"    -> "postgresql://u:***@db/x?password=***"
// Unparseable input is still redacted (a best effort that errs on the side of hiding more).
std::string redact_dsn(std::string_view dsn);

// Removes secrets from a message that may echo (parts of) `dsn` (libpq errors can): every
// occurrence of the DSN's password values, `password=...` pairs and URI user-info passwords.
std::string redact_message(std::string_view message, std::string_view dsn);

// Adds `key=value` to a conninfo string or URI unless the DSN already sets `key`.
// Values are quoted (key=value form) or percent-encoded (URI form) as libpq expects.
std::string add_conninfo_default(std::string_view dsn, std::string_view key,
                                 std::string_view value);

}  // namespace replicator::sink_postgres

#include "sinks/postgres/detail/errors.hpp"

#include <pqxx/except>

#include "sinks/postgres/dsn.hpp"

namespace replicator::sink_postgres::detail {

using model::ErrorKind;

ErrorKind kind_for_sqlstate(std::string_view s) noexcept {
  if (s == "40001" || s == "40P01") return ErrorKind::kTransient;  // serialization, deadlock
  std::string_view cls = s.substr(0, 2);
  if (cls == "40") return ErrorKind::kTransient;  // other transaction rollbacks
  if (cls == "08") return ErrorKind::kTransient;  // connection exception
  if (cls == "53") return ErrorKind::kTransient;  // insufficient resources (disk full, memory)
  if (cls == "58") return ErrorKind::kTransient;  // system error (I/O)
  if (s == "57P01" || s == "57P02" || s == "57P03" || s == "57014") {
    return ErrorKind::kTransient;  // admin/crash shutdown, cannot connect now, query canceled
  }
  if (s == "55P03" || s == "55006") return ErrorKind::kTransient;  // lock not available, in use
  if (cls == "28") return ErrorKind::kAuth;
  return ErrorKind::kPermanent;  // 22, 23, 42 and anything we do not know how to retry
}

ErrorKind kind_for_connect_failure(std::string_view m) noexcept {
  auto has = [m](std::string_view needle) { return m.find(needle) != std::string_view::npos; };
  if (has("password authentication failed") || has("no pg_hba.conf entry") ||
      has("authentication failed") || has("password must be") || has("no password supplied")) {
    return ErrorKind::kAuth;
  }
  if ((has("database \"") || has("role \"")) && has("does not exist")) return ErrorKind::kPermanent;
  if (has("invalid connection option") || has("missing \"=\"") || has("invalid URI") ||
      has("invalid integer value") || has("unterminated quoted string")) {
    return ErrorKind::kConfig;
  }
  return ErrorKind::kTransient;
}

std::string one_line(std::string_view m, std::size_t limit) {
  std::string out;
  for (std::size_t i = 0; i < m.size(); ++i) {
    char c = m[i];
    if (c == '\n' || c == '\r') {
      while (!out.empty() && out.back() == ' ') out.pop_back();
      if (!out.empty() && out.back() != ';') out += "; ";
      continue;
    }
    if (c == '\t') c = ' ';
    if (c == ' ' && (out.empty() || out.back() == ' ')) continue;
    out += c;
  }
  while (!out.empty() && (out.back() == ' ' || out.back() == ';')) out.pop_back();
  for (std::string_view prefix : {std::string_view("ERROR: "), std::string_view("FATAL: ")}) {
    if (out.substr(0, prefix.size()) == prefix) out.erase(0, prefix.size());
  }
  if (out.size() > limit) {
    out.resize(limit);
    // Do not cut a UTF-8 sequence in half.
    while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80) out.pop_back();
    if (!out.empty() && static_cast<unsigned char>(out.back()) >= 0xC0) out.pop_back();
    out += "...";
  }
  return out;
}

DbFailure classify_current_exception(std::string_view dsn, bool connecting) {
  auto clean = [dsn](const char* what) { return one_line(redact_message(what, dsn)); };
  try {
    throw;
  } catch (const pqxx::in_doubt_error& e) {
    return {ErrorKind::kTransient,
            "the connection was lost during COMMIT, so whether it took effect is unknown; the "
            "state will be re-read before retrying (" +
                clean(e.what()) + ")",
            true};
  } catch (const pqxx::broken_connection& e) {
    if (connecting) {
      std::string msg = clean(e.what());
      return {kind_for_connect_failure(msg), "cannot connect to PostgreSQL: " + msg, true};
    }
    return {ErrorKind::kTransient, "connection to PostgreSQL lost: " + clean(e.what()), true};
  } catch (const pqxx::transaction_rollback& e) {
    return {ErrorKind::kTransient,
            "the server rolled the transaction back (serialization failure or deadlock): " +
                clean(e.what()),
            false};
  } catch (const pqxx::sql_error& e) {
    const std::string& state = e.sqlstate();
    std::string msg = clean(e.what());
    if (!state.empty()) msg += " (SQLSTATE " + state + ")";
    bool lost = state.substr(0, 2) == "08" || state == "57P01" || state == "57P02";
    ErrorKind kind = state.empty() ? ErrorKind::kPermanent : kind_for_sqlstate(state);
    if (connecting && kind == ErrorKind::kPermanent) kind = kind_for_connect_failure(msg);
    return {kind, msg, lost || connecting};
  } catch (const pqxx::failure& e) {
    return {connecting ? kind_for_connect_failure(e.what()) : ErrorKind::kPermanent,
            clean(e.what()), connecting};
  } catch (const std::exception& e) {
    return {ErrorKind::kPermanent, clean(e.what()), connecting};
  } catch (...) {
    return {ErrorKind::kPermanent, "unknown error", connecting};
  }
}

}  // namespace replicator::sink_postgres::detail

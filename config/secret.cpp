#include "config/secret.hpp"

#include <cctype>
#include <optional>
#include <ostream>

namespace replicator::config {
namespace {

constexpr std::string_view kMask = "***";

// libpq conninfo keywords whose values are shown. Every other value (password, sslpassword, and
// any unknown or misspelt keyword such as `pasword`) is masked: an allow-list fails safe.
bool is_shown_key(std::string_view key) {
  static constexpr std::string_view kShown[] = {"host",
                                                "hostaddr",
                                                "port",
                                                "dbname",
                                                "user",
                                                "passfile",
                                                "connect_timeout",
                                                "client_encoding",
                                                "options",
                                                "application_name",
                                                "fallback_application_name",
                                                "keepalives",
                                                "keepalives_idle",
                                                "keepalives_interval",
                                                "keepalives_count",
                                                "tcp_user_timeout",
                                                "replication",
                                                "gssencmode",
                                                "sslmode",
                                                "requiressl",
                                                "sslcompression",
                                                "sslcert",
                                                "sslkey",
                                                "sslrootcert",
                                                "sslcrl",
                                                "sslcrldir",
                                                "sslsni",
                                                "requirepeer",
                                                "ssl_min_protocol_version",
                                                "ssl_max_protocol_version",
                                                "krbsrvname",
                                                "gsslib",
                                                "gssdelegation",
                                                "service",
                                                "target_session_attrs",
                                                "load_balance_hosts",
                                                "channel_binding",
                                                "sslcertmode",
                                                "require_auth"};
  for (auto k : kShown) {
    if (k == key) return true;
  }
  return false;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// Keyword/value form: `host=h port=5432 password='a b\'c'`. Rebuilt with single spaces; password
// values replaced by the mask. nullopt when the text is not in this form.
std::optional<std::string> mask_keyword_dsn(std::string_view s) {
  std::string out;
  std::size_t i = 0;
  bool any = false;
  while (true) {
    while (i < s.size() && is_space(s[i])) ++i;
    if (i == s.size()) break;
    std::size_t key_start = i;
    while (i < s.size() && s[i] != '=' && !is_space(s[i])) ++i;
    std::string_view key = s.substr(key_start, i - key_start);
    while (i < s.size() && is_space(s[i])) ++i;
    if (key.empty() || i == s.size() || s[i] != '=') return std::nullopt;
    ++i;
    while (i < s.size() && is_space(s[i])) ++i;
    std::size_t value_start = i;
    if (i < s.size() && s[i] == '\'') {
      ++i;
      bool closed = false;
      while (i < s.size()) {
        if (s[i] == '\\' && i + 1 < s.size()) {
          i += 2;
        } else if (s[i] == '\'') {
          ++i;
          closed = true;
          break;
        } else {
          ++i;
        }
      }
      if (!closed) return std::nullopt;
    } else {
      while (i < s.size() && !is_space(s[i])) {
        i += (s[i] == '\\' && i + 1 < s.size()) ? 2 : 1;
      }
    }
    std::string_view value = s.substr(value_start, i - value_start);
    if (!out.empty()) out += ' ';
    out.append(key);
    out += '=';
    if (is_shown_key(key)) {
      out.append(value);
    } else {
      out += kMask;
    }
    any = true;
  }
  if (!any) return std::nullopt;
  return out;
}

// URI form: postgresql://[user[:password]@][netloc][/dbname][?param=value&...].
std::string mask_uri_dsn(std::string_view s, std::size_t after_scheme) {
  std::string out(s.substr(0, after_scheme));
  std::string_view rest = s.substr(after_scheme);
  // The last '@' ends the credentials: a raw '@' inside a password is then still masked (an '@'
  // in a query value over-masks, which is the safe direction).
  std::size_t at = rest.rfind('@');
  if (at != std::string_view::npos) {
    std::string_view userinfo = rest.substr(0, at);
    std::size_t colon = userinfo.find(':');
    out.append(userinfo.substr(0, colon));
    if (colon != std::string_view::npos) {
      out += ':';
      out += kMask;
    }
    out += '@';
    rest = rest.substr(at + 1);
  }
  std::size_t q = rest.find('?');
  out.append(rest.substr(0, q));
  if (q == std::string_view::npos) return out;
  out += '?';
  std::string_view query = rest.substr(q + 1);
  bool first = true;
  while (true) {
    std::size_t amp = query.find('&');
    std::string_view param = query.substr(0, amp);
    if (!first) out += '&';
    first = false;
    std::size_t eq = param.find('=');
    std::string_view key = param.substr(0, eq);
    if (eq == std::string_view::npos || is_shown_key(key)) {
      out.append(param);
    } else {
      out.append(key);
      out += '=';
      out += kMask;
    }
    if (amp == std::string_view::npos) break;
    query = query.substr(amp + 1);
  }
  return out;
}

}  // namespace

std::string mask_dsn(std::string_view dsn) {
  for (std::string_view scheme : {"postgresql://", "postgres://"}) {
    if (dsn.substr(0, scheme.size()) == scheme) return mask_uri_dsn(dsn, scheme.size());
  }
  if (auto masked = mask_keyword_dsn(dsn)) return *masked;
  return std::string(kMask);
}

std::string Secret::masked() const {
  if (kind_ == Kind::kDsn) return mask_dsn(value_);
  return std::string(kMask);
}

std::ostream& operator<<(std::ostream& os, const Secret& secret) { return os << secret.masked(); }

}  // namespace replicator::config

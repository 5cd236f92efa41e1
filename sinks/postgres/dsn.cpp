#include "sinks/postgres/dsn.hpp"

#include <algorithm>
#include <cctype>
#include <optional>
#include <vector>

namespace replicator::sink_postgres {
namespace {

constexpr std::string_view kMask = "***";

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::size_t uri_prefix_length(std::string_view s) {
  for (std::string_view p : {std::string_view("postgresql://"), std::string_view("postgres://")}) {
    if (s.substr(0, p.size()) == p) return p.size();
  }
  return 0;
}

// One `key = value` pair of a conninfo string, as positions in the original text.
struct Pair {
  std::string_view key;
  std::size_t value_begin = 0;  // first character of the value (the quote when quoted)
  std::size_t value_end = 0;    // one past its last character (past the closing quote)
  std::string value;            // unquoted, unescaped
};

// Parses a key=value conninfo string the way libpq does; nullopt when it is malformed.
std::optional<std::vector<Pair>> parse_conninfo(std::string_view s) {
  std::vector<Pair> pairs;
  std::size_t i = 0;
  while (true) {
    while (i < s.size() && is_space(s[i])) ++i;
    if (i == s.size()) break;
    std::size_t key_begin = i;
    while (i < s.size() && !is_space(s[i]) && s[i] != '=') ++i;
    Pair p;
    p.key = s.substr(key_begin, i - key_begin);
    while (i < s.size() && is_space(s[i])) ++i;
    if (i == s.size() || s[i] != '=' || p.key.empty()) return std::nullopt;
    ++i;
    while (i < s.size() && is_space(s[i])) ++i;
    p.value_begin = i;
    if (i < s.size() && s[i] == '\'') {
      ++i;
      bool closed = false;
      while (i < s.size()) {
        if (s[i] == '\\' && i + 1 < s.size()) {
          p.value += s[i + 1];
          i += 2;
        } else if (s[i] == '\'') {
          ++i;
          closed = true;
          break;
        } else {
          p.value += s[i++];
        }
      }
      if (!closed) return std::nullopt;
    } else {
      while (i < s.size() && !is_space(s[i])) {
        if (s[i] == '\\' && i + 1 < s.size()) {
          p.value += s[i + 1];
          i += 2;
        } else {
          p.value += s[i++];
        }
      }
    }
    p.value_end = i;
    pairs.push_back(std::move(p));
  }
  return pairs;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int hi = hex_value(s[i + 1]);
      int lo = hex_value(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

std::string percent_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '_' || c == '.' || c == '~' || c == '/') {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

// Positions of the secrets of a URI: the user-info password and `password=` query values.
struct Span {
  std::size_t begin;
  std::size_t end;
};

std::vector<Span> uri_secret_spans(std::string_view uri) {
  std::vector<Span> spans;
  std::size_t start = uri_prefix_length(uri);
  std::size_t query = uri.find('?', start);
  std::string_view before_query = uri.substr(0, query);
  // The user info ends at the last '@' before the query: a raw '@' or '/' inside a password is
  // invalid, but it must still not leak.
  std::size_t at = before_query.rfind('@');
  if (at != std::string_view::npos && at >= start) {
    std::size_t colon = before_query.find(':', start);
    if (colon != std::string_view::npos && colon < at) spans.push_back({colon + 1, at});
  }
  if (query != std::string_view::npos) {
    std::size_t i = query + 1;
    while (i <= uri.size()) {
      std::size_t amp = uri.find('&', i);
      if (amp == std::string_view::npos) amp = uri.size();
      std::string_view param = uri.substr(i, amp - i);
      std::size_t eq = param.find('=');
      if (eq != std::string_view::npos &&
          iequals(percent_decode(param.substr(0, eq)), "password")) {
        spans.push_back({i + eq + 1, amp});
      }
      i = amp + 1;
    }
  }
  return spans;
}

std::string replace_spans(std::string_view text, const std::vector<Span>& spans) {
  std::string out;
  std::size_t pos = 0;
  for (const Span& s : spans) {
    out.append(text.substr(pos, s.begin - pos));
    out.append(kMask);
    pos = s.end;
  }
  out.append(text.substr(pos));
  return out;
}

std::string redact_uri(std::string_view uri) { return replace_spans(uri, uri_secret_spans(uri)); }

// Redacts `password = value` wherever it appears (any case), the value running to the next
// whitespace or, when quoted, to the closing quote.
std::string redact_password_pairs(std::string_view text) {
  static constexpr std::string_view kWord = "password";
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    if (i + kWord.size() <= text.size() && iequals(text.substr(i, kWord.size()), kWord)) {
      std::size_t j = i + kWord.size();
      while (j < text.size() && is_space(text[j])) ++j;
      if (j < text.size() && text[j] == '=') {
        ++j;
        while (j < text.size() && is_space(text[j])) ++j;
        std::size_t end = j;
        if (end < text.size() && text[end] == '\'') {
          ++end;
          while (end < text.size() && text[end] != '\'') end += text[end] == '\\' ? 2 : 1;
          end = std::min(end + 1, text.size());
        } else {
          while (end < text.size() && !is_space(text[end]) && text[end] != '&') {
            end += text[end] == '\\' ? 2 : 1;
          }
          end = std::min(end, text.size());
        }
        out.append(text.substr(i, j - i));
        out.append(kMask);
        i = end;
        continue;
      }
    }
    out += text[i++];
  }
  return out;
}

// The literal password values a DSN carries (decoded and, for URIs, as written).
std::vector<std::string> dsn_passwords(std::string_view dsn) {
  std::vector<std::string> out;
  if (uri_prefix_length(dsn) > 0) {
    for (const Span& s : uri_secret_spans(dsn)) {
      std::string_view raw = dsn.substr(s.begin, s.end - s.begin);
      out.emplace_back(raw);
      out.push_back(percent_decode(raw));
    }
  } else if (auto pairs = parse_conninfo(dsn)) {
    for (const Pair& p : *pairs) {
      // Also misspelt keys ("pasword", "passwd"): libpq rejects them, the value is still secret.
      std::string key(p.key);
      for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (key.find("pass") != std::string::npos || key.find("pwd") != std::string::npos) {
        out.push_back(p.value);
      }
    }
  }
  return out;
}

void replace_all(std::string& text, std::string_view what, std::string_view with) {
  if (what.empty()) return;
  std::size_t pos = 0;
  while ((pos = text.find(what, pos)) != std::string::npos) {
    text.replace(pos, what.size(), with);
    pos += with.size();
  }
}

bool has_key(std::string_view dsn, std::string_view key) {
  if (uri_prefix_length(dsn) > 0) {
    std::size_t query = dsn.find('?');
    if (query == std::string_view::npos) return false;
    std::size_t i = query + 1;
    while (i <= dsn.size()) {
      std::size_t amp = dsn.find('&', i);
      if (amp == std::string_view::npos) amp = dsn.size();
      std::string_view param = dsn.substr(i, amp - i);
      if (percent_decode(param.substr(0, param.find('='))) == key) return true;
      i = amp + 1;
    }
    return false;
  }
  auto pairs = parse_conninfo(dsn);
  if (!pairs) return true;  // malformed: leave it alone and let libpq report it
  for (const Pair& p : *pairs) {
    if (p.key == key) return true;
  }
  return false;
}

}  // namespace

std::string redact_dsn(std::string_view dsn) {
  if (uri_prefix_length(dsn) > 0) return redact_uri(dsn);
  auto pairs = parse_conninfo(dsn);
  if (!pairs) return redact_password_pairs(dsn);
  std::vector<Span> spans;
  for (const Pair& p : *pairs) {
    if (iequals(p.key, "password")) spans.push_back({p.value_begin, p.value_end});
  }
  return replace_spans(dsn, spans);
}

std::string redact_message(std::string_view message, std::string_view dsn) {
  std::string text(message);
  for (const std::string& secret : dsn_passwords(dsn)) replace_all(text, secret, kMask);
  // URIs echoed in the message ("invalid URI query parameter: \"postgresql://...\"").
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t hit = std::string::npos;
    for (std::string_view scheme :
         {std::string_view("postgresql://"), std::string_view("postgres://")}) {
      hit = std::min(hit, text.find(scheme, i));
    }
    if (hit == std::string::npos) break;
    std::size_t end = hit;
    while (end < text.size() && !is_space(text[end]) && text[end] != '"' && text[end] != '\'') {
      ++end;
    }
    out.append(text, i, hit - i);
    out.append(redact_uri(std::string_view(text).substr(hit, end - hit)));
    i = end;
  }
  out.append(text, i, std::string::npos);
  return redact_password_pairs(out);
}

std::string add_conninfo_default(std::string_view dsn, std::string_view key,
                                 std::string_view value) {
  if (has_key(dsn, key)) return std::string(dsn);
  std::string out(dsn);
  if (uri_prefix_length(dsn) > 0) {
    out += dsn.find('?') == std::string_view::npos ? '?' : '&';
    out.append(key);
    out += '=';
    out += percent_encode(value);
    return out;
  }
  if (!out.empty() && !is_space(out.back())) out += ' ';
  out.append(key);
  out += "='";
  for (char c : value) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  out += '\'';
  return out;
}

}  // namespace replicator::sink_postgres

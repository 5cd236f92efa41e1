#include "config/detail/address.hpp"

#include <algorithm>
#include <cctype>

namespace replicator::config::detail {
namespace {

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c));
  });
}

bool valid_port(std::string_view s, bool allow_zero) {
  if (!all_digits(s) || s.size() > 5) return false;
  int p = std::stoi(std::string(s));
  return p <= 65535 && (allow_zero || p > 0);
}

bool valid_ipv4(std::string_view s) {
  int parts = 0;
  while (true) {
    std::size_t dot = s.find('.');
    std::string_view part = s.substr(0, dot);
    if (!all_digits(part) || part.size() > 3 || std::stoi(std::string(part)) > 255) return false;
    ++parts;
    if (dot == std::string_view::npos) break;
    s.remove_prefix(dot + 1);
  }
  return parts == 4;
}

bool valid_ipv6(std::string_view s) {
  return s.find(':') != std::string_view::npos && std::all_of(s.begin(), s.end(), [](char c) {
           return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.';
         });
}

bool valid_hostname(std::string_view s) {
  if (s.empty() || s.size() > 253 || s.front() == '.' || s.front() == '-') return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-';
  });
}

}  // namespace

// contract A01: scheme://host[:port], http or https, no path, no trailing slash.
std::string base_url_problem(std::string_view s) {
  std::string_view rest;
  if (s.substr(0, 7) == "http://") {
    rest = s.substr(7);
  } else if (s.substr(0, 8) == "https://") {
    rest = s.substr(8);
  } else {
    return "the scheme must be http:// or https://";
  }
  if (rest.empty()) return "the host is missing";
  if (rest.find('/') != std::string_view::npos)
    return "it must not have a path or a trailing slash";
  if (rest.find_first_of("?#") != std::string_view::npos)
    return "it must not have a query or fragment";
  if (rest.find('@') != std::string_view::npos) return "it must not hold user information";
  std::string_view host = rest, port;
  if (rest.front() == '[') {
    std::size_t close = rest.find(']');
    if (close == std::string_view::npos) return "an IPv6 host is written [address]";
    host = rest.substr(1, close - 1);
    std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return "unexpected text after the IPv6 host";
      port = after.substr(1);
      if (!valid_port(port, false)) return "the port must be a number from 1 to 65535";
    }
    if (!valid_ipv6(host)) return "the address in [] is not an IPv6 address";
    return {};
  }
  if (std::size_t colon = rest.find(':'); colon != std::string_view::npos) {
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
    if (!valid_port(port, false)) return "the port must be a number from 1 to 65535";
  }
  if (!valid_hostname(host)) return "the host name is not valid";
  return {};
}

std::string listen_problem(std::string_view s) {
  std::string_view host, port;
  if (!s.empty() && s.front() == '[') {
    std::size_t close = s.find(']');
    if (close == std::string_view::npos || close + 1 >= s.size() || s[close + 1] != ':') {
      return "an IPv6 address is written [address]:port";
    }
    host = s.substr(1, close - 1);
    port = s.substr(close + 2);
    if (!valid_ipv6(host)) return "the address in [] is not an IPv6 address";
  } else {
    std::size_t colon = s.rfind(':');
    if (colon == std::string_view::npos) return "the port is missing";
    host = s.substr(0, colon);
    port = s.substr(colon + 1);
    if (host != "localhost" && !valid_ipv4(host)) {
      return "the host must be an IPv4 address, [IPv6 address] or localhost";
    }
  }
  if (!valid_port(port, true)) return "the port must be a number from 0 to 65535";
  return {};
}

}  // namespace replicator::config::detail

// Private to config/: checks of network addresses written in the config and the catalog.
#pragma once

#include <string>
#include <string_view>

namespace replicator::config::detail {

// Why `text` is not a listen address (IPv4:port, [IPv6]:port or localhost:port, port 0..65535),
// or "" when it is one.
std::string listen_problem(std::string_view text);

// Why `text` is not a base URL (contract A01: http(s)://host[:port], no path, no trailing slash),
// or "" when it is one.
std::string base_url_problem(std::string_view text);

}  // namespace replicator::config::detail

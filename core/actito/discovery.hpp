// Discovery: the objects a connection can read. Static objects come from the catalog; dynamic
// ones are derived from the profile-table and custom-table structures (contract 5.2-5.4), by
// expanding the catalog's templates: no object is known to the code by name.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>

#include "core/actito/client.hpp"
#include "core/model/catalog.hpp"

namespace replicator::actito {

// Expands the dynamic templates of `catalog` for one profile-table structure (5.2) or one
// custom-table structure (5.3). Throws model::Error(kPermanent) naming clashes (5.4) or
// malformed structures.
std::vector<model::ObjectDescriptor> expand_profile_table(const model::Catalog& catalog,
                                                          const boost::json::value& table);
std::vector<model::ObjectDescriptor> expand_custom_table(const model::Catalog& catalog,
                                                         const boost::json::value& table);

// Reads structures through `client` and keeps them for `ttl` (metadata_cache_ttl).
// Thread-safety: like the client, one executor.
class Discovery {
 public:
  Discovery(ActitoClient& client, const model::Catalog& catalog, std::chrono::milliseconds ttl);

  // Every object: static ones, then dynamic ones. Uses the cache while it is fresh.
  boost::asio::awaitable<std::vector<model::ObjectDescriptor>> objects(bool force_refresh = false);
  // One object by name: static objects without any API call, dynamic ones through discovery.
  // Throws model::Error(kConfig) listing close names when the object does not exist.
  boost::asio::awaitable<model::ObjectDescriptor> find(std::string name);
  void invalidate() noexcept { fetched_.reset(); }

 private:
  boost::asio::awaitable<std::vector<boost::json::value>> list_all(std::string route, std::string key,
                                                                   std::string label);

  ActitoClient& client_;
  const model::Catalog& catalog_;
  std::chrono::milliseconds ttl_;
  std::vector<model::ObjectDescriptor> dynamic_;
  std::optional<std::chrono::steady_clock::time_point> fetched_;
};

}  // namespace replicator::actito

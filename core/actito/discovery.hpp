// Discovery: the objects a connection can read. Static objects come from the catalog; dynamic
// ones are derived from the profile-table and custom-table structures (contract 5.2-5.4), by
// expanding the catalog's templates: no object is known to the code by name.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>

#include "core/actito/client.hpp"
#include "core/engine/ports.hpp"
#include "core/model/catalog.hpp"

namespace replicator::actito {

// Expands the dynamic templates of `catalog` for one profile-table structure (5.2) or one
// custom-table structure (5.3). Throws model::Error(kPermanent) naming clashes (5.4) or
// malformed structures.
std::vector<model::ObjectDescriptor> expand_profile_table(const model::Catalog& catalog,
                                                          const boost::json::value& table);
std::vector<model::ObjectDescriptor> expand_custom_table(const model::Catalog& catalog,
                                                         const boost::json::value& table);

// A persistent copy of the structures (contract 5.5), so that a restart within
// metadata_cache_ttl does not discover again. The daemon keeps it in a job's destination.
class MetadataStore {
 public:
  virtual ~MetadataStore() = default;
  virtual boost::asio::awaitable<std::optional<engine::CachedMetadata>> load(std::string key) = 0;
  virtual boost::asio::awaitable<void> store(std::string key, engine::CachedMetadata metadata) = 0;
};

// Reads structures through `client` and keeps them for `ttl` (metadata_cache_ttl), in memory
// and, when a store is given, in the store. Thread-safety: like the client, one executor.
class Discovery {
 public:
  using Now = std::function<model::Timestamp()>;
  // `now` is the wall clock (the cache's age survives restarts); the system clock by default.
  Discovery(ActitoClient& client, const model::Catalog& catalog, std::chrono::milliseconds ttl, Now now = {});

  // Every object: static ones, then dynamic ones. Uses the memory copy, then the store's, while
  // fresh; otherwise reads the structure routes and refreshes both. A store that fails is
  // skipped (the API answers instead); the destination's own errors surface when it is written.
  boost::asio::awaitable<std::vector<model::ObjectDescriptor>> objects(bool force_refresh = false,
                                                                       MetadataStore* store = nullptr);
  // One object by name: static objects without any API call, dynamic ones through discovery.
  // Throws model::Error(kConfig) listing close names when the object does not exist.
  boost::asio::awaitable<model::ObjectDescriptor> find(std::string name, MetadataStore* store = nullptr);
  // The structures are stale (a list answered 404 TABLE_NOT_FOUND, or a record holds an
  // attribute they do not declare, contract 5.5): the next call reads them from the API,
  // bypassing the store. Honoured at most once per `min_refresh_interval` of the structures'
  // age, so that a key the API returns but never declares cannot cost calls every cycle.
  void invalidate() noexcept;
  void set_min_refresh_interval(std::chrono::milliseconds interval) noexcept { min_refresh_ = interval; }

  // The store key of this account: base URL and entity (no secret).
  std::string cache_key() const;
  // Structure reads from the API since construction (each is one pass over both routes).
  int refreshes() const noexcept { return refreshes_; }
  // When the structures in use were read from the API.
  std::optional<model::Timestamp> fetched_at() const noexcept { return fetched_; }

 private:
  boost::asio::awaitable<std::vector<boost::json::value>> list_all(std::string route, std::string key,
                                                                   std::string label);
  // Builds the dynamic objects from a cached body {"profileTables":[...],"customTables":[...]}.
  void load_body(const boost::json::value& body);

  ActitoClient& client_;
  const model::Catalog& catalog_;
  std::chrono::milliseconds ttl_;
  Now now_;
  std::vector<model::ObjectDescriptor> dynamic_;
  std::optional<model::Timestamp> fetched_;
  bool stale_ = false;
  std::chrono::milliseconds min_refresh_{60'000};
  int refreshes_ = 0;
};

}  // namespace replicator::actito

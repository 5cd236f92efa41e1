// Generic, deterministic rows for any catalog object (static objects and the per-profile-table
// dynamic objects), derived from the field list alone: a handful of plausible rows per object.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "tests/actito_sim/catalog.hpp"
#include "tests/actito_sim/data_generation.hpp"

namespace replicator::actito_sim {

// What the generator needs to make references plausible.
struct StaticRowContext {
  std::uint64_t seed = 42;
  HistoryOptions history;  // anchor and spread of the moments
  std::string entity = "acme";
  std::string profile_table_id = "16";
  std::string profile_table_name = "Customers";
  std::vector<std::string> subscriptions = {"Newsletter", "Promotions"};
  std::int64_t profile_count = 0;     // profileId fields point into 1..profile_count
  std::int64_t reference_range = 12;  // other ...Id fields point into 1..reference_range
};

// `count` rows for `spec` with ids 1..count. TIMESTAMP values are epoch milliseconds (rendered by
// GenericCollection in the configured style); nested wire names ("location.remoteLocationId")
// become nested objects; extended fields are included (lists strip them). For a nested object
// (spec.parent_object set), rows are spread over the parent ids 1..parent_count.
std::vector<boost::json::object> generate_static_rows(const ObjectSpec& spec, std::size_t count,
                                                      const StaticRowContext& context,
                                                      std::int64_t parent_count = 0);

// A row created at run time (a mutation): id `id`, creationMoment = updateMoment = `moment_ms`
// where the object has them, values derived from (seed, id, version), nested under `parent_id`
// when the object is nested.
boost::json::object new_static_row(const ObjectSpec& spec, std::int64_t id, std::uint32_t version,
                                   const StaticRowContext& context, std::int64_t moment_ms,
                                   std::int64_t parent_id);

// The next version of `old` (an update): the key, the parent field and creationMoment stay;
// updateMoment becomes max(now_ms, old updateMoment, creationMoment) where the object has it;
// every other field is regenerated for `version`, and at least one non-key list field and (where
// the object has them) at least one extended field are guaranteed to differ from `old`.
boost::json::object next_static_row(const ObjectSpec& spec, const boost::json::object& old,
                                    std::uint32_t version, const StaticRowContext& context,
                                    std::int64_t now_ms);

}  // namespace replicator::actito_sim

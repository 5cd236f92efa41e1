// From what the user asked for a stream (object, fields, mode, page size, lookback) and what the
// catalog or discovery says about the object, to the engine's StreamSpec. Pure logic.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "core/engine/ports.hpp"
#include "core/model/catalog.hpp"

namespace replicator::engine {

struct StreamRequest {
  std::string job;
  std::string object;
  std::optional<model::ReplicationMode> mode;  // kIncrementalUpdated = "incremental", kFullRefresh = "full"
  std::vector<std::string> fields;             // empty = every field of the list route
  std::chrono::milliseconds lookback{0};
  std::optional<int> page_size;                // nullopt = the object's maximum
  std::string where_text;                      // the user's predicate, as written
  std::string location;                        // "file:line:column" of the stream, for errors
};

// Throws model::Error(kConfig) prefixed with the request's location when the request does not
// fit the object: unknown field, incremental on an object without a cursor, page size above the
// object's maximum.
StreamSpec plan_stream(const StreamRequest& request, const model::ObjectDescriptor& object);

}  // namespace replicator::engine

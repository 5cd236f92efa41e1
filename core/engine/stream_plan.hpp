// From what the user asked for a stream (object, fields, mode, page size, lookback) and what the
// catalog or discovery says about the object, to the engine's StreamSpec. Pure logic.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "core/engine/ports.hpp"
#include "core/model/catalog.hpp"
#include "core/model/timestamp.hpp"

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
  model::TimeZone zone = model::TimeZone::utc();  // for timestamps written in `where`
  bool suppress_extended_requests = false;
  bool detect_deletes = false;
  std::chrono::milliseconds detect_deletes_every{0};
};

// Throws model::Error(kConfig) prefixed with the request's location when the request does not
// fit the object: unknown field, incremental on an object without a cursor, page size above the
// object's maximum, a `where` that does not parse or names unknown fields.
//
// `parent` is the descriptor of object.parent->object for nested objects (fan-out), else null.
//
// Fields: the selected ones (all by default), plus the key, the cursor and every field the
// locally applied part of `where` reads. Extended fields are fetched per row (kFetch), or kept
// as stored when suppress_extended_requests is set and the object honours it (kKeep).
StreamSpec plan_stream(const StreamRequest& request, const model::ObjectDescriptor& object,
                       const model::ObjectDescriptor* parent = nullptr);

}  // namespace replicator::engine

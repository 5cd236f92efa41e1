#include "core/engine/stream_plan.hpp"

#include <algorithm>

#include "core/model/error.hpp"

namespace replicator::engine {

using model::ErrorKind;
using model::ReplicationMode;

StreamSpec plan_stream(const StreamRequest& req, const model::ObjectDescriptor& object) {
  const std::string where = (req.location.empty() ? "" : req.location + ": ") + "stream " + req.object;
  auto config_error = [&](const std::string& what) -> void {
    model::fail(ErrorKind::kConfig, where + ": " + what);
  };

  StreamSpec spec;
  spec.job = req.job;
  spec.stream = object.name;
  spec.object = object;
  spec.lookback = req.lookback;

  // Mode: the catalog's, unless the user asks for a full refresh of an incremental object.
  spec.mode = object.mode;
  if (req.mode) {
    if (*req.mode == ReplicationMode::kFullRefresh) {
      spec.mode = ReplicationMode::kFullRefresh;
    } else if (object.mode == ReplicationMode::kFullRefresh) {
      config_error("mode: incremental needs a CreatedAt or UpdatedAt field, and " + object.name +
                   " has neither: use mode: full");
    }
  }

  // Page size.
  if (req.page_size) {
    if (*req.page_size < 1 || *req.page_size > object.max_page_size) {
      config_error("page_size " + std::to_string(*req.page_size) + " is outside 1.." +
                   std::to_string(object.max_page_size) + " for " + object.name);
    }
    spec.page_size = *req.page_size;
  } else {
    spec.page_size = object.max_page_size;
  }

  // Fields: extended fields come from per-row GETs, not from the list route, and are left out
  // of the layout here.
  auto usable = [](const model::FieldDescriptor& f) { return !f.extended && !f.pattern; };
  std::vector<std::string> wanted;
  if (req.fields.empty()) {
    for (const auto& f : object.fields) {
      if (usable(f)) wanted.push_back(f.name);
    }
  } else {
    for (const auto& name : req.fields) {
      const model::FieldDescriptor* f = object.find_field(name);
      if (!f) {
        std::string known;
        for (const auto& g : object.fields) {
          if (usable(g)) known += (known.empty() ? "" : ", ") + g.name;
        }
        config_error("field " + name + " does not exist on " + object.name + " (fields: " + known + ")");
      }
      if (f->extended) {
        config_error("field " + name + " of " + object.name +
                     " is an extended field, only returned by per-row requests, which this version "
                     "does not make yet");
      }
      if (std::find(wanted.begin(), wanted.end(), name) == wanted.end()) wanted.push_back(name);
    }
  }
  // Key fields first, then the cursor, then the rest in the order asked.
  std::vector<std::string> layout;
  for (const auto& k : object.key) layout.push_back(k);
  const std::string& cursor =
      spec.mode == ReplicationMode::kFullRefresh ? std::string() : object.cursor_field();
  if (!cursor.empty() && std::find(layout.begin(), layout.end(), cursor) == layout.end()) {
    layout.push_back(cursor);
  }
  for (const auto& w : wanted) {
    if (std::find(layout.begin(), layout.end(), w) == layout.end()) layout.push_back(w);
  }
  for (const auto& name : layout) {
    const model::FieldDescriptor* f = object.find_field(name);
    if (!f) model::fail(ErrorKind::kPermanent, "catalog: key or cursor field " + name + " missing on " + object.name);
    spec.fields.push_back(*f);
  }
  for (std::size_t i = 0; i < object.key.size(); ++i) spec.key_index.push_back(i);
  if (!cursor.empty()) {
    for (std::size_t i = 0; i < spec.fields.size(); ++i) {
      if (spec.fields[i].name == cursor) spec.cursor_index = i;
    }
  }
  if (!req.where_text.empty()) {
    config_error("where: filters are not supported by this version yet (they arrive with the predicate "
                 "language); remove the where: key or replicate without it");
  }
  return spec;
}

}  // namespace replicator::engine

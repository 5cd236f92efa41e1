// The cross-reference pass (house style rule 20): connections, destinations, catalog objects.
#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "config/config.hpp"
#include "config/detail/text.hpp"
#include "config/detail/yaml_reader.hpp"
#include "core/model/error.hpp"
#include "core/model/naming.hpp"
#include "core/predicate/parser.hpp"
#include "core/predicate/resolve.hpp"

namespace replicator::config {

using detail::in_quotes;
using detail::join;
using detail::Problem;
using detail::Problems;

namespace {

std::string stream_label(const JobConfig& job, const StreamConfig& stream) {
  return fmt::format("job {}, stream {}", in_quotes(job.name), in_quotes(stream.object));
}

std::vector<std::string> field_names(const model::ObjectDescriptor& object) {
  std::vector<std::string> out;
  for (const auto& f : object.fields) {
    if (!f.pattern) out.push_back(f.name);
  }
  return out;
}

// `where` parses, and names fields of the object with values of their types (when the object
// is known; a dynamic object's fields are only known after discovery, which checks it again).
void check_where(const JobConfig& job, const StreamConfig& stream, const model::ObjectDescriptor* object,
                 Problems& problems) {
  if (stream.where.empty()) return;
  try {
    predicate::Expr e = predicate::parse_predicate(stream.where);
    if (object) predicate::refuse_extended_fields(predicate::resolve(e, object->fields), object->fields);
  } catch (const model::Error& e) {
    problems.add(Problem(stream.location_of("where"),
                         fmt::format("{}: where: {} (in \"{}\")", stream_label(job, stream), e.what(), stream.where)));
  }
}

void check_stream(const JobConfig& job, const StreamConfig& stream,
                  const model::ObjectDescriptor& object, Problems& problems) {
  const std::string label = stream_label(job, stream);
  check_where(job, stream, &object, problems);
  if (stream.mode == StreamMode::kIncremental &&
      object.mode == model::ReplicationMode::kFullRefresh) {
    problems.add(Problem(stream.location_of("mode"),
                         fmt::format("{}: mode: incremental needs a cursor field (UpdatedAt or "
                                     "CreatedAt) and {} has none; use mode: full or leave mode out",
                                     label, object.name)));
  }
  const auto names = field_names(object);
  for (std::size_t i = 0; i < stream.fields.size(); ++i) {
    const std::string& f = stream.fields[i];
    const model::FieldDescriptor* found = object.find_field(f);
    if (found && !found->pattern) continue;
    const Location& at = i < stream.field_locations.size() ? stream.field_locations[i]
                                                           : stream.location_of("fields");
    auto close = detail::close_names(f, names, 3);
    std::string hint = close.empty() ? fmt::format("; its fields are {}", join(names))
                                     : fmt::format("; did you mean {}?", join(close, " or "));
    problems.add(Problem(
        at, fmt::format("{}: {} has no field {}{}", label, object.name, in_quotes(f), hint)));
  }
  if (stream.page_size && !stream.page_size->is_max() &&
      stream.page_size->value() > object.max_page_size) {
    problems.add(
        Problem(stream.location_of("page_size"),
                fmt::format("{}: page_size {} exceeds the maximum of {} ({}); use a "
                            "smaller number or max",
                            label, stream.page_size->value(), object.name, object.max_page_size)));
  }
}

// A template a name could be derived from (contract 5.4), and the table name it implies.
struct TemplateMatch {
  const model::ObjectDescriptor* tmpl;
  std::string table;
};

// Templates whose name pattern ("<ProfileTable>_Interactions") `name` fits with a non-empty
// table name that is not a static object's name (a derived name equal to a static one is a
// discovery error, contract 5.4).
std::vector<TemplateMatch> dynamic_candidates(std::string_view name, const model::Catalog& catalog,
                                              std::string& reason) {
  std::vector<TemplateMatch> out;
  for (const auto& t : catalog.templates) {
    std::size_t lt = t.name.find('<');
    std::size_t gt = t.name.find('>', lt);
    if (lt == std::string::npos || gt == std::string::npos) continue;
    std::string_view prefix = std::string_view(t.name).substr(0, lt);
    std::string_view suffix = std::string_view(t.name).substr(gt + 1);
    if (name.size() < prefix.size() + suffix.size() || name.substr(0, prefix.size()) != prefix ||
        name.substr(name.size() - suffix.size()) != suffix) {
      continue;
    }
    std::string table(name.substr(prefix.size(), name.size() - prefix.size() - suffix.size()));
    if (table.empty()) {
      reason = fmt::format("nothing precedes {}", in_quotes(suffix));
      continue;
    }
    if (catalog.find_static(table)) {
      reason = fmt::format("a table named {} would clash with the static object", in_quotes(table));
      continue;
    }
    out.push_back(TemplateMatch{&t, std::move(table)});
  }
  return out;
}

std::vector<std::string> static_names(const model::Catalog& catalog) {
  std::vector<std::string> out;
  for (const auto& o : catalog.objects) out.push_back(o.name);
  return out;
}

void check_stream_in_catalog(const JobConfig& job, const StreamConfig& stream,
                             const model::Catalog& catalog, Problems& problems) {
  const std::string label = stream_label(job, stream);
  const Location& at = stream.location_of("object");
  if (const model::ObjectDescriptor* object = catalog.find_static(stream.object)) {
    check_stream(job, stream, *object, problems);
    return;
  }
  try {
    (void)model::snake_case(stream.object);
  } catch (const model::Error&) {
    problems.add(Problem(at, fmt::format("{}: the object name gives no valid PostgreSQL table "
                                         "name (1 to 63 bytes after snake_case)",
                                         label)));
    return;
  }
  const auto statics = static_names(catalog);
  for (const auto& s : statics) {
    if (detail::iequals(s, stream.object)) {
      problems.add(Problem(at, fmt::format("{}: unknown object {}; object names are "
                                           "case-sensitive: did you mean {}?",
                                           label, in_quotes(stream.object), in_quotes(s))));
      return;
    }
  }
  std::string reason;
  auto candidates = dynamic_candidates(stream.object, catalog, reason);
  if (candidates.empty()) {
    auto close = detail::close_names(stream.object, statics, 3);
    problems.add(Problem(
        at,
        fmt::format("{}: unknown object {}: it is not in the catalog and cannot be a profile or "
                    "custom table object{}{}",
                    label, in_quotes(stream.object), reason.empty() ? "" : " (" + reason + ")",
                    close.empty() ? "" : "; did you mean " + join(close, " or ") + "?")));
    return;
  }
  // A dynamic object: only discovery knows its fields. Check what every template it could come
  // from agrees on; validate_stream does the rest once discovery has resolved it.
  int max_page = 0;
  bool any_cursor = false;
  std::vector<std::string> patterns;
  for (const auto& c : candidates) {
    max_page = std::max(max_page, c.tmpl->max_page_size);
    any_cursor = any_cursor || c.tmpl->mode != model::ReplicationMode::kFullRefresh;
    patterns.push_back(c.tmpl->name);
  }
  if (stream.mode == StreamMode::kIncremental && !any_cursor) {
    problems.add(Problem(stream.location_of("mode"),
                         fmt::format("{}: mode: incremental needs a cursor field, and a {} object "
                                     "has none; use mode: full or leave mode out",
                                     label, join(patterns, " or "))));
  }
  if (stream.page_size && !stream.page_size->is_max() && stream.page_size->value() > max_page) {
    problems.add(
        Problem(stream.location_of("page_size"),
                fmt::format("{}: page_size {} exceeds the maximum of a {} object ({})", label,
                            stream.page_size->value(), join(patterns, " or "), max_page)));
  }
  check_where(job, stream, nullptr, problems);
}

template <typename T>
void check_unique_names(const std::vector<T>& items, std::string_view what, Problems& problems) {
  for (std::size_t i = 0; i < items.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (items[i].name == items[j].name) {
        problems.add(Problem(items[i].location,
                             fmt::format("duplicate {} name {} (first at line {}, column {})", what,
                                         in_quotes(items[i].name), items[j].location.line,
                                         items[j].location.column)));
        break;
      }
    }
  }
}

template <typename T>
std::vector<std::string> names_of(const std::vector<T>& items) {
  std::vector<std::string> out;
  for (const auto& i : items) out.push_back(i.name);
  return out;
}

void check_reference(const JobConfig& job, std::string_view key, const std::string& value,
                     const std::vector<std::string>& defined, Problems& problems) {
  if (std::find(defined.begin(), defined.end(), value) != defined.end()) return;
  std::string known = defined.empty() ? fmt::format("no {}s are defined", key)
                                      : fmt::format("defined {}s: {}", key, join(defined));
  problems.add(Problem(job.location_of(key),
                       fmt::format("job {}: unknown {} {}{}; {}", in_quotes(job.name), key,
                                   in_quotes(value), detail::did_you_mean(value, defined), known)));
}

}  // namespace

void validate(const Config& config, const model::Catalog& catalog) {
  Problems problems;
  check_unique_names(config.connections, "connection", problems);
  check_unique_names(config.destinations, "destination", problems);
  check_unique_names(config.jobs, "job", problems);
  for (const auto& c : config.connections) {
    if (!c.base_url.empty() || c.environment.empty() || catalog.hosts.count(c.environment))
      continue;
    std::vector<std::string> envs;
    for (const auto& [name, url] : catalog.hosts) envs.push_back(name);
    problems.add(Problem(c.location_of("environment"),
                         fmt::format("connection {}: the catalog has no host for environment {} "
                                     "(it knows {}); set base_url instead",
                                     in_quotes(c.name), in_quotes(c.environment),
                                     envs.empty() ? "none" : join(envs))));
  }
  const auto connections = names_of(config.connections);
  const auto destinations = names_of(config.destinations);
  for (const auto& job : config.jobs) {
    check_reference(job, "connection", job.connection, connections, problems);
    check_reference(job, "destination", job.destination, destinations, problems);
    std::set<std::string> seen;
    for (const auto& stream : job.streams) {
      if (!seen.insert(stream.object).second) {
        problems.add(Problem(stream.location_of("object"),
                             fmt::format("job {}: object {} has two streams", in_quotes(job.name),
                                         in_quotes(stream.object))));
        continue;
      }
      check_stream_in_catalog(job, stream, catalog, problems);
    }
  }
  problems.throw_if_any();
}

void validate_stream(const JobConfig& job, const StreamConfig& stream,
                     const model::ObjectDescriptor& object) {
  Problems problems;
  check_stream(job, stream, object, problems);
  problems.throw_if_any();
}

std::vector<std::string> effective_fields(const StreamConfig& stream,
                                          const model::ObjectDescriptor& object) {
  std::vector<std::string> out;
  auto listed = [&](const std::string& name) {
    return stream.fields.empty() ||
           std::find(stream.fields.begin(), stream.fields.end(), name) != stream.fields.end() ||
           std::find(object.key.begin(), object.key.end(), name) != object.key.end() ||
           name == object.cursor_field();
  };
  for (const auto& f : object.fields) {
    if (!f.pattern && listed(f.name)) out.push_back(f.name);
  }
  return out;
}

}  // namespace replicator::config

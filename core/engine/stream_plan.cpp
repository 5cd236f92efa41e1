#include "core/engine/stream_plan.hpp"

#include <algorithm>

#include "core/model/error.hpp"
#include "core/predicate/compiled_predicate.hpp"
#include "core/predicate/parser.hpp"
#include "core/predicate/resolve.hpp"
#include "core/predicate/split.hpp"

namespace replicator::engine {

using model::ErrorKind;
using model::ReplicationMode;

namespace {

// A stream's `where`, split for one object.
struct Where {
  std::vector<Constraint> pushed;
  std::string pushed_text;
  predicate::Expr local;  // null when nothing is applied locally
  predicate::Expr whole;  // the whole `where`, resolved; null without one
  std::string local_text;
  std::vector<std::string> local_fields;
};

template <typename Fail>
Where plan_where(const StreamRequest& req, const model::ObjectDescriptor& object, FanOut* fan_out,
                 const Fail& config_error) {
  Where out;
  if (req.where_text.empty()) return out;
  predicate::Expr expr;
  try {
    expr = predicate::resolve(predicate::parse_predicate(req.where_text), object.fields);
    predicate::refuse_extended_fields(expr, object.fields);
  } catch (const model::Error& e) {
    config_error(std::string("where: ") + e.what());
  }
  out.whole = expr;
  const std::string child_field = fan_out ? fan_out->child_field : std::string();
  auto is_parent_set = [&](std::string_view field, model::FilterOp op) {
    return !child_field.empty() && field == child_field &&
           (op == model::FilterOp::kEq || op == model::FilterOp::kIn);
  };
  auto is_native = [&](std::string_view field, model::FilterOp op, std::size_t value_count) {
    // Multi-valued fields stay local: the server's meaning of `==` on an array is not specified.
    const model::FieldDescriptor* f = object.find_field(field);
    if (f && f->multi_valued) return false;
    // The parent set is not a `search` constraint: RSQL's value limit does not bind it.
    if (is_parent_set(field, op)) return true;
    return object.native(field, op) && predicate::within_search_limit(op, value_count);
  };
  predicate::Split split = predicate::split(expr, is_native);
  std::vector<std::string> pushed_texts;
  for (const auto& c : split.native) {
    const model::FieldDescriptor* f = object.find_field(c.field);
    std::vector<Value> values;
    for (const auto& lit : c.values) {
      try {
        values.push_back(predicate::to_value(lit, *f, req.zone));
      } catch (const model::Error& e) {
        config_error(std::string("where: ") + e.what());
      }
    }
    pushed_texts.push_back(predicate::to_text(c));
    if (is_parent_set(c.field, c.op)) {
      // The parent set of the fan-out (contract 3.7): several constraints intersect.
      if (!fan_out->ids) {
        fan_out->ids = std::move(values);
      } else {
        std::vector<Value> kept;
        for (const auto& v : *fan_out->ids) {
          if (std::any_of(values.begin(), values.end(), [&](const Value& w) { return model::compare(v, w) == 0; })) {
            kept.push_back(v);
          }
        }
        fan_out->ids = std::move(kept);
      }
      continue;
    }
    out.pushed.push_back(Constraint{c.field, c.op, std::move(values)});
  }
  for (std::size_t i = 0; i < pushed_texts.size(); ++i) {
    out.pushed_text += (i ? " AND " : "") + pushed_texts[i];
  }
  if (split.local) {
    out.local = split.local;
    out.local_text = predicate::to_text(split.local);
    out.local_fields = predicate::fields_of(split.local);
  }
  return out;
}

std::function<bool(const Row&)> bind_predicate(const predicate::Expr& expr, const std::vector<model::FieldDescriptor>& layout,
                                               const model::TimeZone& zone) {
  auto compiled = std::make_shared<predicate::CompiledPredicate>(predicate::compile(expr, layout, zone));
  return [compiled](const Row& row) { return compiled->matches(row); };
}

}  // namespace

StreamSpec plan_stream(const StreamRequest& req, const model::ObjectDescriptor& object,
                       const model::ObjectDescriptor* parent) {
  const std::string context = (req.location.empty() ? "" : req.location + ": ") + "stream " + req.object;
  auto config_error = [&](const std::string& what) -> void {
    model::fail(ErrorKind::kConfig, context + ": " + what);
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

  // The fan-out: a nested object is read once per parent id.
  if (object.parent) {
    if (!parent || parent->name != object.parent->object) {
      model::fail(ErrorKind::kPermanent, "catalog: " + object.name + " is nested under " + object.parent->object +
                                             ", which is not in the catalog");
    }
    FanOut f;
    f.parent = *parent;
    f.path_param = object.parent->path_param;
    f.parent_field = object.parent->parent_field;
    f.child_field = object.parent->child_field;
    spec.fan_out = std::move(f);
  }

  // `where`: the native part goes to the API (and, on the parent field of a nested object, picks
  // the fan-out set); the rest is evaluated locally on the fields it names.
  Where where = plan_where(req, object, spec.fan_out ? &*spec.fan_out : nullptr, config_error);
  spec.pushed_filters = std::move(where.pushed);
  spec.pushed_text = std::move(where.pushed_text);
  spec.local_text = std::move(where.local_text);

  auto usable = [](const model::FieldDescriptor& f) { return !f.pattern; };
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
  // Fields the local filter reads are replicated too: the row must hold them to be judged.
  for (const auto& w : where.local_fields) {
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
  if (where.local) spec.local_filter = bind_predicate(where.local, spec.fields, req.zone);
  if (where.whole) {
    try {
      spec.selection = bind_predicate(where.whole, spec.fields, req.zone);
    } catch (const model::Error&) {
      // A pushed-down field outside the row layout: a row cannot be told in or out (left empty).
    }
  }

  // Extended fields: fetched per new or changed row, unless suppressed (and the object honours
  // the suppression).
  bool any_extended = std::any_of(spec.fields.begin(), spec.fields.end(),
                                  [](const model::FieldDescriptor& f) { return f.extended; });
  if (any_extended) {
    if (object.get_route.empty()) {
      model::fail(ErrorKind::kPermanent, "catalog: " + object.name + " has extended fields but no single-record route");
    }
    spec.extended = req.suppress_extended_requests && !object.extended_always ? ExtendedFetch::kKeep
                                                                              : ExtendedFetch::kFetch;
  }
  spec.detect_deletes = req.detect_deletes;
  spec.detect_deletes_every = req.detect_deletes_every;
  return spec;
}

}  // namespace replicator::engine

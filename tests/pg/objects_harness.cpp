#include "tests/pg/objects_harness.hpp"

#include <cmath>
#include <future>
#include <set>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>
#include <pqxx/pqxx>

#include "config/catalog_loader.hpp"
#include "core/model/naming.hpp"
#include "core/model/timestamp.hpp"
#include "sinks/postgres/postgres_sink.hpp"
#include "tests/support/pg_dsn.hpp"

namespace replicator::testsupport {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

class WallClock : public engine::Clock {
 public:
  model::Timestamp now() const override {
    return model::Timestamp{std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count()};
  }
};

const WallClock& wall_clock() {
  static const WallClock clock;
  return clock;
}

std::string show(const json::value* v) { return v ? json::serialize(*v) : "(absent)"; }

bool is_null(const json::value* v) { return !v || v->is_null(); }

std::optional<double> number_of(const json::value& v) {
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  if (v.is_double()) return v.get_double();
  if (v.is_string()) {
    try {
      return std::stod(std::string(v.get_string()));
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  return std::nullopt;
}

std::optional<std::int64_t> integer_of(const json::value& v) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64()) return static_cast<std::int64_t>(v.get_uint64());
  if (v.is_string()) {
    try {
      std::size_t used = 0;
      auto s = std::string(v.get_string());
      auto n = std::stoll(s, &used);
      if (used == s.size()) return n;
    } catch (const std::exception&) {
    }
  }
  return std::nullopt;
}

// Wire value (simulator) and replica value (to_jsonb of the column) agree for `field`.
bool same_value(const model::FieldDescriptor& field, const json::value* wire, const json::value* pg) {
  if (is_null(wire) || is_null(pg)) return is_null(wire) && is_null(pg);
  if (field.multi_valued || field.type == model::FieldType::kJson) {
    if (field.multi_valued && !wire->is_array()) {
      // A single scalar counts as a one-element array (contract 4.7).
      return pg->is_array() && pg->get_array().size() == 1 &&
             same_value(model::FieldDescriptor{}, wire, &pg->get_array()[0]);
    }
    if (field.multi_valued) {
      if (!pg->is_array() || pg->get_array().size() != wire->get_array().size()) return false;
      for (std::size_t i = 0; i < wire->get_array().size(); ++i) {
        const json::value& w = wire->get_array()[i];
        const json::value& p = pg->get_array()[i];
        std::string ws = w.is_string() ? std::string(w.get_string()) : json::serialize(w);
        if (!p.is_string() || ws != p.get_string()) return false;
      }
      return true;
    }
    return *wire == *pg;
  }
  switch (field.type) {
    case model::FieldType::kInteger:
    case model::FieldType::kLong: {
      auto a = integer_of(*wire);
      auto b = integer_of(*pg);
      return a && b && *a == *b;
    }
    case model::FieldType::kNumber: {
      auto a = number_of(*wire);
      auto b = number_of(*pg);
      return a && b && std::fabs(*a - *b) <= 1e-9 * std::max(1.0, std::fabs(*a));
    }
    case model::FieldType::kBoolean: {
      auto as_bool = [](const json::value& v) -> std::optional<bool> {
        if (v.is_bool()) return v.get_bool();
        if (v.is_string()) {
          std::string s(v.get_string());
          if (s == "true" || s == "TRUE") return true;
          if (s == "false" || s == "FALSE") return false;
        }
        return std::nullopt;
      };
      auto a = as_bool(*wire);
      auto b = as_bool(*pg);
      return a && b && *a == *b;
    }
    case model::FieldType::kTimestamp: {
      if (!wire->is_string() || !pg->is_string()) return false;
      try {
        auto a = model::parse_timestamp(wire->get_string(), model::TimeZone::utc());
        auto b = model::parse_timestamp(pg->get_string(), model::TimeZone::utc());
        return a.ms == b.ms;
      } catch (const std::exception&) {
        return false;
      }
    }
    default: {
      std::string ws = wire->is_string() ? std::string(wire->get_string()) : json::serialize(*wire);
      return pg->is_string() && ws == pg->get_string();
    }
  }
}

std::string key_text(const std::vector<const json::value*>& parts) {
  std::string out;
  for (const auto* p : parts) {
    std::string s = !p ? "null" : p->is_string() ? std::string(p->get_string()) : json::serialize(*p);
    out += (out.empty() ? "" : "|") + s;
  }
  return out;
}

}  // namespace

asio::awaitable<std::optional<engine::CachedMetadata>> WorkerMetadataStore::load(std::string key) {
  std::optional<engine::CachedMetadata> out;
  std::function<void(engine::Sink&)> work = [&out, key](engine::Sink& s) { out = s.load_metadata(key); };
  co_await sink_.run(std::move(work));
  co_return out;
}

asio::awaitable<void> WorkerMetadataStore::store(std::string key, engine::CachedMetadata metadata) {
  std::function<void(engine::Sink&)> work = [key, metadata](engine::Sink& s) { s.store_metadata(key, metadata); };
  co_await sink_.run(std::move(work));
}

ObjectsHarness::ObjectsHarness(actito_sim::SimOptions sim_options, std::chrono::milliseconds metadata_ttl)
    : sim_options_(std::move(sim_options)), catalog_(config::builtin_catalog()), ttl_(metadata_ttl) {
  sim_ = std::make_unique<actito_sim::Simulator>(sim_options_);
  sim_->start();
  schema_ = std::make_unique<TempSchema>(test_pg_dsn(), "objects");
  sink_postgres::PostgresSinkOptions so;
  so.dsn = schema_->dsn();
  so.schema = schema_->name();
  sink_ = std::make_unique<engine::SinkWorker>(std::make_unique<sink_postgres::PostgresSink>(so), "objects test");
  store_ = std::make_unique<WorkerMetadataStore>(*sink_);
  restart_connection();
}

ObjectsHarness::~ObjectsHarness() {
  discovery_.reset();
  source_.reset();
  client_.reset();
  sink_.reset();
  sim_->stop();
}

void ObjectsHarness::restart_connection() {
  discovery_.reset();
  source_.reset();
  client_.reset();
  actito::ConnectionOptions o;
  o.name = "sim";
  o.base_url = sim_->base_url();
  o.entity = sim_options_.entity;
  o.api_key = sim_options_.api_keys.front();
  o.calls_per_minute = 0;
  o.max_concurrent_requests = 4;
  o.backoff.base = std::chrono::milliseconds(10);
  client_ = std::make_unique<actito::ActitoClient>(io_.get_executor(), o);
  source_ = std::make_unique<actito::ActitoSource>(*client_);
  discovery_ = std::make_unique<actito::Discovery>(*client_, catalog_, ttl_);
  discovery_->set_min_refresh_interval(std::chrono::milliseconds(0));
}

template <typename T>
T ObjectsHarness::await(asio::awaitable<T> work) {
  std::future<T> f = asio::co_spawn(io_, std::move(work), asio::use_future);
  io_.restart();
  io_.run();
  return f.get();
}

engine::StreamSpec ObjectsHarness::plan(const std::string& object, const StreamOptions& options) {
  model::ObjectDescriptor o = await(discovery_->find(object, store_.get()));
  std::optional<model::ObjectDescriptor> parent;
  if (o.parent) parent = await(discovery_->find(o.parent->object, store_.get()));
  engine::StreamRequest r;
  r.job = "objects";
  r.object = object;
  r.mode = options.mode;
  r.fields = options.fields;
  r.where_text = options.where;
  r.lookback = options.lookback;
  r.suppress_extended_requests = options.suppress_extended;
  r.detect_deletes = options.detect_deletes;
  r.detect_deletes_every = options.detect_every;
  r.location = "test";
  return engine::plan_stream(r, o, parent ? &*parent : nullptr);
}

namespace {

// The harness's source with a hook after each list call.
class HookedSource final : public engine::Source {
 public:
  HookedSource(engine::Source& inner, std::function<void(std::int64_t)> hook)
      : inner_(inner), hook_(std::move(hook)) {}
  boost::asio::awaitable<engine::PageResult> list(const engine::StreamSpec& spec, engine::ListQuery query) override {
    engine::PageResult page = co_await inner_.list(spec, std::move(query));
    hook_(++lists_);
    co_return page;
  }
  boost::asio::awaitable<std::optional<model::Row>> get(const engine::StreamSpec& spec, model::Row key) override {
    co_return co_await inner_.get(spec, std::move(key));
  }

 private:
  engine::Source& inner_;
  std::function<void(std::int64_t)> hook_;
  std::int64_t lists_ = 0;
};

}  // namespace

void ObjectsHarness::after_each_list(std::function<void(std::int64_t)> hook) { after_list_ = std::move(hook); }

engine::CycleResult ObjectsHarness::cycle(const engine::StreamSpec& spec) {
  engine::CycleOptions opts;
  opts.settle = std::chrono::milliseconds(0);
  opts.stop_on_undeclared = stop_on_undeclared_;
  std::optional<HookedSource> hooked;
  if (after_list_) hooked.emplace(*source_, after_list_);
  engine::Source& source = hooked ? static_cast<engine::Source&>(*hooked) : *source_;
  engine::CycleResult r = await(engine::run_cycle(source, *sink_, spec, wall_clock(), opts));
  if (r.progress.undeclared_fields) discovery_->invalidate();  // as the daemon does
  return r;
}

std::vector<json::object> ObjectsHarness::table(const std::string& object, bool include_deleted) {
  pqxx::connection c(dsn());
  pqxx::work tx(c);
  tx.exec0("SET TIME ZONE 'UTC'");
  std::string sql = "SELECT to_jsonb(t)::text FROM " + model::quote_ident(schema()) + "." +
                    model::quote_ident(model::snake_case(object)) + " t";
  if (!include_deleted) sql += " WHERE _deleted_at IS NULL";
  std::vector<json::object> out;
  for (const auto& r : tx.exec(sql)) out.push_back(json::parse(r[0].c_str()).as_object());
  return out;
}

void ObjectsHarness::forget(const std::string& object) {
  pqxx::connection c(dsn());
  pqxx::work tx(c);
  tx.exec0("TRUNCATE " + model::quote_ident(schema()) + "." + model::quote_ident(model::snake_case(object)));
  tx.exec_params("DELETE FROM " + model::quote_ident(schema()) + "._replication_state WHERE stream = $1", object);
  tx.commit();
}

std::string ObjectsHarness::scalar(const std::string& sql) {
  pqxx::connection c(dsn());
  pqxx::work tx(c);
  auto r = tx.exec(sql);
  if (r.empty() || r[0][0].is_null()) return "";
  return r[0][0].c_str();
}

const json::value* wire_value(const json::object& row, const model::FieldDescriptor& field) {
  const json::object* o = &row;
  const json::value* v = nullptr;
  for (std::size_t i = 0; i < field.wire_path.size(); ++i) {
    v = o->if_contains(field.wire_path[i]);
    if (!v) return nullptr;
    if (i + 1 < field.wire_path.size()) {
      if (!v->is_object()) return nullptr;
      o = &v->get_object();
    }
  }
  return v;
}

std::vector<std::string> compare_with_sim(const engine::StreamSpec& spec, const std::vector<json::object>& sim_rows,
                                          const std::vector<json::object>& table_rows) {
  std::vector<std::string> diffs;
  std::map<std::string, const json::object*> by_key;
  for (const auto& t : table_rows) {
    std::vector<const json::value*> parts;
    for (auto k : spec.key_index) parts.push_back(t.if_contains(model::snake_case(spec.fields[k].name)));
    by_key[key_text(parts)] = &t;
  }
  std::set<std::string> seen;
  for (const auto& s : sim_rows) {
    std::vector<const json::value*> parts;
    for (auto k : spec.key_index) parts.push_back(wire_value(s, spec.fields[k]));
    std::string key = key_text(parts);
    seen.insert(key);
    auto it = by_key.find(key);
    if (it == by_key.end()) {
      diffs.push_back(spec.stream + ": row " + key + " is missing from the table");
      continue;
    }
    for (const auto& f : spec.fields) {
      const json::value* w = wire_value(s, f);
      const json::value* p = it->second->if_contains(model::snake_case(f.name));
      if (!same_value(f, w, p)) {
        diffs.push_back(spec.stream + ": row " + key + ", field " + f.name + " (" +
                        std::string(model::to_string(f.type)) + (f.multi_valued ? "[]" : "") + "): simulator " +
                        show(w) + ", table " + show(p));
      }
    }
  }
  if (table_rows.size() != sim_rows.size()) {
    diffs.push_back(spec.stream + ": the table holds " + std::to_string(table_rows.size()) + " rows, the simulator " +
                    std::to_string(sim_rows.size()));
  }
  return diffs;
}

}  // namespace replicator::testsupport

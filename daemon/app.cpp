#include "daemon/app.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <set>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <map>
#include <random>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <fmt/format.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <spdlog/spdlog.h>

#include "config/catalog_loader.hpp"
#include "core/actito/client.hpp"
#include "core/actito/discovery.hpp"
#include "core/actito/rsql.hpp"
#include "core/actito/source.hpp"
#include "core/engine/call_budget.hpp"
#include "core/engine/metrics.hpp"
#include "core/engine/progress.hpp"
#include "core/engine/sink_worker.hpp"
#include "core/engine/status_board.hpp"
#include "core/engine/stream_plan.hpp"
#include "core/engine/stream_runner.hpp"
#include "core/model/duration.hpp"
#include "core/model/naming.hpp"
#include "core/model/timestamp.hpp"
#include "daemon/admin_server.hpp"
#include "daemon/logging.hpp"
#include "daemon/status_page.hpp"
#include "daemon/systemd_notify.hpp"
#include "daemon/version.hpp"
#include "sinks/postgres/postgres_sink.hpp"

namespace replicator::daemon {

namespace asio = boost::asio;
namespace json = boost::json;
using model::ErrorKind;
using model::Timestamp;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

class SystemClock : public engine::Clock {
 public:
  Timestamp now() const override {
    return Timestamp{std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count()};
  }
};

std::string fmt_ts(const std::optional<Timestamp>& t) { return t ? model::format_timestamp(*t) : "-"; }

std::string fmt_seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1fs", s);
  return buf;
}

// Prints rows as an aligned text table.
void print_table(std::ostream& out, const std::vector<std::string>& header,
                 const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width(header.size());
  for (std::size_t i = 0; i < header.size(); ++i) width[i] = header[i].size();
  for (const auto& r : rows) {
    for (std::size_t i = 0; i < r.size() && i < width.size(); ++i) width[i] = std::max(width[i], r[i].size());
  }
  auto line = [&](const std::vector<std::string>& r) {
    for (std::size_t i = 0; i < header.size(); ++i) {
      std::string cell = i < r.size() ? r[i] : "";
      out << cell;
      if (i + 1 < header.size()) out << std::string(width[i] - cell.size() + 2, ' ');
    }
    out << '\n';
  };
  line(header);
  for (const auto& r : rows) line(r);
}

void log_exception(std::string_view what, std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    spdlog::error("{}: {}", what, ex.what());
  }
}

// The metadata cache of discovery (contract 5.5), kept in a job's destination.
class SinkMetadataStore : public actito::MetadataStore {
 public:
  explicit SinkMetadataStore(engine::SinkWorker& sink) : sink_(sink) {}
  asio::awaitable<std::optional<engine::CachedMetadata>> load(std::string key) override {
    std::optional<engine::CachedMetadata> out;
    std::function<void(engine::Sink&)> work = [&out, key](engine::Sink& s) { out = s.load_metadata(key); };
    co_await sink_.run(std::move(work));
    co_return out;
  }
  asio::awaitable<void> store(std::string key, engine::CachedMetadata metadata) override {
    std::function<void(engine::Sink&)> work = [key, metadata](engine::Sink& s) { s.store_metadata(key, metadata); };
    co_await sink_.run(std::move(work));
  }

 private:
  engine::SinkWorker& sink_;
};

std::string join(const std::vector<std::string>& v, std::string_view sep = ", ") {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

}  // namespace

// ---- runtime: the components built from one Config ----------------------------------------------

struct ConnectionRt {
  config::ConnectionConfig cfg;
  std::unique_ptr<actito::ActitoClient> client;
  std::unique_ptr<actito::Discovery> discovery;
  std::unique_ptr<actito::ActitoSource> source;
};

struct JobRt {
  config::JobConfig cfg;
  ConnectionRt* connection = nullptr;
  const config::DestinationConfig* destination = nullptr;
  std::unique_ptr<engine::SinkWorker> sink;
  std::unique_ptr<SinkMetadataStore> metadata;
  std::unique_ptr<asio::steady_timer> sleeper;
  bool finished = false;
  std::optional<bool> active;  // holds the job's lease (high availability); unknown before the first try
  bool series_ready = false;   // its streams' metric series exist (export_job_series)
};

// How often a standby instance tries to take a job's lease: the takeover delay after the active
// instance dies (PostgreSQL frees the lease as soon as it sees the connection closed).
constexpr std::chrono::seconds kLeasePoll{2};

// host:pid of this process, for PostgreSQL's application_name.
std::string instance_name() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "?");
  return std::string(host) + ":" + std::to_string(::getpid());
}

struct StreamOutcome {
  std::string job, stream, mode;
  bool ok = false;
  bool standby = false;  // not run: another instance holds the job's lease
  std::int64_t rows_read = 0, rows_written = 0, rows_deleted = 0, api_calls = 0, extended_calls = 0;
  double seconds = 0;
  std::optional<Timestamp> watermark;
  std::string error;
};

struct App::Impl {
  config::Config cfg;
  model::Catalog catalog;
  asio::io_context net{1};
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  engine::Metrics metrics{*registry, kVersion};
  engine::StatusBoard board;
  SystemClock clock;
  std::atomic<bool> stop{false};     // jobs stop between pages (SIGTERM, or a reload)
  std::atomic<bool> exiting{false};  // the process ends: the heartbeat and the tickers stop
  std::map<std::string, std::unique_ptr<ConnectionRt>> connections;
  std::vector<std::unique_ptr<JobRt>> jobs;
  std::unique_ptr<AdminServer> admin;
  std::atomic<std::int64_t> heartbeat_ms{0};
  std::mt19937_64 rng{std::random_device{}()};

  // Readiness: every destination answered the last probe.
  std::mutex ready_mutex;
  std::map<std::string, std::string> destination_errors;  // name -> error ("" = reachable)
  std::atomic<bool> config_loaded{false};
  std::optional<config::Config> pending_config;  // a reloaded config waiting for the jobs to stop
  std::thread probe_thread;
  std::atomic<bool> probe_stop{false};
  // systemd (run only): READY=1 once the config is loaded and every destination answered.
  SystemdNotifier notifier{std::string()};
  std::atomic<bool> ready_sent{false};

  explicit Impl(config::Config c) : cfg(std::move(c)) {
    catalog = cfg.catalog_path.empty() ? config::builtin_catalog() : config::load_catalog_file(cfg.catalog_path);
  }

  ~Impl() {
    probe_stop = true;
    if (probe_thread.joinable()) probe_thread.join();
    jobs.clear();  // joins sink threads
  }

  // -- building --

  actito::ConnectionOptions connection_options(const config::ConnectionConfig& c) {
    actito::ConnectionOptions o;
    o.name = c.name;
    if (!c.base_url.empty()) {
      o.base_url = c.base_url;
    } else {
      auto it = catalog.hosts.find(c.environment);
      if (it == catalog.hosts.end()) {
        model::fail(ErrorKind::kConfig, "connection " + c.name + ": environment " + c.environment +
                                            " has no host in the catalog");
      }
      o.base_url = it->second;
    }
    o.entity = c.entity;
    o.api_key = c.api_key.reveal();
    o.calls_per_minute = c.calls_per_minute;
    o.max_concurrent_requests = c.max_concurrent_requests;
    o.request_timeout = c.request_timeout;
    o.zone = model::TimeZone::from_name(c.timestamp_zone);
    o.user_agent = std::string("actito-replicator/") + kVersion;
    o.metrics = &metrics;
    return o;
  }

  void build() {
    connections.clear();
    jobs.clear();
    for (const auto& c : cfg.connections) {
      auto rt = std::make_unique<ConnectionRt>();
      rt->cfg = c;
      rt->client = std::make_unique<actito::ActitoClient>(net.get_executor(), connection_options(c));
      rt->discovery = std::make_unique<actito::Discovery>(*rt->client, catalog, c.metadata_cache_ttl);
      rt->source = std::make_unique<actito::ActitoSource>(*rt->client);
      connections[c.name] = std::move(rt);
    }
    for (const auto& j : cfg.jobs) {
      auto rt = std::make_unique<JobRt>();
      rt->cfg = j;
      rt->connection = connections.at(j.connection).get();
      for (const auto& d : cfg.destinations) {
        if (d.name == j.destination) rt->destination = &d;
      }
      sink_postgres::PostgresSinkOptions so;
      so.dsn = rt->destination->dsn.reveal();
      so.schema = rt->destination->schema;
      // Names this instance in pg_stat_activity: a standby shows who holds the job's lease.
      so.application_name = "actito-replicator/" + j.name + " " + instance_name();
      rt->sink = std::make_unique<engine::SinkWorker>(std::make_unique<sink_postgres::PostgresSink>(so),
                                                      "job " + j.name);
      rt->metadata = std::make_unique<SinkMetadataStore>(*rt->sink);
      rt->sleeper = std::make_unique<asio::steady_timer>(net);
      jobs.push_back(std::move(rt));
    }
  }

  engine::StreamRequest stream_request(const JobRt& job, const config::StreamConfig& s) const {
    engine::StreamRequest r;
    r.job = job.cfg.name;
    r.object = s.object;
    if (s.mode) {
      r.mode = *s.mode == config::StreamMode::kFull ? model::ReplicationMode::kFullRefresh
                                                     : model::ReplicationMode::kIncrementalUpdated;
    }
    r.fields = s.fields;
    r.lookback = s.lookback ? *s.lookback : job.cfg.lookback;
    const auto& ps = s.page_size ? *s.page_size : job.cfg.page_size;
    if (!ps.is_max()) r.page_size = ps.value();
    r.where_text = s.where;
    r.location = s.location.to_string();
    r.zone = job.connection->client->options().zone;
    r.suppress_extended_requests = job.connection->cfg.suppress_extended_requests;
    r.detect_deletes = s.deletes == config::DeletesMode::kDetect;
    r.detect_deletes_every = s.detect_deletes_every;
    return r;
  }

  // The stream's plan: the object (discovered if dynamic, through the destination's metadata
  // cache), its parent for nested objects, and the spec.
  asio::awaitable<engine::StreamSpec> plan(JobRt& job, const config::StreamConfig& s) {
    auto& discovery = *job.connection->discovery;
    model::ObjectDescriptor object = co_await discovery.find(s.object, job.metadata.get());
    std::optional<model::ObjectDescriptor> parent;
    if (object.parent) parent = co_await discovery.find(object.parent->object, job.metadata.get());
    co_return engine::plan_stream(stream_request(job, s), object, parent ? &*parent : nullptr);
  }

  // -- one stream, one job --

  asio::awaitable<StreamOutcome> run_stream(JobRt& job, const config::StreamConfig& s) {
    StreamOutcome out;
    out.job = job.cfg.name;
    out.stream = s.object;
    auto started = clock.now();
    auto t0 = std::chrono::steady_clock::now();
    auto& conn = *job.connection;
    std::int64_t calls0 = conn.client->calls();
    board.update(out.job, out.stream, [&](engine::StreamStatus& st) {
      st.state = "running";
      st.held_by.clear();
      st.last_run_started = started;
      st.progress_rows = 0;
      st.progress_total = -1;
      st.progress_pages = 0;
      st.progress_written = 0;
    });
    std::exception_ptr failure;
    engine::CycleProgress committed;  // what the committed pages hold, reported even on failure
    try {
      engine::StreamSpec spec = co_await plan(job, s);
      out.mode = std::string(model::to_string(spec.mode));
      board.update(out.job, out.stream, [&](engine::StreamStatus& st) { st.mode = out.mode; });  // known from now on
      engine::CycleOptions opts;
      opts.stop = &stop;
      auto& extended_counter =
          metrics.extended_requests.Add({{"connection", conn.cfg.name}, {"object", spec.stream}});
      opts.on_extended_call = [&extended_counter] { extended_counter.Increment(); };
      std::string job_name = out.job, stream_name = out.stream;
      // The first page's totalElements is the cycle's total, except under a fan-out (one parent's).
      const bool total_known = !spec.fan_out;
      opts.on_page = [this, job_name, stream_name, total_known, &committed](const engine::CycleProgress& p) {
        committed = p;
        board.update(job_name, stream_name, [&](engine::StreamStatus& st) {
          st.progress_rows = p.rows_read;
          st.progress_total = total_known ? p.total_hint : -1;
          st.progress_pages = p.pages;
          st.progress_written = p.rows_written;
        });
      };
      opts.stop_on_undeclared = true;
      engine::CycleResult r = co_await engine::run_cycle(*conn.source, *job.sink, spec, clock, opts);
      if (r.interrupted) {
        // A row holds an attribute the cached structure lacks (contract 5.5): read the
        // structures again and redo the cycle from the committed state, so that the new
        // attribute's values are written too. Once: the second run takes rows as they come.
        spdlog::info("{}/{}: a row holds an attribute the cached structure does not declare: "
                     "reading the structures again", out.job, out.stream);
        conn.discovery->invalidate();
        spec = co_await plan(job, s);
        opts.stop_on_undeclared = false;
        engine::CycleProgress before = r.progress;
        const int resets_before = r.state_resets;
        r = co_await engine::run_cycle(*conn.source, *job.sink, spec, clock, opts);
        r.state_resets += resets_before;
        r.progress = engine::combined(before, r.progress);
      }
      if (r.state_resets > 0) {
        spdlog::info("{}/{}: its state was reset while the cycle ran: the cycle started again from the beginning",
                     out.job, out.stream);
      }
      out.ok = true;
      out.rows_read = r.progress.rows_read;
      out.rows_written = r.progress.rows_written;
      out.rows_deleted = r.progress.rows_deleted;
      out.extended_calls = r.progress.extended_calls;
      out.watermark = r.state.watermark;
      out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      out.api_calls = conn.client->calls() - calls0;
      metrics.rows.Add({{"job", out.job}, {"stream", out.stream}, {"op", "upsert"}}).Increment(
          static_cast<double>(out.rows_written));
      metrics.rows.Add({{"job", out.job}, {"stream", out.stream}, {"op", "delete"}}).Increment(
          static_cast<double>(out.rows_deleted));
      metrics.rows_filtered.Add({{"job", out.job}, {"stream", out.stream}}).Increment(
          static_cast<double>(r.progress.rows_filtered));
      metrics.cycles.Add({{"job", out.job}, {"stream", out.stream}, {"result", "success"}}).Increment();
      metrics.cycle_duration.Add({{"job", out.job}, {"stream", out.stream}}, engine::Metrics::cycle_buckets())
          .Observe(out.seconds);
      auto now = clock.now();
      metrics.last_success.Add({{"job", out.job}, {"stream", out.stream}}).Set(now.ms / 1000.0);
      if (out.watermark) {
        metrics.watermark.Add({{"job", out.job}, {"stream", out.stream}}).Set(out.watermark->ms / 1000.0);
      }
      board.update(out.job, out.stream, [&](engine::StreamStatus& st) {
        st.state = "idle";
        st.mode = out.mode;
        st.last_run_finished = now;
        st.last_success = now;
        st.watermark = out.watermark;
        st.last_error.clear();
        st.rows_total = r.state.rows_total;
        st.last_rows_read = out.rows_read;
        st.last_rows_written = out.rows_written;
        st.last_api_calls = out.api_calls;
        st.last_duration_seconds = out.seconds;
      });
      std::string extra;
      if (r.progress.rows_filtered > 0) extra += ", " + std::to_string(r.progress.rows_filtered) + " left out by where";
      if (r.progress.parents > 0) extra += ", " + std::to_string(r.progress.parents) + " parents";
      if (out.extended_calls > 0) extra += ", " + std::to_string(out.extended_calls) + " extended GETs";
      if (r.delete_scan) extra += ", " + std::to_string(out.rows_deleted) + " marked deleted";
      if (r.progress.delete_checks > 0) {
        extra += " (" + std::to_string(r.progress.delete_checks) + " missing rows checked one by one)";
      }
      spdlog::info("{}/{}: cycle done in {}: {} rows read, {} written, {} API calls{}, watermark {}", out.job,
                   out.stream, fmt_seconds(out.seconds), out.rows_read, out.rows_written, out.api_calls, extra,
                   fmt_ts(out.watermark));
    } catch (...) {
      failure = std::current_exception();
    }
    if (failure) {
      out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      out.api_calls = conn.client->calls() - calls0;
      // Pages committed before the failure stay committed: say how many rows they held.
      out.rows_read = committed.rows_read;
      out.rows_written = committed.rows_written;
      if (committed.rows_written > 0) {
        metrics.rows.Add({{"job", out.job}, {"stream", out.stream}, {"op", "upsert"}})
            .Increment(static_cast<double>(committed.rows_written));
      }
      bool cancelled = false;
      try {
        std::rethrow_exception(failure);
      } catch (const actito::ApiError& e) {
        out.error = e.what();
        // A table that vanished (404 TABLE_NOT_FOUND, or its list route 404): the structures
        // are stale (contract 5.5); the next cycle discovers again.
        if (e.status() == 404) conn.discovery->invalidate();
      } catch (const model::Error& e) {
        out.error = e.what();
        cancelled = e.kind() == ErrorKind::kCancelled;
      } catch (const std::exception& e) {
        out.error = e.what();
      }
      auto now = clock.now();
      board.update(out.job, out.stream, [&](engine::StreamStatus& st) {
        st.state = cancelled ? "stopped" : "failed";
        st.last_run_finished = now;
        if (!cancelled) st.last_error = out.error;
      });
      if (cancelled) {
        spdlog::info("{}/{}: stopped: {}", out.job, out.stream, out.error);
      } else {
        metrics.cycles.Add({{"job", out.job}, {"stream", out.stream}, {"result", "failure"}}).Increment();
        spdlog::error("{}/{}: cycle failed: {}", out.job, out.stream, out.error);
        std::string job_name = out.job, stream_name = out.stream, error = out.error;
        try {
          // Named first: GCC 12 destroys a temporary converted into a by-value coroutine
          // parameter twice (a double free); a named std::function moved in is safe.
          std::function<void(engine::Sink&)> work = [job_name, stream_name, error](engine::Sink& sink) {
            sink.record_failure(job_name, stream_name, error);
          };
          co_await job.sink->run(std::move(work));
        } catch (const std::exception& e) {
          spdlog::warn("{}/{}: could not record the failure in the state table: {}", job_name, stream_name,
                       e.what());
        }
      }
    }
    co_return out;
  }

  // `once --explain`: what a cycle of the stream would send, and where each part of `where`
  // goes. Sends nothing to Actito, except the structure reads of discovery for a dynamic object
  // whose structures are not cached yet (said in the output).
  asio::awaitable<void> explain_stream(JobRt& job, const config::StreamConfig& s, std::ostream& out) {
    auto& conn = *job.connection;
    const std::int64_t calls0 = conn.client->calls();
    engine::StreamSpec spec = co_await plan(job, s);
    const std::int64_t discovery_calls = conn.client->calls() - calls0;
    engine::StreamState state;
    std::string state_note = "no state yet (first cycle)";
    try {
      std::function<void(engine::Sink&)> work = [&](engine::Sink& sink) { state = sink.load_state(spec.job, spec.stream); };
      co_await job.sink->run(std::move(work));
      if (state.watermark) state_note = "watermark " + fmt_ts(state.watermark);
    } catch (const std::exception& e) {
      state_note = std::string("state unreadable (") + e.what() + "): shown as a first cycle";
      state = engine::StreamState{};
    }
    std::vector<std::string> fields;
    std::vector<std::string> extended;
    for (const auto& f : spec.fields) (f.extended ? extended : fields).push_back(f.name);
    out << job.cfg.name << "/" << spec.stream << "  -> table " << job.destination->schema << "."
        << model::snake_case(spec.stream) << "\n";
    out << "  mode:            " << model::to_string(spec.mode);
    if (spec.cursor_index) out << " on " << spec.fields[*spec.cursor_index].name;
    out << ", page size " << spec.page_size << ", " << state_note << "\n";
    out << "  fields:          " << join(fields) << "\n";
    if (!s.where.empty()) out << "  where:           " << s.where << "\n";
    out << "  pushed down:     " << (spec.pushed_text.empty() ? "nothing" : spec.pushed_text);
    if (!spec.pushed_filters.empty()) {
      out << "   (search=" << actito::render_search(spec.object, spec.pushed_filters) << ")";
    }
    out << "\n";
    out << "  applied locally: " << (spec.local_text.empty() ? "nothing" : spec.local_text) << "\n";
    if (spec.fan_out) {
      const auto& f = *spec.fan_out;
      out << "  fan-out:         one list per " << f.parent.name << "." << f.parent_field << " (";
      if (f.ids) {
        std::vector<std::string> ids;
        for (const auto& v : *f.ids) ids.push_back(model::to_display(v));
        out << ids.size() << " from where: " << join(ids) << ")\n";
      } else {
        out << "every parent, listed first: GET " << actito::fill_route(f.parent.list_route, f.parent, conn.client->entity_segment())
            << "?page=0&size=" << f.parent.max_page_size << "&sort=" << f.parent_field << "...)\n";
      }
    }
    if (!extended.empty()) {
      out << "  extended fields: " << join(extended) << ": "
          << (spec.extended == engine::ExtendedFetch::kFetch
                  ? "one GET " + spec.object.get_route + " per new or changed row"
                  : std::string("not fetched (suppress_extended_requests), stored values kept"))
          << "\n";
    }
    if (spec.detect_deletes) {
      out << "  deletes:         detect: "
          << (spec.mode == model::ReplicationMode::kFullRefresh
                  ? std::string("rows the refresh does not return get _deleted_at")
                  : "key scan at most every " + model::format_duration(spec.detect_deletes_every) +
                        (state.last_delete_scan ? " (last " + fmt_ts(state.last_delete_scan) + ")" : " (due now)"))
          << "\n";
    }
    engine::StreamSpec first = spec;
    if (spec.fan_out) {
      first.object.route_params[spec.fan_out->path_param] =
          spec.fan_out->ids && !spec.fan_out->ids->empty() ? model::to_display(spec.fan_out->ids->front())
                                                           : "{" + spec.fan_out->path_param + "}";
    }
    engine::CursorPager pager(first, state);
    std::string target = actito::list_target(first, pager.next_query(), conn.client->entity_segment());
    if (spec.fan_out && !(spec.fan_out->ids && !spec.fan_out->ids->empty())) {
      const std::string placeholder = "{" + spec.fan_out->path_param + "}";
      const std::string encoded = actito::percent_encode(placeholder);
      if (auto at = target.find(encoded); at != std::string::npos) target.replace(at, encoded.size(), placeholder);
    }
    out << "  first request:   GET " << target << "\n";
    if (discovery_calls > 0) {
      out << "  (discovery read the table structures: " << discovery_calls << " API call(s); cached in the destination)\n";
    }
    out << "\n";
  }

  // Every series of the job's streams exists from the moment this instance runs the job: counters
  // at 0 (so that increase() sees the first failure), and the watermark and last success the
  // destination remembers (so that "no successful cycle" can fire after a restart).
  void export_job_series(JobRt& job) {
    job.series_ready = true;
    // Alerts measure "no successful cycle for N intervals" against this: the longest gap between
    // two runs over the coming week, so that a weekdays-only cron does not alert over a weekend.
    metrics.schedule_interval.Add({{"job", job.cfg.name}}).Set(std::chrono::duration<double>(job.cfg.schedule.longest_gap(clock.now())).count());
    const auto snapshot = board.snapshot();
    for (const auto& s : job.cfg.streams) {
      const prometheus::Labels labels{{"job", job.cfg.name}, {"stream", s.object}};
      for (const char* result : {"success", "failure"}) {
        auto with = labels;
        with["result"] = result;
        metrics.cycles.Add(with);
      }
      for (const char* op : {"upsert", "delete"}) {
        auto with = labels;
        with["op"] = op;
        metrics.rows.Add(with);
      }
      metrics.rows_filtered.Add(labels);
      for (const auto& st : snapshot) {
        if (st.job != job.cfg.name || st.stream != s.object) continue;
        if (st.watermark) metrics.watermark.Add(labels).Set(st.watermark->ms / 1000.0);
        if (st.last_success) metrics.last_success.Add(labels).Set(st.last_success->ms / 1000.0);
      }
    }
  }

  // High availability: a job runs on one instance at a time, the one holding its lease on the
  // destination (Sink::try_acquire_lease). Returns "" when this instance holds it, else a
  // sentence saying who does; throws when the destination cannot answer.
  asio::awaitable<std::string> take_lease(JobRt& job) {
    const std::string key = "job " + job.cfg.name;
    bool held = false;
    std::string holder;
    std::function<void(engine::Sink&)> work = [&key, &held, &holder](engine::Sink& sink) {
      held = sink.try_acquire_lease(key);
      if (!held) holder = sink.lease_holder(key);
    };
    co_await job.sink->run(std::move(work));
    metrics.job_active.Add({{"job", job.cfg.name}}).Set(held ? 1 : 0);
    const bool was = job.active.value_or(true);  // the first take is not news; a first standby is
    job.active = held;
    board.update_job(job.cfg.name, [&](engine::JobStatus& js) {
      js.active = held;
      js.held_by = held ? std::string() : holder;
    });
    std::string who = holder.empty() ? std::string("an instance that just released it") : holder;
    if (held && !was) {
      spdlog::info("job {}: this instance runs it now (took its lease on {}.{})", job.cfg.name,
                   job.destination->name, job.destination->schema);
    }
    if (held && !job.series_ready) export_job_series(job); else if (!held && was) {
      spdlog::info("job {}: standby, another instance runs it: {}", job.cfg.name, who);
      // The instance that runs the job reports its watermark and lag; stale copies here would
      // raise lag alerts for a job that is fine.
      for (const auto& s : job.cfg.streams) {
        const prometheus::Labels labels{{"job", job.cfg.name}, {"stream", s.object}};
        metrics.watermark.Remove(&metrics.watermark.Add(labels));
        metrics.last_success.Remove(&metrics.last_success.Add(labels));
        metrics.lag.Remove(&metrics.lag.Add(labels));
      }
      metrics.schedule_interval.Remove(&metrics.schedule_interval.Add({{"job", job.cfg.name}}));
      job.series_ready = false;
    }
    co_return held ? std::string() : who;
  }

  // The destination did not answer the lease request: who runs the job is unknown until it does.
  void mark_lease_unknown(const JobRt& job) {
    board.update_job(job.cfg.name, [](engine::JobStatus& js) {
      js.active.reset();
      js.held_by.clear();
    });
  }

  // The board of a job that another instance, `holder`, runs: its streams are on standby, and
  // the lease is tried again at `retry` when the job loop polls it.
  void mark_standby(const JobRt& job, const std::string& holder, const std::optional<std::string>& only_stream,
                    std::optional<Timestamp> retry) {
    for (const auto& s : job.cfg.streams) {
      if (only_stream && s.object != *only_stream) continue;
      board.update(job.cfg.name, s.object, [&](engine::StreamStatus& st) {
        st.state = "standby";
        st.held_by = holder;
        if (retry) st.next_run = *retry;
      });
    }
  }

  asio::awaitable<std::vector<StreamOutcome>> run_job_once(JobRt& job, std::optional<std::string> only_stream) {
    std::vector<StreamOutcome> outcomes;
    std::string holder, lease_error;
    try {
      holder = co_await take_lease(job);
    } catch (const std::exception& e) {
      lease_error = std::string("cannot take the job's lease on destination ") + job.destination->name + ": " +
                    e.what();
      mark_lease_unknown(job);
    }
    if (!holder.empty() || !lease_error.empty()) {
      if (lease_error.empty()) mark_standby(job, holder, only_stream, std::nullopt);
      auto now = clock.now();
      for (const auto& s : job.cfg.streams) {
        if (only_stream && s.object != *only_stream) continue;
        StreamOutcome out;
        out.job = job.cfg.name;
        out.stream = s.object;
        out.standby = lease_error.empty();
        out.error = lease_error.empty() ? "standby: another instance runs this job: " + holder : lease_error;
        if (!out.standby) {
          board.update(out.job, out.stream, [&](engine::StreamStatus& st) {
            st.state = "failed";
            st.held_by.clear();
            st.last_run_finished = now;
            st.last_error = out.error;
          });
          metrics.cycles.Add({{"job", out.job}, {"stream", out.stream}, {"result", "failure"}}).Increment();
          spdlog::error("{}/{}: cycle failed: {}", out.job, out.stream, out.error);
        }
        outcomes.push_back(std::move(out));
      }
      co_return outcomes;
    }
    for (const auto& s : job.cfg.streams) {
      if (stop) break;
      if (only_stream && s.object != *only_stream) continue;
      outcomes.push_back(co_await run_stream(job, s));
    }
    co_return outcomes;
  }

  // The periodic task of one job (house style rule 17): jittered retry after a failure.
  // The board starts from what the destination remembers, so that /status shows each stream's
  // watermark, last success, rows and last error right after a start or a reload instead of
  // "never run" until its next cycle. Read-only: a standby instance does it too.
  asio::awaitable<void> seed_board(JobRt& job) {
    std::vector<engine::Sink::NamedState> states;
    std::string name = job.cfg.name;
    try {
      std::function<void(engine::Sink&)> work = [&states, name](engine::Sink& sink) {
        states = sink.list_states(name);
      };
      co_await job.sink->run(std::move(work));
    } catch (const std::exception& e) {
      spdlog::warn("job {}: cannot read the replication state yet: {}", name, e.what());
      co_return;
    }
    for (const auto& ns : states) {
      const bool configured = std::any_of(job.cfg.streams.begin(), job.cfg.streams.end(),
                                          [&](const config::StreamConfig& s) { return s.object == ns.stream; });
      if (!configured) continue;
      board.update(ns.job, ns.stream, [&](engine::StreamStatus& st) {
        if (st.last_run_started) return;  // a cycle already says more
        st.watermark = ns.state.watermark;
        st.last_success = ns.state.last_success;
        st.rows_total = ns.state.rows_total;
        st.last_error = ns.state.last_error;
        if (!ns.state.last_error.empty()) st.state = "failed";
      });
    }
  }

  asio::awaitable<void> job_loop(JobRt& job) {
    int failures = 0;
    bool first = true;
    board.update_job(job.cfg.name, [&](engine::JobStatus& js) {
      js.connection = job.cfg.connection;
      js.destination = job.cfg.destination;
      js.schedule = job.cfg.schedule.to_string();
    });
    co_await seed_board(job);
    for (;;) {
      if (stop) break;
      // High availability: only the instance holding the job's lease schedules it; the others
      // poll the lease every kLeasePoll so that a takeover is quick, and run a cycle at once
      // when they get it. A destination that does not answer is left to the cycle to report.
      std::string holder;
      try {
        holder = co_await take_lease(job);
      } catch (const std::exception&) {
        mark_lease_unknown(job);  // the cycle below reports the destination's error
      }
      if (!holder.empty()) {
        failures = 0;
        first = true;
        const Timestamp retry{clock.now().ms + std::chrono::duration_cast<std::chrono::milliseconds>(kLeasePoll).count()};
        mark_standby(job, holder, std::nullopt, retry);
        job.sleeper->expires_after(kLeasePoll);
        co_await job.sleeper->async_wait(kTuple);
        continue;
      }
      Timestamp now = clock.now();
      Timestamp next;
      if (failures > 0) {
        std::int64_t ceiling = std::min<std::int64_t>(300'000, 5'000LL << std::min(failures, 6));
        std::uniform_int_distribution<std::int64_t> d(ceiling / 2, ceiling);
        next = Timestamp{now.ms + d(rng)};
      } else if (first && job.cfg.schedule.is_every()) {
        next = now;  // an interval schedule starts with a cycle right away
      } else {
        next = job.cfg.schedule.next_after(now);
      }
      first = false;
      for (const auto& s : job.cfg.streams) {
        board.update(job.cfg.name, s.object, [&](engine::StreamStatus& st) { st.next_run = next; });
      }
      if (next.ms > now.ms) {
        job.sleeper->expires_after(std::chrono::milliseconds(next.ms - now.ms));
        co_await job.sleeper->async_wait(kTuple);
        if (stop) break;
      }
      auto outcomes = co_await run_job_once(job, std::nullopt);
      notify_cycle_status(job.cfg.name);
      if (!outcomes.empty() && outcomes.front().standby) {
        failures = 0;  // lost the lease meanwhile: the top of the loop polls it
        first = true;
        continue;
      }
      bool ok = std::all_of(outcomes.begin(), outcomes.end(), [](const StreamOutcome& o) { return o.ok; });
      failures = ok ? 0 : failures + 1;
    }
  }

  // -- readiness and health --

  void probe_destinations_once() {
    for (const auto& d : cfg.destinations) {
      std::string error;
      try {
        sink_postgres::probe(d.dsn.reveal());
      } catch (const std::exception& e) {
        error = e.what();
      }
      std::lock_guard lock(ready_mutex);
      destination_errors[d.name] = error;
    }
  }

  // After each probe: READY=1 the first time every destination answers, a STATUS= line naming
  // the unreachable one until then.
  void notify_readiness() {
    if (ready_sent || !config_loaded) return;
    std::string waiting;
    {
      std::lock_guard lock(ready_mutex);
      for (const auto& [name, error] : destination_errors) {
        if (!error.empty()) waiting = "waiting for destination " + name + ": " + error;
      }
    }
    if (!waiting.empty()) {
      notifier.status(waiting);
      return;
    }
    ready_sent = true;
    notifier.ready(std::to_string(cfg.jobs.size()) + " job(s), admin on http://" +
                   (admin ? admin->address() : cfg.server.listen));
  }

  // STATUS= after each cycle: what `systemctl status` shows between cycles.
  void notify_cycle_status(const std::string& job_name) {
    int idle = 0, running = 0, failed = 0;
    for (const auto& s : board.snapshot()) {
      if (s.state == "running") ++running;
      else if (s.state == "failed") ++failed;
      else ++idle;
    }
    notifier.status(fmt::format("{} stream(s): {} idle, {} running, {} failed; last cycle: job {} at {}",
                                idle + running + failed, idle, running, failed, job_name,
                                model::format_timestamp(clock.now())));
  }

  void start_probe_thread() {
    probe_thread = std::thread([this] {
      while (!probe_stop) {
        probe_destinations_once();
        notify_readiness();
        for (int i = 0; i < 100 && !probe_stop; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    });
  }

  std::string status_json() {
    json::object root;
    root["version"] = kVersion;
    root["now"] = model::format_timestamp(clock.now());
    json::array streams;
    auto ts = [](const std::optional<Timestamp>& t) -> json::value {
      return t ? json::value(model::format_timestamp(*t)) : json::value(nullptr);
    };
    auto now = clock.now();
    for (const auto& s : board.snapshot()) {
      json::object o;
      o["job"] = s.job;
      o["stream"] = s.stream;
      o["mode"] = s.mode;
      o["state"] = s.state;
      o["last_run_started"] = ts(s.last_run_started);
      o["last_run_finished"] = ts(s.last_run_finished);
      o["last_success"] = ts(s.last_success);
      // Error texts may quote what an API answered: any bytes. The document stays valid UTF-8.
      o["last_error"] = s.last_error.empty() ? json::value(nullptr) : json::value(model::to_valid_utf8(s.last_error));
      o["watermark"] = ts(s.watermark);
      // Whole seconds: Boost.JSON prints doubles in exponent form (2.065481E3), unfriendly here.
      o["lag_seconds"] = s.watermark ? json::value((now.ms - s.watermark->ms) / 1000) : json::value(nullptr);
      o["rows_total"] = s.rows_total;
      o["last_rows_read"] = s.last_rows_read;
      o["last_rows_written"] = s.last_rows_written;
      o["last_api_calls"] = s.last_api_calls;
      o["next_run"] = ts(s.next_run);
      if (s.state == "standby") o["held_by"] = model::to_valid_utf8(s.held_by);
      if (s.state == "running") {
        o["progress_rows"] = s.progress_rows;
        o["progress_total"] = s.progress_total;
      }
      streams.push_back(std::move(o));
    }
    root["streams"] = std::move(streams);
    json::array jobs;
    for (const auto& j : board.jobs()) {
      json::object o;
      o["job"] = j.job;
      o["connection"] = j.connection;
      o["destination"] = j.destination;
      o["schedule"] = j.schedule;
      // Whether this instance runs the job (high availability); null while its destination has not answered.
      o["active"] = j.active ? json::value(*j.active) : json::value(nullptr);
      if (j.active == false) o["held_by"] = model::to_valid_utf8(j.held_by);
      jobs.push_back(std::move(o));
    }
    root["jobs"] = std::move(jobs);
    return json::serialize(root) + "\n";
  }

  AdminResponse handle_admin(const std::string& path, const std::string& accept) {
    if (path == "/metrics") {
      auto now = clock.now();
      for (const auto& s : board.snapshot()) {
        if (s.watermark && s.state != "standby") {
          metrics.lag.Add({{"job", s.job}, {"stream", s.stream}}).Set((now.ms - s.watermark->ms) / 1000.0);
        }
      }
      prometheus::TextSerializer serializer;
      return {200, "text/plain; version=0.0.4; charset=utf-8", serializer.Serialize(registry->Collect())};
    }
    if (path == "/healthz") {
      auto age = clock.now().ms - heartbeat_ms.load();
      if (age < 60'000) return {200, "text/plain; charset=utf-8", "ok\n"};
      return {503, "text/plain; charset=utf-8",
              "scheduler loop has not turned for " + std::to_string(age / 1000) + " s\n"};
    }
    if (path == "/readyz") {
      json::object reason;
      bool ready = config_loaded.load();
      if (!ready) reason["config"] = "not loaded";
      {
        std::lock_guard lock(ready_mutex);
        for (const auto& d : cfg.destinations) {
          auto it = destination_errors.find(d.name);
          if (it == destination_errors.end()) {
            ready = false;
            reason["destination " + d.name] = "not probed yet";
          } else if (!it->second.empty()) {
            ready = false;
            reason["destination " + d.name] = it->second;
          }
        }
      }
      if (ready) return {200, "text/plain; charset=utf-8", "ready\n"};
      return {503, "application/json", json::serialize(json::object{{"ready", false}, {"reasons", reason}}) + "\n"};
    }
    if (path == "/status" || path == "/status.json" || path == "/status.html") {
      // One document: the HTML page is rendered from the very JSON a script would get.
      std::string body = status_json();
      if (path == "/status.json" || (path == "/status" && !prefers_html(accept))) {
        return {200, "application/json", std::move(body)};
      }
      return {200, "text/html; charset=utf-8", render_status_page(json::parse(body))};
    }
    if (path == "/") {
      return {200, "text/plain; charset=utf-8",
              "actito-replicator " + std::string(kVersion) + "\n/metrics /healthz /readyz /status\n"};
    }
    return {404, "text/plain; charset=utf-8", "not found\n"};
  }

  // Turns on the scheduler's io_context: /healthz reads its time, and it feeds systemd's watchdog,
  // so a loop that stops turning stops the keep-alives and systemd restarts the service.
  // Progress of running cycles (progress_ticker): a log line every log.progress_interval of a
  // cycle, or the live line of `once` on a terminal.
  std::map<std::pair<std::string, std::string>, std::int64_t> progress_logged_ms;

  asio::awaitable<void> progress_ticker(bool live) {
    asio::steady_timer t(net);
    while (!exiting) {
      const Timestamp now = clock.now();
      std::string line;
      for (const auto& s : board.snapshot()) {
        if (s.state != "running" || !s.last_run_started) continue;
        engine::ProgressSnapshot p;
        p.rows_read = s.progress_rows;
        p.rows_written = s.progress_written;
        p.pages = s.progress_pages;
        p.total = s.progress_total;
        p.elapsed_seconds = static_cast<double>(now.ms - s.last_run_started->ms) / 1000.0;
        const std::string text = s.job + "/" + s.stream + ": " + engine::describe_progress(p);
        if (live) {
          line += (line.empty() ? "" : " | ") + text;
          continue;
        }
        auto& last = progress_logged_ms[{s.job, s.stream}];
        const std::int64_t since = std::max(last, s.last_run_started->ms);
        if (now.ms - since >= std::chrono::duration_cast<std::chrono::milliseconds>(cfg.log.progress_interval).count()) {
          last = now.ms;
          spdlog::info("{} (running for {})", text, engine::format_eta(p.elapsed_seconds));
        }
      }
      if (live) set_status_line(line);
      t.expires_after(live ? std::chrono::milliseconds(250) : std::chrono::milliseconds(1000));
      co_await t.async_wait(kTuple);
    }
    if (live) set_status_line("");
  }

  asio::awaitable<void> heartbeat() {
    asio::steady_timer t(net);
    std::chrono::microseconds period = std::chrono::seconds(1);
    if (auto w = notifier.watchdog_interval()) {
      period = std::clamp<std::chrono::microseconds>(*w / 4, std::chrono::milliseconds(50), period);
    }
    while (!exiting) {
      heartbeat_ms = clock.now().ms;
      notifier.watchdog_ping();
      t.expires_after(period);
      co_await t.async_wait(kTuple);
    }
  }

  void stop_jobs() {
    stop = true;
    for (auto& j : jobs) j->sleeper->cancel();
    // A request not sent yet is not worth waiting for: only the ones in flight finish.
    for (auto& [name, c] : connections) c->client->budget().cancel_waiting();
  }
};

App::App(config::Config config) : impl_(std::make_unique<Impl>(std::move(config))) {}
App::~App() = default;

// ---- run ----------------------------------------------------------------------------------------

int App::run() {
  Impl& m = *impl_;
  std::signal(SIGPIPE, SIG_IGN);
  m.notifier = SystemdNotifier::from_environment();
  m.build();
  m.config_loaded = true;
  m.heartbeat_ms = m.clock.now().ms;
  m.admin = std::make_unique<AdminServer>(m.cfg.server.listen,
                                          [&m](const std::string& p, const std::string& a) { return m.handle_admin(p, a); });
  m.admin->start();
  spdlog::info("actito-replicator {} started: {} job(s), admin on http://{}", kVersion, m.jobs.size(),
               m.admin->address());
  m.start_probe_thread();

  asio::signal_set signals(m.net, SIGINT, SIGTERM, SIGHUP);
  bool reload_requested = false;
  int running_jobs = 0;
  std::function<void()> start_jobs;
  std::unique_ptr<asio::steady_timer> grace;

  std::function<void(const boost::system::error_code&, int)> on_signal;
  on_signal = [&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    if (sig == SIGHUP) {
      spdlog::info("SIGHUP: reloading {}", m.cfg.path);
      m.notifier.reloading();
      try {
        config::Config fresh = config::load_config(m.cfg.path);
        model::Catalog fresh_catalog =
            fresh.catalog_path.empty() ? config::builtin_catalog() : config::load_catalog_file(fresh.catalog_path);
        config::validate(fresh, fresh_catalog);
        m.pending_config = std::move(fresh);
        reload_requested = true;
        m.stop_jobs();  // jobs stop between pages; then they restart with the new config
      } catch (const std::exception& e) {
        spdlog::error("reload failed, keeping the running configuration: {}", e.what());
        m.notifier.ready(std::string("reload failed, kept the running configuration: ") + e.what());
      }
      signals.async_wait(on_signal);
      return;
    }
    spdlog::info("{}: stopping (the page in flight finishes, nothing half-done is committed)",
                 sig == SIGTERM ? "SIGTERM" : "SIGINT");
    reload_requested = false;
    m.notifier.stopping();
    m.exiting = true;
    m.stop_jobs();
    grace = std::make_unique<asio::steady_timer>(m.net, std::chrono::seconds(60));
    grace->async_wait([&m](const boost::system::error_code& gec) {
      if (gec) return;
      spdlog::warn("jobs did not stop within 60 s: abandoning the pages in flight");
      m.net.stop();
    });
  };
  signals.async_wait(on_signal);

  start_jobs = [&]() {
    m.stop = false;
    for (auto& j : m.jobs) {
      ++running_jobs;
      asio::co_spawn(m.net, m.job_loop(*j), [&, name = j->cfg.name](std::exception_ptr e) {
        log_exception("job " + name + " stopped unexpectedly", e);
        if (--running_jobs > 0) return;
        if (reload_requested) {
          reload_requested = false;
          try {
            m.cfg = std::move(*m.pending_config);
            m.pending_config.reset();
            m.catalog = m.cfg.catalog_path.empty() ? config::builtin_catalog()
                                                   : config::load_catalog_file(m.cfg.catalog_path);
            m.board.clear();
            m.build();
            spdlog::info("configuration reloaded: {} job(s)", m.jobs.size());
            m.notifier.ready("configuration reloaded: " + std::to_string(m.jobs.size()) + " job(s)");
          } catch (const std::exception& ex) {
            spdlog::error("reload failed while rebuilding: {}", ex.what());
            m.notifier.ready(std::string("reload failed while rebuilding: ") + ex.what());
          }
          start_jobs();
          return;
        }
        m.exiting = true;
        signals.cancel();
        if (grace) grace->cancel();
      });
    }
    if (m.jobs.empty() && !reload_requested) spdlog::warn("no jobs configured: serving the admin endpoints only");
  };
  start_jobs();
  asio::co_spawn(m.net, m.heartbeat(), [](std::exception_ptr e) { log_exception("heartbeat", e); });
  asio::co_spawn(m.net, m.progress_ticker(false), [](std::exception_ptr e) { log_exception("progress", e); });
  m.net.run();
  m.admin->stop();
  spdlog::info("stopped");
  return kExitOk;
}

// ---- once ---------------------------------------------------------------------------------------

int App::once(const OnceOptions& options) {
  Impl& m = *impl_;
  std::signal(SIGPIPE, SIG_IGN);
  if (options.job) {
    bool found = false;
    for (const auto& j : m.cfg.jobs) found = found || j.name == *options.job;
    if (!found) model::fail(ErrorKind::kConfig, "--job " + *options.job + ": no such job in " + m.cfg.path);
  }
  m.build();
  std::vector<StreamOutcome> outcomes;
  asio::signal_set signals(m.net, SIGINT, SIGTERM);
  signals.async_wait([&m](const boost::system::error_code& ec, int) {
    if (!ec) m.stop_jobs();
  });

  if (options.explain) {
    int rc = kExitOk;
    bool matched = false;
    asio::co_spawn(
        m.net,
        [&]() -> asio::awaitable<void> {
          for (auto& j : m.jobs) {
            if (options.job && j->cfg.name != *options.job) continue;
            for (const auto& s : j->cfg.streams) {
              if (options.stream && s.object != *options.stream) continue;
              matched = true;
              try {
                co_await m.explain_stream(*j, s, std::cout);
              } catch (const std::exception& e) {
                std::cout << j->cfg.name << "/" << s.object << ": cannot explain: " << e.what() << "\n\n";
                rc = kExitFailure;
              }
            }
          }
          signals.cancel();
        },
        [&](std::exception_ptr e) {
          log_exception("explain", e);
          if (e) rc = kExitFailure;
          signals.cancel();
        });
    m.net.run();
    if (options.stream && !matched) {
      model::fail(ErrorKind::kConfig, "--stream " + *options.stream + ": no such stream in the selected job(s)");
    }
    return rc;
  }

  asio::co_spawn(
      m.net,
      [&]() -> asio::awaitable<void> {
        for (auto& j : m.jobs) {
          if (options.job && j->cfg.name != *options.job) continue;
          auto r = co_await m.run_job_once(*j, options.stream);
          outcomes.insert(outcomes.end(), r.begin(), r.end());
        }
        m.exiting = true;
        signals.cancel();
      },
      [&](std::exception_ptr e) {
        log_exception("once", e);
        m.exiting = true;
        signals.cancel();
      });
  // On a terminal, a live progress line; otherwise (cron, CI) the daemon's periodic log lines.
  asio::co_spawn(m.net, m.progress_ticker(status_line_available()),
                 [](std::exception_ptr e) { log_exception("progress", e); });
  m.net.run();

  if (options.stream && outcomes.empty()) {
    model::fail(ErrorKind::kConfig, "--stream " + *options.stream + ": no such stream in the selected job(s)");
  }
  std::vector<std::vector<std::string>> rows;
  bool all_ok = true;
  for (const auto& o : outcomes) {
    all_ok = all_ok && o.ok;
    rows.push_back({o.job, o.stream, o.mode.empty() ? "-" : o.mode, o.ok ? "ok" : o.standby ? "NOT RUN" : "FAILED",
                    std::to_string(o.rows_read), std::to_string(o.rows_written), std::to_string(o.rows_deleted),
                    std::to_string(o.api_calls), fmt_seconds(o.seconds), fmt_ts(o.watermark)});
  }
  print_table(std::cout,
              {"job", "stream", "mode", "result", "rows read", "rows written", "deleted", "api calls", "duration",
               "watermark"},
              rows);
  for (const auto& o : outcomes) {
    if (!o.ok) std::cout << "error " << o.job << "/" << o.stream << ": " << o.error << "\n";
  }
  return all_ok ? kExitOk : kExitFailure;
}

// ---- check --------------------------------------------------------------------------------------

int App::check() {
  Impl& m = *impl_;
  bool all_ok = true;
  auto report = [&](bool ok, const std::string& what, const std::string& detail) {
    all_ok = all_ok && ok;
    std::cout << (ok ? "ok    " : "FAIL  ") << what << (detail.empty() ? "" : ": " + detail) << "\n";
  };
  report(true, "config " + m.cfg.path, std::to_string(m.cfg.jobs.size()) + " job(s)");
  m.build();
  for (auto& [name, conn] : m.connections) {
    bool ok = false;
    std::string detail;
    asio::co_spawn(
        m.net,
        [&, c = conn.get()]() -> asio::awaitable<void> {
          co_await c->client->authenticate();
          auto base = "/entities/v5/entities";
          auto r = co_await c->client->get(base, "Entities");
          json::value v = json::parse(r.body);
          bool found = false;
          if (v.is_object() && v.get_object().contains("entities") && v.get_object().at("entities").is_array()) {
            for (const auto& e : v.get_object().at("entities").get_array()) {
              if (e.is_object() && e.get_object().contains("name") &&
                  e.get_object().at("name") == json::value(c->cfg.entity)) {
                found = true;
              }
            }
          }
          if (!found) {
            model::fail(ErrorKind::kConfig, "entity " + c->cfg.entity + " is not visible to this API key");
          }
          ok = true;
          detail = "token obtained, entity " + c->cfg.entity + " found (" + c->client->options().base_url + ")";
        },
        [&](std::exception_ptr e) {
          if (!e) return;
          try {
            std::rethrow_exception(e);
          } catch (const std::exception& ex) {
            detail = ex.what();
          }
        });
    m.net.restart();
    m.net.run();
    report(ok, "connection " + name, detail);
  }
  for (const auto& d : m.cfg.destinations) {
    try {
      sink_postgres::PostgresSinkOptions so;
      so.dsn = d.dsn.reveal();
      so.schema = d.schema;
      sink_postgres::PostgresSink sink(so);
      sink.check_privileges();
      report(true, "destination " + d.name, "connected, can create schema " + d.schema + " and tables in it");
    } catch (const std::exception& e) {
      report(false, "destination " + d.name, e.what());
    }
  }
  return all_ok ? kExitOk : kExitFailure;
}

// ---- discover -----------------------------------------------------------------------------------

int App::discover(const DiscoverOptions& options) {
  Impl& m = *impl_;
  if (options.format != "table" && options.format != "json" && options.format != "yaml") {
    model::fail(ErrorKind::kConfig, "--format " + options.format + ": expected table, json or yaml");
  }
  m.build();
  int rc = kExitOk;
  for (auto& [name, conn] : m.connections) {
    if (options.connection && name != *options.connection) continue;
    std::vector<model::ObjectDescriptor> objects;
    std::string error;
    asio::co_spawn(
        m.net, [&, c = conn.get()]() -> asio::awaitable<void> { objects = co_await c->discovery->objects(); },
        [&](std::exception_ptr e) {
          if (!e) return;
          try {
            std::rethrow_exception(e);
          } catch (const std::exception& ex) {
            error = ex.what();
          }
        });
    m.net.restart();
    m.net.run();
    if (!error.empty()) {
      std::cerr << "connection " << name << ": " << error << "\n";
      rc = kExitFailure;
      continue;
    }
    auto filters_of = [](const model::ObjectDescriptor& o) {
      std::string out;
      for (const auto& [field, ops] : o.native_filters) {
        out += (out.empty() ? "" : "; ") + field + " ";
        for (std::size_t i = 0; i < ops.size(); ++i) out += (i ? "," : "") + std::string(model::to_string(ops[i]));
      }
      return out;
    };
    if (options.format == "table") {
      std::vector<std::vector<std::string>> rows;
      for (const auto& o : objects) {
        std::size_t extended = 0;
        for (const auto& f : o.fields) extended += f.extended ? 1 : 0;
        std::string notes;
        if (o.parent) notes = "per " + o.parent->object + "." + o.parent->parent_field + " (" + o.parent->child_field + " = / IN)";
        if (extended > 0) notes += std::string(notes.empty() ? "" : "; ") + "extended GETs";
        rows.push_back({o.name, model::snake_case(o.name), join(o.key, ","), std::string(model::to_string(o.mode)),
                        o.cursor_field().empty() ? "-" : o.cursor_field(),
                        std::to_string(o.fields.size() - extended) + (extended ? "+" + std::to_string(extended) : ""),
                        o.dml.empty() ? "-" : join(o.dml, ","), filters_of(o), notes.empty() ? "-" : notes});
      }
      std::cout << "connection " << name << ": " << objects.size() << " objects\n";
      print_table(std::cout, {"object", "table", "key", "mode", "cursor", "fields", "dml", "native filters", "notes"},
                  rows);
    } else {
      json::array arr;
      for (const auto& o : objects) {
        json::object jo;
        jo["connection"] = name;
        jo["object"] = o.name;
        jo["table"] = model::snake_case(o.name);
        jo["key"] = json::value_from(o.key);
        jo["mode"] = model::to_string(o.mode);
        jo["cursor"] = o.cursor_field().empty() ? json::value(nullptr) : json::value(o.cursor_field());
        jo["cursor_pushdown"] = o.cursor_pushdown;
        json::array fields;
        for (const auto& f : o.fields) {
          json::object jf;
          jf["name"] = f.name;
          jf["column"] = model::snake_case(f.name);
          jf["wire"] = f.wire;
          jf["type"] = std::string(model::to_string(f.type)) + (f.multi_valued ? "[]" : "");
          jf["nullable"] = f.nullable;
          if (f.extended) jf["extended"] = true;
          fields.push_back(std::move(jf));
        }
        jo["fields"] = std::move(fields);
        json::object nf;
        for (const auto& [field, ops] : o.native_filters) {
          json::array a;
          for (auto op : ops) a.push_back(json::string(model::to_string(op)));
          nf[field] = std::move(a);
        }
        jo["native_filters"] = std::move(nf);
        jo["dml"] = json::value_from(o.dml);
        jo["max_page_size"] = o.max_page_size;
        if (o.parent) {
          // Nested (contract 3.7): read once per parent id; an = or IN on child_field picks them.
          jo["parent"] = json::object{{"object", o.parent->object},
                                      {"parent_field", o.parent->parent_field},
                                      {"child_field", o.parent->child_field}};
        }
        bool has_extended = std::any_of(o.fields.begin(), o.fields.end(), [](const auto& f) { return f.extended; });
        if (has_extended) jo["extended_requests"] = o.extended_always ? "always" : "suppressible";
        arr.push_back(std::move(jo));
      }
      if (options.format == "json") {
        std::cout << json::serialize(arr) << "\n";
      } else {
        // YAML is a superset of JSON: one flow-style document per object, readable and valid.
        std::cout << "---\n";
        for (const auto& o : arr) std::cout << "- " << json::serialize(o) << "\n";
      }
    }
  }
  return rc;
}

// ---- state and reset ----------------------------------------------------------------------------

int App::state(const std::optional<std::string>& job) {
  Impl& m = *impl_;
  std::vector<std::vector<std::string>> rows;
  std::set<std::string> seen_destinations;
  for (const auto& j : m.cfg.jobs) {
    if (job && j.name != *job) continue;
    for (const auto& d : m.cfg.destinations) {
      if (d.name != j.destination) continue;
      sink_postgres::PostgresSinkOptions so;
      so.dsn = d.dsn.reveal();
      so.schema = d.schema;
      sink_postgres::PostgresSink sink(so);
      for (const auto& s : sink.list_states(j.name)) {
        rows.push_back({s.job, s.stream, s.state.cursor_field.empty() ? "-" : s.state.cursor_field,
                        fmt_ts(s.state.watermark), s.state.plateau ? "plateau@" + std::to_string(s.state.plateau->offset) : "",
                        fmt_ts(s.state.last_success), std::to_string(s.state.rows_total),
                        s.state.last_error.empty() ? "" : s.state.last_error.substr(0, 80)});
      }
    }
  }
  if (job && rows.empty()) {
    bool known = std::any_of(m.cfg.jobs.begin(), m.cfg.jobs.end(), [&](const auto& j) { return j.name == *job; });
    if (!known) model::fail(ErrorKind::kConfig, "--job " + *job + ": no such job in " + m.cfg.path);
  }
  print_table(std::cout, {"job", "stream", "cursor", "watermark", "progress", "last success", "rows", "last error"}, rows);
  return kExitOk;
}

int App::reset(const std::string& job, const std::optional<std::string>& stream, bool assume_yes) {
  Impl& m = *impl_;
  const config::JobConfig* jc = nullptr;
  for (const auto& j : m.cfg.jobs) {
    if (j.name == job) jc = &j;
  }
  if (!jc) model::fail(ErrorKind::kConfig, "--job " + job + ": no such job in " + m.cfg.path);
  std::vector<std::string> streams;
  for (const auto& s : jc->streams) {
    if (!stream || s.object == *stream) streams.push_back(s.object);
  }
  if (streams.empty()) model::fail(ErrorKind::kConfig, "--stream " + *stream + ": no such stream in job " + job);
  if (!assume_yes) {
    if (!isatty(STDIN_FILENO)) {
      model::fail(ErrorKind::kConfig, "reset asks for confirmation and stdin is not a terminal: add --yes");
    }
    std::cout << "Forget the watermark of " << streams.size() << " stream(s) of job " << job
              << "? The next cycle re-reads them from the start. [y/N] " << std::flush;
    std::string answer;
    std::getline(std::cin, answer);
    if (answer != "y" && answer != "Y" && answer != "yes") {
      std::cout << "nothing changed\n";
      return kExitFailure;
    }
  }
  for (const auto& d : m.cfg.destinations) {
    if (d.name != jc->destination) continue;
    sink_postgres::PostgresSinkOptions so;
    so.dsn = d.dsn.reveal();
    so.schema = d.schema;
    sink_postgres::PostgresSink sink(so);
    for (const auto& s : streams) {
      if (sink.reset_state(job, s)) {
        std::cout << "reset " << job << "/" << s << "\n";
      } else {
        std::cout << job << "/" << s << ": no state yet (it never committed a page): nothing to reset\n";
      }
    }
  }
  return kExitOk;
}

}  // namespace replicator::daemon

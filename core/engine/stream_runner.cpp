#include "core/engine/stream_runner.hpp"

#include <algorithm>
#include <memory>
#include <set>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/model/error.hpp"

namespace replicator::engine {

namespace asio = boost::asio;

namespace {

// Rows a full refresh did not return that are checked one by one before being marked deleted;
// more than this is a real mass deletion.
constexpr std::size_t kMaxDeleteChecks = 20;

// A commit running on the sink thread while the next page is fetched.
struct PendingCommit {
  explicit PendingCommit(asio::any_io_executor ex) : event(ex, asio::steady_timer::time_point::max()) {}
  asio::steady_timer event;
  bool finished = false;
  std::exception_ptr error;
  CommitResult result;
  std::int64_t rows = 0;
  StreamState state;
};

asio::awaitable<void> wait_for(std::shared_ptr<PendingCommit> p) {
  while (!p->finished) co_await p->event.async_wait(asio::as_tuple(asio::use_awaitable));
}

Row key_of(const StreamSpec& spec, const Row& row) {
  Row key;
  key.reserve(spec.key_index.size());
  for (auto i : spec.key_index) key.push_back(row.at(i));
  return key;
}

void check_stop(const CycleOptions& options, const StreamSpec& spec) {
  if (options.stop && options.stop->load()) {
    model::fail(model::ErrorKind::kCancelled, "stream " + spec.stream + ": stopped between pages");
  }
}

// The spec that reads the key field of a fan-out's parent object, every page, by key.
StreamSpec parent_spec(const StreamSpec& spec) {
  const FanOut& f = *spec.fan_out;
  StreamSpec p;
  p.job = spec.job;
  p.stream = f.parent.name;
  p.object = f.parent;
  const model::FieldDescriptor* field = f.parent.find_field(f.parent_field);
  if (!field) {
    model::fail(model::ErrorKind::kPermanent, "catalog: parent " + f.parent.name + " of " + spec.stream +
                                                  " has no field " + f.parent_field);
  }
  p.fields = {*field};
  p.key_index = {0};
  p.mode = model::ReplicationMode::kFullRefresh;
  p.page_size = f.parent.max_page_size;
  return p;
}

// The spec of a key-only scan (delete detection of an incremental stream): every key, sorted by
// key, projected to the key fields when the object accepts `fields=` (3.9). When part of `where`
// is applied locally, whole rows are read so that the filter can be evaluated.
StreamSpec key_scan_spec(const StreamSpec& spec, const std::optional<Timestamp>& upper) {
  StreamSpec k = spec;
  k.mode = model::ReplicationMode::kFullRefresh;
  k.cursor_index.reset();
  k.extended = ExtendedFetch::kNone;
  k.detect_deletes = false;
  k.fan_out.reset();
  k.page_size = spec.object.max_page_size;
  if (!spec.local_filter) {
    k.fields.clear();
    k.key_index.clear();
    for (auto i : spec.key_index) {
      k.key_index.push_back(k.fields.size());
      k.fields.push_back(spec.fields[i]);
    }
    if (spec.object.fields_projection) {
      for (const auto& f : k.fields) {
        const std::string& top = f.wire_path.empty() ? f.wire : f.wire_path.front();
        if (std::find(k.projection.begin(), k.projection.end(), top) == k.projection.end()) {
          k.projection.push_back(top);
        }
      }
    }
  }
  // Rows created after the scan began cannot be in the replica; keeping them out makes the
  // scanned set only shrink, so a shift of totalElements reveals a delete (3.9).
  const std::string& created = spec.object.created_field;
  if (upper && !created.empty() && spec.object.native(created, model::FilterOp::kLt)) {
    k.pushed_filters.push_back(Constraint{created, model::FilterOp::kLt, {*upper}});
  }
  return k;
}

bool delete_scan_due(const StreamSpec& spec, const StreamState& state, Timestamp now) {
  if (!spec.detect_deletes) return false;
  if (!state.last_delete_scan) return true;
  return now.ms - state.last_delete_scan->ms >= spec.detect_deletes_every.count();
}

}  // namespace

CycleProgress combined(const CycleProgress& a, const CycleProgress& b) {
  CycleProgress sum = b;
  sum.pages += a.pages;
  sum.rows_read += a.rows_read;
  sum.rows_filtered += a.rows_filtered;
  sum.rows_written += a.rows_written;
  sum.rows_deleted += a.rows_deleted;
  sum.extended_calls += a.extended_calls;
  sum.parents += a.parents;
  sum.delete_checks += a.delete_checks;
  sum.undeclared_fields = a.undeclared_fields || b.undeclared_fields;
  return sum;
}

namespace {

// One start of a cycle, from the state the sink holds now.
asio::awaitable<CycleResult> run_cycle_from_state(Source& source, SinkWorker& sink, const StreamSpec& spec,
                                                  const Clock& clock, const CycleOptions& options) {
  auto ex = co_await asio::this_coro::executor;
  StreamState start;
  // Named first: GCC 12 mishandles a temporary converted into a by-value coroutine parameter.
  std::function<void(Sink&)> load = [&](Sink& s) {
    s.prepare(spec);
    start = s.load_state(spec.job, spec.stream);
  };
  co_await sink.run(std::move(load));

  CycleResult result;
  result.state = start;
  std::int64_t rows_total = start.rows_total;
  std::shared_ptr<PendingCommit> pending;
  std::optional<Timestamp> server_clock;  // the latest Date the API answered with
  const bool full = spec.mode == model::ReplicationMode::kFullRefresh;
  const bool record_keys = spec.detect_deletes && full;
  // A stream's very first sync reads every row there is: a key scan right after it would find
  // nothing and cost one call per 1000 keys. The sync counts as the scan, from its start.
  const Timestamp cycle_start = clock.now();
  const bool first_sync_is_scan =
      spec.detect_deletes && !full && !start.watermark && start.rows_total == 0 && !start.last_delete_scan;

  // Accounts for a finished commit; rethrows its failure.
  auto settle_pending = [&]() {
    if (!pending) return;
    auto p = std::move(pending);
    if (p->error) std::rethrow_exception(p->error);
    result.progress.rows_written += p->result.rows_written;
    result.state = p->state;
    result.state.rows_total = rows_total;
    if (options.on_page) options.on_page(result.progress);
  };

  std::exception_ptr failure;
  try {
    // The partitions of the read: one, or one per parent id.
    std::vector<std::optional<Value>> partitions;
    if (!spec.fan_out) {
      partitions.emplace_back();
    } else if (spec.fan_out->ids) {
      for (const auto& id : *spec.fan_out->ids) partitions.emplace_back(id);
    } else {
      StreamSpec ps = parent_spec(spec);
      CursorPager parents(ps, StreamState{}, options.settle);
      std::set<Row, bool (*)(const Row&, const Row&)> ids(&key_less);
      while (!parents.done()) {
        check_stop(options, spec);
        PageResult page = co_await source.list(ps, parents.next_query());
        for (auto& r : parents.on_page(std::move(page)).rows) ids.insert(std::move(r));
      }
      for (const auto& r : ids) partitions.emplace_back(r.front());
    }

    if (record_keys) {
      std::function<void(Sink&)> begin = [&](Sink& s) { s.begin_key_scan(spec); };
      co_await sink.run(std::move(begin));
    }

    bool interrupted = false;  // stopped early on an undeclared property (stop_on_undeclared)
    for (std::size_t part = 0; part < partitions.size() && !interrupted; ++part) {
      StreamSpec part_spec = spec;
      if (partitions[part]) {
        part_spec.object.route_params[spec.fan_out->path_param] = model::to_display(*partitions[part]);
        ++result.progress.parents;
      }
      const bool last_partition = part + 1 == partitions.size();
      CursorPager pager(part_spec, result.state, options.settle);
      while (!pager.done()) {
        check_stop(options, spec);
        PageResult page = co_await source.list(part_spec, pager.next_query());
        if (page.server_date.ms != 0) server_clock = page.server_date;
        if (page.undeclared_fields) {
          result.progress.undeclared_fields = true;
          if (options.stop_on_undeclared) {
            // Nothing of this page is written: after the structures are read again, the next
            // cycle reads it again from the committed state, with the new fields.
            interrupted = true;
            break;
          }
        }
        if (result.progress.pages == 0) result.progress.total_hint = page.total_elements;
        ++result.progress.pages;
        result.progress.rows_read += static_cast<std::int64_t>(page.rows.size());
        PageStep step = pager.on_page(std::move(page));

        std::vector<Row> rows = std::move(step.rows);
        if (spec.local_filter) {
          auto before = rows.size();
          std::erase_if(rows, [&](const Row& r) { return !spec.local_filter(r); });
          result.progress.rows_filtered += static_cast<std::int64_t>(before - rows.size());
        }
        auto seen = std::make_shared<std::vector<Row>>();
        if (record_keys) {
          seen->reserve(rows.size());
          for (const auto& r : rows) seen->push_back(key_of(spec, r));
        }
        if (spec.extended == ExtendedFetch::kFetch && !rows.empty()) {
          // Only rows that are new or changed are worth a GET; the others are up to date.
          std::vector<bool> changed;
          std::function<void(Sink&)> ask = [&](Sink& s) { changed = s.changed_rows(spec, rows); };
          co_await sink.run(std::move(ask));
          std::vector<Row> fetched;
          for (std::size_t i = 0; i < rows.size(); ++i) {
            if (i < changed.size() && !changed[i]) continue;
            check_stop(options, spec);
            Row key = key_of(spec, rows[i]);
            std::optional<Row> one = co_await source.get(part_spec, std::move(key));
            ++result.progress.extended_calls;
            if (options.on_extended_call) options.on_extended_call();
            if (!one) continue;  // deleted since it was listed (3.8)
            Row merged = std::move(rows[i]);
            for (std::size_t f = 0; f < spec.fields.size(); ++f) {
              if (spec.fields[f].extended) merged[f] = std::move((*one)[f]);
            }
            fetched.push_back(std::move(merged));
          }
          rows = std::move(fetched);
        }

        if (pending) {
          co_await wait_for(pending);
          settle_pending();
        }
        const bool done = step.done && last_partition;
        if (done) {
          step.state.last_success = clock.now();
          step.state.last_error.clear();
          if (first_sync_is_scan) step.state.last_delete_scan = cycle_start;
        }
        step.state.rows_total = rows_total;  // the sink adds the rows this commit writes

        auto p = std::make_shared<PendingCommit>(ex);
        p->rows = static_cast<std::int64_t>(rows.size());
        p->state = step.state;
        auto batch = std::make_shared<std::vector<Row>>(std::move(rows));
        auto state = std::make_shared<StreamState>(std::move(step.state));
        const StreamSpec* spec_ptr = &spec;  // `spec` lives in this coroutine frame until the end
        sink.post(
            [p, batch, state, seen, spec_ptr, record_keys](Sink& s) {
              if (record_keys && !seen->empty()) s.add_seen_keys(*spec_ptr, *seen);
              p->result = s.commit(*spec_ptr, *batch, *state);
            },
            [p, &rows_total](std::exception_ptr e) {
              p->error = e;
              if (!e) rows_total += p->result.rows_written;
              p->finished = true;
              p->event.cancel();
            },
            ex);
        pending = std::move(p);
      }
      result.restarts += pager.restarts();
    }
    if (pending) {
      co_await wait_for(pending);
      settle_pending();
    }
    if (interrupted) {
      result.interrupted = true;
      result.state.rows_total = rows_total;
      co_return result;
    }
    if (partitions.empty()) {
      // A fan-out over no parent (none exists, or the filter's set is empty): nothing to read,
      // and the cycle still succeeds.
      StreamState st = result.state;
      st.last_success = clock.now();
      st.last_error.clear();
      st.rows_total = rows_total;
      std::function<void(Sink&)> work = [&](Sink& s) { s.commit(spec, {}, st); };
      co_await sink.run(std::move(work));
      result.state = st;
    }

    // Delete detection.
    const Timestamp now = clock.now();
    if (record_keys) {
      // Offset paging can skip a row when another one is deleted and a third inserted between two
      // pages (totalElements unchanged). Before marking, ask for each row the refresh did not
      // return, when they are few: a row that answers is alive. Many missing rows are a real
      // mass deletion, marked without the calls. A nested object's key holds its parent id, which
      // fills the parent's placeholder of the single-record route.
      // With a `where` the row found must be told in or out of the selection, or asking is no use.
      const bool has_where = !spec.pushed_text.empty() || !spec.local_text.empty();
      if (!spec.object.get_route.empty() && (!has_where || spec.selection)) {
        std::vector<Row> missing;
        std::function<void(Sink&)> read = [&](Sink& s) { missing = s.unseen_keys(spec, kMaxDeleteChecks + 1); };
        co_await sink.run(std::move(read));
        if (!missing.empty() && missing.size() <= kMaxDeleteChecks) {
          std::vector<Row> alive;
          for (auto& key : missing) {
            check_stop(options, spec);
            Row probe = key;
            std::optional<Row> row = co_await source.get(spec, std::move(probe));
            ++result.progress.delete_checks;
            // Alive, and still in the selection: a row that left the `where` counts as deleted.
            if (row && (!has_where || spec.selection(*row))) alive.push_back(std::move(key));
          }
          if (!alive.empty()) {
            std::function<void(Sink&)> add = [&](Sink& s) { s.add_seen_keys(spec, alive); };
            co_await sink.run(std::move(add));
          }
        }
      }
      StreamState st = result.state;
      st.rows_total = rows_total;
      st.last_delete_scan = now;
      std::int64_t marked = 0;
      std::function<void(Sink&)> finish = [&](Sink& s) { marked = s.finish_key_scan(spec, now, st); };
      co_await sink.run(std::move(finish));
      result.state = st;
      result.progress.rows_deleted += marked;
      result.delete_scan = true;
    } else if (!full && !first_sync_is_scan && delete_scan_due(spec, result.state, now)) {
      StreamSpec ks = key_scan_spec(spec, server_clock);
      std::function<void(Sink&)> begin = [&](Sink& s) { s.begin_key_scan(spec); };
      co_await sink.run(std::move(begin));
      CursorPager scan(ks, StreamState{}, options.settle);
      while (!scan.done()) {
        check_stop(options, spec);
        PageResult page = co_await source.list(ks, scan.next_query());
        ++result.progress.pages;
        std::vector<Row> rows = scan.on_page(std::move(page)).rows;
        if (spec.local_filter) std::erase_if(rows, [&](const Row& r) { return !spec.local_filter(r); });
        std::vector<Row> keys;
        keys.reserve(rows.size());
        for (const auto& r : rows) keys.push_back(key_of(ks, r));
        if (!keys.empty()) {
          std::function<void(Sink&)> add = [&](Sink& s) { s.add_seen_keys(spec, keys); };
          co_await sink.run(std::move(add));
        }
      }
      result.restarts += scan.restarts();
      StreamState st = result.state;
      st.rows_total = rows_total;
      st.last_delete_scan = clock.now();
      std::int64_t marked = 0;
      const Timestamp at = *st.last_delete_scan;
      std::function<void(Sink&)> finish = [&](Sink& s) { marked = s.finish_key_scan(spec, at, st); };
      co_await sink.run(std::move(finish));
      result.state = st;
      result.progress.rows_deleted += marked;
      result.delete_scan = true;
    }
  } catch (...) {
    failure = std::current_exception();
  }
  if (failure) {
    // Never leave a commit running with references into this frame.
    if (pending) {
      co_await wait_for(pending);
      pending.reset();
    }
    std::rethrow_exception(failure);
  }
  result.state.rows_total = rows_total;
  co_return result;
}

}  // namespace

asio::awaitable<CycleResult> run_cycle(Source& source, SinkWorker& sink, StreamSpec spec,
                                       const Clock& clock, CycleOptions options) {
  // What the pages committed before a reset held: still written, added to the result. Progress
  // reports (on_page) follow the current start, whose total and rate they describe.
  CycleProgress earlier;
  CycleProgress committed;
  CycleOptions opts = options;
  opts.on_page = [&](const CycleProgress& p) {
    committed = p;
    if (options.on_page) options.on_page(p);
  };
  for (int resets = 0;; ++resets) {
    committed = CycleProgress{};
    try {
      CycleResult r = co_await run_cycle_from_state(source, sink, spec, clock, opts);
      r.progress = combined(earlier, r.progress);
      r.state_resets = resets;
      co_return r;
    } catch (const StateWasReset&) {
      if (resets > 0) throw;
      earlier = combined(earlier, committed);
    }
  }
}

}  // namespace replicator::engine

#include "core/engine/stream_runner.hpp"

#include <memory>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/model/error.hpp"

namespace replicator::engine {

namespace asio = boost::asio;

namespace {

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

}  // namespace

asio::awaitable<CycleResult> run_cycle(Source& source, SinkWorker& sink, StreamSpec spec,
                                       const Clock& clock, CycleOptions options) {
  auto ex = co_await asio::this_coro::executor;
  StreamState start;
  // Named first: GCC 12 mishandles a temporary converted into a by-value coroutine parameter.
  std::function<void(Sink&)> load = [&](Sink& s) {
    s.prepare(spec);
    start = s.load_state(spec.job, spec.stream);
  };
  co_await sink.run(std::move(load));

  CursorPager pager(spec, start, options.settle);
  CycleResult result;
  std::int64_t rows_total = start.rows_total;
  std::shared_ptr<PendingCommit> pending;

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
    while (!pager.done()) {
      if (options.stop && options.stop->load()) {
        model::fail(model::ErrorKind::kCancelled, "stream " + spec.stream + ": stopped between pages");
      }
      PageResult page = co_await source.list(spec, pager.next_query());
      if (result.progress.pages == 0) result.progress.total_hint = page.total_elements;
      ++result.progress.pages;
      result.progress.rows_read += static_cast<std::int64_t>(page.rows.size());
      PageStep step = pager.on_page(std::move(page));

      if (pending) {
        co_await wait_for(pending);
        settle_pending();
      }
      if (step.done) {
        step.state.last_success = clock.now();
        step.state.last_error.clear();
      }
      step.state.rows_total = rows_total;  // the sink adds the rows this commit writes

      auto p = std::make_shared<PendingCommit>(ex);
      p->rows = static_cast<std::int64_t>(step.rows.size());
      p->state = step.state;
      auto rows = std::make_shared<std::vector<Row>>(std::move(step.rows));
      auto state = std::make_shared<StreamState>(std::move(step.state));
      const StreamSpec* spec_ptr = &spec;  // `spec` lives in this coroutine frame until the end
      sink.post(
          [p, rows, state, spec_ptr](Sink& s) { p->result = s.commit(*spec_ptr, *rows, *state); },
          [p, &rows_total](std::exception_ptr e) {
            p->error = e;
            if (!e) rows_total += p->result.rows_written;
            p->finished = true;
            p->event.cancel();
          },
          ex);
      pending = std::move(p);
    }
    if (pending) {
      co_await wait_for(pending);
      settle_pending();
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
  result.restarts = pager.restarts();
  result.state.rows_total = rows_total;
  co_return result;
}

}  // namespace replicator::engine

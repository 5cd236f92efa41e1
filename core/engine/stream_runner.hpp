// One replication cycle of one stream: pages from the source, rows and state into the sink,
// fetching page n+1 while page n is being committed.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>

#include <boost/asio/awaitable.hpp>

#include "core/engine/cursor_pager.hpp"
#include "core/engine/ports.hpp"
#include "core/engine/sink_worker.hpp"

namespace replicator::engine {

struct CycleProgress {
  std::int64_t pages = 0;
  std::int64_t rows_read = 0;
  std::int64_t rows_written = 0;
  std::int64_t total_hint = -1;  // totalElements of the first page, when known
};

struct CycleResult {
  CycleProgress progress;
  StreamState state;  // the committed state at the end of the cycle
  int restarts = 0;
};

struct CycleOptions {
  std::chrono::milliseconds settle{1000};  // upper bound = server clock - settle
  const std::atomic<bool>* stop = nullptr; // checked between pages: stop before the next page
  std::function<void(const CycleProgress&)> on_page;  // after each committed page
};

// Runs one cycle. `source` and `sink` are owned by the application and outlive the cycle.
// Every page's rows commit together with the state that covers them; on any error the page in
// flight is rolled back by the sink, the committed pages stay, and the error is rethrown.
// Must run on a single-threaded executor (the connection's).
boost::asio::awaitable<CycleResult> run_cycle(Source& source, SinkWorker& sink, StreamSpec spec,
                                              const Clock& clock, CycleOptions options);

}  // namespace replicator::engine

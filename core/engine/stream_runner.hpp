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
  std::int64_t rows_read = 0;      // rows the API returned (before the local filter)
  std::int64_t rows_filtered = 0;  // rows the local part of `where` left out
  std::int64_t rows_written = 0;
  std::int64_t rows_deleted = 0;   // rows marked with _deleted_at by delete detection
  std::int64_t extended_calls = 0; // single-record GETs for extended fields
  std::int64_t parents = 0;        // fan-out: parent ids read through
  std::int64_t delete_checks = 0;  // single-record GETs confirming a row a refresh did not return
  std::int64_t total_hint = -1;    // totalElements of the first page, when known
  bool undeclared_fields = false;  // some row held a property the descriptor does not declare
};

struct CycleResult {
  CycleProgress progress;
  StreamState state;  // the committed state at the end of the cycle
  int restarts = 0;
  bool delete_scan = false;  // a delete detection ran in this cycle
  bool interrupted = false;  // stopped before a page holding undeclared fields (nothing of it written)
  // The state was reset (`reset`, from another process) while the cycle ran: it started again from
  // the reset state, this many times. The progress adds up every start.
  int state_resets = 0;
};

// The progress of two runs of a cycle (a restart after a reset or after new attributes): counts
// add up; the total hint is the later run's.
CycleProgress combined(const CycleProgress& earlier, const CycleProgress& later);

struct CycleOptions {
  std::chrono::milliseconds settle{1000};  // upper bound = server clock - settle
  const std::atomic<bool>* stop = nullptr; // checked between pages: stop before the next page
  std::function<void(const CycleProgress&)> on_page;  // after each committed page
  std::function<void()> on_extended_call;              // after each single-record GET
  // Stop the cycle, without writing it, at the first page holding a property the object's
  // descriptor does not declare (a new attribute): the caller reads the structures again and
  // runs the cycle anew, so that no value of the new attribute is lost.
  bool stop_on_undeclared = false;
};

// Runs one cycle. `source` and `sink` are owned by the application and outlive the cycle.
// Every page's rows commit together with the state that covers them; on any error the page in
// flight is rolled back by the sink, the committed pages stay, and the error is rethrown.
// Must run on a single-threaded executor (the connection's).
//
// Around the paging of CursorPager, per the stream's spec:
// - fan-out (nested objects): the pages are read once per parent id, the ids coming from the
//   stream's filter or from listing the parent object (key only);
// - the local part of `where` drops rows after the pager saw them (the pager needs every row);
// - extended fields: the sink says which rows are new or changed; each of them costs one GET,
//   unchanged rows are not written at all; a row whose GET answers 404 is dropped;
// - delete detection: a full refresh records every key it reads and marks the others at the
//   end; an incremental stream runs a key-only scan when `detect_deletes_every` has passed.
// - a reset of the stream's state while the cycle runs (StateWasReset from the sink) makes the
//   cycle start again from the reset state, once; a second reset in the same cycle is rethrown.
boost::asio::awaitable<CycleResult> run_cycle(Source& source, SinkWorker& sink, StreamSpec spec,
                                              const Clock& clock, CycleOptions options);

}  // namespace replicator::engine

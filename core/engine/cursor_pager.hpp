// The paging plan of one replication cycle: which list request comes next and which rows and
// state to commit after each page, so that no row is lost when rows change during the sync or
// when thousands of rows share one timestamp (wire contract 3.10). Pure logic, no I/O.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/engine/ports.hpp"

namespace replicator::engine {

// What to do with one page: the rows to write, and the state to commit with them.
struct PageStep {
  std::vector<Row> rows;
  StreamState state;
  bool done = false;  // no further request in this cycle
};

// Plans the requests of one cycle of one stream. Not thread-safe; one instance per cycle.
//
// Strategies (chosen from the stream's mode and whether the cursor is a native filter):
// - kRange: incremental with the cursor pushed down. Requests `c >= L; c < U` sorted by (c, key)
//   at page 0 and moves L to the cursor of the last row; a page whose rows all share L is a
//   plateau, read with `c == L` sorted by key page after page (restarted at page 0 when
//   totalElements shifts), after which the lower bound becomes `c > L`.
// - kDescending: incremental without pushdown (custom tables). Reads sorted by (c desc, key desc)
//   with offsets and stops after the first page holding a row older than L; restarts when
//   totalElements shifts. The watermark moves only with the last page of the scan.
// - kFull: full refresh, sorted by key, offset pages; restarts when totalElements shifts.
class CursorPager {
 public:
  enum class Strategy { kRange, kDescending, kFull };

  // `settle` is subtracted from the server clock to form the exclusive upper bound U.
  CursorPager(const StreamSpec& spec, StreamState start,
              std::chrono::milliseconds settle = std::chrono::seconds(1));

  Strategy strategy() const noexcept { return strategy_; }
  bool done() const noexcept { return done_; }
  // The next request. Precondition: !done().
  ListQuery next_query() const;
  // Consumes the answer to next_query().
  PageStep on_page(PageResult page);
  // Number of restarts caused by totalElements shifts (for logs and tests).
  int restarts() const noexcept { return restarts_; }

  static constexpr int kMaxRestarts = 20;

 private:
  enum class Phase { kRange, kPlateau, kWindow, kScan };

  const Value& cursor_of(const Row& row) const;
  Row key_of(const Row& row) const;
  Timestamp cursor_ts(const Row& row) const;
  void restart_scan();

  PageStep range_page(PageResult&& page);
  PageStep plateau_page(PageResult&& page);
  PageStep descending_page(PageResult&& page);
  PageStep full_page(PageResult&& page);
  PageStep window_page(PageResult&& page);

  const StreamSpec& spec_;
  Strategy strategy_;
  Phase phase_ = Phase::kRange;
  StreamState state_;  // what is committed with the next page
  std::chrono::milliseconds settle_;
  bool done_ = false;
  int restarts_ = 0;

  // Range / plateau.
  std::optional<Timestamp> lower_;  // L
  bool lower_exclusive_ = false;
  std::optional<Timestamp> upper_;  // U, from the first answer's server clock
  std::optional<Timestamp> skip_at_;  // rows at this cursor whose key is in skip_keys_ are known
  std::set<Row, bool (*)(const Row&, const Row&)> skip_keys_;
  std::int64_t plateau_page_ = 0;
  std::int64_t plateau_total_ = -1;
  // A plateau resumed from the state: the lookback window below it is still owed (3.10).
  std::optional<Timestamp> resumed_at_;
  std::optional<Timestamp> window_end_;  // kWindow reads `window_lo_ <= c < window_end_`
  Timestamp window_lo_;
  std::int64_t window_page_ = 0;
  std::int64_t window_total_ = -1;

  // Descending / full scans.
  std::int64_t scan_page_ = 0;
  std::int64_t scan_total_ = -1;
  std::optional<Timestamp> scan_top_;  // highest cursor of the scan (its first row)
  std::optional<Timestamp> scan_upper_;  // server clock - settle at the first page
  std::vector<Row> top_keys_;          // keys of rows at scan_top_
  bool top_keys_complete_ = true;
};

// Less-than on key tuples with the server's ordering (model::compare).
bool key_less(const Row& a, const Row& b);

}  // namespace replicator::engine

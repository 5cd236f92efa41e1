#include "core/engine/cursor_pager.hpp"

#include <algorithm>

#include "core/model/error.hpp"

namespace replicator::engine {

using model::ErrorKind;
using model::FilterOp;

bool key_less(const Row& a, const Row& b) {
  const std::size_t n = std::min(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    int c = model::compare(a[i], b[i]);
    if (c != 0) return c < 0;
  }
  return a.size() < b.size();
}

CursorPager::CursorPager(const StreamSpec& spec, StreamState start, std::chrono::milliseconds settle)
    : spec_(spec), state_(std::move(start)), settle_(settle), skip_keys_(&key_less) {
  if (spec_.page_size <= 0) model::fail(ErrorKind::kConfig, "page size must be positive");
  state_.cursor_field = spec_.object.cursor_field();
  if (spec_.mode == model::ReplicationMode::kFullRefresh) {
    strategy_ = Strategy::kFull;
    phase_ = Phase::kScan;
    return;
  }
  if (!spec_.cursor_index) {
    model::fail(ErrorKind::kConfig, "stream " + spec_.stream + " is incremental but has no cursor field");
  }
  strategy_ = spec_.object.cursor_pushdown ? Strategy::kRange : Strategy::kDescending;
  phase_ = strategy_ == Strategy::kRange ? Phase::kRange : Phase::kScan;

  if (!state_.watermark) return;
  const Timestamp w = *state_.watermark;
  const auto lookback = spec_.lookback.count();
  if (lookback == 0 && state_.watermark_exclusive) {
    lower_ = w;
    lower_exclusive_ = true;
  } else {
    lower_ = Timestamp{w.ms - lookback};
  }
  if (!state_.watermark_exclusive && !state_.keys_at_watermark.empty()) {
    skip_at_ = w;
    skip_keys_.insert(state_.keys_at_watermark.begin(), state_.keys_at_watermark.end());
  }
  if (strategy_ == Strategy::kRange && state_.plateau) {
    // Resume a plateau read that a previous cycle left half-way (contract 3.10).
    phase_ = Phase::kPlateau;
    lower_ = w;
    lower_exclusive_ = false;
    const auto offset = state_.plateau->offset;
    plateau_page_ = offset % spec_.page_size == 0 ? offset / spec_.page_size : 0;
    plateau_total_ = plateau_page_ == 0 ? -1 : state_.plateau->total;
    if (lookback > 0) resumed_at_ = w;
  }
}

const Value& CursorPager::cursor_of(const Row& row) const { return row.at(*spec_.cursor_index); }

Timestamp CursorPager::cursor_ts(const Row& row) const {
  const Value& v = cursor_of(row);
  if (const auto* t = std::get_if<Timestamp>(&v)) return *t;
  model::fail(ErrorKind::kPermanent,
              "stream " + spec_.stream + ": a row has no value for its cursor field " +
                  spec_.fields.at(*spec_.cursor_index).name + " (key " +
                  model::to_display(row.at(spec_.key_index.front())) + ")");
}

Row CursorPager::key_of(const Row& row) const {
  Row key;
  key.reserve(spec_.key_index.size());
  for (auto i : spec_.key_index) key.push_back(row.at(i));
  return key;
}

ListQuery CursorPager::next_query() const {
  ListQuery q;
  q.constraints = spec_.pushed_filters;
  q.size = spec_.page_size;
  const std::string& cursor = spec_.object.cursor_field();
  auto by_key = [&](bool descending) {
    for (auto i : spec_.key_index) q.sort.push_back(SortKey{spec_.fields[i].name, descending});
  };
  switch (phase_) {
    case Phase::kRange:
      if (lower_) {
        q.constraints.push_back(
            Constraint{cursor, lower_exclusive_ ? FilterOp::kGt : FilterOp::kGe, {*lower_}});
      }
      if (upper_) q.constraints.push_back(Constraint{cursor, FilterOp::kLt, {*upper_}});
      q.sort.push_back(SortKey{cursor, false});
      by_key(false);
      q.page = 0;
      break;
    case Phase::kPlateau:
      q.constraints.push_back(Constraint{cursor, FilterOp::kEq, {*lower_}});
      by_key(false);
      q.page = plateau_page_;
      break;
    case Phase::kWindow:
      q.constraints.push_back(Constraint{cursor, FilterOp::kGe, {window_lo_}});
      q.constraints.push_back(Constraint{cursor, FilterOp::kLt, {*window_end_}});
      q.sort.push_back(SortKey{cursor, false});
      by_key(false);
      q.page = window_page_;
      break;
    case Phase::kScan:
      if (strategy_ == Strategy::kDescending) {
        q.sort.push_back(SortKey{cursor, true});
        by_key(true);
      } else {
        by_key(false);
      }
      q.page = scan_page_;
      break;
  }
  return q;
}

PageStep CursorPager::on_page(PageResult page) {
  if (done_) model::fail(ErrorKind::kPermanent, "internal: page received after the cycle ended");
  switch (phase_) {
    case Phase::kRange: return range_page(std::move(page));
    case Phase::kPlateau: return plateau_page(std::move(page));
    case Phase::kWindow: return window_page(std::move(page));
    case Phase::kScan:
      return strategy_ == Strategy::kDescending ? descending_page(std::move(page))
                                                : full_page(std::move(page));
  }
  return {};
}

PageStep CursorPager::range_page(PageResult&& page) {
  PageStep step;
  bool truncated = false;
  if (!upper_) {
    // Rows stamped in the last moments may still be in flight on the server: read only what is
    // older than the server clock minus `settle`; the rest is for the next cycle.
    upper_ = Timestamp{page.server_date.ms - settle_.count()};
    while (!page.rows.empty() && cursor_ts(page.rows.back()) >= *upper_) {
      page.rows.pop_back();
      truncated = true;
    }
  }
  if (page.rows.empty()) {
    done_ = true;
    step.done = true;
    step.state = state_;
    return step;
  }
  const std::size_t raw_count = page.rows.size();
  const Timestamp last = cursor_ts(page.rows.back());
  const bool all_at_lower = lower_ && !lower_exclusive_ && last == *lower_;

  // Keys of the rows at the new watermark (a key-ordered prefix of that moment's rows).
  std::vector<Row> keys_at_last;
  if (skip_at_ && *skip_at_ == last) keys_at_last.assign(skip_keys_.begin(), skip_keys_.end());
  for (const Row& r : page.rows) {
    if (cursor_ts(r) == last) {
      Row k = key_of(r);
      if (!(skip_at_ && *skip_at_ == last && skip_keys_.count(k))) keys_at_last.push_back(std::move(k));
    }
  }
  for (Row& r : page.rows) {
    if (skip_at_ && cursor_ts(r) == *skip_at_ && skip_keys_.count(key_of(r))) continue;
    step.rows.push_back(std::move(r));
  }

  // Rows of the last moment on this page: when they are many, that moment is very likely a
  // plateau that goes on past the page, so read it by key right away instead of spending a range
  // request to discover it (API calls are the scarce resource).
  std::size_t at_last = 0;
  for (const Row& r : step.rows) at_last += cursor_ts(r) == last ? 1 : 0;
  const bool full = raw_count >= static_cast<std::size_t>(spec_.page_size);
  const bool likely_plateau = at_last >= 2 && at_last * 10 >= static_cast<std::size_t>(spec_.page_size);
  if ((all_at_lower || likely_plateau) && !truncated && full && page.has_next) {
    // A plateau fills the page: read `c == L` by key, page by page, from page 0 so that every
    // plateau page comes from the same query and totalElements shifts can be detected.
    phase_ = Phase::kPlateau;
    plateau_page_ = 0;
    plateau_total_ = -1;
    lower_ = last;
    lower_exclusive_ = false;
    skip_at_ = last;
    skip_keys_.clear();
    skip_keys_.insert(keys_at_last.begin(), keys_at_last.end());
    state_.watermark = last;
    state_.watermark_exclusive = false;
    state_.plateau = PlateauProgress{0, -1};
    state_.keys_at_watermark = std::move(keys_at_last);
    step.state = state_;
    return step;
  }

  lower_ = last;
  lower_exclusive_ = false;
  skip_at_ = last;
  skip_keys_.clear();
  skip_keys_.insert(keys_at_last.begin(), keys_at_last.end());
  state_.watermark = last;
  state_.watermark_exclusive = false;
  state_.plateau.reset();
  state_.keys_at_watermark = std::move(keys_at_last);
  if (!page.has_next || truncated) done_ = true;
  step.done = done_;
  step.state = state_;
  return step;
}

PageStep CursorPager::plateau_page(PageResult&& page) {
  PageStep step;
  const Timestamp p = *lower_;
  for (Row& r : page.rows) {
    if (skip_at_ && *skip_at_ == p && skip_keys_.count(key_of(r))) continue;
    step.rows.push_back(std::move(r));
  }
  if (plateau_total_ >= 0 && page.total_elements < plateau_total_) {
    // Rows can only leave a settled plateau (updated or deleted): the rows not read yet moved
    // back by at most `shrink` positions. Read again from there; the progress stays committed.
    // Not limited like restarts: a plateau can only shrink by its own size, so stepping back
    // always ends; under steady edits it is what lets a large plateau complete at all.
    const std::int64_t shrink = plateau_total_ - page.total_elements;
    ++restarts_;
    plateau_page_ = std::max<std::int64_t>(0, plateau_page_ * spec_.page_size - shrink) / spec_.page_size;
    plateau_total_ = page.total_elements;
    state_.plateau = PlateauProgress{plateau_page_ * spec_.page_size, plateau_total_};
    step.state = state_;
    return step;
  }
  if (plateau_total_ >= 0 && page.total_elements != plateau_total_) {
    // The plateau grew (a late arrival, anywhere by key): read it again from page 0.
    if (++restarts_ > kMaxRestarts) {
      model::fail(ErrorKind::kTransient, "stream " + spec_.stream +
                                             ": the rows at one timestamp keep changing while being "
                                             "read; will retry next cycle");
    }
    plateau_page_ = 0;
    plateau_total_ = -1;
    state_.plateau = PlateauProgress{0, -1};
    step.state = state_;
    return step;
  }
  plateau_total_ = page.total_elements;
  ++plateau_page_;
  if (!page.has_next) {
    // Every row at p has been read: the next bound is `c > p`.
    phase_ = Phase::kRange;
    lower_exclusive_ = true;
    skip_at_.reset();
    skip_keys_.clear();
    state_.watermark = p;
    state_.watermark_exclusive = true;
    state_.keys_at_watermark.clear();
    state_.plateau.reset();
    if (resumed_at_ && *resumed_at_ == p) {
      // This cycle started inside the plateau: read the lookback window below it now.
      resumed_at_.reset();
      phase_ = Phase::kWindow;
      window_lo_ = Timestamp{p.ms - spec_.lookback.count()};
      window_end_ = p;
      window_page_ = 0;
      window_total_ = -1;
    }
  } else {
    state_.plateau = PlateauProgress{plateau_page_ * spec_.page_size, plateau_total_};
  }
  step.state = state_;
  return step;
}

PageStep CursorPager::window_page(PageResult&& page) {
  // Rows below the committed watermark, in a settled bounded range: written, the state stays.
  PageStep step;
  step.state = state_;
  const std::int64_t total = page.total_elements;
  step.rows = std::move(page.rows);
  if (window_total_ >= 0 && total != window_total_) {
    if (++restarts_ > kMaxRestarts) {
      model::fail(ErrorKind::kTransient, "stream " + spec_.stream +
                                             ": the lookback window keeps changing while being read");
    }
    const std::int64_t shrink = window_total_ - total;
    window_page_ = shrink > 0 ? std::max<std::int64_t>(0, window_page_ * spec_.page_size - shrink) /
                                    spec_.page_size
                              : 0;
    window_total_ = shrink > 0 ? total : -1;
    return step;
  }
  window_total_ = total;
  ++window_page_;
  if (!page.has_next) {
    phase_ = Phase::kRange;
    lower_ = *window_end_;
    lower_exclusive_ = true;
    window_end_.reset();
  }
  return step;
}

void CursorPager::restart_scan() {
  if (++restarts_ > kMaxRestarts) {
    model::fail(ErrorKind::kTransient, "stream " + spec_.stream +
                                           ": the object keeps changing while being read "
                                           "(totalElements shifts); will retry next cycle");
  }
  scan_page_ = 0;
  scan_total_ = -1;
  scan_top_.reset();
  top_keys_.clear();
  top_keys_complete_ = true;
}

PageStep CursorPager::descending_page(PageResult&& page) {
  PageStep step;
  step.state = state_;
  if (!scan_upper_) scan_upper_ = Timestamp{page.server_date.ms - settle_.count()};
  if (scan_total_ >= 0 && page.total_elements < scan_total_) {
    // In (c desc, key desc) order inserts and updates only move rows to the front; deletes move
    // the rows not read yet back by at most the shrink. Read again from there.
    // Not limited: deletes can only shrink the table by its own size, so stepping back ends.
    ++restarts_;
    const std::int64_t shrink = scan_total_ - page.total_elements;
    scan_page_ = std::max<std::int64_t>(0, scan_page_ * spec_.page_size - shrink) / spec_.page_size;
    scan_total_ = page.total_elements;
    return step;
  }
  scan_total_ = page.total_elements;
  bool reached_old = false;
  for (Row& r : page.rows) {
    const Timestamp c = cursor_ts(r);
    if (!scan_top_) scan_top_ = c;
    if (c == *scan_top_ && top_keys_complete_) {
      if (top_keys_.size() < 1000) top_keys_.push_back(key_of(r));
      else top_keys_complete_ = false;  // too many to keep: they are simply re-read next time
    }
    if (lower_ && (c < *lower_ || (lower_exclusive_ && c == *lower_))) {
      reached_old = true;
      continue;
    }
    if (skip_at_ && c == *skip_at_ && skip_keys_.count(key_of(r))) continue;
    step.rows.push_back(std::move(r));
  }
  ++scan_page_;
  if (reached_old || !page.has_next) {
    done_ = true;
    step.done = true;
    // Rows stamped at or after U may still have neighbours in flight: the watermark stays at U.
    std::optional<Timestamp> top = scan_top_;
    const bool capped = top && scan_upper_ && *top >= *scan_upper_;
    if (capped) top = scan_upper_;
    if (top && (!state_.watermark || *top >= *state_.watermark)) {
      const bool same = state_.watermark && *top == *state_.watermark;
      if (!same || !state_.watermark_exclusive) {
        std::vector<Row> keys = top_keys_complete_ && !capped ? top_keys_ : std::vector<Row>{};
        if (same && top_keys_complete_ && !capped) {
          // Keep what earlier cycles knew about this moment too.
          for (const Row& k : state_.keys_at_watermark) {
            if (std::none_of(keys.begin(), keys.end(),
                             [&](const Row& x) { return !key_less(x, k) && !key_less(k, x); })) {
              keys.push_back(k);
            }
          }
        }
        state_.keys_at_watermark = std::move(keys);
        state_.watermark_exclusive = false;
      }
      state_.watermark = *top;
      state_.plateau.reset();
    }
    step.state = state_;
  }
  return step;
}

PageStep CursorPager::full_page(PageResult&& page) {
  PageStep step;
  if (scan_total_ >= 0 && page.total_elements != scan_total_) {
    restart_scan();
  } else {
    scan_total_ = page.total_elements;
    ++scan_page_;
    if (!page.has_next) done_ = true;
  }
  step.rows = std::move(page.rows);  // current data: writing it is always correct
  step.done = done_;
  step.state = state_;
  return step;
}

}  // namespace replicator::engine

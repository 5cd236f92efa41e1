#include "tests/actito_sim/record_table.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

#include "tests/actito_sim/api_error.hpp"

namespace replicator::actito_sim {
namespace {

constexpr std::size_t kMaxIndexKeys = 4;
constexpr std::size_t kFilterCacheEntries = 16;
constexpr std::int64_t kMaxKey = std::numeric_limits<std::int64_t>::max();

// Sort keys transformed so that plain ascending order gives the requested order, nulls low when
// ascending and last when descending (contract A05).
std::int64_t directed(std::int64_t key, bool descending) noexcept {
  if (!descending) return key;
  return key == std::numeric_limits<std::int64_t>::min() ? kMaxKey : -key;
}

}  // namespace

struct RecordTable::SortIndex {
  std::uint64_t generation = 0;
  std::uint64_t view_serial = 0;  // 0: built from rows_, else from that View
  bool identity = false;  // positions are 0..n-1 (or n-1..0 when reversed)
  bool reversed = false;
  std::size_t count = 0;
  std::vector<std::uint32_t> positions;
  std::vector<std::int64_t> lead_keys;  // real keys of the leading column (non-identity only)

  std::size_t position(std::size_t i) const noexcept {
    if (!identity) return positions[i];
    return reversed ? count - 1 - i : i;
  }
};

// What lists see while writes are held back (late arrivals): rows_ of one generation minus the
// writes not visible yet, valid for server times in [built_at_ms, valid_until_ms).
struct RecordTable::View {
  std::uint64_t generation = 0;
  std::uint64_t serial = 0;  // keys the sort indexes and filtered scans built from it
  std::int64_t built_at_ms = 0;
  std::int64_t valid_until_ms = std::numeric_limits<std::int64_t>::max();
  bool holds_back = false;       // false: the same rows as rows_
  std::vector<RecordCore> rows;  // sorted by id
};

// The constraints of one request on one column, merged (contract 3.4: constraints are ANDed).
struct RecordTable::Bounds {
  bool constrained = false;
  bool impossible = false;
  std::int64_t lo = kNullKey;
  std::int64_t hi = kMaxKey;
  bool has_in = false;
  std::vector<std::int64_t> in;  // sorted, unique

  bool matches(std::int64_t key) const noexcept {
    if (key < lo || key > hi) return false;
    return !has_in || std::binary_search(in.begin(), in.end(), key);
  }
};

std::int64_t MomentClock::now() noexcept {
  const std::int64_t system = system_now_ms();
  std::lock_guard lock(mutex_);
  last_ = std::max(last_, system);
  return last_;
}

void MomentClock::advance_to(std::int64_t ms) noexcept {
  std::lock_guard lock(mutex_);
  last_ = std::max(last_, ms);
}

RecordTable::RecordTable(ObjectSpec spec, std::string table_id, std::uint64_t seed,
                         TimestampStyle style)
    : spec_(std::move(spec)),
      table_id_(std::move(table_id)),
      seed_(seed),
      style_(style),
      mutation_rng_(mix64(seed ^ 0x6D757461746564ULL)) {}

RecordTable::~RecordTable() = default;

void RecordTable::set_columns(std::vector<Column> columns) {
  columns_ = std::move(columns);
  auto require = [&](const std::string& wire, const char* what) {
    if (std::none_of(columns_.begin(), columns_.end(),
                     [&](const Column& c) { return c.wire == wire; })) {
      throw std::logic_error(
          fmt::format("table {}: {} '{}' has no column", spec_.name, what, wire));
    }
  };
  for (const auto& wire : spec_.sortable) require(wire, "sortable field");
  for (const auto& [wire, ops] : spec_.search_selectors) require(wire, "search selector");
  for (const auto& wire : spec_.key) require(wire, "key field");
}

void RecordTable::load_rows(std::vector<RecordCore> rows) {
  std::sort(rows.begin(), rows.end(),
            [](const RecordCore& a, const RecordCore& b) { return a.id < b.id; });
  std::unique_lock lock(data_mutex_);
  rows_ = std::move(rows);
  next_id_ = rows_.empty() ? 1 : rows_.back().id + 1;
  ++generation_;
}

std::int64_t RecordTable::derived_key(std::size_t column, const RecordCore&) const {
  throw std::logic_error(fmt::format("table {}: column '{}' is derived but has no key", spec_.name,
                                     columns_[column].wire));
}

bool RecordTable::literal_key(std::size_t, const TypedValue& value, std::int64_t& key) const {
  key = value.integer;
  return true;
}

std::int64_t RecordTable::column_key(std::size_t column, const RecordCore& row) const {
  switch (columns_[column].kind) {
    case ColumnKind::kId:
      return row.id;
    case ColumnKind::kCreated:
      return row.created_ms;
    case ColumnKind::kUpdated:
      return row.updated_ms;
    case ColumnKind::kDerived:
      return derived_key(column, row);
  }
  return row.id;
}

std::size_t RecordTable::column_of(std::string_view wire) const {
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    if (columns_[i].wire == wire) return i;
  }
  throw std::logic_error(fmt::format("table {}: no column '{}'", spec_.name, wire));
}

void RecordTable::write_timestamp(JsonWriter& writer, std::int64_t ms) const {
  std::string text;
  append_timestamp(text, ms, style_);
  writer.string(text);
}

const RecordCore* RecordTable::find_locked(std::int64_t id) const {
  auto it = std::lower_bound(rows_.begin(), rows_.end(), id,
                             [](const RecordCore& r, std::int64_t v) { return r.id < v; });
  return it != rows_.end() && it->id == id ? &*it : nullptr;
}

std::size_t RecordTable::size() const {
  std::shared_lock lock(data_mutex_);
  return rows_.size();
}

std::uint64_t RecordTable::generation() const {
  std::shared_lock lock(data_mutex_);
  return generation_;
}

std::shared_ptr<const RecordTable::SortIndex> RecordTable::index_for(
    const std::vector<std::pair<std::size_t, bool>>& order, const std::vector<RecordCore>& rows,
    std::uint64_t view_serial) const {
  std::string signature;
  for (const auto& [column, descending] : order) {
    signature += fmt::format("{}{},", column, descending ? 'd' : 'a');
  }
  {
    std::lock_guard lock(cache_mutex_);
    auto it = indexes_.find(signature);
    if (it != indexes_.end() && it->second->generation == generation_ &&
        it->second->view_serial == view_serial) {
      return it->second;
    }
  }
  auto index = std::make_shared<SortIndex>();
  index->generation = generation_;
  index->view_serial = view_serial;
  index->count = rows.size();
  if (columns_[order.front().first].id_order) {
    index->identity = true;
    index->reversed = order.front().second;
  } else {
    if (order.size() > kMaxIndexKeys) {
      throw std::logic_error(fmt::format("table {}: sort needs {} keys, the index supports {}",
                                         spec_.name, order.size(), kMaxIndexKeys));
    }
    struct Entry {
      std::array<std::int64_t, kMaxIndexKeys> keys;
      std::uint32_t position;
    };
    std::vector<Entry> entries(rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
      Entry& e = entries[i];
      e.keys.fill(0);
      for (std::size_t k = 0; k < order.size(); ++k) {
        e.keys[k] = directed(column_key(order[k].first, rows[i]), order[k].second);
      }
      e.position = static_cast<std::uint32_t>(i);
    }
    std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
      if (a.keys != b.keys) return a.keys < b.keys;
      return a.position < b.position;
    });
    index->positions.resize(entries.size());
    index->lead_keys.resize(entries.size());
    for (std::size_t i = 0; i < entries.size(); ++i) {
      index->positions[i] = entries[i].position;
      index->lead_keys[i] = column_key(order.front().first, rows[entries[i].position]);
    }
  }
  std::lock_guard lock(cache_mutex_);
  indexes_[signature] = index;
  return index;
}

std::shared_ptr<const RecordTable::View> RecordTable::view_at(std::int64_t now_ms) const {
  {
    std::lock_guard lock(cache_mutex_);
    if (view_ && view_->generation == generation_ && view_->built_at_ms <= now_ms &&
        now_ms < view_->valid_until_ms) {
      return view_->holds_back ? view_ : nullptr;
    }
  }
  auto view = std::make_shared<View>();
  view->generation = generation_;
  view->built_at_ms = now_ms;
  view->rows.reserve(rows_.size());
  auto held = held_.begin();
  for (const RecordCore& row : rows_) {
    while (held != held_.end() && held->first < row.id) ++held;
    if (held == held_.end() || held->first != row.id) {
      view->rows.push_back(row);
      continue;
    }
    // The latest write (in write order) visible now, else the version before the writes.
    const RecordCore* shown = held->second.base ? &*held->second.base : nullptr;
    for (const HeldWrite& write : held->second.writes) {
      if (write.visible_at_ms <= now_ms) {
        shown = &write.row;
      } else {
        view->valid_until_ms = std::min(view->valid_until_ms, write.visible_at_ms);
      }
    }
    if (shown != &held->second.writes.back().row) view->holds_back = true;
    if (shown != nullptr) view->rows.push_back(*shown);
  }
  std::lock_guard lock(cache_mutex_);
  view->serial = next_view_serial_++;
  view_ = view;
  return view->holds_back ? view : nullptr;
}

void RecordTable::release_visible(std::int64_t now_ms) {
  for (auto it = held_.begin(); it != held_.end();) {
    auto& writes = it->second.writes;
    std::size_t visible = writes.size();  // index of the latest visible write
    for (std::size_t i = 0; i < writes.size(); ++i) {
      if (writes[i].visible_at_ms <= now_ms) visible = i;
    }
    if (visible != writes.size()) {
      // Earlier writes still in flight are superseded by this one: lists never go back to them.
      it->second.base = writes[visible].row;
      writes.erase(writes.begin(), writes.begin() + static_cast<std::ptrdiff_t>(visible) + 1);
    }
    it = writes.empty() ? held_.erase(it) : std::next(it);
  }
}

std::size_t RecordTable::invisible_count() const {
  const std::int64_t now = system_now_ms();
  std::shared_lock lock(data_mutex_);
  return static_cast<std::size_t>(std::count_if(held_.begin(), held_.end(), [&](const auto& h) {
    return h.second.writes.back().visible_at_ms > now;
  }));
}

std::int64_t RecordTable::list_page(const ListRequest& request, std::string& out) const {
  std::shared_lock lock(data_mutex_);
  // Late arrivals: while writes are held back, lists read a view without them.
  const std::shared_ptr<const View> view = held_.empty() ? nullptr : view_at(system_now_ms());
  const std::vector<RecordCore>& rows = view ? view->rows : rows_;
  const std::uint64_t view_serial = view ? view->serial : 0;

  // Merge the constraints per column.
  std::vector<Bounds> bounds(columns_.size());
  for (const auto& constraint : request.constraints) {
    const std::size_t column = column_of(constraint.field->wire);
    Bounds& b = bounds[column];
    b.constrained = true;
    b.lo = std::max(b.lo, kNullKey + 1);  // null never matches a constraint (contract 3.4)
    if (constraint.op == Op::kIn) {
      std::vector<std::int64_t> keys;
      for (const auto& value : constraint.values) {
        std::int64_t key = 0;
        if (literal_key(column, value, key)) keys.push_back(key);
      }
      std::sort(keys.begin(), keys.end());
      keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
      if (b.has_in) {
        std::vector<std::int64_t> both;
        std::set_intersection(b.in.begin(), b.in.end(), keys.begin(), keys.end(),
                              std::back_inserter(both));
        keys = std::move(both);
      }
      b.has_in = true;
      b.in = std::move(keys);
      continue;
    }
    std::int64_t key = 0;
    if (!literal_key(column, constraint.values.front(), key)) {
      b.impossible = true;
      continue;
    }
    switch (constraint.op) {
      case Op::kEq:
        b.lo = std::max(b.lo, key);
        b.hi = std::min(b.hi, key);
        break;
      case Op::kLt:
        if (key == std::numeric_limits<std::int64_t>::min() + 1)
          b.impossible = true;
        else
          b.hi = std::min(b.hi, key - 1);
        break;
      case Op::kLe:
        b.hi = std::min(b.hi, key);
        break;
      case Op::kGt:
        if (key == kMaxKey)
          b.impossible = true;
        else
          b.lo = std::max(b.lo, key + 1);
        break;
      case Op::kGe:
        b.lo = std::max(b.lo, key);
        break;
      case Op::kIn:
        break;
    }
  }
  bool empty = false;
  for (auto& b : bounds) {
    if (!b.constrained) continue;
    if (b.has_in) {
      std::erase_if(b.in, [&](std::int64_t k) { return k < b.lo || k > b.hi; });
      if (b.in.empty()) b.impossible = true;
    }
    if (b.impossible || b.lo > b.hi) empty = true;
  }
  if (empty) return 0;

  // Effective order: columns pinned by an equality first (they are constant over the result, so
  // the order is unchanged), then the requested order, cut after the first unique column.
  std::vector<std::pair<std::size_t, bool>> order;
  auto add = [&](std::size_t column, bool descending) {
    for (const auto& o : order) {
      if (o.first == column) return;
    }
    order.emplace_back(column, descending);
  };
  for (std::size_t c = 0; c < bounds.size(); ++c) {
    if (bounds[c].constrained && bounds[c].lo == bounds[c].hi) add(c, false);
  }
  for (const auto& key : request.sort) add(column_of(key.wire), key.descending);
  for (std::size_t i = 0; i < order.size(); ++i) {
    if (columns_[order[i].first].unique) {
      order.resize(i + 1);
      break;
    }
  }
  const auto index = index_for(order, rows, view_serial);
  const std::size_t lead = order.front().first;
  const bool lead_descending = order.front().second;
  auto lead_key = [&](std::size_t i) {
    return index->identity ? column_key(lead, rows[index->position(i)]) : index->lead_keys[i];
  };

  // Range of the leading column by binary search (keys ascending, or descending with nulls last).
  std::size_t begin = 0, end = index->count;
  const Bounds& lead_bounds = bounds[lead];
  if (lead_bounds.constrained) {
    auto partition = [&](auto predicate) {
      std::size_t lo = 0, hi = index->count;
      while (lo < hi) {
        const std::size_t mid = lo + (hi - lo) / 2;
        if (predicate(lead_key(mid)))
          lo = mid + 1;
        else
          hi = mid;
      }
      return lo;
    };
    if (!lead_descending) {
      begin = partition([&](std::int64_t k) { return k < lead_bounds.lo; });
      end = partition([&](std::int64_t k) { return k <= lead_bounds.hi; });
    } else {
      begin = partition([&](std::int64_t k) { return k > lead_bounds.hi; });
      end = partition([&](std::int64_t k) { return k >= lead_bounds.lo; });
    }
    end = std::max(begin, end);
  }
  std::vector<std::size_t> residual;
  for (std::size_t c = 0; c < bounds.size(); ++c) {
    if (bounds[c].constrained && (c != lead || bounds[c].has_in)) residual.push_back(c);
  }

  const std::uint64_t mask = projection_mask(request);
  JsonWriter writer(out);
  const std::int64_t offset = request.offset();
  if (residual.empty()) {
    const auto total = static_cast<std::int64_t>(end - begin);
    if (offset < total) {
      const std::int64_t stop = std::min(total, offset + request.size);
      for (std::int64_t i = offset; i < stop; ++i) {
        render(rows[index->position(begin + static_cast<std::size_t>(i))], mask, writer);
      }
    }
    return total;
  }

  // Residual constraints: materialise the matching positions once per data generation.
  std::string signature = fmt::format("g{}v{}|", generation_, view_serial);
  for (const auto& [column, descending] : order)
    signature += fmt::format("{}{},", column, descending);
  for (std::size_t c : residual) {
    const Bounds& b = bounds[c];
    signature += fmt::format("|{}:{}:{}:{}", c, b.lo, b.hi, fmt::join(b.in, "/"));
  }
  signature += fmt::format("|{}-{}", begin, end);
  std::shared_ptr<const std::vector<std::uint32_t>> matches;
  {
    std::lock_guard cache_lock(cache_mutex_);
    for (auto it = filter_cache_.begin(); it != filter_cache_.end(); ++it) {
      if (it->signature == signature) {
        matches = it->positions;
        std::rotate(filter_cache_.begin(), it, it + 1);
        break;
      }
    }
  }
  if (!matches) {
    auto found = std::make_shared<std::vector<std::uint32_t>>();
    for (std::size_t i = begin; i < end; ++i) {
      const std::size_t position = index->position(i);
      const RecordCore& row = rows[position];
      if (std::all_of(residual.begin(), residual.end(),
                      [&](std::size_t c) { return bounds[c].matches(column_key(c, row)); })) {
        found->push_back(static_cast<std::uint32_t>(position));
      }
    }
    matches = found;
    std::lock_guard cache_lock(cache_mutex_);
    filter_cache_.insert(filter_cache_.begin(), FilterCacheEntry{signature, matches});
    if (filter_cache_.size() > kFilterCacheEntries) filter_cache_.pop_back();
  }
  const auto total = static_cast<std::int64_t>(matches->size());
  if (offset < total) {
    const std::int64_t stop = std::min(total, offset + request.size);
    for (std::int64_t i = offset; i < stop; ++i) {
      render(rows[(*matches)[static_cast<std::size_t>(i)]], mask, writer);
    }
  }
  return total;
}

void RecordTable::get_one(std::string_view key, std::string& out) const {
  const std::int64_t id = resolve_key(key);
  std::shared_lock lock(data_mutex_);
  const RecordCore* row = find_locked(id);
  if (row == nullptr) {
    throw ApiError(404, "RECORD_NOT_FOUND",
                   fmt::format("no record '{}' in {} (table {})", key, spec_.name, table_id_));
  }
  JsonWriter writer(out);
  render(*row, ~std::uint64_t{0}, writer);
}

MutationResult RecordTable::mutate(const MutationSpec& request, MomentClock& clock,
                                   const std::vector<std::int64_t>& refs,
                                   std::chrono::milliseconds visibility_delay) {
  MutationResult result;
  result.table = spec_.name;
  std::unique_lock lock(data_mutex_);
  const std::size_t existing = rows_.size();
  const auto want_updates = static_cast<std::size_t>(std::max<std::int64_t>(request.updates, 0));
  const auto want_deletes = static_cast<std::size_t>(std::max<std::int64_t>(request.deletes, 0));
  const auto want_creates = static_cast<std::size_t>(std::max<std::int64_t>(request.creates, 0));
  // Explicit rows first (validated before anything changes), then random others.
  std::vector<bool> taken;
  std::vector<std::size_t> explicit_updates, explicit_deletes;
  auto resolve = [&](const std::vector<std::int64_t>& ids, std::vector<std::size_t>& out) {
    for (const std::int64_t id : ids) {
      const RecordCore* row = find_locked(id);
      if (row == nullptr) {
        throw std::invalid_argument(fmt::format("{} has no row with id {}", spec_.name, id));
      }
      const auto index = static_cast<std::size_t>(row - rows_.data());
      if (taken.empty()) taken.assign(existing, false);
      if (taken[index]) {
        throw std::invalid_argument(
            fmt::format("id {} is given twice in update_ids/delete_ids", id));
      }
      taken[index] = true;
      out.push_back(index);
    }
  };
  resolve(request.update_ids, explicit_updates);
  resolve(request.delete_ids, explicit_deletes);
  std::vector<std::size_t> pool;  // candidate indexes when some are taken; else all of them
  if (!taken.empty()) {
    for (std::size_t i = 0; i < existing; ++i) {
      if (!taken[i]) pool.push_back(i);
    }
  }
  const std::size_t population = taken.empty() ? existing : pool.size();
  auto touched =
      sample_indexes(population, std::min(population, want_updates + want_deletes), mutation_rng_);
  for (std::size_t i = touched.size(); i > 1; --i) {
    std::swap(touched[i - 1], touched[mutation_rng_.below(i)]);
  }
  if (!taken.empty()) {
    for (auto& t : touched) t = pool[t];
  }
  const std::size_t random_updates = std::min(want_updates, touched.size());
  std::vector<std::size_t> updates = explicit_updates;
  updates.insert(updates.end(), touched.begin(),
                 touched.begin() + static_cast<std::ptrdiff_t>(random_updates));
  std::vector<std::size_t> deletes = explicit_deletes;
  deletes.insert(deletes.end(), touched.begin() + static_cast<std::ptrdiff_t>(random_updates),
                 touched.end());

  const std::int64_t shared_moment = request.same_moment ? clock.now() : 0;
  auto stamp = [&] {
    const std::int64_t moment = request.same_moment ? shared_moment : clock.now();
    if (result.first_moment_ms == 0) result.first_moment_ms = moment;
    result.last_moment_ms = moment;
    return moment;
  };
  // Late arrivals: a write is held back from lists until its moment + the delay (class comment).
  // A write without delay is held too when earlier writes of its row are, so that lists end on it.
  const std::int64_t delay = std::max<std::int64_t>(visibility_delay.count(), 0);
  auto hold = [&](const RecordCore* before, const RecordCore& after, std::int64_t moment) {
    auto held = held_.find(after.id);
    if (held == held_.end()) {
      if (delay == 0) return;
      held = held_.emplace(after.id, HeldRow{}).first;
      if (before != nullptr) held->second.base = *before;
    }
    held->second.writes.push_back(HeldWrite{after, moment + delay});
  };
  for (const std::size_t index : updates) {
    RecordCore& row = rows_[index];
    const RecordCore before = row;
    row.version += 1;
    row.epoch = epoch_;
    row.updated_ms = std::max({row.created_ms, row.updated_ms, stamp()});
    result.updated.push_back(row.id);
    hold(&before, row, row.updated_ms);
  }
  if (!deletes.empty()) {
    std::vector<bool> doomed(existing, false);
    for (const std::size_t index : deletes) {
      doomed[index] = true;
      result.deleted.push_back(rows_[index].id);
      held_.erase(rows_[index].id);  // deletes are visible at once
    }
    std::size_t write = 0;
    for (std::size_t read = 0; read < existing; ++read) {
      if (!doomed[read]) rows_[write++] = rows_[read];
    }
    rows_.resize(write);
  }
  for (std::size_t i = 0; i < want_creates; ++i) {
    RecordCore row;
    row.id = next_id_++;
    row.created_ms = row.updated_ms = stamp();
    row.ref = i < refs.size() ? refs[i] : 0;
    row.epoch = epoch_;
    rows_.push_back(row);
    result.created.push_back(row.id);
    hold(nullptr, row, row.created_ms);
  }
  std::sort(result.updated.begin(), result.updated.end());
  std::sort(result.deleted.begin(), result.deleted.end());
  if (!result.updated.empty() || !result.deleted.empty() || !result.created.empty()) ++generation_;
  if (!held_.empty()) release_visible(system_now_ms());
  return result;
}

namespace {

bool same_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::uint64_t text_hash(std::string_view text) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const char c : text) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
  return h;
}

}  // namespace

void RecordTable::add_attribute(const AttributeSpec& attribute) {
  const std::string& name = attribute.name;
  const bool identifier = !name.empty() && std::isalpha(static_cast<unsigned char>(name.front())) &&
                          std::all_of(name.begin(), name.end(), [](char c) {
                            return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
                          });
  if (!identifier) {
    throw std::invalid_argument(fmt::format(
        "attribute name '{}' must start with a letter and hold letters, digits or '_'", name));
  }
  FieldType type = FieldType::kString;
  static constexpr std::array kValueTypes = {"STRING",  "INTEGER", "LONG",     "NUMBER",
                                             "BOOLEAN", "DATE",    "TIMESTAMP"};
  if (std::find(kValueTypes.begin(), kValueTypes.end(), attribute.value_type) ==
      kValueTypes.end()) {
    throw std::invalid_argument(fmt::format("valueType '{}' must be one of {}",
                                            attribute.value_type, fmt::join(kValueTypes, ", ")));
  }
  type = parse_field_type(attribute.value_type);
  for (const auto reserved : reserved_names()) {
    if (same_ignoring_case(reserved, name)) {
      throw std::invalid_argument(fmt::format("'{}' is a reserved name in {}", name, spec_.name));
    }
  }
  std::unique_lock lock(data_mutex_);
  const auto builtins = builtin_attributes();
  for (std::size_t i = 0; i < builtins.size(); ++i) {
    if (!builtin_removed(i) && same_ignoring_case(builtins[i], name)) {
      throw std::invalid_argument(
          fmt::format("{} already has an attribute '{}'", spec_.name, builtins[i]));
    }
  }
  for (const auto& extra : extras_) {
    if (same_ignoring_case(extra.name, name)) {
      throw std::invalid_argument(
          fmt::format("{} already has an attribute '{}'", spec_.name, extra.name));
    }
  }
  ++epoch_;
  extras_.push_back(ExtraAttribute{name, attribute.value_type, type, attribute.multi_valued, epoch_,
                                   text_hash(name)});
  ++generation_;
}

void RecordTable::remove_attribute(std::string_view name) {
  std::unique_lock lock(data_mutex_);
  const auto extra = std::find_if(extras_.begin(), extras_.end(),
                                  [&](const ExtraAttribute& e) { return e.name == name; });
  if (extra != extras_.end()) {
    extras_.erase(extra);
    ++generation_;
    return;
  }
  const auto builtins = builtin_attributes();
  for (std::size_t i = 0; i < builtins.size(); ++i) {
    if (builtins[i] != name || builtin_removed(i)) continue;
    if (const std::string why = unremovable_reason(name); !why.empty()) {
      throw std::invalid_argument(
          fmt::format("attribute '{}' of {} cannot be removed: {}", name, spec_.name, why));
    }
    removed_builtins_ |= std::uint64_t{1} << i;
    ++generation_;
    return;
  }
  throw std::invalid_argument(fmt::format("{} has no attribute '{}'", spec_.name, name));
}

boost::json::object RecordTable::structure() const {
  std::shared_lock lock(data_mutex_);
  return build_structure();
}

void RecordTable::write_extras(const RecordCore& row, JsonWriter& w) const {
  for (const auto& a : extras_) {
    if (row.epoch < a.since_epoch) continue;  // written before the attribute existed
    w.key(a.name);
    const std::uint64_t h = value_hash(seed_, row.id, row.version, a.salt);
    const std::size_t count = a.multi_valued ? 1 + h % 3 : 1;
    if (a.multi_valued) w.begin_array();
    for (std::size_t i = 0; i < count; ++i) {
      const std::uint64_t v = mix64(h + i);
      switch (a.type) {
        case FieldType::kInteger:
          w.integer(static_cast<std::int64_t>(v % 100'000));
          break;
        case FieldType::kLong:
          w.integer(static_cast<std::int64_t>(v % 1'000'000'000'000ULL));
          break;
        case FieldType::kNumber:
          w.decimal(static_cast<std::int64_t>(v % 1'000'000), 2);
          break;
        case FieldType::kBoolean:
          w.boolean((v & 1U) != 0);
          break;
        case FieldType::kDate: {
          std::string text;
          append_date(text, days_from_civil(1970, 1, 1) + static_cast<std::int64_t>(v % 20'000));
          w.string(text);
          break;
        }
        case FieldType::kTimestamp:
          write_timestamp(w, row.created_ms - static_cast<std::int64_t>(v % 86'400'000));
          break;
        default:
          w.string(fmt::format("{}-{}-{}", a.name, row.id, v % 1000));
          break;
      }
    }
    if (a.multi_valued) w.end_array();
  }
}

std::int64_t RecordTable::delete_by_ref(const std::vector<std::int64_t>& sorted_refs) {
  if (sorted_refs.empty()) return 0;
  std::unique_lock lock(data_mutex_);
  const std::size_t before = rows_.size();
  std::erase_if(rows_, [&](const RecordCore& r) {
    const bool doomed = std::binary_search(sorted_refs.begin(), sorted_refs.end(), r.ref);
    if (doomed) held_.erase(r.id);  // deletes are visible at once
    return doomed;
  });
  const auto removed = static_cast<std::int64_t>(before - rows_.size());
  if (removed > 0) ++generation_;
  return removed;
}

std::vector<std::int64_t> RecordTable::random_ids(std::size_t count) {
  std::vector<std::int64_t> ids;
  std::unique_lock lock(data_mutex_);
  if (rows_.empty()) return ids;
  ids.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    ids.push_back(rows_[static_cast<std::size_t>(mutation_rng_.below(rows_.size()))].id);
  }
  return ids;
}

std::int64_t RecordTable::max_moment() const {
  std::shared_lock lock(data_mutex_);
  std::int64_t latest = 0;
  for (const auto& r : rows_) latest = std::max({latest, r.created_ms, r.updated_ms});
  return latest;
}

void RecordTable::for_each_row(const std::function<void(std::string_view)>& callback) const {
  std::shared_lock lock(data_mutex_);
  std::string text;
  for (const auto& row : rows_) {
    text.clear();
    JsonWriter writer(text);
    render(row, ~std::uint64_t{0}, writer);
    callback(text);
  }
}

std::string RecordTable::row_json(std::int64_t id) const {
  std::shared_lock lock(data_mutex_);
  std::string text;
  if (const RecordCore* row = find_locked(id)) {
    JsonWriter writer(text);
    render(*row, ~std::uint64_t{0}, writer);
  }
  return text;
}

}  // namespace replicator::actito_sim

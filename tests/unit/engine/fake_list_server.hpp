// An in-memory Actito list route for the engine tests: a table of (key, cursor, version, group)
// rows answering engine::ListQuery exactly as wire contract 3.1-3.6 says (native filters only,
// sort with the key tie-breaker, offset pages, exact totalElements, `next` iff more pages, the
// server clock at second precision), plus a replica that plays the sink (upsert + state in one
// commit) and a driver that runs CursorPager cycles the way engine::run_cycle does.
// Not thread-safe; one instance per test.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/engine/cursor_pager.hpp"
#include "core/engine/ports.hpp"
#include "core/model/catalog.hpp"
#include "core/model/error.hpp"
#include "core/model/timestamp.hpp"

namespace replicator::engine::testing {

using model::FieldType;
using model::FilterOp;
using model::ReplicationMode;
using std::chrono::milliseconds;

inline Timestamp ts(std::string_view iso) {
  return model::parse_timestamp(iso, model::TimeZone::utc());
}
inline std::string iso(Timestamp t) { return model::format_timestamp(t); }

// ---- stream specs ---------------------------------------------------------------------------

enum class ObjectKind {
  kProfiles,     // incremental on UpdatedAt, cursor pushed down (like <ProfileTable>)
  kCustomTable,  // incremental on UpdatedAt, no cursor filter (like <CustomTable>)
  kFull,         // full refresh (like an object without UpdatedAt, or mode: full)
  kCreatedOnly,  // incremental on CreatedAt, pushed down (like <ProfileTable>_Interactions)
};

inline model::FieldDescriptor field(std::string name, std::string wire, FieldType type,
                                    bool nullable = true) {
  model::FieldDescriptor f;
  f.name = std::move(name);
  f.wire = wire;
  f.wire_path = {std::move(wire)};
  f.type = type;
  f.nullable = nullable;
  return f;
}

// Row layout as plan_stream builds it: key, cursor, then the rest.
//   0 Id (LONG, key)   1 UpdatedAt or CreatedAt (TIMESTAMP)   2 Version (LONG)   3 Group (STRING)
inline StreamSpec make_spec(ObjectKind kind, int page_size,
                            milliseconds lookback = milliseconds(0)) {
  StreamSpec s;
  s.job = "test";
  s.stream = kind == ObjectKind::kCustomTable ? "Orders" : "Customers";
  model::ObjectDescriptor& o = s.object;
  o.name = s.stream;
  o.key = {"Id"};
  o.max_page_size = 1000;
  const bool created = kind == ObjectKind::kCreatedOnly;
  const std::string cursor = created ? "CreatedAt" : "UpdatedAt";
  o.created_field = created ? "CreatedAt" : "";
  o.updated_field = created ? "" : "UpdatedAt";
  o.fields = {
      field("Id", "id", FieldType::kLong, false),
      field(cursor, created ? "creationMoment" : "updateMoment", FieldType::kTimestamp, false),
      field("Version", "version", FieldType::kLong), field("Group", "group", FieldType::kString)};
  o.sortable = {"id", created ? "creationMoment" : "updateMoment"};
  o.native_filters["Group"] = {FilterOp::kEq, FilterOp::kIn};
  switch (kind) {
    case ObjectKind::kProfiles:
    case ObjectKind::kCreatedOnly:
      o.mode =
          created ? ReplicationMode::kIncrementalCreated : ReplicationMode::kIncrementalUpdated;
      o.cursor_pushdown = true;
      o.native_filters[cursor] = {FilterOp::kEq, FilterOp::kLt, FilterOp::kLe, FilterOp::kGt,
                                  FilterOp::kGe};
      break;
    case ObjectKind::kCustomTable:
      o.mode = ReplicationMode::kIncrementalUpdated;
      o.cursor_pushdown = false;
      o.native_filters.erase("Group");  // custom tables: no native filter but the key
      o.native_filters["Id"] = {FilterOp::kEq};
      break;
    case ObjectKind::kFull:
      o.mode = ReplicationMode::kFullRefresh;
      o.updated_field.clear();
      break;
  }
  s.fields = o.fields;
  s.key_index = {0};
  s.mode = o.mode;
  if (kind != ObjectKind::kFull) s.cursor_index = 1;
  s.lookback = lookback;
  s.page_size = page_size;
  return s;
}

// ---- the fake server ------------------------------------------------------------------------

struct ServerRow {
  std::int64_t id = 0;
  std::int64_t cursor_ms = 0;
  std::int64_t version = 1;
  std::string group = "A";
};

class FakeListServer {
 public:
  explicit FakeListServer(Timestamp clock) : clock_ms_(clock.ms) {}

  // ---- data and clock
  Timestamp now() const { return Timestamp{clock_ms_}; }
  void advance(milliseconds d) {
    clock_ms_ += d.count();
    apply_due();
  }
  // Milliseconds the clock moves forward with every list request (the time a request takes).
  void set_request_time(milliseconds d) { request_ms_ = d.count(); }

  std::int64_t insert(std::int64_t id, Timestamp cursor, std::string group = "A") {
    rows_[id] = ServerRow{id, cursor.ms, next_version_++, std::move(group)};
    return id;
  }
  // A new row stamped with the server clock (a create through the API).
  std::int64_t create(std::string group = "A") {
    std::int64_t id = next_id_++;
    while (rows_.count(id) || deleted_.count(id)) id = next_id_++;
    return insert(id, now(), std::move(group));
  }
  // A change: new version, stamped with the server clock.
  void update(std::int64_t id) {
    auto& r = rows_.at(id);
    r.cursor_ms = clock_ms_;
    r.version = next_version_++;
  }
  void erase(std::int64_t id) {
    rows_.erase(id);
    deleted_.insert(id);
  }
  // A late arrival (contract 3.6): a row stamped `cursor` that becomes visible at `visible_at`.
  void insert_late(std::int64_t id, Timestamp cursor, Timestamp visible_at,
                   std::string group = "A") {
    pending_.push_back(
        {visible_at.ms, ServerRow{id, cursor.ms, next_version_++, std::move(group)}});
    apply_due();
  }
  void set_next_id(std::int64_t id) { next_id_ = id; }

  const std::map<std::int64_t, ServerRow>& rows() const { return rows_; }
  const std::set<std::int64_t>& deleted() const { return deleted_; }
  bool has(std::int64_t id) const { return rows_.count(id) != 0; }
  const ServerRow& row(std::int64_t id) const { return rows_.at(id); }

  // ---- the list route
  int calls() const { return calls_; }
  const std::vector<ListQuery>& queries() const { return queries_; }
  void clear_log() {
    calls_ = 0;
    queries_.clear();
  }
  // Called after every answer (between pages), with the number of answers so far.
  std::function<void(FakeListServer&, int)> after_answer;

  PageResult list(const StreamSpec& spec, const ListQuery& q) {
    ++calls_;
    queries_.push_back(q);
    clock_ms_ += request_ms_;
    apply_due();
    validate(spec, q);

    std::vector<const ServerRow*> match;
    for (const auto& [id, r] : rows_) {
      bool ok = true;
      for (const auto& c : q.constraints) ok = ok && matches(spec, r, c);
      if (ok) match.push_back(&r);
    }
    std::vector<SortKey> sort = q.sort;
    if (std::none_of(sort.begin(), sort.end(), [](const SortKey& k) { return k.field == "Id"; })) {
      sort.push_back(SortKey{"Id", false});  // the server's key tie-breaker (3.3)
    }
    std::stable_sort(match.begin(), match.end(), [&](const ServerRow* a, const ServerRow* b) {
      for (const auto& k : sort) {
        int c = model::compare(value_of(*a, k.field), value_of(*b, k.field));
        if (c != 0) return k.descending ? c > 0 : c < 0;
      }
      return false;
    });

    PageResult page;
    page.total_elements = static_cast<std::int64_t>(match.size());
    const std::int64_t from = q.page * q.size;
    for (std::int64_t i = from; i < from + q.size && i < page.total_elements; ++i) {
      page.rows.push_back(to_row(spec, *match[static_cast<std::size_t>(i)]));
    }
    const std::int64_t total_pages = (page.total_elements + q.size - 1) / q.size;
    page.has_next = q.page + 1 < total_pages;
    // The Date header: the server clock at second precision.
    page.server_date = Timestamp{clock_ms_ - ((clock_ms_ % 1000) + 1000) % 1000};
    if (after_answer) after_answer(*this, calls_);
    return page;
  }

  Value value_of(const ServerRow& r, const std::string& name) const {
    if (name == "Id") return Value{r.id};
    if (name == "UpdatedAt" || name == "CreatedAt") return Value{Timestamp{r.cursor_ms}};
    if (name == "Version") return Value{r.version};
    if (name == "Group") return Value{r.group};
    ADD_FAILURE() << "unknown field " << name;
    return Value{};
  }

  Row to_row(const StreamSpec& spec, const ServerRow& r) const {
    Row row;
    for (const auto& f : spec.fields) row.push_back(value_of(r, f.name));
    return row;
  }

 private:
  void apply_due() {
    for (auto it = pending_.begin(); it != pending_.end();) {
      if (it->first <= clock_ms_) {
        rows_[it->second.id] = it->second;
        it = pending_.erase(it);
      } else {
        ++it;
      }
    }
  }

  void validate(const StreamSpec& spec, const ListQuery& q) const {
    const auto& o = spec.object;
    EXPECT_GE(q.page, 0);
    EXPECT_GE(q.size, 1);
    EXPECT_LE(q.size, o.max_page_size) << "400 PAGE_SIZE_TOO_LARGE";
    EXPECT_LE(q.sort.size(), 3u) << "at most 3 sort parameters";
    for (const auto& k : q.sort) {
      const auto* f = o.find_field(k.field);
      ASSERT_NE(f, nullptr) << "sort on unknown field " << k.field;
      EXPECT_NE(std::find(o.sortable.begin(), o.sortable.end(), f->wire), o.sortable.end())
          << "400 INVALID_SORT on " << k.field;
    }
    for (const auto& c : q.constraints) {
      EXPECT_TRUE(o.native(c.field, c.op))
          << "400 FILTER_NOT_SUPPORTED: " << c.field << " " << model::to_string(c.op)
          << " is not a native filter of " << o.name;
      EXPECT_FALSE(c.values.empty());
    }
  }

  bool matches(const StreamSpec&, const ServerRow& r, const Constraint& c) const {
    const Value v = value_of(r, c.field);
    auto cmp = [&](std::size_t i) { return model::compare(v, c.values.at(i)); };
    switch (c.op) {
      case FilterOp::kEq:
        return cmp(0) == 0;
      case FilterOp::kNe:
        return cmp(0) != 0;
      case FilterOp::kLt:
        return cmp(0) < 0;
      case FilterOp::kLe:
        return cmp(0) <= 0;
      case FilterOp::kGt:
        return cmp(0) > 0;
      case FilterOp::kGe:
        return cmp(0) >= 0;
      case FilterOp::kIn:
        for (std::size_t i = 0; i < c.values.size(); ++i) {
          if (cmp(i) == 0) return true;
        }
        return false;
    }
    return false;
  }

  std::int64_t clock_ms_;
  std::int64_t request_ms_ = 10;
  std::int64_t next_id_ = 1'000'000;
  std::int64_t next_version_ = 1;
  int calls_ = 0;
  std::vector<ListQuery> queries_;
  std::map<std::int64_t, ServerRow> rows_;
  std::set<std::int64_t> deleted_;
  std::vector<std::pair<std::int64_t, ServerRow>> pending_;
};

// ---- the replica (the sink) -----------------------------------------------------------------

struct ReplicaRow {
  std::int64_t cursor_ms = 0;
  std::int64_t version = 0;
};

struct Replica {
  std::map<std::int64_t, ReplicaRow> rows;
  StreamState state;
  std::int64_t commits = 0;

  // Upsert + state in one step, like Sink::commit.
  void commit(const StreamSpec& spec, const std::vector<Row>& page_rows, const StreamState& s) {
    ++commits;
    for (const Row& r : page_rows) {
      EXPECT_EQ(r.size(), spec.fields.size());
      const auto id = std::get<std::int64_t>(r.at(0));
      ReplicaRow rr;
      for (std::size_t i = 0; i < spec.fields.size(); ++i) {
        if (spec.fields[i].name == "Version") rr.version = std::get<std::int64_t>(r.at(i));
        if (spec.fields[i].name == "UpdatedAt" || spec.fields[i].name == "CreatedAt") {
          rr.cursor_ms = std::get<Timestamp>(r.at(i)).ms;
        }
      }
      rows[id] = rr;
    }
    state = s;
  }
};

// ---- the cycle driver -----------------------------------------------------------------------

struct DriveOptions {
  milliseconds settle{1000};
  int stop_after_pages = -1;  // simulate a crash: drop the pager after this many committed pages
  bool check_state_invariant = true;
  int max_calls = 20'000;
};

struct CycleStats {
  int calls = 0;
  int pages = 0;
  bool completed = false;
  int restarts = 0;
  std::vector<std::int64_t> written;  // keys passed to commit, in order
  std::vector<ListQuery> queries;
  std::vector<StreamState> states;  // the state committed with each page
};

inline std::string describe(const ListQuery& q) {
  std::ostringstream o;
  o << "page=" << q.page << " size=" << q.size << " search=";
  for (const auto& c : q.constraints) {
    o << c.field << model::to_string(c.op);
    for (const auto& v : c.values) o << model::to_display(v) << ",";
    o << ";";
  }
  o << " sort=";
  for (const auto& k : q.sort) o << k.field << (k.descending ? ",desc " : ",asc ");
  return o.str();
}

// The promise the state makes (ports.hpp): every visible row with cursor < watermark, or at the
// watermark when it is exclusive or its key is listed, is in the replica with its current
// version. Checked after every commit.
inline ::testing::AssertionResult state_holds(const FakeListServer& server, const StreamSpec& spec,
                                              const Replica& replica) {
  const StreamState& s = replica.state;
  if (!s.watermark) return ::testing::AssertionSuccess();
  std::set<std::int64_t> keys;
  for (const Row& k : s.keys_at_watermark) keys.insert(std::get<std::int64_t>(k.at(0)));
  for (const auto& [id, r] : server.rows()) {
    if (!spec.pushed_filters.empty() && r.group != "A") continue;
    const bool covered =
        r.cursor_ms < s.watermark->ms ||
        (r.cursor_ms == s.watermark->ms && (s.watermark_exclusive || keys.count(id)));
    if (!covered) continue;
    auto it = replica.rows.find(id);
    if (it == replica.rows.end() || it->second.version != r.version) {
      return ::testing::AssertionFailure()
             << "state says row " << id << " (cursor " << iso(Timestamp{r.cursor_ms})
             << ", version " << r.version << ") is replicated, but the replica has "
             << (it == replica.rows.end() ? std::string("nothing")
                                          : "version " + std::to_string(it->second.version))
             << "; watermark " << iso(*s.watermark) << (s.watermark_exclusive ? " exclusive" : "")
             << ", " << keys.size() << " keys at watermark";
    }
  }
  return ::testing::AssertionSuccess();
}

// One cycle as run_cycle does it: load state, page until done, commit rows + state per page.
inline CycleStats drive(FakeListServer& server, const StreamSpec& spec, Replica& replica,
                        const DriveOptions& opt = {}) {
  CycleStats st;
  CursorPager pager(spec, replica.state, opt.settle);
  while (!pager.done()) {
    if (opt.stop_after_pages >= 0 && st.pages >= opt.stop_after_pages) return st;  // crash
    if (st.calls >= opt.max_calls) {
      ADD_FAILURE() << "no end after " << st.calls << " calls; last query "
                    << describe(st.queries.back());
      return st;
    }
    ListQuery q = pager.next_query();
    st.queries.push_back(q);
    PageResult page = server.list(spec, q);
    ++st.calls;
    PageStep step = pager.on_page(std::move(page));
    ++st.pages;
    for (const Row& r : step.rows) st.written.push_back(std::get<std::int64_t>(r.at(0)));
    replica.commit(spec, step.rows, step.state);
    st.states.push_back(step.state);
    if (opt.check_state_invariant) {
      EXPECT_TRUE(state_holds(server, spec, replica))
          << "after page " << st.pages << " (" << describe(q) << ")";
    }
    EXPECT_EQ(step.done, pager.done());
  }
  st.completed = true;
  st.restarts = pager.restarts();
  return st;
}

// The replica holds every server row (in the pushed group, if any) at its current version;
// keys the server no longer has were deleted there.
inline ::testing::AssertionResult replica_matches(const FakeListServer& server,
                                                  const StreamSpec& spec, const Replica& replica) {
  std::ostringstream problems;
  int missing = 0, stale = 0, extra = 0;
  for (const auto& [id, r] : server.rows()) {
    if (!spec.pushed_filters.empty() && r.group != "A") continue;
    auto it = replica.rows.find(id);
    if (it == replica.rows.end()) {
      if (++missing <= 5)
        problems << " missing " << id << " @" << iso(Timestamp{r.cursor_ms}) << ";";
    } else if (it->second.version != r.version) {
      if (++stale <= 5) {
        problems << " stale " << id << " (v" << it->second.version << " instead of v" << r.version
                 << " @" << iso(Timestamp{r.cursor_ms}) << ");";
      }
    }
  }
  for (const auto& [id, rr] : replica.rows) {
    const bool on_server =
        server.has(id) && (spec.pushed_filters.empty() || server.row(id).group == "A");
    if (!on_server && !server.deleted().count(id)) {
      if (++extra <= 5) problems << " unexpected " << id << ";";
    }
  }
  if (missing + stale + extra == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << missing << " missing, " << stale << " stale, " << extra
                                       << " unexpected:" << problems.str();
}

}  // namespace replicator::engine::testing

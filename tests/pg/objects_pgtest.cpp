// Every Actito object of the catalog, replicated from actito-sim into PostgreSQL with the real
// client, planner, runner and sink, and compared field by field with the simulator's data
// (issue 3). Also: filter split, extended requests, metadata cache, delete detection.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <thread>

#include <boost/json.hpp>

#include "config/catalog_loader.hpp"
#include "core/model/naming.hpp"
#include "sinks/postgres/postgres_sink.hpp"
#include "tests/pg/objects_harness.hpp"

namespace replicator::testsupport {
namespace {

namespace json = boost::json;
using actito_sim::SimOptions;

SimOptions small_world(std::uint64_t seed = 11) {
  SimOptions o;
  o.data.seed = seed;
  o.data.profiles = 300;
  o.data.custom_records = 200;
  o.data.static_rows = 12;
  o.data.interaction_rows = 150;
  o.limits.max_concurrent = 0;
  o.limits.calls_per_minute = 0;
  return o;
}

// One simulator and schema for the whole round-trip suite: each object has its own table.
ObjectsHarness& shared() {
  static ObjectsHarness h(small_world());
  return h;
}

// Every object a job can name against the simulator: the catalog's static objects and the
// dynamic ones of its profile table (Customers) and custom table (Orders).
std::vector<std::string> every_object() {
  std::vector<std::string> out;
  for (const auto& o : config::builtin_catalog().objects) out.push_back(o.name);
  for (const auto& t : config::builtin_catalog().templates) {
    std::string name = t.name;
    auto lt = name.find('<');
    auto gt = name.find('>');
    std::string table = t.per == "custom table" ? "Orders" : "Customers";
    out.push_back(name.substr(0, lt) + table + name.substr(gt + 1));
  }
  return out;
}

StreamOptions opts(const std::function<void(StreamOptions&)>& set) {
  StreamOptions o;
  set(o);
  return o;
}

// The simulator's rows of `object` in wire shape (structures come from the dataset directly).
std::vector<json::object> sim_rows_of(ObjectsHarness& h, const std::string& object) {
  if (object == "ProfileTables") return h.sim().dataset().profile_table_structures().rendered_rows();
  if (object == "CustomTables") return h.sim().dataset().custom_table_structures().rendered_rows();
  return h.sim().rows(object);
}

class EveryObject : public ::testing::TestWithParam<std::string> {};

TEST_P(EveryObject, RoundTripsEveryFieldIntoPostgres) {
  ObjectsHarness& h = shared();
  const std::string object = GetParam();
  engine::StreamSpec spec = h.plan(object);
  engine::CycleResult r = h.cycle(spec);
  auto sim_rows = sim_rows_of(h, object);
  ASSERT_FALSE(sim_rows.empty()) << object << ": the simulator serves no rows, nothing would be tested";
  auto table = h.table(object);
  auto diffs = compare_with_sim(spec, sim_rows, table);
  for (std::size_t i = 0; i < diffs.size() && i < 15; ++i) ADD_FAILURE() << diffs[i];
  EXPECT_EQ(r.progress.rows_written, static_cast<std::int64_t>(sim_rows.size()));
  // Every declared field became a column of the declared PostgreSQL type family.
  for (const auto& f : spec.fields) {
    std::string type = h.scalar("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = '" +
                                model::quote_ident(h.schema()) + "." + model::quote_ident(model::snake_case(object)) +
                                "'::regclass AND attname = '" + model::snake_case(f.name) + "'");
    std::string expected = f.multi_valued                                     ? "text[]"
                           : f.type == model::FieldType::kInteger ||
                                   f.type == model::FieldType::kLong          ? "bigint"
                           : f.type == model::FieldType::kNumber              ? "numeric"
                           : f.type == model::FieldType::kBoolean             ? "boolean"
                           : f.type == model::FieldType::kTimestamp           ? "timestamp with time zone"
                           : f.type == model::FieldType::kDate                ? "date"
                           : f.type == model::FieldType::kJson                ? "jsonb"
                                                                              : "text";
    EXPECT_EQ(type, expected) << object << "." << f.name;
  }
  // A second cycle finds nothing new to write.
  engine::CycleResult again = h.cycle(spec);
  EXPECT_EQ(again.progress.rows_written, 0) << object;
  EXPECT_EQ(again.progress.extended_calls, 0) << object << ": up-to-date rows must not cost extended GETs";
}

INSTANTIATE_TEST_SUITE_P(Catalog, EveryObject, ::testing::ValuesIn(every_object()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string n;
                           for (char c : info.param) n += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
                           return n;
                         });

// Mutates the simulator, then waits until the change is below the upper bound of the next read:
// that bound is the server's Date header, which has whole seconds (contract 3.6, 3.10).
actito_sim::MutationResult mutate(ObjectsHarness& h, const std::function<void(actito_sim::MutationSpec&)>& set) {
  actito_sim::MutationSpec m;
  set(m);
  auto r = h.sim().mutate(m);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  return r;
}

// ---- filter split ---------------------------------------------------------------------------

// `value` as a predicate literal for `field`.
std::string literal(const json::value& v) {
  if (v.is_string()) {
    std::string out = "'";
    for (char c : v.get_string()) out += c == '\'' ? std::string("''") : std::string(1, c);
    return out + "'";
  }
  if (v.is_bool()) return v.get_bool() ? "TRUE" : "FALSE";
  return json::serialize(v);
}

// A native equality of `object` and a value the simulator's data holds for it: the field whose
// value is shared by the most rows (so the filter keeps some rows and drops others), preferring
// non-timestamp fields.
struct NativeCase {
  std::string field;
  std::string wire;
  json::value value;
};

std::optional<NativeCase> native_case(const model::ObjectDescriptor& object, const engine::StreamSpec& spec,
                                      const std::vector<json::object>& rows) {
  std::optional<NativeCase> best;
  std::size_t best_score = 0;
  for (const auto& [name, ops] : object.native_filters) {
    if (std::find(ops.begin(), ops.end(), model::FilterOp::kEq) == ops.end()) continue;
    if (spec.fan_out && name == spec.fan_out->child_field) continue;
    const model::FieldDescriptor* f = object.find_field(name);
    if (!f || f->multi_valued) continue;
    std::map<std::string, std::pair<std::size_t, json::value>> counts;
    for (const auto& r : rows) {
      const json::value* v = wire_value(r, *f);
      if (!v || v->is_null()) continue;
      auto& c = counts[json::serialize(*v)];
      ++c.first;
      c.second = *v;
    }
    for (const auto& [text, c] : counts) {
      std::size_t score = c.first * (f->type == model::FieldType::kTimestamp ? 1 : 1000);
      if (c.first < rows.size() && score > best_score) {
        best_score = score;
        best = NativeCase{name, f->wire, c.second};
      }
    }
  }
  return best;
}

class FilterSplit : public ::testing::TestWithParam<std::string> {};

SimOptions two_tables_each(std::uint64_t seed) {
  SimOptions o = small_world(seed);
  o.data.profile_tables = 2;  // so that a filter on ProfileTables.Id leaves a row out
  o.data.custom_tables = 2;
  return o;
}

TEST_P(FilterSplit, NativeFilterGoesToTheApiAndLocalOneGivesTheSameRows) {
  static ObjectsHarness h(two_tables_each(23));
  const std::string object = GetParam();
  engine::StreamSpec all = h.plan(object);
  auto sim_rows = sim_rows_of(h, object);
  auto found = native_case(all.object, all, sim_rows);
  if (!found) {
    // Every object of the catalog has a native equality except these, whose only native
    // filter is the fan-out parent: covered by FanOut below.
    EXPECT_TRUE(all.fan_out) << object << " has no native equality to test";
    return;
  }
  std::vector<json::object> expected;
  for (const auto& r : sim_rows) {
    const json::value* v = wire_value(r, *all.object.find_field(found->field));
    if (v && *v == found->value) expected.push_back(r);
  }
  ASSERT_FALSE(expected.empty());
  ASSERT_LT(expected.size(), sim_rows.size()) << "the filter must leave rows out to prove anything";

  // Native: the constraint travels in `search` with the field's wire name.
  std::string where = found->field + " = " + literal(found->value);
  engine::StreamSpec native = h.plan(object, opts([&](StreamOptions& o) { o.where = where; }));
  EXPECT_FALSE(native.pushed_filters.empty()) << where;
  EXPECT_TRUE(native.local_text.empty()) << native.local_text;
  auto seq = h.sim().last_call_seq();
  h.cycle(native);
  bool sent = false;
  for (const auto& c : h.sim().calls(seq)) {
    if (c.param("search").find(found->wire + "==") != std::string::npos) sent = true;
  }
  EXPECT_TRUE(sent) << object << ": no list call carried " << found->wire << "== in its search";
  auto diffs = compare_with_sim(native, expected, h.table(object));
  for (std::size_t i = 0; i < diffs.size() && i < 10; ++i) ADD_FAILURE() << "native: " << diffs[i];
  h.forget(object);

  // Local: NOT (F != v) is never pushed down; the same rows arrive, filtered by the replicator.
  std::string local_where = "NOT (" + found->field + " != " + literal(found->value) + ")";
  engine::StreamSpec local = h.plan(object, opts([&](StreamOptions& o) { o.where = local_where; }));
  EXPECT_FALSE(local.local_text.empty());
  seq = h.sim().last_call_seq();
  engine::CycleResult r = h.cycle(local);
  for (const auto& c : h.sim().calls(seq)) {
    EXPECT_EQ(c.param("search").find(found->wire + "=="), std::string::npos)
        << object << ": a non-native filter was sent: " << c.param("search");
  }
  EXPECT_EQ(r.progress.rows_filtered, static_cast<std::int64_t>(sim_rows.size() - expected.size()));
  diffs = compare_with_sim(local, expected, h.table(object));
  for (std::size_t i = 0; i < diffs.size() && i < 10; ++i) ADD_FAILURE() << "local: " << diffs[i];
}

INSTANTIATE_TEST_SUITE_P(Catalog, FilterSplit, ::testing::ValuesIn(every_object()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string n;
                           for (char c : info.param) n += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
                           return n;
                         });

TEST(FanOut, ParentFilterPicksTheParentsInsteadOfListingThem) {
  ObjectsHarness h(small_world(31));
  auto parents = h.sim().rows("EmailCampaigns");
  ASSERT_GE(parents.size(), 3u);
  auto id_of = [](const json::object& r) { return r.at("id").as_int64(); };
  std::int64_t a = id_of(parents[0]), b = id_of(parents[2]);
  engine::StreamSpec spec =
      h.plan("EmailCampaignResults", opts([&](StreamOptions& o) { o.where = "CampaignId IN (" + std::to_string(a) + ", " +
                                                            std::to_string(b) + ")"; }));
  ASSERT_TRUE(spec.fan_out && spec.fan_out->ids);
  EXPECT_EQ(spec.fan_out->ids->size(), 2u);
  auto seq = h.sim().last_call_seq();
  engine::CycleResult r = h.cycle(spec);
  EXPECT_EQ(r.progress.parents, 2);
  std::set<std::string> paths;
  for (const auto& c : h.sim().calls(seq)) {
    if (c.route == "GET /auth/token") continue;
    EXPECT_EQ(c.param("search").find("campaignId"), std::string::npos) << "the parent field is never a selector";
    EXPECT_NE(c.route, "GET /email-campaigns/v5/entities/{entity}/email-campaigns") << "parents were listed";
    paths.insert(c.path);
  }
  EXPECT_EQ(paths.size(), 2u);
  std::vector<json::object> expected;
  for (const auto& row : h.sim().rows("EmailCampaignResults")) {
    auto c = row.at("campaignId").as_int64();
    if (c == a || c == b) expected.push_back(row);
  }
  auto diffs = compare_with_sim(spec, expected, h.table("EmailCampaignResults"));
  for (const auto& d : diffs) ADD_FAILURE() << d;

  // A parent deleted after it was chosen: its child list answers 404, read as empty.
  mutate(h, [&](actito_sim::MutationSpec& x) { x.object = "EmailCampaigns"; x.delete_ids = {a}; });
  r = h.cycle(spec);
  EXPECT_EQ(r.progress.parents, 2);
}

// ---- extended requests ----------------------------------------------------------------------

std::size_t extended_gets(ObjectsHarness& h, std::int64_t after, const std::string& object) {
  std::size_t n = 0;
  for (const auto& c : h.sim().calls(after)) {
    if (c.route.find("{id}") != std::string::npos && c.path.find(object) != std::string::npos) ++n;
  }
  return n;
}

TEST(ExtendedRequests, OneGetPerNewOrChangedRowAndNoneForUpToDateRows) {
  ObjectsHarness h(small_world(41));
  const std::string object = "EmailCampaignTemplates";
  engine::StreamSpec spec = h.plan(object);
  ASSERT_EQ(spec.extended, engine::ExtendedFetch::kFetch);
  const auto rows = h.sim().rows(object).size();
  auto seq = h.sim().last_call_seq();
  engine::CycleResult first = h.cycle(spec);
  EXPECT_EQ(first.progress.extended_calls, static_cast<std::int64_t>(rows));
  EXPECT_EQ(extended_gets(h, seq, "email-campaign-templates"), rows) << "the simulator's log disagrees";
  auto diffs = compare_with_sim(spec, h.sim().rows(object), h.table(object));
  for (const auto& d : diffs) ADD_FAILURE() << d;

  // Re-reading the same rows (a lookback window) costs no GET.
  engine::StreamSpec again = h.plan(object, opts([&](StreamOptions& o) { o.lookback = std::chrono::hours(24 * 3650); }));
  engine::CycleResult second = h.cycle(again);
  EXPECT_GT(second.progress.rows_read, 0);
  EXPECT_EQ(second.progress.extended_calls, 0);

  auto m = mutate(h, [&](actito_sim::MutationSpec& x) { x.object = object; x.updates = 3; });
  ASSERT_EQ(m.updated.size(), 3u);
  engine::CycleResult third = h.cycle(again);
  EXPECT_EQ(third.progress.extended_calls, 3);
  diffs = compare_with_sim(spec, h.sim().rows(object), h.table(object));
  for (const auto& d : diffs) ADD_FAILURE() << d;
}

TEST(ExtendedRequests, SuppressedMeansNoGetAndStoredValuesStay) {
  ObjectsHarness h(small_world(43));
  const std::string object = "SMSCampaigns";  // full refresh, extended fields
  engine::StreamSpec fetch = h.plan(object);
  h.cycle(fetch);
  auto before = h.table(object);
  auto m = mutate(h, [&](actito_sim::MutationSpec& x) { x.object = object; x.updates = 2; });
  ASSERT_EQ(m.updated.size(), 2u);

  engine::StreamSpec keep = h.plan(object, opts([&](StreamOptions& o) { o.suppress_extended = true; }));
  ASSERT_EQ(keep.extended, engine::ExtendedFetch::kKeep);
  auto seq = h.sim().last_call_seq();
  engine::CycleResult r = h.cycle(keep);
  EXPECT_EQ(r.progress.extended_calls, 0);
  EXPECT_EQ(extended_gets(h, seq, "sms-campaigns"), 0u);
  // List fields follow the simulator; extended columns keep what the earlier fetch stored.
  auto after = h.table(object);
  std::map<std::int64_t, json::object> old_rows;
  for (const auto& r0 : before) old_rows[r0.at("id").as_int64()] = r0;
  std::size_t checked = 0;
  for (const auto& row : after) {
    const auto& old = old_rows.at(row.at("id").as_int64());
    for (const auto& f : keep.fields) {
      if (!f.extended) continue;
      std::string col = model::snake_case(f.name);
      EXPECT_EQ(row.at(col), old.at(col)) << "extended column " << col << " changed while suppressed";
      ++checked;
    }
  }
  EXPECT_GT(checked, 0u);

  // EmailCampaignsExtended exists for its extended fields: suppression does not apply.
  engine::StreamSpec always = h.plan("EmailCampaignsExtended", opts([&](StreamOptions& o) { o.suppress_extended = true; }));
  EXPECT_EQ(always.extended, engine::ExtendedFetch::kFetch);
  engine::CycleResult e = h.cycle(always);
  EXPECT_EQ(e.progress.extended_calls, static_cast<std::int64_t>(h.sim().rows("EmailCampaignsExtended").size()));
}

// ---- metadata cache -------------------------------------------------------------------------

TEST(MetadataCache, NewAttributeAppearsAfterTheTtlAndNotBeforeAndRestartsDoNotRediscover) {
  const auto ttl = std::chrono::seconds(3);
  ObjectsHarness h(small_world(51), ttl);
  const std::string structure_route = "GET /profile-table-structure/v5/entities/{entity}/profile-tables";
  engine::StreamSpec spec = h.plan("Customers");
  auto started = std::chrono::steady_clock::now();
  h.cycle(spec);
  EXPECT_EQ(h.sim().stats().route(structure_route), 1);

  h.sim().add_attribute("Customers", {.name = "shoeSize", .value_type = "INTEGER"});
  h.restart_connection();  // a restart: discovery's memory is gone, the destination's copy stays
  engine::StreamSpec within = h.plan("Customers");
  EXPECT_EQ(h.sim().stats().route(structure_route), 1) << "re-discovered within the TTL after a restart";
  EXPECT_EQ(within.object.find_field("ShoeSize"), nullptr);
  h.cycle(within);
  std::string column_sql = "SELECT count(*) FROM information_schema.columns WHERE table_schema = '" + h.schema() +
                           "' AND table_name = 'customers' AND column_name = 'shoe_size'";
  EXPECT_EQ(h.scalar(column_sql), "0");
  std::string watermark_sql = "SELECT watermark::text FROM " + model::quote_ident(h.schema()) +
                              "._replication_state WHERE stream = 'Customers'";
  std::string watermark = h.scalar(watermark_sql);

  std::this_thread::sleep_until(started + ttl + std::chrono::milliseconds(300));
  engine::StreamSpec after = h.plan("Customers");
  EXPECT_EQ(h.sim().stats().route(structure_route), 2);
  ASSERT_NE(after.object.find_field("ShoeSize"), nullptr);
  mutate(h, [&](actito_sim::MutationSpec& x) { x.table = "Customers"; x.updates = 5; });
  engine::CycleResult r = h.cycle(after);
  EXPECT_EQ(h.scalar(column_sql), "1") << "the new attribute became a column";
  EXPECT_GE(r.progress.rows_written, 5);
  EXPECT_GE(h.scalar(watermark_sql), watermark) << "no reset: the watermark went on";

  // A removed attribute keeps its column.
  h.sim().remove_attribute("Customers", "shoeSize");
  std::this_thread::sleep_for(ttl + std::chrono::milliseconds(300));
  engine::StreamSpec removed = h.plan("Customers");
  EXPECT_EQ(removed.object.find_field("ShoeSize"), nullptr);
  h.cycle(removed);
  EXPECT_EQ(h.scalar(column_sql), "1");
}

TEST(MetadataCache, ARowHoldingAnUndeclaredAttributeTriggersDiscoveryBeforeTheTtl) {
  ObjectsHarness h(small_world(53), std::chrono::hours(1));
  h.stop_on_undeclared(true);
  const std::string structure_route = "GET /profile-table-structure/v5/entities/{entity}/profile-tables";
  engine::StreamSpec spec = h.plan("Customers");
  engine::CycleResult first = h.cycle(spec);
  EXPECT_FALSE(first.progress.undeclared_fields) << "every property of the generated rows is declared";
  EXPECT_FALSE(first.interrupted);
  std::string watermark_sql = "SELECT watermark::text FROM " + model::quote_ident(h.schema()) +
                              "._replication_state WHERE stream = 'Customers'";
  const std::string watermark = h.scalar(watermark_sql);

  h.sim().add_attribute("Customers", {.name = "shoeSize", .value_type = "INTEGER"});
  auto m = mutate(h, [&](actito_sim::MutationSpec& x) { x.table = "Customers"; x.updates = 4; });
  engine::CycleResult second = h.cycle(h.plan("Customers"));
  EXPECT_TRUE(second.progress.undeclared_fields);
  EXPECT_TRUE(second.interrupted) << "the page holding the new attribute must not be written without it";
  EXPECT_EQ(second.progress.rows_written, 0);
  EXPECT_EQ(h.scalar(watermark_sql), watermark);
  EXPECT_EQ(h.sim().stats().route(structure_route), 1);

  engine::StreamSpec refreshed = h.plan("Customers");
  EXPECT_EQ(h.sim().stats().route(structure_route), 2) << "contract 5.5: a record with an unknown attribute refreshes";
  ASSERT_NE(refreshed.object.find_field("ShoeSize"), nullptr);
  engine::CycleResult third = h.cycle(refreshed);
  EXPECT_FALSE(third.interrupted);
  EXPECT_EQ(third.progress.rows_written, 4);
  EXPECT_EQ(h.scalar("SELECT count(*) FROM " + model::quote_ident(h.schema()) +
                     ".customers WHERE shoe_size IS NOT NULL"),
            "4")
      << "every row that carried the new attribute has its value";
  (void)m;
}

// ---- delete detection -----------------------------------------------------------------------

// `actito-replicator reset` while the daemon is in the middle of a first sync: the cycle must
// not write its state over the reset one; it starts again from the beginning, once.
TEST(StateReset, AResetDuringACycleStartsTheCycleAgainFromTheBeginning) {
  ObjectsHarness h(small_world(81));
  engine::StreamSpec spec = h.plan("Customers");
  ASSERT_NE(spec.mode, model::ReplicationMode::kFullRefresh);
  spec.page_size = 40;  // 300 profiles: 8 pages
  sink_postgres::PostgresSinkOptions so;
  so.dsn = h.dsn();
  so.schema = h.schema();
  sink_postgres::PostgresSink cli(so);
  bool reset_done = false;
  h.after_each_list([&](std::int64_t n) {
    // By the 4th page, the first ones are committed: there is a watermark to forget.
    if (n != 4 || reset_done) return;
    reset_done = true;
    ASSERT_TRUE(cli.reset_state(spec.job, spec.stream));
  });
  engine::CycleResult r = h.cycle(spec);
  h.after_each_list({});
  ASSERT_TRUE(reset_done);
  EXPECT_EQ(r.state_resets, 1);
  EXPECT_GT(r.progress.rows_read, 300) << "the rows read before the reset and the full re-read add up";
  EXPECT_GE(r.progress.pages, 8 + 3);
  const std::string table = model::quote_ident(h.schema()) + ".customers";
  EXPECT_EQ(h.scalar("SELECT count(*) FROM " + table), "300");
  // The committed state is the re-read's: a complete sync, with the newest moment as watermark.
  const engine::StreamState st = cli.load_state(spec.job, spec.stream);
  ASSERT_TRUE(st.watermark);
  EXPECT_EQ(std::to_string(st.watermark->ms),
            h.scalar("SELECT (extract(epoch FROM max(updated_at)) * 1000)::bigint FROM " + table));
  EXPECT_EQ(h.scalar("SELECT resets FROM " + model::quote_ident(h.schema()) + "._replication_state"), "1");
}

TEST(DeleteDetection, KeyScanMarksRowsDeletedInActito) {
  ObjectsHarness h(small_world(61));
  engine::StreamSpec spec = h.plan("Customers", opts([&](StreamOptions& o) { o.detect_deletes = true; }));
  engine::CycleResult first = h.cycle(spec);
  EXPECT_FALSE(first.delete_scan) << "the first sync read every row: it counts as the scan";
  auto seq = h.sim().last_call_seq();
  auto m = mutate(h, [&](actito_sim::MutationSpec& x) { x.table = "Customers"; x.deletes = 3; });
  ASSERT_EQ(m.deleted.size(), 3u);
  engine::CycleResult second = h.cycle(spec);
  EXPECT_EQ(second.progress.rows_deleted, 3);
  bool projected = false;
  for (const auto& c : h.sim().calls(seq)) projected = projected || c.param("fields") == "profileId";
  EXPECT_TRUE(projected) << "the key scan reads keys only (fields=profileId)";
  std::string ids;
  for (auto id : m.deleted) ids += (ids.empty() ? "" : ",") + std::to_string(id);
  std::string marked_sql = "SELECT count(*) FROM " + model::quote_ident(h.schema()) +
                           ".customers WHERE _deleted_at IS NOT NULL";
  EXPECT_EQ(h.scalar(marked_sql), "3");
  EXPECT_EQ(h.scalar("SELECT count(*) FROM " + model::quote_ident(h.schema()) + ".customers WHERE _deleted_at IS NOT NULL AND id IN (" + ids + ")"), "3");
  EXPECT_EQ(h.cycle(spec).progress.rows_deleted, 0) << "marked once";

  // At most once per period.
  engine::StreamSpec daily = h.plan("Customers", opts([&](StreamOptions& o) { o.detect_deletes = true; o.detect_every = std::chrono::hours(24); }));
  mutate(h, [&](actito_sim::MutationSpec& x) { x.table = "Customers"; x.deletes = 1; });
  engine::CycleResult r = h.cycle(daily);
  EXPECT_FALSE(r.delete_scan);
  EXPECT_EQ(h.scalar(marked_sql), "3");
}

TEST(DeleteDetection, FullRefreshMarksRowsTheRefreshDidNotReturn) {
  ObjectsHarness h(small_world(67));
  engine::StreamSpec spec = h.plan("Goals", opts([&](StreamOptions& o) { o.detect_deletes = true; }));
  ASSERT_EQ(spec.mode, model::ReplicationMode::kFullRefresh);
  h.cycle(spec);
  auto m = mutate(h, [&](actito_sim::MutationSpec& x) { x.object = "Goals"; x.deletes = 2; });
  ASSERT_EQ(m.deleted.size(), 2u);
  engine::CycleResult r = h.cycle(spec);
  EXPECT_EQ(r.progress.rows_deleted, 2);
  EXPECT_EQ(h.scalar("SELECT count(*) FROM " + model::quote_ident(h.schema()) + ".goals WHERE _deleted_at IS NOT NULL"),
            "2");
  // Without deletes: detect nothing is marked.
  engine::StreamSpec ignore = h.plan("Goals");
  mutate(h, [&](actito_sim::MutationSpec& x) { x.object = "Goals"; x.deletes = 1; });
  EXPECT_EQ(h.cycle(ignore).progress.rows_deleted, 0);
}

// The rows of `object`'s table marked deleted, by id.
std::set<std::int64_t> marked_ids(ObjectsHarness& h, const std::string& object) {
  std::set<std::int64_t> out;
  for (const auto& row : h.table(object)) {
    if (!row.at("_deleted_at").is_null()) out.insert(row.at("id").as_int64());
  }
  return out;
}

// Between the first and the second list call of the next cycle: `gone` is deleted and a row is
// created (under `parent`, for a nested object), so that the count stays and the later pages
// shift by one row.
void shift_pages_after_first_list(ObjectsHarness& h, const std::string& object, std::int64_t gone,
                                  std::int64_t parent = 0) {
  h.after_each_list([&h, object, gone, parent](std::int64_t n) {
    if (n != 1) return;
    actito_sim::MutationSpec m;
    m.object = object;
    m.delete_ids = {gone};
    m.creates = 1;
    m.parent_id = parent;
    h.sim().mutate(m);
  });
}

std::size_t single_gets(ObjectsHarness& h, std::int64_t after, const std::string& path_part) {
  std::size_t n = 0;
  for (const auto& c : h.sim().calls(after)) {
    if (c.method == "GET" && c.route.find("{id}") != std::string::npos && c.path.find(path_part) != std::string::npos) ++n;
  }
  return n;
}

TEST(DeleteDetection, ARowSkippedByPagingIsCheckedNotMarked) {
  ObjectsHarness h(small_world(71));
  const std::string object = "SMSCampaigns";  // full refresh, offset pages, a single-record route
  engine::StreamSpec spec = h.plan(object, opts([&](StreamOptions& o) { o.detect_deletes = true; }));
  ASSERT_EQ(spec.mode, model::ReplicationMode::kFullRefresh);
  spec.page_size = 5;
  h.cycle(spec);
  std::vector<std::int64_t> ids;
  for (const auto& r : h.sim().rows(object)) ids.push_back(r.at("id").as_int64());
  std::sort(ids.begin(), ids.end());
  ASSERT_GE(ids.size(), 12u);

  // After the first page (ids[0..4]) one row of it goes and a new row comes: the count stays,
  // offsets shift by one, and ids[5] slides into the page already read.
  shift_pages_after_first_list(h, object, ids[1]);
  const auto seq = h.sim().last_call_seq();
  engine::CycleResult r = h.cycle(spec);
  h.after_each_list({});
  EXPECT_EQ(r.progress.delete_checks, 1) << "the row the pages skipped is asked for";
  EXPECT_EQ(single_gets(h, seq, "/sms-campaigns/" + std::to_string(ids[5])), 1u);
  EXPECT_EQ(r.progress.rows_deleted, 0);
  EXPECT_TRUE(marked_ids(h, object).empty()) << "a live row was marked deleted";

  // The next refresh sees everything as it is: the deleted row is marked, after one check.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  r = h.cycle(spec);
  EXPECT_EQ(r.progress.delete_checks, 1);
  EXPECT_EQ(marked_ids(h, object), (std::set<std::int64_t>{ids[1]}));
}

// The same for a nested object (fan-out over Forms): the single-record route takes the parent
// id from the row's key.
TEST(DeleteDetection, ANestedRowSkippedByPagingIsCheckedNotMarked) {
  ObjectsHarness h(small_world(73));
  const std::string object = "FormParticipations";
  // The form with the most participations.
  std::map<std::int64_t, std::vector<std::int64_t>> by_form;
  for (const auto& r : h.sim().rows(object)) by_form[r.at("formId").as_int64()].push_back(r.at("id").as_int64());
  auto form = std::max_element(by_form.begin(), by_form.end(),
                               [](const auto& a, const auto& b) { return a.second.size() < b.second.size(); });
  ASSERT_NE(form, by_form.end());
  actito_sim::MutationSpec more;  // enough participations in that form for several pages
  more.object = object;
  more.creates = 10;
  more.parent_id = form->first;
  h.sim().mutate(more);
  std::vector<std::int64_t> ids;
  for (const auto& r : h.sim().rows(object)) {
    if (r.at("formId").as_int64() == form->first) ids.push_back(r.at("id").as_int64());
  }
  std::sort(ids.begin(), ids.end());
  ASSERT_GE(ids.size(), 10u);
  engine::StreamSpec spec = h.plan(object, opts([&](StreamOptions& o) {
    o.detect_deletes = true;
    o.where = "FormId = " + std::to_string(form->first);  // the fan-out reads that form only
  }));
  ASSERT_EQ(spec.mode, model::ReplicationMode::kFullRefresh);
  ASSERT_TRUE(spec.fan_out);
  spec.page_size = 3;
  h.cycle(spec);

  shift_pages_after_first_list(h, object, ids[1], form->first);
  const auto seq = h.sim().last_call_seq();
  engine::CycleResult r = h.cycle(spec);
  h.after_each_list({});
  EXPECT_EQ(r.progress.delete_checks, 1) << "the row the pages skipped is asked for";
  EXPECT_EQ(single_gets(h, seq, "/forms/" + std::to_string(form->first) + "/participations/" + std::to_string(ids[3])),
            1u);
  EXPECT_EQ(r.progress.rows_deleted, 0);
  EXPECT_TRUE(marked_ids(h, object).empty()) << "a live row was marked deleted";

  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  r = h.cycle(spec);
  EXPECT_EQ(marked_ids(h, object), (std::set<std::int64_t>{ids[1]}));
}

// A row outside the stream's `where` is not in its selection any more: the GET that finds it
// alive does not keep it (docs/replication.md: deleted means gone from the selection).
TEST(DeleteDetection, ARowThatLeftTheSelectionIsMarkedEvenIfItStillExists) {
  ObjectsHarness h(small_world(74));
  const std::string object = "FormParticipations";
  std::map<std::int64_t, std::set<std::int64_t>> by_form;
  for (const auto& r : h.sim().rows(object)) by_form[r.at("formId").as_int64()].insert(r.at("id").as_int64());
  ASSERT_GE(by_form.size(), 2u);
  const auto first = by_form.begin();
  const auto second = std::next(first);
  ASSERT_LE(first->second.size(), 20u) << "few enough to be checked one by one";
  auto only = [&](std::int64_t form) {
    return h.plan(object, opts([&](StreamOptions& o) {
      o.detect_deletes = true;
      o.where = "FormId = " + std::to_string(form);
    }));
  };
  h.cycle(only(first->first));
  ASSERT_TRUE(marked_ids(h, object).empty());
  // The stream now selects another form: the first form's rows left the selection.
  engine::CycleResult r = h.cycle(only(second->first));
  EXPECT_EQ(r.progress.delete_checks, static_cast<std::int64_t>(first->second.size()))
      << "each is asked for: few rows are missing";
  EXPECT_EQ(marked_ids(h, object), first->second);
}

TEST(DeleteDetection, AMassDeletionIsMarkedWithoutCheckingEachRow) {
  SimOptions o = small_world(72);
  o.data.static_rows = 40;
  ObjectsHarness h(o);
  const std::string object = "SMSCampaigns";
  engine::StreamSpec spec = h.plan(object, opts([&](StreamOptions& x) { x.detect_deletes = true; }));
  h.cycle(spec);
  auto m = mutate(h, [&](actito_sim::MutationSpec& x) { x.object = object; x.deletes = 25; });
  ASSERT_EQ(m.deleted.size(), 25u);
  const auto seq = h.sim().last_call_seq();
  engine::CycleResult r = h.cycle(spec);
  EXPECT_EQ(r.progress.delete_checks, 0) << "25 missing rows are more than the checks allowed";
  EXPECT_EQ(single_gets(h, seq, "/sms-campaigns/"), 0u);
  EXPECT_EQ(r.progress.rows_deleted, 25);
  EXPECT_EQ(marked_ids(h, object), std::set<std::int64_t>(m.deleted.begin(), m.deleted.end()));
}

}  // namespace
}  // namespace replicator::testsupport

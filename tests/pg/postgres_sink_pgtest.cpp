// PostgresSink against a real PostgreSQL: layout, change-only upserts, state, atomicity, schema
// evolution, broken connections, value round-trips. Each test runs in its own TempSchema.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <pqxx/pqxx>
#include <thread>

#include "core/model/error.hpp"
#include "core/model/timestamp.hpp"
#include "sinks/postgres/postgres_sink.hpp"
#include "tests/support/pg_dsn.hpp"
#include "tests/support/temp_schema.hpp"

namespace replicator::sink_postgres {
namespace {

using engine::StreamSpec;
using engine::StreamState;
using model::ErrorKind;
using model::FieldType;
using model::Row;
using model::Timestamp;
using model::Value;
using testsupport::TempSchema;
using testsupport::test_pg_dsn;

constexpr std::int64_t kMsPerDay = 86'400'000;

model::FieldDescriptor field(std::string name, FieldType type, bool multi = false) {
  model::FieldDescriptor f;
  f.name = std::move(name);
  f.type = type;
  f.multi_valued = multi;
  return f;
}

StreamSpec make_spec(std::string stream, std::vector<model::FieldDescriptor> fields,
                     std::vector<std::size_t> key = {0}) {
  StreamSpec s;
  s.job = "crm";
  s.stream = std::move(stream);
  s.object.name = s.stream;
  s.fields = std::move(fields);
  s.key_index = std::move(key);
  return s;
}

// Customers(Id LONG key, Name STRING, Score INTEGER)
StreamSpec customers_spec() {
  return make_spec("Customers", {field("Id", FieldType::kLong), field("Name", FieldType::kString),
                                 field("Score", FieldType::kInteger)});
}

Row customer(std::int64_t id, std::string name, Value score = std::monostate{}) {
  return Row{id, std::move(name), std::move(score)};
}

StreamState state_at(std::int64_t watermark_ms) {
  StreamState s;
  s.cursor_field = "UpdatedAt";
  s.watermark = Timestamp{watermark_ms};
  return s;
}

// Runs fn and returns the model::Error it throws (fails the test when it throws nothing).
model::Error error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const model::Error& e) {
    std::cout << "[ error    ] " << model::to_string(e.kind()) << ": " << e.what() << std::endl;
    return e;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected model::Error, got: " << e.what();
    return model::Error(ErrorKind::kCancelled, e.what());
  }
  ADD_FAILURE() << "expected a model::Error, nothing was thrown";
  return model::Error(ErrorKind::kCancelled, "nothing thrown");
}

class PostgresSinkTest : public ::testing::Test {
 protected:
  PostgresSinkTest() : schema_(test_pg_dsn()), db_(schema_.dsn()) {}

  PostgresSinkOptions options() const {
    PostgresSinkOptions o;
    o.dsn = schema_.dsn();
    o.schema = schema_.name();
    o.application_name = "pgtest-" + schema_.name();
    return o;
  }

  std::string table(const std::string& name) const {
    return "\"" + schema_.name() + "\".\"" + name + "\"";
  }

  pqxx::result query(const std::string& sql) {
    pqxx::nontransaction tx(db_);
    return tx.exec(sql);
  }

  std::string scalar(const std::string& sql) {
    auto r = query(sql);
    if (r.empty() || r[0][0].is_null()) return "<null>";
    return r[0][0].as<std::string>();
  }

  // "id|name|score" rows ordered by id.
  std::vector<std::string> customers() {
    std::vector<std::string> out;
    for (const auto& r : query("SELECT id::text || '|' || coalesce(name, '<null>') || '|' || "
                               "coalesce(score::text, '<null>') FROM " +
                               table("customers") + " ORDER BY id")) {
      out.push_back(r[0].as<std::string>());
    }
    return out;
  }

  TempSchema schema_;
  pqxx::connection db_;  // for checks, independent of the sink's connection
};

// ---- layout -------------------------------------------------------------------------------------

TEST_F(PostgresSinkTest, CreatesTableWithColumnTypesForEveryFieldType) {
  auto spec =
      make_spec("EmailCampaigns",
                {field("Id", FieldType::kLong), field("Name", FieldType::kString),
                 field("SendCount", FieldType::kInteger), field("Budget", FieldType::kNumber),
                 field("IsActive", FieldType::kBoolean), field("CreatedAt", FieldType::kTimestamp),
                 field("SendDate", FieldType::kDate), field("Tags", FieldType::kString, true),
                 field("Content", FieldType::kJson), field("emailAddress", FieldType::kString),
                 field("ProfileTableId", FieldType::kLong)});
  PostgresSink sink(options());
  sink.prepare(spec);
  sink.prepare(spec);  // idempotent

  std::map<std::string, std::string> types;
  std::map<std::string, bool> not_null;
  for (const auto& r :
       query("SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull "
             "FROM pg_attribute a WHERE a.attrelid = '" +
             table("email_campaigns") + "'::regclass AND a.attnum > 0 AND NOT a.attisdropped")) {
    types[r[0].as<std::string>()] = r[1].as<std::string>();
    not_null[r[0].as<std::string>()] = r[2].as<bool>();
  }
  std::map<std::string, std::string> expected = {
      {"id", "bigint"},
      {"name", "text"},
      {"send_count", "bigint"},
      {"budget", "numeric"},
      {"is_active", "boolean"},
      {"created_at", "timestamp with time zone"},
      {"send_date", "date"},
      {"tags", "text[]"},
      {"content", "jsonb"},
      {"email_address", "text"},
      {"profile_table_id", "bigint"},
      {"_synced_at", "timestamp with time zone"},
      {"_deleted_at", "timestamp with time zone"},
  };
  EXPECT_EQ(types, expected);
  EXPECT_TRUE(not_null["_synced_at"]);
  EXPECT_FALSE(not_null["_deleted_at"]);
  EXPECT_FALSE(not_null["name"]);
  EXPECT_TRUE(not_null["id"]);
  EXPECT_EQ(scalar("SELECT string_agg(a.attname, ',') FROM pg_index i JOIN pg_attribute a ON "
                   "a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) WHERE i.indrelid = '" +
                   table("email_campaigns") + "'::regclass AND i.indisprimary"),
            "id");
  EXPECT_EQ(scalar("SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute WHERE "
                   "attrelid = '" +
                   table("_replication_state") + "'::regclass AND attnum > 0 AND NOT attisdropped"),
            "job,stream,cursor_field,watermark,watermark_exclusive,keys_at_watermark,plateau,"
            "rows_total,last_success,last_error,updated_at,last_delete_scan,resets");
}

TEST_F(PostgresSinkTest, CompositeKeyBecomesThePrimaryKey) {
  auto spec = make_spec("Customers_Interactions",
                        {field("ProfileId", FieldType::kLong), field("Type", FieldType::kString),
                         field("At", FieldType::kTimestamp)},
                        {0, 2});
  PostgresSink sink(options());
  sink.prepare(spec);
  EXPECT_EQ(scalar("SELECT string_agg(a.attname, ',' ORDER BY a.attname) FROM pg_index i JOIN "
                   "pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) WHERE "
                   "i.indrelid = '" +
                   table("customers_interactions") +
                   "'::regclass AND "
                   "i.indisprimary"),
            "at,profile_id");
  std::vector<Row> rows = {{std::int64_t{1}, std::string("open"), Timestamp{1000}},
                           {std::int64_t{1}, std::string("click"), Timestamp{2000}},
                           {std::int64_t{1}, std::string("open2"), Timestamp{1000}}};
  EXPECT_EQ(sink.commit(spec, rows, StreamState{}).rows_written, 2);
  EXPECT_EQ(
      scalar("SELECT string_agg(type, ',' ORDER BY at) FROM " + table("customers_interactions")),
      "open2,click");
}

// ---- upserts ------------------------------------------------------------------------------------

TEST_F(PostgresSinkTest, InsertsNewRows) {
  PostgresSink sink(options());
  auto spec = customers_spec();
  sink.prepare(spec);
  std::vector<Row> rows = {customer(1, "Ann", std::int64_t{10}), customer(2, "Bob"),
                           customer(3, "Cé")};
  EXPECT_EQ(sink.commit(spec, rows, state_at(1000)).rows_written, 3);
  EXPECT_EQ(customers(), (std::vector<std::string>{"1|Ann|10", "2|Bob|<null>", "3|Cé|<null>"}));
  EXPECT_EQ(scalar("SELECT count(*) FROM " + table("customers") +
                   " WHERE _synced_at IS NOT NULL AND _deleted_at IS NULL"),
            "3");
}

TEST_F(PostgresSinkTest, RecommittingIdenticalRowsWritesNothing) {
  PostgresSink sink(options());
  auto spec = customers_spec();
  sink.prepare(spec);
  std::vector<Row> rows = {customer(1, "Ann", std::int64_t{10}), customer(2, "Bob"),
                           customer(3, "Cy", std::int64_t{-3})};
  ASSERT_EQ(sink.commit(spec, rows, state_at(1000)).rows_written, 3);
  const std::string probe =
      "SELECT string_agg(id || ':' || _synced_at || ':' || xmin::text, ',' "
      "ORDER BY id) FROM " +
      table("customers");
  const std::string before = scalar(probe);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));

  EXPECT_EQ(sink.commit(spec, rows, state_at(2000)).rows_written, 0);
  EXPECT_EQ(scalar(probe), before);  // same _synced_at, same row versions (xmin)
  EXPECT_EQ(sink.load_state("crm", "Customers").watermark, Timestamp{2000});
}

TEST_F(PostgresSinkTest, ChangedRowsAreRewrittenOthersKeepTheirSyncTime) {
  PostgresSink sink(options());
  auto spec = customers_spec();
  sink.prepare(spec);
  ASSERT_EQ(sink.commit(spec,
                        std::vector<Row>{customer(1, "Ann", std::int64_t{10}),
                                         customer(2, "Bob", std::int64_t{20}), customer(3, "Cy")},
                        state_at(1000))
                .rows_written,
            3);
  auto synced = [&](int id) {
    return scalar("SELECT _synced_at FROM " + table("customers") +
                  " WHERE id = " + std::to_string(id));
  };
  const std::string s1 = synced(1), s2 = synced(2), s3 = synced(3);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));

  // 2: a value becomes NULL; 3: NULL becomes a value; 1 unchanged; 4 new.
  EXPECT_EQ(sink.commit(spec,
                        std::vector<Row>{customer(1, "Ann", std::int64_t{10}), customer(2, "Bob"),
                                         customer(3, "Cy", std::int64_t{0}), customer(4, "Dee")},
                        state_at(2000))
                .rows_written,
            3);
  EXPECT_EQ(customers(),
            (std::vector<std::string>{"1|Ann|10", "2|Bob|<null>", "3|Cy|0", "4|Dee|<null>"}));
  EXPECT_EQ(synced(1), s1);
  EXPECT_NE(synced(2), s2);
  EXPECT_NE(synced(3), s3);
}

TEST_F(PostgresSinkTest, DuplicateKeysInOnePageLastOccurrenceWins) {
  PostgresSink sink(options());
  auto spec = customers_spec();
  sink.prepare(spec);
  EXPECT_EQ(sink.commit(spec,
                        std::vector<Row>{customer(1, "first"), customer(2, "two"),
                                         customer(1, "second"), customer(1, "last")},
                        StreamState{})
                .rows_written,
            2);
  EXPECT_EQ(customers(), (std::vector<std::string>{"1|last|<null>", "2|two|<null>"}));
  // The stored row equals the first occurrence, the last one differs: it still wins.
  EXPECT_EQ(
      sink.commit(spec, std::vector<Row>{customer(2, "changed"), customer(2, "two")}, StreamState{})
          .rows_written,
      0);
  EXPECT_EQ(
      sink.commit(spec, std::vector<Row>{customer(2, "two"), customer(2, "changed")}, StreamState{})
          .rows_written,
      1);
  EXPECT_EQ(customers(), (std::vector<std::string>{"1|last|<null>", "2|changed|<null>"}));
}

TEST_F(PostgresSinkTest, SoftDeletedRowThatComesBackIsRewrittenAndUndeleted) {
  PostgresSink sink(options());
  auto spec = customers_spec();
  sink.prepare(spec);
  std::vector<Row> rows = {customer(1, "Ann"), customer(2, "Bob")};
  ASSERT_EQ(sink.commit(spec, rows, StreamState{}).rows_written, 2);
  query("UPDATE " + table("customers") + " SET _deleted_at = now() WHERE id = 2");
  EXPECT_EQ(sink.commit(spec, rows, StreamState{}).rows_written, 1);
  EXPECT_EQ(scalar("SELECT count(*) FROM " + table("customers") + " WHERE _deleted_at IS NULL"),
            "2");
}

TEST_F(PostgresSinkTest, ManyRowsSpanSeveralCopyChunks) {
  PostgresSink sink(options());
  auto spec = customers_spec();
  sink.prepare(spec);
  std::vector<Row> rows;
  const std::string filler(300, 'x');
  for (std::int64_t i = 0; i < 8000; ++i) rows.push_back(customer(i, filler + std::to_string(i)));
  EXPECT_EQ(sink.commit(spec, rows, state_at(1)).rows_written, 8000);
  EXPECT_EQ(sink.load_state("crm", "Customers").rows_total, 8000);
  StreamState again = state_at(2);
  again.rows_total = 8000;
  EXPECT_EQ(sink.commit(spec, rows, again).rows_written, 0);
  EXPECT_EQ(scalar("SELECT count(*) FROM " + table("customers")), "8000");
  EXPECT_EQ(scalar("SELECT sum(length(name)) FROM " + table("customers")),
            std::to_string(8000 * 300 + 10 * 1 + 90 * 2 + 900 * 3 + 7000 * 4));
  EXPECT_EQ(sink.load_state("crm", "Customers").rows_total, 8000);
}

// ---- state --------------------------------------------------------------------------------------

TEST_F(PostgresSinkTest, StateRoundTripsAndCommitsWithTheRows) {
  PostgresSink sink(options());
  auto spec = customers_spec();

  // Nothing exists yet: a default state, no error.
  StreamState fresh = sink.load_state("crm", "Customers");
  EXPECT_FALSE(fresh.watermark);
  EXPECT_EQ(fresh.rows_total, 0);
  EXPECT_TRUE(sink.list_states("").empty());

  sink.prepare(spec);
  StreamState s;
  s.cursor_field = "UpdatedAt";
  s.watermark = Timestamp{1'700'000'000'123};
  s.watermark_exclusive = true;
  s.keys_at_watermark = {{std::int64_t{123}, std::string("x")},
                         {std::string("tab\tquote\"back\\slash é 😀"), std::int64_t{-1}},
                         {Timestamp{-86'400'001}, std::monostate{}},
                         {std::numeric_limits<std::int64_t>::max(), true},
                         {model::Decimal{"1.50"}, model::JsonText{"{\"a\": [1, \"b\"]}"},
                          std::vector<std::string>{"p,q", "NULL", ""}}};
  s.plateau = engine::PlateauProgress{400, 1234};
  s.rows_total = 10;
  s.last_success = Timestamp{1'700'000'100'000};
  auto written = sink.commit(spec, std::vector<Row>{customer(1, "Ann"), customer(2, "Bob")}, s);
  EXPECT_EQ(written.rows_written, 2);

  StreamState loaded = sink.load_state("crm", "Customers");
  EXPECT_EQ(loaded.cursor_field, "UpdatedAt");
  EXPECT_EQ(loaded.watermark, s.watermark);
  EXPECT_TRUE(loaded.watermark_exclusive);
  EXPECT_EQ(loaded.keys_at_watermark, s.keys_at_watermark);
  ASSERT_TRUE(loaded.plateau);
  EXPECT_EQ(loaded.plateau->offset, 400);
  EXPECT_EQ(loaded.plateau->total, 1234);
  EXPECT_EQ(loaded.rows_total, 12);  // state.rows_total + rows written by this commit
  EXPECT_EQ(loaded.last_success, s.last_success);
  EXPECT_EQ(loaded.last_error, "");
  EXPECT_EQ(scalar("SELECT plateau::text FROM " + table("_replication_state")),
            "{\"total\": 1234, \"offset\": 400}");

  // A state-only commit (no rows) clears the plateau and the exclusive flag.
  StreamState next = state_at(1'700'000'200'000);
  next.rows_total = loaded.rows_total;
  EXPECT_EQ(sink.commit(spec, std::vector<Row>{}, next).rows_written, 0);
  loaded = sink.load_state("crm", "Customers");
  EXPECT_EQ(loaded.watermark, next.watermark);
  EXPECT_FALSE(loaded.watermark_exclusive);
  EXPECT_FALSE(loaded.plateau);
  EXPECT_TRUE(loaded.keys_at_watermark.empty());
  EXPECT_EQ(loaded.rows_total, 12);

  // Failures keep the watermark.
  sink.record_failure("crm", "Customers", "boom \xff");
  loaded = sink.load_state("crm", "Customers");
  EXPECT_EQ(loaded.last_error, "boom \xEF\xBF\xBD");
  EXPECT_EQ(loaded.watermark, next.watermark);
  sink.record_failure("crm", "Orders", "never ran");
  EXPECT_EQ(sink.load_state("crm", "Orders").last_error, "never ran");
  EXPECT_FALSE(sink.load_state("crm", "Orders").watermark);

  // list_states: by job, or every job.
  sink.record_failure("other", "Customers", "x");
  auto states = sink.list_states("crm");
  ASSERT_EQ(states.size(), 2u);
  EXPECT_EQ(states[0].stream, "Customers");
  EXPECT_EQ(states[0].state.watermark, next.watermark);
  EXPECT_EQ(states[1].stream, "Orders");
  EXPECT_EQ(sink.list_states("").size(), 3u);
  EXPECT_TRUE(sink.list_states("nope").empty());

  // reset forgets the position, keeps the rows and the row count.
  EXPECT_TRUE(sink.reset_state("crm", "Customers"));
  loaded = sink.load_state("crm", "Customers");
  EXPECT_FALSE(loaded.watermark);
  EXPECT_FALSE(loaded.last_success);
  EXPECT_TRUE(loaded.keys_at_watermark.empty());
  EXPECT_EQ(loaded.rows_total, 12);
  EXPECT_EQ(loaded.cursor_field, "UpdatedAt");
  EXPECT_EQ(customers().size(), 2u);
  EXPECT_FALSE(sink.reset_state("crm", "Unknown"));  // no row: nothing to do

  StreamState unknown = sink.load_state("crm", "Unknown");
  EXPECT_FALSE(unknown.watermark);
  EXPECT_EQ(unknown.cursor_field, "");
}

TEST_F(PostgresSinkTest, RecordFailureWorksBeforeAnyPrepare) {
  PostgresSink sink(options());
  sink.record_failure("crm", "Customers", "prepare failed");
  EXPECT_EQ(sink.load_state("crm", "Customers").last_error, "prepare failed");
}

// ---- atomicity ----------------------------------------------------------------------------------

TEST_F(PostgresSinkTest, FailedCommitChangesNeitherRowsNorState) {
  PostgresSink sink(options());
  auto spec = customers_spec();
  sink.prepare(spec);
  StreamState first = state_at(1000);
  first.keys_at_watermark = {{std::int64_t{2}}};
  ASSERT_EQ(sink.commit(spec, std::vector<Row>{customer(1, "Ann"), customer(2, "Bob")}, first)
                .rows_written,
            2);
  const auto rows_before = customers();
  const std::string state_probe =
      "SELECT watermark || '|' || keys_at_watermark::text || '|' || "
      "rows_total || '|' || updated_at FROM " +
      table("_replication_state");
  const std::string state_before = scalar(state_probe);
  const std::string display = schema_.name() + ".customers";

  // 1. The upsert fails mid-statement: a NULL key after a changed and a new row.
  StreamState second = state_at(2000);
  second.rows_total = 2;
  auto e = error_of([&] {
    sink.commit(spec,
                std::vector<Row>{customer(1, "changed"), customer(3, "new"),
                                 Row{std::monostate{}, std::string("no key"), std::monostate{}}},
                second);
  });
  EXPECT_EQ(e.kind(), ErrorKind::kPermanent);
  EXPECT_NE(std::string(e.what()).find(display), std::string::npos) << e.what();
  EXPECT_NE(std::string(e.what()).find("23502"), std::string::npos) << e.what();
  EXPECT_NE(std::string(e.what()).find("\"id\""), std::string::npos) << e.what();
  EXPECT_EQ(customers(), rows_before);
  EXPECT_EQ(scalar(state_probe), state_before);

  // 2. The rows are upserted, then the state write fails (PostgreSQL rejects the key's bytes).
  StreamState bad_state = state_at(3000);
  bad_state.keys_at_watermark = {{std::string("\xff\xfe")}};
  e = error_of([&] {
    sink.commit(spec, std::vector<Row>{customer(1, "changed"), customer(3, "new")}, bad_state);
  });
  EXPECT_EQ(e.kind(), ErrorKind::kPermanent);
  EXPECT_NE(std::string(e.what()).find(display), std::string::npos) << e.what();
  EXPECT_NE(std::string(e.what()).find("_replication_state"), std::string::npos) << e.what();
  EXPECT_NE(std::string(e.what()).find("SQLSTATE 22"), std::string::npos) << e.what();
  EXPECT_EQ(customers(), rows_before);
  EXPECT_EQ(scalar(state_probe), state_before);

  // 3. COPY itself fails: invalid UTF-8 in a text value.
  e = error_of([&] {
    sink.commit(spec, std::vector<Row>{customer(1, "ok"), customer(4, "bad \xc3\x28")}, second);
  });
  EXPECT_EQ(e.kind(), ErrorKind::kPermanent);
  EXPECT_NE(std::string(e.what()).find(display), std::string::npos) << e.what();
  EXPECT_EQ(customers(), rows_before);
  EXPECT_EQ(scalar(state_probe), state_before);

  // 4. Rejected before sending: a value that does not fit its field names the column and row.
  e = error_of([&] {
    sink.commit(spec, std::vector<Row>{customer(1, "ok", std::string("not a number"))}, second);
  });
  EXPECT_EQ(e.kind(), ErrorKind::kPermanent);
  EXPECT_NE(std::string(e.what()).find(display + ", column score"), std::string::npos) << e.what();
  EXPECT_NE(std::string(e.what()).find("row 0"), std::string::npos) << e.what();

  // The same sink (and session) still commits afterwards.
  EXPECT_EQ(sink.commit(spec, std::vector<Row>{customer(1, "changed"), customer(3, "new")}, second)
                .rows_written,
            2);
  EXPECT_EQ(customers(),
            (std::vector<std::string>{"1|changed|<null>", "2|Bob|<null>", "3|new|<null>"}));
  EXPECT_EQ(sink.load_state("crm", "Customers").watermark, Timestamp{2000});
}

// ---- schema evolution ---------------------------------------------------------------------------

TEST_F(PostgresSinkTest, NewFieldBecomesANullableColumnAndDroppedFieldsKeepTheirs) {
  PostgresSink sink(options());
  auto v1 = make_spec("Orders",
                      {field("OrderId", FieldType::kLong), field("Status", FieldType::kString)});
  sink.prepare(v1);
  ASSERT_EQ(sink.commit(v1,
                        std::vector<Row>{{std::int64_t{1}, std::string("NEW")},
                                         {std::int64_t{2}, std::string("SENT")}},
                        StreamState{})
                .rows_written,
            2);

  // v2: a field appears in the middle of the row layout.
  auto v2 =
      make_spec("Orders", {field("OrderId", FieldType::kLong), field("Amount", FieldType::kNumber),
                           field("Status", FieldType::kString)});
  sink.prepare(v2);
  EXPECT_EQ(scalar("SELECT format_type(atttypid, atttypmod) || ' ' || attnotnull FROM "
                   "pg_attribute WHERE attrelid = '" +
                   table("orders") + "'::regclass AND attname = 'amount'"),
            "numeric false");
  EXPECT_EQ(scalar("SELECT string_agg(order_id || '=' || status || '/' || coalesce(amount::text, "
                   "'-'), ',' ORDER BY order_id) FROM " +
                   table("orders")),
            "1=NEW/-,2=SENT/-");
  EXPECT_EQ(
      sink.commit(v2,
                  std::vector<Row>{{std::int64_t{1}, model::Decimal{"9.90"}, std::string("NEW")},
                                   {std::int64_t{2}, std::monostate{}, std::string("SENT")}},
                  StreamState{})
          .rows_written,
      1);

  // v3: Status disappears: its column and data stay.
  auto v3 = make_spec("Orders",
                      {field("OrderId", FieldType::kLong), field("Amount", FieldType::kNumber)});
  sink.prepare(v3);
  EXPECT_EQ(sink.commit(v3, std::vector<Row>{{std::int64_t{3}, model::Decimal{"1"}}}, StreamState{})
                .rows_written,
            1);
  EXPECT_EQ(scalar("SELECT string_agg(order_id || '=' || coalesce(status, '-') || '/' || "
                   "coalesce(amount::text, '-'), ',' ORDER BY order_id) FROM " +
                   table("orders")),
            "1=NEW/9.90,2=SENT/-,3=-/1");
}

TEST_F(PostgresSinkTest, IncompatibleExistingColumnTypeIsAPermanentError) {
  PostgresSink sink(options());
  sink.prepare(make_spec(
      "Orders", {field("OrderId", FieldType::kLong), field("Amount", FieldType::kString)}));
  auto e = error_of([&] {
    sink.prepare(make_spec("Orders",
                           {field("OrderId", FieldType::kLong), field("Amount", FieldType::kNumber),
                            field("Note", FieldType::kString)}));
  });
  EXPECT_EQ(e.kind(), ErrorKind::kPermanent);
  const std::string msg = e.what();
  EXPECT_NE(msg.find(schema_.name() + ".orders"), std::string::npos) << msg;
  EXPECT_NE(msg.find("column amount"), std::string::npos) << msg;
  EXPECT_NE(msg.find("type text"), std::string::npos) << msg;
  EXPECT_NE(msg.find("numeric"), std::string::npos) << msg;
  // Nothing was changed: still text, and the new column was not added either.
  EXPECT_EQ(
      scalar("SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod), ',' ORDER "
             "BY attnum) FROM pg_attribute WHERE attrelid = '" +
             table("orders") + "'::regclass AND attnum > 0"),
      "order_id bigint,amount text,_synced_at timestamp with time zone,_deleted_at "
      "timestamp with time zone");
}

TEST_F(PostgresSinkTest, TwoProcessesPreparingAtOnceDoNotCollide) {
  for (int round = 0; round < 5; ++round) {
    auto spec = make_spec("Race" + std::to_string(round),
                          {field("Id", FieldType::kLong), field("V", FieldType::kString)});
    std::vector<std::string> errors(4);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        try {
          PostgresSink sink(options());
          sink.prepare(spec);
        } catch (const std::exception& ex) {
          errors[static_cast<std::size_t>(t)] = ex.what();
        }
      });
    }
    for (auto& th : threads) th.join();
    for (const auto& err : errors) EXPECT_EQ(err, "") << "round " << round;
  }
}

// ---- last_delete_scan ---------------------------------------------------------------------------

TEST_F(PostgresSinkTest, LastDeleteScanRoundTripsAndResetClearsIt) {
  PostgresSink sink(options());
  auto spec = customers_spec();
  sink.prepare(spec);
  StreamState s = state_at(1000);
  s.last_delete_scan = Timestamp{1'700'000'000'456};
  ASSERT_EQ(sink.commit(spec, std::vector<Row>{customer(1, "Ann")}, s).rows_written, 1);
  EXPECT_EQ(sink.load_state("crm", "Customers").last_delete_scan, s.last_delete_scan);
  EXPECT_EQ(PostgresSink(options()).load_state("crm", "Customers").last_delete_scan,
            s.last_delete_scan);  // a new session reads it too
  auto states = sink.list_states("crm");
  ASSERT_EQ(states.size(), 1u);
  EXPECT_EQ(states[0].state.last_delete_scan, s.last_delete_scan);

  sink.record_failure("crm", "Customers", "boom");
  EXPECT_EQ(sink.load_state("crm", "Customers").last_delete_scan, s.last_delete_scan);

  // A commit stores what the state says: the engine carries the value along.
  StreamState without = state_at(2000);
  without.rows_total = 1;
  sink.commit(spec, std::vector<Row>{}, without);
  EXPECT_FALSE(sink.load_state("crm", "Customers").last_delete_scan);
  sink.commit(spec, std::vector<Row>{}, s);

  sink.reset_state("crm", "Customers");
  StreamState reset = sink.load_state("crm", "Customers");
  EXPECT_FALSE(reset.last_delete_scan);
  EXPECT_FALSE(reset.watermark);
}

TEST_F(PostgresSinkTest, StateTableOfAnEarlierVersionGetsLastDeleteScan) {
  // The state table as versions before last_delete_scan created it, with one row.
  query("CREATE TABLE " + table("_replication_state") +
        " (job text NOT NULL, stream text NOT NULL, cursor_field text, "
        "watermark timestamp with time zone, watermark_exclusive boolean NOT NULL DEFAULT false, "
        "keys_at_watermark jsonb NOT NULL DEFAULT '[]', plateau jsonb, "
        "rows_total bigint NOT NULL DEFAULT 0, last_success timestamp with time zone, "
        "last_error text, updated_at timestamp with time zone NOT NULL DEFAULT now(), "
        "PRIMARY KEY (job, stream))");
  query("INSERT INTO " + table("_replication_state") +
        " (job, stream, cursor_field, watermark, rows_total) VALUES "
        "('crm', 'Customers', 'UpdatedAt', '1970-01-01 00:00:01+00', 7)");
  const std::string has_column =
      "SELECT count(*) FROM pg_attribute WHERE attrelid = '" + table("_replication_state") +
      "'::regclass AND attname = 'last_delete_scan' AND NOT attisdropped";

  // Reads work without migrating (a read-only role can still run `state`).
  {
    PostgresSink reader(options());
    StreamState old = reader.load_state("crm", "Customers");
    EXPECT_EQ(old.watermark, Timestamp{1000});
    EXPECT_EQ(old.rows_total, 7);
    EXPECT_FALSE(old.last_delete_scan);
    EXPECT_EQ(reader.list_states("").size(), 1u);
    EXPECT_EQ(scalar(has_column), "0");
  }

  // The first write of a session adds the column; the rows stay.
  PostgresSink sink(options());
  auto spec = customers_spec();
  StreamState s = state_at(2000);
  s.rows_total = 7;
  s.last_delete_scan = Timestamp{3000};
  sink.commit(spec, std::vector<Row>{}, s);
  EXPECT_EQ(scalar(has_column), "1");
  EXPECT_EQ(scalar("SELECT resets FROM " + table("_replication_state")), "0") << "the resets column was not added";
  StreamState loaded = sink.load_state("crm", "Customers");
  EXPECT_EQ(loaded.watermark, Timestamp{2000});
  EXPECT_EQ(loaded.last_delete_scan, Timestamp{3000});
  EXPECT_EQ(loaded.rows_total, 7);

  // Later sessions find it migrated (and prepare does not trip over it).
  PostgresSink again(options());
  again.prepare(spec);
  EXPECT_EQ(again.load_state("crm", "Customers").last_delete_scan, Timestamp{3000});
}

TEST_F(PostgresSinkTest, ResetStateMigratesAnEarlierStateTable) {
  query("CREATE TABLE " + table("_replication_state") +
        " (job text NOT NULL, stream text NOT NULL, cursor_field text, "
        "watermark timestamp with time zone, watermark_exclusive boolean NOT NULL DEFAULT false, "
        "keys_at_watermark jsonb NOT NULL DEFAULT '[]', plateau jsonb, "
        "rows_total bigint NOT NULL DEFAULT 0, last_success timestamp with time zone, "
        "last_error text, updated_at timestamp with time zone NOT NULL DEFAULT now(), "
        "PRIMARY KEY (job, stream))");
  query("INSERT INTO " + table("_replication_state") +
        " (job, stream, watermark) VALUES ('crm', 'Customers', now())");
  PostgresSink sink(options());
  EXPECT_TRUE(sink.reset_state("crm", "Customers"));
  EXPECT_FALSE(sink.load_state("crm", "Customers").watermark);
  EXPECT_EQ(scalar("SELECT count(*) FROM " + table("_replication_state") +
                   " WHERE last_delete_scan IS NULL AND resets = 1"),
            "1");
}

// `reset` from another process while a cycle runs: the cycle's next commit must not store its
// state over the reset one (the reset would be lost without a word), and writes nothing at all.
TEST_F(PostgresSinkTest, AResetDuringACycleWinsOverTheCyclesNextCommit) {
  auto spec = customers_spec();
  PostgresSink daemon(options());
  daemon.prepare(spec);
  StreamState s = daemon.load_state("crm", "Customers");  // no row yet: a first sync
  s.cursor_field = "UpdatedAt";
  s.watermark = Timestamp{1000};
  daemon.commit(spec, std::vector<Row>{customer(1, "a")}, s);

  PostgresSink cli(options());
  ASSERT_TRUE(cli.reset_state("crm", "Customers"));

  StreamState later = s;
  later.watermark = Timestamp{2000};
  later.rows_total = 1;
  try {
    daemon.commit(spec, std::vector<Row>{customer(2, "b")}, later);
    ADD_FAILURE() << "the commit stored its state over a reset";
  } catch (const engine::StateWasReset& e) {
    EXPECT_NE(std::string(e.what()).find("crm/Customers was reset"), std::string::npos) << e.what();
    EXPECT_TRUE(e.retryable());
  }
  EXPECT_FALSE(daemon.load_state("crm", "Customers").watermark) << "the reset was overwritten";
  EXPECT_EQ(scalar("SELECT count(*) FROM " + table("customers") + " WHERE id = 2"), "0")
      << "the rows of the refused commit were written";

  // The cycle that starts after the reset (load_state again) commits as usual.
  StreamState fresh = daemon.load_state("crm", "Customers");
  fresh.cursor_field = "UpdatedAt";
  fresh.watermark = Timestamp{2000};
  daemon.commit(spec, std::vector<Row>{customer(2, "b")}, fresh);
  EXPECT_EQ(daemon.load_state("crm", "Customers").watermark, Timestamp{2000});
  EXPECT_EQ(scalar("SELECT count(*) FROM " + table("customers")), "2");

  // A state row deleted by hand meanwhile is written again with the count the cycle loaded, so
  // that the cycle's next commits are not mistaken for writes over a reset.
  query("DELETE FROM " + table("_replication_state"));
  fresh.watermark = Timestamp{2500};
  daemon.commit(spec, std::vector<Row>{}, fresh);
  EXPECT_EQ(scalar("SELECT resets FROM " + table("_replication_state")), "1");
  fresh.watermark = Timestamp{2600};
  EXPECT_NO_THROW(daemon.commit(spec, std::vector<Row>{}, fresh));

  // So does a sink that never loaded the state (nothing to compare with).
  PostgresSink other(options());
  StreamState third = fresh;
  third.watermark = Timestamp{3000};
  other.commit(spec, std::vector<Row>{}, third);
  EXPECT_EQ(other.load_state("crm", "Customers").watermark, Timestamp{3000});
}

// ---- extended fields ----------------------------------------------------------------------------

// Templates(Id LONG key, Name STRING, Body STRING extended, Size INTEGER extended)
StreamSpec templates_spec(engine::ExtendedFetch mode) {
  auto body = field("Body", FieldType::kString);
  body.extended = true;
  auto size = field("Size", FieldType::kInteger);
  size.extended = true;
  auto spec = make_spec(
      "Templates", {field("Id", FieldType::kLong), field("Name", FieldType::kString), body, size});
  spec.extended = mode;
  return spec;
}

Row tpl(std::int64_t id, std::string name, Value body = std::monostate{},
        Value size = std::monostate{}) {
  return Row{id, std::move(name), std::move(body), std::move(size)};
}

class PostgresSinkExtendedTest : public PostgresSinkTest {
 protected:
  // "id|name|body|size" ordered by id.
  std::vector<std::string> templates() {
    std::vector<std::string> out;
    for (const auto& r : query("SELECT id || '|' || coalesce(name, '<null>') || '|' || "
                               "coalesce(body, '<null>') || '|' || coalesce(size::text, '<null>') "
                               "FROM " +
                               table("templates") + " ORDER BY id")) {
      out.push_back(r[0].as<std::string>());
    }
    return out;
  }
};

TEST_F(PostgresSinkExtendedTest, KeepLeavesStoredExtendedValuesAndFetchOverwritesThem) {
  using engine::ExtendedFetch;
  PostgresSink sink(options());
  const auto fetch = templates_spec(ExtendedFetch::kFetch);
  const auto keep = templates_spec(ExtendedFetch::kKeep);
  sink.prepare(fetch);
  ASSERT_EQ(sink.commit(fetch,
                        std::vector<Row>{tpl(1, "a", std::string("<p>1</p>"), std::int64_t{10}),
                                         tpl(2, "b", std::string("<p>2</p>"), std::int64_t{20})},
                        StreamState{})
                .rows_written,
            2);
  const std::string synced_2 =
      scalar("SELECT _synced_at FROM " + table("templates") + " WHERE id = 2");

  // kKeep: list rows carry no extended values. Row 1 changed (Name), row 2 did not, row 3 is new
  // and gets NULL in its extended columns whatever the row holds.
  EXPECT_EQ(sink.commit(keep,
                        std::vector<Row>{tpl(1, "a2"), tpl(2, "b", std::string("ignored")),
                                         tpl(3, "c", std::string("ignored"), std::int64_t{3})},
                        StreamState{})
                .rows_written,
            2);
  EXPECT_EQ(templates(),
            (std::vector<std::string>{"1|a2|<p>1</p>|10", "2|b|<p>2</p>|20", "3|c|<null>|<null>"}));
  EXPECT_EQ(scalar("SELECT _synced_at FROM " + table("templates") + " WHERE id = 2"), synced_2);

  // A soft-deleted row that comes back under kKeep is undeleted and keeps its extended values.
  query("UPDATE " + table("templates") + " SET _deleted_at = now() WHERE id = 2");
  EXPECT_EQ(sink.commit(keep, std::vector<Row>{tpl(2, "b")}, StreamState{}).rows_written, 1);
  EXPECT_EQ(templates()[1], "2|b|<p>2</p>|20");
  EXPECT_EQ(scalar("SELECT count(*) FROM " + table("templates") + " WHERE _deleted_at IS NOT NULL"),
            "0");

  // kFetch (same session, same table: the cached statement must follow the mode) writes every
  // column, extended ones included.
  EXPECT_EQ(sink.commit(fetch,
                        std::vector<Row>{tpl(1, "a2", std::string("<p>new</p>"), std::int64_t{11}),
                                         tpl(2, "b")},
                        StreamState{})
                .rows_written,
            2);
  EXPECT_EQ(templates(), (std::vector<std::string>{"1|a2|<p>new</p>|11", "2|b|<null>|<null>",
                                                   "3|c|<null>|<null>"}));
  // And back to kKeep once more.
  EXPECT_EQ(sink.commit(keep, std::vector<Row>{tpl(1, "a3")}, StreamState{}).rows_written, 1);
  EXPECT_EQ(templates()[0], "1|a3|<p>new</p>|11");

  // kNone behaves like kFetch: all columns.
  const auto none = templates_spec(ExtendedFetch::kNone);
  EXPECT_EQ(sink.commit(none, std::vector<Row>{tpl(1, "a3")}, StreamState{}).rows_written, 1);
  EXPECT_EQ(templates()[0], "1|a3|<null>|<null>");
}

TEST_F(PostgresSinkExtendedTest, ChangedRows) {
  using engine::ExtendedFetch;
  PostgresSink sink(options());
  const auto spec = templates_spec(ExtendedFetch::kFetch);
  EXPECT_TRUE(sink.changed_rows(spec, std::vector<Row>{}).empty());

  // No table yet: every row is new.
  EXPECT_EQ(sink.changed_rows(spec, std::vector<Row>{tpl(1, "a"), tpl(2, "b")}),
            (std::vector<bool>{true, true}));
  EXPECT_EQ(scalar("SELECT to_regclass('" + table("templates") + "') IS NULL"), "t");

  sink.prepare(spec);
  ASSERT_EQ(sink.commit(spec,
                        std::vector<Row>{tpl(1, "a", std::string("x"), std::int64_t{1}),
                                         tpl(2, "b", std::string("y")), tpl(3, "c"),
                                         tpl(4, "d", std::string("z"))},
                        StreamState{})
                .rows_written,
            4);
  query("UPDATE " + table("templates") + " SET _deleted_at = now() WHERE id = 4");
  const std::string before = scalar(
      "SELECT string_agg(id || _synced_at::text || "
      "coalesce(_deleted_at::text, '-'), ',' ORDER BY id) FROM " +
      table("templates"));

  // Rows as a list page returns them (no extended values).
  std::vector<Row> page = {
      tpl(1, "a"),        // unchanged (extended values differ: not compared)
      tpl(2, "B"),        // changed list field
      tpl(5, "e"),        // new
      tpl(4, "d"),        // soft-deleted
      tpl(3, "c"),        // unchanged
      tpl(2, "b"),        // duplicate key, this occurrence unchanged
      tpl(1, "changed"),  // duplicate key, changed
  };
  EXPECT_EQ(sink.changed_rows(spec, page),
            (std::vector<bool>{false, true, true, true, false, false, true}));
  // Same under kKeep (the staging statement cache is per mode).
  EXPECT_EQ(sink.changed_rows(templates_spec(ExtendedFetch::kKeep), page),
            (std::vector<bool>{false, true, true, true, false, false, true}));

  // Read-only: nothing was written.
  EXPECT_EQ(scalar("SELECT string_agg(id || _synced_at::text || coalesce(_deleted_at::text, '-'), "
                   "',' ORDER BY id) FROM " +
                   table("templates")),
            before);
  EXPECT_EQ(templates(), (std::vector<std::string>{"1|a|x|1", "2|b|y|<null>", "3|c|<null>|<null>",
                                                   "4|d|z|<null>"}));

  // A full page and a NULL list value against a stored one.
  std::vector<Row> big;
  for (std::int64_t i = 0; i < 1000; ++i) big.push_back(tpl(i, i == 3 ? "c" : "n"));
  auto changed = sink.changed_rows(spec, big);
  ASSERT_EQ(changed.size(), 1000u);
  EXPECT_EQ(std::count(changed.begin(), changed.end(), true), 999);
  EXPECT_FALSE(changed[3]);
  Row null_name = tpl(3, "");
  null_name[1] = std::monostate{};
  EXPECT_EQ(sink.changed_rows(spec, std::vector<Row>{null_name}), (std::vector<bool>{true}));

  // commit still works in the same session after changed_rows used the staging table; under kKeep
  // it writes exactly the rows changed_rows reported (last occurrence of a key wins).
  EXPECT_EQ(sink.commit(templates_spec(ExtendedFetch::kKeep), page, StreamState{}).rows_written, 3);
  EXPECT_EQ(templates(),
            (std::vector<std::string>{"1|changed|x|1", "2|b|y|<null>", "3|c|<null>|<null>",
                                      "4|d|z|<null>", "5|e|<null>|<null>"}));
}

// ---- delete detection ---------------------------------------------------------------------------

class PostgresSinkKeyScanTest : public PostgresSinkTest {
 protected:
  // "id:deleted_at epoch ms or -" ordered by id.
  std::vector<std::string> deleted() {
    std::vector<std::string> out;
    for (const auto& r :
         query("SELECT id || ':' || coalesce(floor(extract(epoch FROM _deleted_at) * "
               "1000)::bigint::text, '-') FROM " +
               table("customers") + " ORDER BY id")) {
      out.push_back(r[0].as<std::string>());
    }
    return out;
  }
  static std::vector<Row> keys(std::initializer_list<std::int64_t> ids) {
    std::vector<Row> out;
    for (auto id : ids) out.push_back(Row{id});
    return out;
  }
};

TEST_F(PostgresSinkKeyScanTest, MarksExactlyTheMissingRowsAndIsIdempotent) {
  PostgresSink sink(options());
  auto spec = customers_spec();
  sink.prepare(spec);
  std::vector<Row> rows;
  for (std::int64_t i = 1; i <= 10; ++i) rows.push_back(customer(i, "n" + std::to_string(i)));
  ASSERT_EQ(sink.commit(spec, rows, state_at(1000)).rows_written, 10);

  // Several pages, duplicates within and across them; 3, 7 and 10 are gone.
  sink.begin_key_scan(spec);
  sink.add_seen_keys(spec, keys({1, 2, 2, 4}));
  sink.add_seen_keys(spec, keys({4, 5, 6}));
  sink.add_seen_keys(spec, std::vector<Row>{});
  sink.add_seen_keys(spec, keys({8, 9, 11}));  // 11: not in the table, harmless
  EXPECT_EQ(scalar("SELECT count(*) FROM " + table("_seen_customers")), "8");
  StreamState s = state_at(1000);
  s.rows_total = 10;
  s.last_delete_scan = Timestamp{5000};
  EXPECT_EQ(sink.finish_key_scan(spec, Timestamp{5000}, s), 3);
  EXPECT_EQ(deleted(), (std::vector<std::string>{"1:-", "2:-", "3:5000", "4:-", "5:-", "6:-",
                                                 "7:5000", "8:-", "9:-", "10:5000"}));
  EXPECT_EQ(sink.load_state("crm", "Customers").last_delete_scan, Timestamp{5000});
  EXPECT_EQ(sink.load_state("crm", "Customers").rows_total, 10);
  EXPECT_EQ(scalar("SELECT count(*) FROM " + table("_seen_customers")), "0");
  EXPECT_EQ(scalar("SELECT relpersistence FROM pg_class WHERE oid = '" + table("_seen_customers") +
                   "'::regclass"),
            "u");

  // A second scan with the same result marks nothing new and keeps the first timestamps; 9 is
  // gone now.
  sink.begin_key_scan(spec);
  sink.add_seen_keys(spec, keys({1, 2, 4, 5, 6, 8}));
  s.last_delete_scan = Timestamp{9000};
  EXPECT_EQ(sink.finish_key_scan(spec, Timestamp{9000}, s), 1);
  EXPECT_EQ(deleted(), (std::vector<std::string>{"1:-", "2:-", "3:5000", "4:-", "5:-", "6:-",
                                                 "7:5000", "8:-", "9:9000", "10:5000"}));
  EXPECT_EQ(sink.load_state("crm", "Customers").last_delete_scan, Timestamp{9000});

  // A row that comes back through commit is undeleted.
  EXPECT_EQ(sink.commit(spec, std::vector<Row>{customer(3, "n3")}, s).rows_written, 1);
  EXPECT_EQ(deleted()[2], "3:-");
  // ...and a later scan that sees it leaves it alone.
  sink.begin_key_scan(spec);
  sink.add_seen_keys(spec, keys({1, 2, 3, 4, 5, 6, 8}));
  EXPECT_EQ(sink.finish_key_scan(spec, Timestamp{12000}, s), 0);
  EXPECT_EQ(deleted()[2], "3:-");
}

TEST_F(PostgresSinkKeyScanTest, BeginEmptiesASetLeftByAnAbandonedScan) {
  PostgresSink sink(options());
  auto spec = customers_spec();
  sink.prepare(spec);
  sink.commit(spec, std::vector<Row>{customer(1, "a"), customer(2, "b")}, StreamState{});
  sink.begin_key_scan(spec);
  sink.add_seen_keys(spec, keys({1, 2}));
  // Abandoned; a new scan starts and sees only 1.
  sink.begin_key_scan(spec);
  sink.add_seen_keys(spec, keys({1}));
  EXPECT_EQ(sink.finish_key_scan(spec, Timestamp{1000}, StreamState{}), 1);
  EXPECT_EQ(deleted(), (std::vector<std::string>{"1:-", "2:1000"}));
}

TEST_F(PostgresSinkKeyScanTest, SetLivesInTheDatabaseAcrossSessions) {
  auto spec = customers_spec();
  {
    PostgresSink sink(options());
    sink.prepare(spec);
    sink.commit(spec, std::vector<Row>{customer(1, "a"), customer(2, "b"), customer(3, "c")},
                StreamState{});
    sink.begin_key_scan(spec);
    sink.add_seen_keys(spec, keys({1}));
  }
  PostgresSink other(options());  // another connection (a reconnect)
  other.add_seen_keys(spec, keys({3}));
  EXPECT_EQ(other.finish_key_scan(spec, Timestamp{1000}, StreamState{}), 1);
  EXPECT_EQ(deleted(), (std::vector<std::string>{"1:-", "2:1000", "3:-"}));
}

TEST_F(PostgresSinkKeyScanTest, FinishIsOneTransaction) {
  PostgresSink sink(options());
  auto spec = customers_spec();
  sink.prepare(spec);
  StreamState first = state_at(1000);
  ASSERT_EQ(
      sink.commit(spec, std::vector<Row>{customer(1, "a"), customer(2, "b")}, first).rows_written,
      2);
  const std::string state_probe =
      "SELECT watermark || '|' || coalesce(last_delete_scan::text, "
      "'-') || '|' || updated_at FROM " +
      table("_replication_state");
  const std::string state_before = scalar(state_probe);

  sink.begin_key_scan(spec);
  sink.add_seen_keys(spec, keys({1}));
  // The rows are marked, then the state write fails: PostgreSQL rejects the key's bytes.
  StreamState bad = state_at(2000);
  bad.last_delete_scan = Timestamp{2000};
  bad.keys_at_watermark = {{std::string("\xff\xfe")}};
  auto e = error_of([&] { sink.finish_key_scan(spec, Timestamp{2000}, bad); });
  EXPECT_EQ(e.kind(), ErrorKind::kPermanent);
  EXPECT_NE(std::string(e.what()).find(schema_.name() + ".customers"), std::string::npos)
      << e.what();
  EXPECT_NE(std::string(e.what()).find("_replication_state"), std::string::npos) << e.what();
  EXPECT_NE(std::string(e.what()).find("SQLSTATE 22"), std::string::npos) << e.what();
  EXPECT_EQ(deleted(), (std::vector<std::string>{"1:-", "2:-"}));
  EXPECT_EQ(scalar(state_probe), state_before);
  EXPECT_EQ(scalar("SELECT count(*) FROM " + table("_seen_customers")), "1");  // the set stays

  // Retrying with a good state finishes the same scan.
  StreamState good = state_at(2000);
  good.last_delete_scan = Timestamp{2000};
  EXPECT_EQ(sink.finish_key_scan(spec, Timestamp{2000}, good), 1);
  EXPECT_EQ(deleted(), (std::vector<std::string>{"1:-", "2:2000"}));
  EXPECT_EQ(sink.load_state("crm", "Customers").last_delete_scan, Timestamp{2000});
}

TEST_F(PostgresSinkKeyScanTest, CompositeKey) {
  PostgresSink sink(options());
  auto spec = make_spec("Subscriptions",
                        {field("ProfileId", FieldType::kLong), field("Channel", FieldType::kString),
                         field("Status", FieldType::kString)},
                        {0, 1});
  sink.prepare(spec);
  auto sub = [](std::int64_t p, std::string c) { return Row{p, std::move(c), std::string("on")}; };
  ASSERT_EQ(sink.commit(spec,
                        std::vector<Row>{sub(1, "mail"), sub(1, "sms"), sub(2, "mail"),
                                         sub(2, "tab\there")},
                        StreamState{})
                .rows_written,
            4);
  sink.begin_key_scan(spec);
  sink.add_seen_keys(spec, std::vector<Row>{{std::int64_t{1}, std::string("mail")},
                                            {std::int64_t{2}, std::string("sms")}});
  sink.add_seen_keys(spec, std::vector<Row>{{std::int64_t{2}, std::string("tab\there")},
                                            {std::int64_t{1}, std::string("mail")}});
  EXPECT_EQ(sink.finish_key_scan(spec, Timestamp{1000}, StreamState{}), 2);
  EXPECT_EQ(scalar("SELECT string_agg(profile_id || '/' || channel, ',' ORDER BY profile_id, "
                   "channel) FROM " +
                   table("subscriptions") + " WHERE _deleted_at IS NOT NULL"),
            "1/sms,2/mail");

  // A key with the wrong number of values is refused before anything is sent.
  auto e = error_of([&] { sink.add_seen_keys(spec, std::vector<Row>{{std::int64_t{1}}}); });
  EXPECT_EQ(e.kind(), ErrorKind::kPermanent);
  EXPECT_NE(std::string(e.what()).find(schema_.name() + ".subscriptions"), std::string::npos);
}

TEST_F(PostgresSinkKeyScanTest, MissingTableMissingSetAndLostSet) {
  PostgresSink sink(options());
  auto spec = customers_spec();

  // No table yet: nothing to mark, the state is still written.
  sink.begin_key_scan(spec);
  sink.add_seen_keys(spec, keys({1, 2}));
  StreamState s;
  s.last_delete_scan = Timestamp{1000};
  EXPECT_EQ(sink.finish_key_scan(spec, Timestamp{1000}, s), 0);
  EXPECT_EQ(sink.load_state("crm", "Customers").last_delete_scan, Timestamp{1000});

  sink.prepare(spec);
  sink.commit(spec, std::vector<Row>{customer(1, "a"), customer(2, "b")}, s);

  // finish without begin: refused, nothing marked.
  auto e = error_of([&] { sink.finish_key_scan(spec, Timestamp{2000}, StreamState{}); });
  EXPECT_EQ(e.kind(), ErrorKind::kTransient);
  EXPECT_NE(std::string(e.what()).find(schema_.name() + ".customers"), std::string::npos);
  EXPECT_EQ(deleted(), (std::vector<std::string>{"1:-", "2:-"}));

  // A crash of the server empties UNLOGGED tables (the set and its marker): simulated here.
  sink.begin_key_scan(spec);
  sink.add_seen_keys(spec, keys({1, 2}));
  query("TRUNCATE " + table("_seen_customers") + ", " + table("_replication_key_scans"));
  sink.add_seen_keys(spec, keys({2}));  // the scan goes on after the restart
  e = error_of([&] { sink.finish_key_scan(spec, Timestamp{2000}, StreamState{}); });
  EXPECT_EQ(e.kind(), ErrorKind::kTransient);
  EXPECT_EQ(deleted(), (std::vector<std::string>{"1:-", "2:-"}));
  EXPECT_EQ(sink.load_state("crm", "Customers").last_delete_scan, Timestamp{1000});

  // add_seen_keys without any set is an error naming the table.
  query("DROP TABLE " + table("_seen_customers"));
  e = error_of([&] { sink.add_seen_keys(spec, keys({1})); });
  EXPECT_NE(std::string(e.what()).find("_seen_customers"), std::string::npos) << e.what();
  EXPECT_NE(std::string(e.what()).find("SQLSTATE 42P01"), std::string::npos) << e.what();
  // ...and the session recovers with a new scan.
  sink.begin_key_scan(spec);
  sink.add_seen_keys(spec, keys({1}));
  EXPECT_EQ(sink.finish_key_scan(spec, Timestamp{3000}, StreamState{}), 1);
  EXPECT_EQ(deleted(), (std::vector<std::string>{"1:-", "2:3000"}));
}

TEST_F(PostgresSinkKeyScanTest, KeyChangeRecreatesTheSetAndLongNamesAreShortened) {
  PostgresSink sink(options());
  // 60 characters: "_seen_" + name would pass PostgreSQL's 63-byte limit.
  const std::string stream(60, 'x');
  auto v1 = make_spec(stream, {field("Id", FieldType::kLong), field("V", FieldType::kString)});
  sink.prepare(v1);
  sink.commit(
      v1,
      std::vector<Row>{{std::int64_t{1}, std::string("a")}, {std::int64_t{2}, std::string("b")}},
      StreamState{});
  sink.begin_key_scan(v1);
  sink.add_seen_keys(v1, keys({2}));
  EXPECT_EQ(sink.finish_key_scan(v1, Timestamp{1000}, StreamState{}), 1);
  const std::string seen_tables =
      "SELECT string_agg(relname || ':' || length(relname), ',') FROM "
      "pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE "
      "n.nspname = '" +
      schema_.name() + "' AND relname LIKE '\\_seen\\_%'";
  const std::string seen = scalar(seen_tables);
  EXPECT_EQ(seen.substr(0, 6 + 48), "_seen_" + std::string(48, 'x')) << seen;
  EXPECT_EQ(seen.substr(seen.size() - 3), ":63") << seen;

  // The stream's key changes (another type): the next scan re-creates its set.
  auto other = make_spec("Other", {field("Code", FieldType::kString)});
  sink.prepare(other);
  sink.commit(other, std::vector<Row>{{std::string("a")}, {std::string("b")}}, StreamState{});
  query("CREATE UNLOGGED TABLE " + table("_seen_other") + " (code bigint PRIMARY KEY)");
  sink.begin_key_scan(other);
  sink.add_seen_keys(other, std::vector<Row>{{std::string("b")}});
  EXPECT_EQ(sink.finish_key_scan(other, Timestamp{1000}, StreamState{}), 1);
  EXPECT_EQ(scalar("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = '" +
                   table("_seen_other") + "'::regclass AND attname = 'code'"),
            "text");
}

// ---- metadata cache -----------------------------------------------------------------------------

TEST_F(PostgresSinkTest, MetadataCache) {
  PostgresSink sink(options());
  const std::string key = "https://api.actito.example/v5|entity=acme";
  EXPECT_FALSE(sink.load_metadata(key));  // no table yet
  EXPECT_EQ(scalar("SELECT to_regclass('" + table("_replication_metadata") + "') IS NULL"), "t");

  const std::string body = "{\"tables\": [\"é\", \"tab\\there\"], \"n\": 1}";
  sink.store_metadata(key, engine::CachedMetadata{Timestamp{1'700'000'000'123}, body});
  auto loaded = sink.load_metadata(key);
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->fetched_at, Timestamp{1'700'000'000'123});
  EXPECT_EQ(loaded->body, body);
  EXPECT_FALSE(sink.load_metadata(key + "x"));

  // Overwrite; another session reads it.
  sink.store_metadata(key, engine::CachedMetadata{Timestamp{1'700'000'999'000}, "{}"});
  loaded = PostgresSink(options()).load_metadata(key);
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->fetched_at, Timestamp{1'700'000'999'000});
  EXPECT_EQ(loaded->body, "{}");
  EXPECT_EQ(scalar("SELECT count(*) FROM " + table("_replication_metadata")), "1");
  EXPECT_EQ(scalar("SELECT updated_at IS NOT NULL FROM " + table("_replication_metadata")), "t");

  // A second key, from a fresh session (the table exists: no DDL needed).
  PostgresSink other(options());
  other.store_metadata("k2", engine::CachedMetadata{Timestamp{0}, std::string(100000, 'j')});
  EXPECT_EQ(other.load_metadata("k2")->body.size(), 100000u);
  EXPECT_EQ(sink.load_metadata(key)->body, "{}");
}

// ---- connections --------------------------------------------------------------------------------

TEST_F(PostgresSinkTest, BrokenConnectionIsTransientAndTheNextCommitReconnects) {
  PostgresSink sink(options());
  auto spec = customers_spec();
  sink.prepare(spec);
  ASSERT_EQ(sink.commit(spec, std::vector<Row>{customer(1, "Ann")}, state_at(1000)).rows_written,
            1);

  const std::string app = options().application_name;
  {
    pqxx::nontransaction tx(db_);
    auto r = tx.exec_params(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", app);
    ASSERT_EQ(r.size(), 1u);
    ASSERT_TRUE(r[0][0].as<bool>());
  }
  for (int i = 0; i < 100; ++i) {  // wait until the backend is gone
    if (scalar("SELECT count(*) FROM pg_stat_activity WHERE application_name = '" + app + "'") ==
        "0") {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }

  auto e =
      error_of([&] { sink.commit(spec, std::vector<Row>{customer(2, "Bob")}, state_at(2000)); });
  EXPECT_EQ(e.kind(), ErrorKind::kTransient) << e.what();
  EXPECT_NE(std::string(e.what()).find(schema_.name() + ".customers"), std::string::npos)
      << e.what();
  EXPECT_EQ(customers(), (std::vector<std::string>{"1|Ann|<null>"}));

  // The next call reconnects; the staging table and session settings are recreated.
  EXPECT_EQ(sink.commit(spec, std::vector<Row>{customer(2, "Bob")}, state_at(2000)).rows_written,
            1);
  EXPECT_EQ(customers(), (std::vector<std::string>{"1|Ann|<null>", "2|Bob|<null>"}));
  EXPECT_EQ(sink.load_state("crm", "Customers").watermark, Timestamp{2000});
  EXPECT_EQ(scalar("SELECT count(*) FROM pg_stat_activity WHERE application_name = '" + app + "'"),
            "1");
}

TEST_F(PostgresSinkTest, SessionSettings) {
  PostgresSink sink(options());
  sink.load_state("crm", "Customers");  // connects
  const std::string app = options().application_name;
  EXPECT_EQ(scalar("SELECT count(*) FROM pg_stat_activity WHERE application_name = '" + app + "'"),
            "1");
  auto o = options();
  o.synchronous_commit_off = false;
  EXPECT_NO_THROW(PostgresSink(o).load_state("crm", "Customers"));
}

TEST_F(PostgresSinkTest, ConnectionFailureMessagesNeverShowThePassword) {
  PostgresSinkOptions o;
  o.dsn = "host=127.0.0.1 port=1 dbname=x user=u password=Sup3rS3cret connect_timeout=2";
  o.schema = schema_.name();
  PostgresSink sink(o);
  auto e = error_of([&] { sink.load_state("crm", "Customers"); });
  EXPECT_EQ(e.kind(), ErrorKind::kTransient);
  EXPECT_EQ(std::string(e.what()).find("Sup3rS3cret"), std::string::npos) << e.what();
  EXPECT_NE(std::string(e.what()).find(schema_.name() + "._replication_state"), std::string::npos)
      << e.what();

  o.dsn = "postgresql://u:Sup3rS3cret@127.0.0.1:1/x?connect_timeout=2";
  auto e2 = error_of([&] { PostgresSink(o).prepare(customers_spec()); });
  EXPECT_EQ(e2.kind(), ErrorKind::kTransient);
  EXPECT_EQ(std::string(e2.what()).find("Sup3rS3cret"), std::string::npos) << e2.what();
  EXPECT_NE(std::string(e2.what()).find(schema_.name() + ".customers"), std::string::npos)
      << e2.what();

  o.dsn = "host=127.0.0.1 port=1 pasword=Sup3rS3cret";  // typo: libpq echoes the option name
  auto e3 = error_of([&] { PostgresSink(o).load_state("a", "b"); });
  EXPECT_EQ(std::string(e3.what()).find("Sup3rS3cret"), std::string::npos) << e3.what();

  auto e4 = error_of([&] { probe("postgresql://u:Sup3rS3cret@127.0.0.1:1/x"); });
  EXPECT_EQ(e4.kind(), ErrorKind::kTransient);
  EXPECT_EQ(std::string(e4.what()).find("Sup3rS3cret"), std::string::npos) << e4.what();
  EXPECT_NO_THROW(probe(schema_.dsn()));
}

TEST_F(PostgresSinkTest, CheckPrivileges) {
  PostgresSink(options()).check_privileges();
  // The check leaves nothing behind.
  EXPECT_EQ(scalar("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = "
                   "c.relnamespace WHERE n.nspname = '" +
                   schema_.name() + "'"),
            "0");

  // A role that may not create schemas or tables.
  const std::string role = "r_" + schema_.name();
  const std::string password =
      "Pw_" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
  query("CREATE ROLE \"" + role + "\" LOGIN PASSWORD '" + password + "'");
  struct DropRole {
    std::string dsn;
    std::string role;
    ~DropRole() {
      try {
        pqxx::connection c(dsn);
        pqxx::nontransaction tx(c);
        tx.exec("DROP OWNED BY \"" + role + "\"; DROP ROLE \"" + role + "\"");
      } catch (const std::exception& e) {
        std::cerr << "could not drop role " << role << ": " << e.what() << std::endl;
      }
    }
  } drop{schema_.dsn(), role};

  PostgresSinkOptions o = options();
  o.dsn = schema_.dsn() + " user=" + role + " password=" + password;
  o.schema = schema_.name() + "_new";
  auto e = error_of([&] { PostgresSink(o).check_privileges(); });
  EXPECT_NE(std::string(e.what()).find("cannot create schema " + o.schema), std::string::npos)
      << e.what();
  EXPECT_EQ(std::string(e.what()).find(password), std::string::npos);

  o.schema = schema_.name();
  query("GRANT USAGE ON SCHEMA \"" + schema_.name() + "\" TO \"" + role + "\"");
  e = error_of([&] { PostgresSink(o).check_privileges(); });
  EXPECT_NE(std::string(e.what()).find("cannot create tables in schema " + o.schema),
            std::string::npos)
      << e.what();

  query("GRANT CREATE ON SCHEMA \"" + schema_.name() + "\" TO \"" + role + "\"");
  EXPECT_NO_THROW(PostgresSink(o).check_privileges());
}

// ---- values -------------------------------------------------------------------------------------

TEST_F(PostgresSinkTest, ValuesRoundTripExactly) {
  auto spec =
      make_spec("Values", {field("Key", FieldType::kString), field("Text", FieldType::kString),
                           field("Tags", FieldType::kString, true),
                           field("Amount", FieldType::kNumber), field("At", FieldType::kTimestamp),
                           field("Day", FieldType::kDate), field("Flag", FieldType::kBoolean),
                           field("Doc", FieldType::kJson), field("N", FieldType::kLong)});
  const std::vector<std::string> texts = {"tab\there",
                                          "new\nline",
                                          "cr\rlf\r\n",
                                          "back\\slash\\",
                                          "\\N",
                                          "\\.",
                                          "",
                                          "NULL",
                                          "quote\"s and 'single'",
                                          "unicode é ü 中文 😀",
                                          "  spaces  ",
                                          "a\x01"
                                          "ctl",
                                          "{\"not\":\"json\"}"};
  const std::vector<std::vector<std::string>> arrays = {
      {"a,b", "q\"uote", "NULL", "", "{brace}", "back\\slash", "tab\tx", "sp ace", "é"},
      {},
      {"\\N", "line\nbreak"}};
  const std::vector<std::pair<std::string, std::string>> numerics = {
      {"0", "0"},
      {"-1.50", "-1.50"},
      {"123456789012345678901234567890.123456789", "123456789012345678901234567890.123456789"},
      {"1E+3", "1000"},
      {".5", "0.5"},
      {"+7", "7"}};
  const std::int64_t year0 = model::days_from_civil(-43, 3, 15) * kMsPerDay + 12 * 3'600'000;
  const std::vector<std::int64_t> instants = {-1,
                                              0,
                                              1'700'000'000'123,
                                              -100LL * 365 * kMsPerDay - 7,
                                              year0,
                                              -210'866'803'200'000,
                                              253'402'300'799'999};
  const std::vector<std::string> days = {"1900-01-01", "2024-02-29", "0001-01-01"};
  const std::vector<std::string> docs = {"{\"a\": [1, 2, {\"b\": \"c\\td\"}], \"u\": \"é\"}", "[]",
                                         "\"str\\\\ing\"", "123.5", "null"};
  const std::vector<std::int64_t> longs = {std::numeric_limits<std::int64_t>::min(),
                                           std::numeric_limits<std::int64_t>::max(), 0};

  std::vector<Row> rows;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    Row r;
    r.push_back(std::string("key\t") + std::to_string(i));
    r.push_back(texts[i]);
    r.push_back(i < arrays.size() ? Value(arrays[i]) : Value(std::monostate{}));
    r.push_back(i < numerics.size() ? Value(model::Decimal{numerics[i].first})
                                    : Value(std::monostate{}));
    r.push_back(i < instants.size() ? Value(Timestamp{instants[i]}) : Value(std::monostate{}));
    r.push_back(i < days.size() ? Value(days[i]) : Value(std::monostate{}));
    r.push_back(i < 2 ? Value(i == 0) : Value(std::monostate{}));
    r.push_back(i < docs.size() ? Value(model::JsonText{docs[i]}) : Value(std::monostate{}));
    r.push_back(i < longs.size() ? Value(longs[i]) : Value(std::monostate{}));
    rows.push_back(std::move(r));
  }
  PostgresSink sink(options());
  sink.prepare(spec);
  ASSERT_EQ(sink.commit(spec, rows, StreamState{}).rows_written,
            static_cast<std::int64_t>(rows.size()));
  EXPECT_EQ(sink.commit(spec, rows, StreamState{}).rows_written, 0);  // equal once stored

  pqxx::nontransaction tx(db_);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    SCOPED_TRACE("row " + std::to_string(i));
    const std::string key = "key\t" + std::to_string(i);
    auto r = tx.exec_params1(
        "SELECT text, amount::text, (extract(epoch FROM at) * 1000)::bigint, day::text, flag, n, "
        "tags IS NULL, doc IS NULL FROM " +
            table("values") + " WHERE key = $1",
        key);
    EXPECT_EQ(r[0].as<std::string>(), texts[i]);
    if (i < numerics.size()) {
      EXPECT_EQ(r[1].as<std::string>(), numerics[i].second);
    } else {
      EXPECT_TRUE(r[1].is_null());
    }
    if (i < instants.size()) {
      EXPECT_EQ(r[2].as<std::int64_t>(), instants[i]);
    } else {
      EXPECT_TRUE(r[2].is_null());
    }
    if (i < days.size()) {
      EXPECT_EQ(r[3].as<std::string>(), days[i]);
    }
    if (i < 2) {
      EXPECT_EQ(r[4].as<bool>(), i == 0);
    } else {
      EXPECT_TRUE(r[4].is_null());
    }
    if (i < longs.size()) {
      EXPECT_EQ(r[5].as<std::int64_t>(), longs[i]);
    }
    EXPECT_EQ(r[6].as<bool>(), i >= arrays.size());
    if (i < arrays.size()) {
      std::vector<std::string> got;
      for (const auto& e : tx.exec_params("SELECT x, x IS NULL FROM " + table("values") +
                                              ", unnest(tags) WITH ORDINALITY AS u(x, pos) "
                                              "WHERE key = $1 ORDER BY pos",
                                          key)) {
        EXPECT_FALSE(e[1].as<bool>());
        got.push_back(e[0].as<std::string>());
      }
      EXPECT_EQ(got, arrays[i]);
    }
    if (i < docs.size()) {
      EXPECT_TRUE(
          tx.exec_params1("SELECT doc = $2::jsonb FROM " + table("values") + " WHERE key = $1", key,
                          docs[i])[0]
              .as<bool>());
    }
  }
}

// ---- job leases (high availability) -------------------------------------------------------------

PostgresSinkOptions instance(PostgresSinkOptions o, const std::string& name) {
  o.application_name = name;
  return o;
}

TEST_F(PostgresSinkTest, ALeaseIsHeldByOneSinkAtATimeAndNamesItsHolder) {
  const std::string a_name = "lease-a-" + schema_.name(), b_name = "lease-b-" + schema_.name();
  PostgresSink a(instance(options(), a_name)), b(instance(options(), b_name));
  EXPECT_TRUE(a.try_acquire_lease("job crm"));
  EXPECT_TRUE(a.try_acquire_lease("job crm")) << "taking a held lease again is a no-op";
  EXPECT_FALSE(b.try_acquire_lease("job crm"));
  const std::string holder = b.lease_holder("job crm");
  EXPECT_NE(holder.find(a_name), std::string::npos) << holder;
  EXPECT_NE(holder.find("backend pid "), std::string::npos) << holder;
  EXPECT_EQ(a.lease_holder("job crm"), "this session");
  // Another job, or the same job replicated into another schema, is another lease.
  PostgresSink c(instance(options(), b_name + "-c"));
  EXPECT_TRUE(c.try_acquire_lease("job orders"));
  PostgresSinkOptions other = instance(options(), b_name + "-d");
  other.schema = schema_.name() + "_other";
  PostgresSink d(other);
  EXPECT_TRUE(d.try_acquire_lease("job crm"));
}

TEST_F(PostgresSinkTest, ALostLeaseStopsWritesUntilItIsTakenBack) {
  const std::string a_name = "lease-a-" + schema_.name(), b_name = "lease-b-" + schema_.name();
  auto spec = customers_spec();
  PostgresSink a(instance(options(), a_name));
  ASSERT_TRUE(a.try_acquire_lease("job crm"));
  a.prepare(spec);
  ASSERT_EQ(a.commit(spec, std::vector<Row>{customer(1, "Ann")}, state_at(1000)).rows_written, 1);

  // A's session dies (a network cut, a killed backend): its lease goes with it.
  {
    pqxx::nontransaction tx(db_);
    tx.exec_params("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
                   a_name);
  }
  auto b = std::make_unique<PostgresSink>(instance(options(), b_name));
  bool taken = false;
  for (int i = 0; i < 100 && !taken; ++i) {
    taken = b->try_acquire_lease("job crm");
    if (!taken) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(taken) << "the lease of a dead session was not freed";

  // A notices on its next call; after that, it reconnects but may not write: B runs the job.
  auto first = error_of([&] { a.commit(spec, std::vector<Row>{customer(2, "Bob")}, state_at(2000)); });
  EXPECT_EQ(first.kind(), ErrorKind::kTransient);
  auto lost = error_of([&] { a.commit(spec, std::vector<Row>{customer(3, "Cid")}, state_at(3000)); });
  EXPECT_EQ(lost.kind(), ErrorKind::kTransient);
  EXPECT_NE(std::string(lost.what()).find("lease of job crm"), std::string::npos) << lost.what();
  EXPECT_NE(std::string(lost.what()).find(b_name), std::string::npos) << "should name the new holder: " << lost.what();
  // Still not: every call checks, not only the one after the reconnect.
  auto again = error_of([&] { a.commit(spec, std::vector<Row>{customer(4, "Dee")}, state_at(4000)); });
  EXPECT_NE(std::string(again.what()).find("was lost"), std::string::npos) << again.what();
  EXPECT_EQ(customers(), (std::vector<std::string>{"1|Ann|<null>"})) << "a sink without its lease wrote";
  EXPECT_FALSE(a.try_acquire_lease("job crm"));

  // B stops: A takes the lease back and writes again.
  b.reset();
  taken = false;
  for (int i = 0; i < 100 && !taken; ++i) {
    taken = a.try_acquire_lease("job crm");
    if (!taken) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(taken);
  EXPECT_EQ(a.commit(spec, std::vector<Row>{customer(3, "Cid")}, state_at(3000)).rows_written, 1);
  EXPECT_EQ(customers(), (std::vector<std::string>{"1|Ann|<null>", "3|Cid|<null>"}));
}

// ---- throughput (manual) ------------------------------------------------------------------------

// Not part of the suite: run with --gtest_also_run_disabled_tests to compare with
// shared/docs/performance-notes.md (1000-row pages, 20 columns, one transaction per page).
TEST_F(PostgresSinkTest, DISABLED_Throughput) {
  std::vector<model::FieldDescriptor> fields = {field("Id", FieldType::kLong)};
  for (int c = 1; c < 20; ++c) {
    FieldType t = c % 4 == 0   ? FieldType::kTimestamp
                  : c % 4 == 1 ? FieldType::kLong
                               : FieldType::kString;
    fields.push_back(field("Col" + std::to_string(c), t));
  }
  auto spec = make_spec("Bench", fields);
  const std::int64_t total =
      std::getenv("BENCH_ROWS") ? std::atoll(std::getenv("BENCH_ROWS")) : 100000;
  auto page = [&](std::int64_t first, int version) {
    std::vector<Row> rows;
    for (std::int64_t id = first; id < first + 1000 && id < total; ++id) {
      Row r(20);
      r[0].emplace<std::int64_t>(id);
      for (int c = 1; c < 20; ++c) {
        if (c % 4 == 0) {
          r[c].emplace<Timestamp>(Timestamp{1'700'000'000'000 + id * 1000 + c});
        } else if (c % 4 == 1) {
          r[c].emplace<std::int64_t>(id * c + version);
        } else {
          r[c].emplace<std::string>("value " + std::to_string(id) + "/" + std::to_string(c) + " v" +
                                    std::to_string(version));
        }
      }
      rows.push_back(std::move(r));
    }
    return rows;
  };
  PostgresSink sink(options());
  sink.prepare(spec);
  auto run = [&](const char* what, int version) {
    auto start = std::chrono::steady_clock::now();
    std::int64_t written = 0;
    for (std::int64_t first = 0; first < total; first += 1000) {
      written += sink.commit(spec, page(first, version), state_at(first)).rows_written;
    }
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::cout << what << ": " << total << " rows in " << s << " s = " << static_cast<int>(total / s)
              << " rows/s, written " << written << std::endl;
  };
  run("new rows      ", 1);
  run("unchanged rows", 1);
  run("changed rows  ", 2);
}

// ---- DSN redaction ------------------------------------------------------------------------------

TEST(RedactDsn, KeyValueForm) {
  EXPECT_EQ(redact_dsn("host=db user=u password=secret dbname=x"),
            "host=db user=u password=*** dbname=x");
  EXPECT_EQ(redact_dsn("host=db password = 'se cr\\'et' dbname=x"),
            "host=db password = *** dbname=x");
  EXPECT_EQ(redact_dsn("password=a\\ b host=h"), "password=*** host=h");
  EXPECT_EQ(redact_dsn("host=db dbname=x"), "host=db dbname=x");
  EXPECT_EQ(redact_dsn(""), "");
  // Malformed: still no secret.
  EXPECT_EQ(redact_dsn("host=db password='unterminated"), "host=db password=***");
  EXPECT_EQ(redact_dsn("PASSWORD=x junk"), "PASSWORD=*** junk");
}

TEST(RedactDsn, UriForm) {
  EXPECT_EQ(redact_dsn("postgresql://u:secret@db:5432/x"), "postgresql://u:***@db:5432/x");
  EXPECT_EQ(redact_dsn("postgres://u:s%40c@db/x?sslmode=require&password=p2"),
            "postgres://u:***@db/x?sslmode=require&password=***");
  EXPECT_EQ(redact_dsn("postgresql://u@db/x"), "postgresql://u@db/x");
  EXPECT_EQ(redact_dsn("postgresql://db/x"), "postgresql://db/x");
  EXPECT_EQ(redact_dsn("postgresql://u:p@ss@db/x"), "postgresql://u:***@db/x");
  EXPECT_EQ(redact_dsn("postgresql://u:pa/ss@db/x"), "postgresql://u:***@db/x");
}

TEST(RedactDsn, MessagesEchoingTheDsn) {
  const std::string dsn = "host=db user=u password=hunter2 dbname=x";
  EXPECT_EQ(redact_message("could not connect: bad option near hunter2", dsn),
            "could not connect: bad option near ***");
  EXPECT_EQ(redact_message("invalid URI query parameter: \"postgresql://a:b@h/d?x=1\"", ""),
            "invalid URI query parameter: \"postgresql://a:***@h/d?x=1\"");
  EXPECT_EQ(redact_message("conninfo password=zz host=h", ""), "conninfo password=*** host=h");
  EXPECT_EQ(redact_message("uri secret: s@c", "postgresql://u:s%40c@db/x"), "uri secret: ***");
}

}  // namespace
}  // namespace replicator::sink_postgres

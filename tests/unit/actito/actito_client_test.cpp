// The Actito client, discovery and list source against the in-process simulator (real HTTP on
// loopback), plus the pure pieces: RSQL rendering, percent-encoding, envelope decoding.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "config/catalog_loader.hpp"
#include "core/actito/client.hpp"
#include "core/actito/discovery.hpp"
#include "core/actito/rsql.hpp"
#include "core/actito/source.hpp"
#include "core/engine/call_budget.hpp"
#include "core/engine/cursor_pager.hpp"
#include "core/engine/stream_plan.hpp"
#include "core/model/timestamp.hpp"
#include "tests/actito_sim/simulator.hpp"

namespace replicator::actito {
namespace {

namespace asio = boost::asio;
using model::FilterOp;
using model::Timestamp;

const model::Catalog& catalog() {
  static const model::Catalog kCatalog = config::builtin_catalog();
  return kCatalog;
}

// Runs a coroutine to completion on a fresh single-threaded context.
template <class T>
T run(asio::io_context& ctx, asio::awaitable<T> aw) {
  auto fut = asio::co_spawn(ctx, std::move(aw), asio::use_future);
  ctx.restart();
  ctx.run();
  return fut.get();
}

actito_sim::SimOptions small_sim() {
  actito_sim::SimOptions o;
  o.data.profiles = 2500;
  o.data.custom_records = 300;
  o.data.static_objects = false;
  o.limits.calls_per_minute = 0;
  return o;
}

ConnectionOptions options_for(const actito_sim::Simulator& sim) {
  ConnectionOptions o;
  o.name = "test";
  o.base_url = sim.base_url();
  o.entity = "acme";
  o.api_key = "sim-api-key";
  o.request_timeout = std::chrono::seconds(5);
  o.backoff.base = std::chrono::milliseconds(5);
  o.backoff.cap = std::chrono::milliseconds(50);
  o.rate_limit_backoff.base = std::chrono::milliseconds(10);
  o.rate_limit_backoff.cap = std::chrono::milliseconds(100);
  return o;
}

TEST(Rsql, RendersNativeFiltersWithQuotingAndEncoding) {
  const auto* o = catalog().find_static("EmailCampaigns");
  ASSERT_NE(o, nullptr);
  std::vector<engine::Constraint> cs = {
      {"UpdatedAt", FilterOp::kGe, {Timestamp{1764324930123}}},
      {"Status", FilterOp::kEq, {std::string("SE\"NT;x")}},
      {"Id", FilterOp::kIn, {std::int64_t{1}, std::int64_t{2}}},
  };
  EXPECT_EQ(render_search(*o, cs),
            "updateMoment=ge=\"2025-11-28T10:15:30.123Z\";status==\"SE\\\"NT;x\";id=in=(1,2)");
  EXPECT_EQ(percent_encode("a=ge=\"2025-11-28T10:15:30+01:00\";b"),
            "a%3Dge%3D%222025-11-28T10%3A15%3A30%2B01%3A00%22%3Bb");
}

TEST(Rsql, RefusesToSendNonNativeFilters) {
  const auto* o = catalog().find_static("EmailCampaignGroups");
  ASSERT_NE(o, nullptr);
  try {
    render_search(*o, {{"Name", FilterOp::kEq, {std::string("x")}}});
    FAIL() << "a non-native filter was rendered";
  } catch (const model::Error& e) {
    EXPECT_NE(std::string(e.what()).find("not native on EmailCampaignGroups"), std::string::npos) << e.what();
  }
  EXPECT_THROW(render_search(*o, {{"Id", FilterOp::kNe, {std::int64_t{1}}}}), model::Error);
}

TEST(HttpDate, ParsesImfFixdate) {
  auto t = parse_http_date("Fri, 28 Nov 2025 10:15:30 GMT");
  ASSERT_TRUE(t);
  EXPECT_EQ(model::format_timestamp(*t), "2025-11-28T10:15:30.000Z");
  EXPECT_FALSE(parse_http_date("yesterday"));
}

TEST(DecodePage, DecodesTolerantValuesAndNamesBadRows) {
  auto tmpl = *catalog().find_template("<ProfileTable>_Interactions");
  tmpl.route_params["profileTableId"] = "16";
  engine::StreamRequest req;
  req.object = tmpl.name;
  auto spec = engine::plan_stream(req, tmpl);
  std::string body = R"({"interactions":[
      {"id":"12","profileId":9007199254740993,"type":"EMAIL_SENT","channel":"EMAIL","creationMoment":"2025-11-28 11:15:30",
       "details":{"url":"x"},"unknown":1},
      {"id":13,"profileId":1,"type":"EMAIL_SENT","channel":"EMAIL","creationMoment":1764324930123}],
      "page":{"number":0,"size":2,"totalElements":7,"totalPages":4},"_links":{"self":{"href":"/x"},"next":{"href":"/y"}}})";
  auto page = decode_page(spec, body, model::TimeZone::from_name("Europe/Brussels"));
  ASSERT_EQ(page.rows.size(), 2u);
  EXPECT_EQ(page.total_elements, 7);
  EXPECT_TRUE(page.has_next);
  auto at = [&](std::size_t row, const std::string& field) {
    for (std::size_t i = 0; i < spec.fields.size(); ++i) {
      if (spec.fields[i].name == field) return page.rows[row][i];
    }
    return model::Value{};
  };
  EXPECT_EQ(std::get<std::int64_t>(at(0, "Id")), 12);
  EXPECT_EQ(std::get<std::int64_t>(at(0, "ProfileId")), 9007199254740993LL);  // never through a double
  EXPECT_EQ(model::format_timestamp(std::get<Timestamp>(at(0, "CreatedAt"))), "2025-11-28T10:15:30.000Z");
  EXPECT_EQ(std::get<model::JsonText>(at(0, "Details")).text, R"({"url":"x"})");
  EXPECT_EQ(std::get<Timestamp>(at(1, "CreatedAt")).ms, 1764324930123);

  std::string bad = R"({"interactions":[{"id":5,"profileId":1,"creationMoment":"not a time"}],"page":{"totalElements":1}})";
  try {
    decode_page(spec, bad, model::TimeZone::utc());
    FAIL();
  } catch (const model::Error& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("row with key 5"), std::string::npos) << what;
    EXPECT_NE(what.find("CreatedAt"), std::string::npos) << what;
  }
  EXPECT_THROW(decode_page(spec, "<html>gateway</html>", model::TimeZone::utc()), model::Error);
}

TEST(ActitoClientSim, DiscoversDynamicObjectsFromStructures) {
  actito_sim::Simulator sim(small_sim());
  sim.start();
  asio::io_context ctx;
  ActitoClient client(ctx.get_executor(), options_for(sim));
  Discovery discovery(client, catalog(), std::chrono::hours(1));
  auto objects = run(ctx, discovery.objects());
  std::set<std::string> names;
  for (const auto& o : objects) names.insert(o.name);
  for (const char* n : {"Customers", "Customers_Interactions", "Customers_Scenarios",
                        "Customers_SubscriptionInteractions", "Orders", "EmailCampaigns"}) {
    EXPECT_TRUE(names.count(n)) << n;
  }
  auto customers = run(ctx, discovery.find("Customers"));
  EXPECT_EQ(customers.route_params.at("profileTableId"), "16");
  ASSERT_NE(customers.find_field("EmailAddress"), nullptr);
  EXPECT_EQ(customers.find_field("EmailAddress")->wire, "attributes.emailAddress");
  ASSERT_NE(customers.find_field("Id"), nullptr);
  bool has_subscription = false;
  for (const auto& f : customers.fields) has_subscription |= f.name.rfind("Subscription_", 0) == 0;
  EXPECT_TRUE(has_subscription);
  auto orders = run(ctx, discovery.find("Orders"));
  ASSERT_EQ(orders.key.size(), 1u);
  EXPECT_EQ(orders.key[0], "OrderId");
  EXPECT_FALSE(orders.cursor_pushdown);
  EXPECT_TRUE(orders.native("OrderId", FilterOp::kEq));
  // Cached: a second lookup makes no call.
  auto calls = client.calls();
  run(ctx, discovery.find("Customers_Interactions"));
  EXPECT_EQ(client.calls(), calls);
  try {
    run(ctx, discovery.find("Custmers"));
    FAIL();
  } catch (const model::Error& e) {
    EXPECT_EQ(e.kind(), model::ErrorKind::kConfig);
  }
}

TEST(ActitoClientSim, RefreshesAnExpiredTokenOnceAndRetries5xx) {
  actito_sim::Simulator sim(small_sim());
  sim.start();
  asio::io_context ctx;
  ActitoClient client(ctx.get_executor(), options_for(sim));
  const std::string route = "/profile-table-structure/v5/entities/acme/profile-tables";
  run(ctx, client.get(route, "ProfileTables"));
  EXPECT_EQ(client.token_calls(), 1);
  sim.expire_all_tokens();
  auto r = run(ctx, client.get(route, "ProfileTables"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(client.token_calls(), 2) << "a 401 must trigger exactly one refresh";

  actito_sim::FaultSpec f;
  f.fail_next = 2;
  f.fail_status = 503;
  sim.set_faults(f);
  auto calls = client.calls();
  r = run(ctx, client.get(route, "ProfileTables"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(client.calls() - calls, 3);

  f.fail_next = 100;
  sim.set_faults(f);
  try {
    run(ctx, client.get(route, "ProfileTables"));
    FAIL();
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status(), 503);
    EXPECT_TRUE(e.retryable());
  }
  sim.clear_faults();
}

TEST(ActitoClientSim, RevokedKeyIsAnAuthErrorWithoutTheKey) {
  actito_sim::Simulator sim(small_sim());
  sim.start();
  asio::io_context ctx;
  ActitoClient client(ctx.get_executor(), options_for(sim));
  sim.revoke_api_key("sim-api-key");
  try {
    run(ctx, client.get("/profile-table-structure/v5/entities/acme/profile-tables", "ProfileTables"));
    FAIL();
  } catch (const model::Error& e) {
    EXPECT_EQ(e.kind(), model::ErrorKind::kAuth);
    std::string what = e.what();
    EXPECT_NE(what.find("API key"), std::string::npos) << what;
    EXPECT_EQ(what.find("sim-api-key"), std::string::npos) << "secret in the message: " << what;
  }
}

TEST(ActitoClientSim, NeverExceedsItsConcurrencyAndBacksOffOn429) {
  auto o = small_sim();
  o.limits.max_concurrent = 2;  // stricter than the client's 4: the client must survive the 429s
  actito_sim::Simulator sim(o);
  actito_sim::FaultSpec slow;
  slow.latency = std::chrono::milliseconds(30);
  sim.set_faults(slow);
  sim.start();
  asio::io_context ctx;
  auto opts = options_for(sim);
  opts.max_concurrent_requests = 4;
  ActitoClient client(ctx.get_executor(), opts);
  int done = 0;
  for (int i = 0; i < 12; ++i) {
    asio::co_spawn(ctx, client.get("/profile-table-structure/v5/entities/acme/profile-tables", "ProfileTables"),
                   [&](std::exception_ptr e, ApiResponse r) {
                     EXPECT_FALSE(e);
                     if (!e) {
                       EXPECT_EQ(r.status, 200);
                     }
                     ++done;
                   });
  }
  ctx.run();
  EXPECT_EQ(done, 12);
  auto stats = sim.stats();
  EXPECT_GT(stats.concurrency_rejections, 0) << "the test did not provoke any 429";
  EXPECT_LE(stats.max_in_flight, 4);
  EXPECT_LT(client.budget().concurrency_limit(), 4) << "429s must lower the client's own concurrency";
}

TEST(ActitoSourceSim, ListsProfilesPageByPageWithTheCursor) {
  actito_sim::Simulator sim(small_sim());
  sim.start();
  asio::io_context ctx;
  ActitoClient client(ctx.get_executor(), options_for(sim));
  Discovery discovery(client, catalog(), std::chrono::hours(1));
  ActitoSource source(client);
  auto object = run(ctx, discovery.find("Customers"));
  engine::StreamRequest req;
  req.object = "Customers";
  req.page_size = 1000;
  auto spec = engine::plan_stream(req, object);
  engine::CursorPager pager(spec, engine::StreamState{}, std::chrono::milliseconds(0));
  std::set<std::int64_t> ids;
  int pages = 0;
  while (!pager.done()) {
    auto page = run(ctx, source.list(spec, pager.next_query()));
    ++pages;
    auto step = pager.on_page(std::move(page));
    for (const auto& row : step.rows) ids.insert(std::get<std::int64_t>(row[spec.key_index[0]]));
  }
  EXPECT_EQ(ids.size(), 2500u);
  EXPECT_GE(pages, 3);
}

}  // namespace
}  // namespace replicator::actito

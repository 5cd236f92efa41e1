// Tests of the simulator's late arrivals (contract 3.6, A07: SimOptions::visibility_delay): rows
// written by mutations reach the list routes only at their moment + the delay, totalElements
// agrees with what is listed, single GETs see writes at once, and 0 keeps read-your-writes.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "tests/actito_sim/cli.hpp"
#include "tests/actito_sim/timestamp.hpp"
#include "tests/unit/actito_sim/sim_test_support.hpp"

namespace replicator::actito_sim {
namespace {

using namespace sim_test;  // NOLINT(google-build-using-namespace): test support

constexpr auto kDelay = std::chrono::milliseconds(1200);
constexpr const char* kCampaigns = "/email-campaigns/v5/entities/acme/email-campaigns";

// One list answer: rows by id (in the order listed) and totalElements.
struct Listed {
  std::vector<std::int64_t> ids;
  std::map<std::int64_t, json::object> rows;
  std::int64_t total = -1;
};

Listed list(Harness& h, const std::string& target, const char* collection, const char* id_wire) {
  Listed out;
  const json::object page = h.ok(target);
  if (page.empty()) return out;
  out.total = page.at("page").as_object().at("totalElements").as_int64();
  for (const auto& row : page.at(collection).as_array()) {
    const json::value& id = row.as_object().at(id_wire);
    const std::int64_t key = id.is_string() ? std::stoll(std::string(id.as_string()).substr(4))
                                            : id.to_number<std::int64_t>();
    out.ids.push_back(key);
    out.rows[key] = row.as_object();
  }
  return out;
}

Listed profiles(Harness& h, const std::string& query = "") {
  return list(h, std::string(kProfiles) + "?size=1000" + query, "profiles", "profileId");
}

std::string records_path(const Harness& h) {
  return "/custom-tables/v5/entities/acme/custom-tables/" + h.sim.custom_table_id() + "/records";
}

// Orders keyed by the number in orderId ("ORD-000000000007" -> 7, the technical id).
Listed orders(Harness& h, const std::string& query = "") {
  return list(h, records_path(h) + "?size=1000" + query, "records", "orderId");
}

std::string since(std::int64_t moment_ms) {
  return "&search=" + encode(fmt::format("updateMoment=ge=\"{}\"", format_iso_utc(moment_ms)));
}

std::map<std::int64_t, json::object> truth(const Harness& h, const char* table,
                                           const char* id_wire) {
  std::map<std::int64_t, json::object> out;
  for (const auto& row : h.sim.rows(table)) {
    const json::value& id = row.at(id_wire);
    out[id.is_string() ? std::stoll(std::string(id.as_string()).substr(4))
                       : id.to_number<std::int64_t>()] = row;
  }
  return out;
}

void sleep_until_server_time(std::int64_t ms) {
  while (system_now_ms() < ms) std::this_thread::sleep_for(std::chrono::milliseconds(10));
}

std::size_t invisible(const Harness& h, const char* table) {
  return h.sim.dataset().table(table)->invisible_count();
}

TEST(SimVisibility, DefaultZeroIsReadYourWrites) {
  Harness h(small_options(50));
  EXPECT_EQ(h.sim.visibility_delay(), std::chrono::milliseconds(0));
  const MutationResult r = h.sim.mutate({.table = "Customers", .creates = 2, .update_ids = {3}});
  const Listed now = profiles(h);
  EXPECT_EQ(now.total, 52);
  EXPECT_EQ(now.rows, truth(h, "Customers", "profileId"));
  EXPECT_EQ(profiles(h, since(r.first_moment_ms)).total, 3);
  EXPECT_EQ(invisible(h, "Customers"), 0U);
}

TEST(SimVisibility, ProfileWritesAreListedOnlyFromTheirMomentPlusTheDelay) {
  SimOptions o = small_options(50);
  o.visibility_delay = kDelay;
  Harness h(o);
  const Listed before = profiles(h);
  ASSERT_EQ(before.total, 50);
  const MutationResult r = h.sim.mutate({.table = "Customers", .creates = 2, .update_ids = {3, 4}});
  ASSERT_EQ(r.created.size(), 2U);
  const std::int64_t arrival = r.last_moment_ms + kDelay.count();

  // Not yet: lists, totalElements, ranges and key scans show the table as before the mutation.
  const Listed early = profiles(h);
  EXPECT_EQ(early.total, 50);
  EXPECT_EQ(early.rows, before.rows) << "updated rows keep their previous version, new ones are "
                                        "absent";
  const Listed changed = profiles(h, since(r.first_moment_ms));
  EXPECT_EQ(changed.total, 0);
  EXPECT_TRUE(changed.ids.empty());
  const Listed keys = profiles(h, "&fields=profileId&sort=profileId,asc");
  EXPECT_EQ(keys.total, 50);
  EXPECT_EQ(keys.ids, before.ids);
  // The single GET reads the store: every write at once. So do the simulator's own accessors.
  const auto stored = truth(h, "Customers", "profileId");
  EXPECT_EQ(stored.size(), 52U);
  EXPECT_EQ(h.ok(std::string(kProfiles) + "/" + std::to_string(r.created.front())),
            stored.at(r.created.front()));
  EXPECT_EQ(h.ok(std::string(kProfiles) + "/3"), stored.at(3));
  EXPECT_NE(stored.at(3).at("updateMoment"), before.rows.at(3).at("updateMoment"));
  EXPECT_EQ(invisible(h, "Customers"), 4U);
  ASSERT_LT(system_now_ms(), arrival) << "the checks above must run before the rows arrive";

  // From moment + delay on: listed, and totalElements agrees.
  sleep_until_server_time(arrival);
  const Listed late = profiles(h);
  EXPECT_EQ(late.total, 52);
  EXPECT_EQ(late.rows, truth(h, "Customers", "profileId"));
  const Listed arrived = profiles(h, since(r.first_moment_ms) + "&sort=updateMoment,asc");
  EXPECT_EQ(arrived.total, 4);
  EXPECT_EQ(arrived.ids.size(), 4U);
  EXPECT_EQ(profiles(h, "&fields=profileId&sort=profileId,asc").total, 52);
  EXPECT_EQ(invisible(h, "Customers"), 0U);
}

TEST(SimVisibility, CustomTableRowsArriveLateInTheDescendingScanToo) {
  SimOptions o = small_options(50);
  o.visibility_delay = kDelay;
  Harness h(o);
  const std::string descending = "&sort=updateMoment,desc";
  const Listed before = orders(h, descending);
  ASSERT_EQ(before.total, 500);
  const MutationResult r = h.sim.mutate({.table = "Orders", .creates = 1, .update_ids = {7}});
  const std::int64_t arrival = r.last_moment_ms + kDelay.count();

  const Listed early = orders(h, descending);
  EXPECT_EQ(early.total, 500);
  EXPECT_EQ(early.ids, before.ids) << "the newest rows are not at the front yet";
  EXPECT_EQ(early.rows, before.rows);
  EXPECT_EQ(invisible(h, "Orders"), 2U);
  EXPECT_EQ(h.get(records_path(h) + "/" + CustomTable::order_id(r.created.front())).status, 200);
  ASSERT_LT(system_now_ms(), arrival);

  sleep_until_server_time(arrival);
  const Listed late = orders(h, descending);
  EXPECT_EQ(late.total, 501);
  ASSERT_GE(late.ids.size(), 2U);
  // The two newest rows lead (in either order: they may share a millisecond, key ascending).
  EXPECT_EQ((std::set<std::int64_t>{late.ids[0], late.ids[1]}),
            (std::set<std::int64_t>{r.created.front(), 7}));
  EXPECT_EQ(late.rows, truth(h, "Orders", "orderId"));
}

// What lookback (interface.md) exists for: a row stamped earlier can arrive after a row stamped
// later, so a reader whose watermark already passed the later row never sees the earlier one.
TEST(SimVisibility, ArrivalOrderCanDifferFromMomentOrder) {
  SimOptions o = small_options(50);
  o.visibility_delay = kDelay;
  Harness h(o);
  const MutationResult slow = h.sim.mutate({.table = "Customers", .update_ids = {10, 12}});
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const MutationResult fast = h.sim.mutate({.table = "Customers",
                                            .update_ids = {11, 12},
                                            .visibility_delay = std::chrono::milliseconds(0)});
  ASSERT_GT(fast.first_moment_ms, slow.last_moment_ms);
  const auto stored = truth(h, "Customers", "profileId");

  const Listed early = profiles(h, since(slow.first_moment_ms) + "&sort=updateMoment,asc");
  // Row 11 (newer moment) is listed, row 10 (older moment) is not. Row 12's second write has no
  // delay: it is listed at once, and its first write never shows.
  EXPECT_EQ(early.ids, (std::vector<std::int64_t>{11, 12}));
  EXPECT_EQ(early.total, 2);
  EXPECT_EQ(early.rows.at(12), stored.at(12));
  EXPECT_EQ(invisible(h, "Customers"), 1U);
  ASSERT_LT(system_now_ms(), slow.last_moment_ms + kDelay.count());

  sleep_until_server_time(slow.last_moment_ms + kDelay.count());
  const Listed late = profiles(h, since(slow.first_moment_ms) + "&sort=updateMoment,asc");
  EXPECT_EQ(late.ids, (std::vector<std::int64_t>{10, 11, 12}));
  EXPECT_EQ(late.total, 3);
  EXPECT_EQ(late.rows.at(10), stored.at(10));
  EXPECT_EQ(late.rows.at(12), stored.at(12));
}

TEST(SimVisibility, StaticObjectsHoldWritesBackAndRunTimeChangesApplyToLaterWrites) {
  Harness h(small_options(30));
  const Listed before = list(h, std::string(kCampaigns) + "?size=200", "emailCampaigns", "id");
  h.sim.set_visibility_delay(kDelay);
  MutationSpec m;
  m.object = "EmailCampaigns";
  m.creates = 1;
  m.update_ids = {4};
  const MutationResult held = h.sim.mutate(m);
  h.sim.set_visibility_delay(std::chrono::milliseconds(0));
  m.update_ids.clear();
  const MutationResult at_once = h.sim.mutate(m);
  const std::int64_t arrival = held.last_moment_ms + kDelay.count();

  const Listed early = list(h, std::string(kCampaigns) + "?size=200", "emailCampaigns", "id");
  EXPECT_EQ(early.total, before.total + 1);
  EXPECT_FALSE(early.rows.contains(held.created.front()));
  EXPECT_TRUE(early.rows.contains(at_once.created.front())) << "written with delay 0";
  EXPECT_EQ(early.rows.at(4), before.rows.at(4)) << "the previous version until it arrives";
  EXPECT_EQ(h.get(std::string(kCampaigns) + "/" + std::to_string(held.created.front())).status,
            200);
  ASSERT_LT(system_now_ms(), arrival);

  sleep_until_server_time(arrival);
  const Listed late = list(h, std::string(kCampaigns) + "?size=200", "emailCampaigns", "id");
  EXPECT_EQ(late.total, before.total + 2);
  EXPECT_TRUE(late.rows.contains(held.created.front()));
  EXPECT_NE(late.rows.at(4).at("updateMoment"), before.rows.at(4).at("updateMoment"));
  std::map<std::int64_t, json::object> stored;
  for (const auto& row : h.sim.rows("EmailCampaigns")) stored[row.at("id").as_int64()] = row;
  EXPECT_EQ(late.rows, stored);
}

TEST(SimVisibility, ScheduledMutationsTakeTheDelayToo) {
  SimOptions o = small_options(100);
  o.visibility_delay = std::chrono::minutes(1);
  o.mutations.every = std::chrono::milliseconds(100);
  o.mutations.creates = 2;
  o.mutations.updates = 3;
  o.mutations.tables = {"Customers"};
  o.log_level = "error";
  Harness h(o);
  const Listed before = profiles(h);
  std::this_thread::sleep_for(std::chrono::milliseconds(450));
  EXPECT_GE(h.sim.row_count("Customers"), 104U);
  EXPECT_GE(invisible(h, "Customers"), 4U);
  const Listed now = profiles(h);
  EXPECT_EQ(now.total, 100);
  EXPECT_EQ(now.rows, before.rows);
}

TEST(SimVisibility, ControlApiAndCommandLine) {
  Harness h(small_options(20));
  TestClient control(h.sim.port());
  HttpResult r = control.get("/_sim/visibility");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.object().at("visibility_delay_ms").as_int64(), 0);
  r = control.send(http::verb::post, "/_sim/visibility", {}, R"({"visibility_delay_ms":60000})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.object().at("visibility_delay_ms").as_int64(), 60000);
  EXPECT_EQ(h.sim.visibility_delay(), std::chrono::minutes(1));
  EXPECT_EQ(control.send(http::verb::post, "/_sim/visibility", {}, R"({"visibility_delay_ms":-1})")
                .code(),
            "VALIDATION_FAILED");
  EXPECT_EQ(control.send(http::verb::post, "/_sim/visibility", {}, R"({"delay":1})").status, 400);

  // A mutation may override the delay; without an override it takes the knob (a minute here).
  r = control.send(http::verb::post, "/_sim/mutate", {},
                   R"({"table":"Customers","creates":1,"visibility_delay_ms":0})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(profiles(h).total, 21);
  r = control.send(http::verb::post, "/_sim/mutate", {}, R"({"table":"Customers","creates":1})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(profiles(h).total, 21);
  EXPECT_EQ(control
                .send(http::verb::post, "/_sim/mutate", {},
                      R"({"table":"Customers","creates":1,"visibility_delay_ms":-5})")
                .status,
            400);
  const json::object count = control.get("/_sim/tables/Customers/count").object();
  EXPECT_EQ(count.at("count").as_int64(), 22);
  EXPECT_EQ(count.at("invisible").as_int64(), 1);

  EXPECT_EQ(parse_command_line({"--visibility-delay", "2500ms"}).sim.visibility_delay,
            std::chrono::milliseconds(2500));
  EXPECT_EQ(parse_command_line({"--visibility-delay=3s"}).sim.visibility_delay,
            std::chrono::seconds(3));
  EXPECT_EQ(parse_command_line({}).sim.visibility_delay, std::chrono::milliseconds(0));
  EXPECT_THROW(parse_command_line({"--visibility-delay", "soon"}), CliError);
  EXPECT_NE(usage().find("--visibility-delay DURATION"), std::string::npos);
  EXPECT_NE(usage().find("/_sim/visibility"), std::string::npos);
}

// Lists run on the server threads while another thread writes with a delay and deletes: every
// answer is one consistent state (totalElements = rows listed, ids unique and ordered), and once
// everything arrived the lists equal the data.
TEST(SimVisibility, ListsStayConsistentWhileLateWritesArrive) {
  SimOptions o = small_options(200);
  o.data.custom_records = 200;
  o.visibility_delay = std::chrono::milliseconds(40);
  Harness h(o);
  std::atomic<bool> done{false};
  std::int64_t last_moment = 0;
  std::thread writer([&] {
    for (int i = 0; i < 120; ++i) {
      for (const char* table : {"Customers", "Orders"}) {
        const MutationResult r = h.sim.mutate({.table = table,
                                               .creates = 2,
                                               .updates = 4,
                                               .deletes = i % 4 == 0 ? 1 : 0,
                                               .same_moment = i % 5 == 0});
        if (r.last_moment_ms != 0) last_moment = std::max(last_moment, r.last_moment_ms);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    done = true;
  });
  int checked = 0;
  bool consistent = true;
  while (!done && consistent) {
    for (const char* query : {"", "&sort=updateMoment,desc", "&sort=updateMoment,asc"}) {
      for (const Listed& l : {profiles(h, query), orders(h, query)}) {
        EXPECT_EQ(l.total, static_cast<std::int64_t>(l.ids.size()));
        EXPECT_EQ(l.rows.size(), l.ids.size()) << "an id was listed twice";
        if (*query == '\0') {
          EXPECT_TRUE(std::is_sorted(l.ids.begin(), l.ids.end()));
        }
        consistent = consistent && l.total == static_cast<std::int64_t>(l.ids.size()) &&
                     l.rows.size() == l.ids.size();
      }
      ++checked;
    }
  }
  writer.join();
  ASSERT_TRUE(consistent);
  EXPECT_GT(checked, 3);
  sleep_until_server_time(last_moment + 40);
  EXPECT_EQ(profiles(h).rows, truth(h, "Customers", "profileId"));
  EXPECT_EQ(orders(h).rows, truth(h, "Orders", "orderId"));
  EXPECT_EQ(invisible(h, "Customers") + invisible(h, "Orders"), 0U);
}

}  // namespace
}  // namespace replicator::actito_sim

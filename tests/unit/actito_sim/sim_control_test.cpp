// Tests of what the issue-3 tests need from the simulator: mutations of static objects, run-time
// structure changes, the call log, and a table-driven check of the whole catalog (native filters,
// extended fields, fan-out, generated value types).
#include <algorithm>
#include <atomic>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "tests/actito_sim/catalog.hpp"
#include "tests/actito_sim/timestamp.hpp"
#include "tests/unit/actito_sim/sim_test_support.hpp"

namespace replicator::actito_sim {
namespace {

using namespace sim_test;  // NOLINT(google-build-using-namespace): test support

constexpr const char* kCampaigns = "/email-campaigns/v5/entities/acme/email-campaigns";
constexpr const char* kForms = "/forms/v5/entities/acme/forms";
constexpr const char* kProfileStructure =
    "/profile-table-structure/v5/entities/acme/profile-tables/16";

const json::value* find_path(const json::object& row, std::string_view wire) {
  const json::object* object = &row;
  for (;;) {
    const std::size_t dot = wire.find('.');
    const json::value* value = object->if_contains(wire.substr(0, dot));
    if (value == nullptr || dot == std::string_view::npos) return value;
    object = value->if_object();
    if (object == nullptr) return nullptr;
    wire = wire.substr(dot + 1);
  }
}

std::map<std::int64_t, json::object> by_id(const std::vector<json::object>& rows) {
  std::map<std::int64_t, json::object> out;
  for (const auto& row : rows) out[row.at("id").to_number<std::int64_t>()] = row;
  return out;
}

std::string path_of(const std::string& route) {
  std::string path = route;
  for (const auto& [param, value] : std::vector<std::pair<std::string, std::string>>{
           {"{entity}", "acme"}, {"{profileTableId}", "16"}}) {
    if (const auto at = path.find(param); at != std::string::npos)
      path.replace(at, param.size(), value);
  }
  return path;
}

bool is_key(const ObjectSpec& spec, const FieldSpec& f) {
  return std::find(spec.key.begin(), spec.key.end(), f.wire) != spec.key.end() ||
         f.wire == spec.child_field_wire;
}

// ---- mutations of static objects ---------------------------------------------------------------

TEST(SimStaticMutations, EveryStaticObjectCreatesUpdatesAndDeletes) {
  Harness h(small_options(30));
  const Catalog catalog = Catalog::load_file(default_catalog_path());
  int mutated = 0;
  for (const auto& spec : catalog.objects()) {
    if (spec.name == "ProfileTables" || spec.name == "CustomTables") continue;
    SCOPED_TRACE(spec.name);
    const auto before = by_id(h.sim.rows(spec.name));
    ASSERT_GE(before.size(), 5U);
    const std::int64_t max_before = before.rbegin()->first;
    MutationSpec m;
    m.object = spec.name;
    m.creates = 2;
    m.updates = 3;
    m.deletes = 1;
    const MutationResult r = h.sim.mutate(m);
    ASSERT_EQ(r.created.size(), 2U);
    ASSERT_EQ(r.updated.size(), 3U);
    ASSERT_EQ(r.deleted.size(), 1U);
    EXPECT_GT(r.created.front(), max_before);
    const auto after = by_id(h.sim.rows(spec.name));
    EXPECT_EQ(after.size(), before.size() + 1);
    EXPECT_FALSE(after.contains(r.deleted.front()));
    for (const auto id : r.created) ASSERT_TRUE(after.contains(id)) << id;
    const bool has_update = spec.field("updateMoment") != nullptr;
    const bool has_extended = std::any_of(spec.fields.begin(), spec.fields.end(),
                                          [](const FieldSpec& f) { return f.extended; });
    for (const auto id : r.updated) {
      const json::object& old = before.at(id);
      const json::object& now = after.at(id);
      bool list_changed = false, extended_changed = false;
      for (const auto& f : spec.fields) {
        if (is_key(spec, f) || f.wire == "creationMoment" || f.wire == "updateMoment") {
          const json::value* a = find_path(old, f.wire);
          const json::value* b = find_path(now, f.wire);
          if (f.wire != "updateMoment") {
            EXPECT_TRUE(a && b && *a == *b) << f.wire << " changed";
          }
          continue;
        }
        const json::value* a = find_path(old, f.wire);
        const json::value* b = find_path(now, f.wire);
        const bool differs = (a == nullptr) != (b == nullptr) || (a != nullptr && *a != *b);
        (f.extended ? extended_changed : list_changed) |= differs;
      }
      EXPECT_TRUE(list_changed) << "row " << id;
      if (has_extended) {
        EXPECT_TRUE(extended_changed) << "row " << id;
      }
      if (has_update) {
        const auto updated = parse_timestamp(now.at("updateMoment").as_string());
        EXPECT_GE(updated, parse_timestamp(old.at("updateMoment").as_string()));
        EXPECT_GE(updated, r.first_moment_ms);
        EXPECT_LE(parse_timestamp(now.at("creationMoment").as_string()), updated);
      }
    }
    for (const auto id : r.created) {
      const json::object& row = after.at(id);
      if (spec.field("creationMoment") != nullptr) {
        EXPECT_GE(parse_timestamp(row.at("creationMoment").as_string()),
                  h.sim.dataset().anchor_ms());
      }
      if (has_update) {
        EXPECT_EQ(row.at("creationMoment"), row.at("updateMoment"));
      }
      if (!spec.parent_object.empty()) {
        const auto parents = by_id(h.sim.rows(spec.parent_object));
        EXPECT_TRUE(parents.contains(row.at(spec.child_field_wire).to_number<std::int64_t>()));
      }
    }
    ++mutated;
  }
  EXPECT_EQ(mutated, 27);  // every static object but ProfileTables and CustomTables
}

TEST(SimStaticMutations, UpdatesAreVisibleThroughTheWireWithTheirNewMoment) {
  Harness h(small_options(30));
  const auto old = h.ok(std::string(kCampaigns) + "/4");
  MutationSpec m;
  m.object = "EmailCampaigns";
  m.update_ids = {4};
  const MutationResult r = h.sim.mutate(m);
  ASSERT_EQ(r.updated, std::vector<std::int64_t>{4});
  const std::string moment = format_iso_utc(r.first_moment_ms);
  const auto changed = h.ok(std::string(kCampaigns) +
                            "?search=" + encode(fmt::format("updateMoment=ge=\"{}\"", moment)));
  const auto& rows = changed.at("emailCampaigns").as_array();
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_EQ(rows[0].as_object().at("id").as_int64(), 4);
  EXPECT_FALSE(rows[0].as_object().contains("subject"));  // still a list row (3.8)
  const auto single = h.ok(std::string(kCampaigns) + "/4");
  bool extended_changed = false;  // the extended fields change too
  for (const char* f :
       {"subject", "from", "replyTo", "entityOfTarget", "targetTable", "supportedLanguages",
        "encoding", "contentType", "goalTracking", "targetingId"}) {
    extended_changed |= single.at(f) != old.at(f);
  }
  EXPECT_TRUE(extended_changed);
  EXPECT_EQ(single.at("creationMoment"), old.at("creationMoment"));

  // EmailCampaigns and EmailCampaignsExtended are one data set.
  const auto plain = by_id(h.sim.rows("EmailCampaigns"));
  const auto extended = by_id(h.sim.rows("EmailCampaignsExtended"));
  EXPECT_EQ(plain.at(4).at("updateMoment"), extended.at(4).at("updateMoment"));
  EXPECT_FALSE(plain.at(4).contains("subject"));
  EXPECT_TRUE(extended.at(4).contains("subject"));
  m.update_ids.clear();
  m.object = "EmailCampaignsExtended";
  m.creates = 1;
  const auto created = h.sim.mutate(m).created.front();
  EXPECT_TRUE(by_id(h.sim.rows("EmailCampaigns")).contains(created));
  EXPECT_EQ(h.get(std::string(kCampaigns) + "/" + std::to_string(created)).status, 200);

  // Explicit ids must exist; same_moment stamps one moment.
  MutationSpec bad;
  bad.object = "Forms";
  bad.delete_ids = {999};
  EXPECT_THROW(h.sim.mutate(bad), std::invalid_argument);
  MutationSpec bulk;
  bulk.object = "Targetings";
  bulk.updates = 4;
  bulk.creates = 3;
  bulk.same_moment = true;
  const MutationResult b = h.sim.mutate(bulk);
  EXPECT_EQ(b.first_moment_ms, b.last_moment_ms);
  const auto plateau = h.ok("/targetings/v5/entities/acme/targetings?search=" +
                            encode("updateMoment==\"" + format_iso_utc(b.first_moment_ms) + "\""));
  EXPECT_EQ(plateau.at("page").as_object().at("totalElements").as_int64(), 7);
}

TEST(SimStaticMutations, DeletingAParentRemovesItsChildrenAndTheChildRouteAnswers404) {
  Harness h(small_options(30));
  TestClient control(h.sim.port());
  const auto results_before = h.ok(std::string(kCampaigns) + "/3/results?size=200");
  const auto children = results_before.at("page").as_object().at("totalElements").as_int64();
  ASSERT_GT(children, 0);
  const std::size_t all_results = h.sim.row_count("EmailCampaignResults");
  HttpResult r = control.send(http::verb::post, "/_sim/mutate", {},
                              R"({"object":"EmailCampaignsExtended","delete_ids":[3]})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.object().at("deleted_ids").as_array(), json::array{3});
  EXPECT_EQ(r.object().at("cascaded").as_int64(), children);
  EXPECT_EQ(h.get(std::string(kCampaigns) + "/3").code(), "RECORD_NOT_FOUND");
  EXPECT_EQ(h.get(std::string(kCampaigns) + "/3/results").code(), "RECORD_NOT_FOUND");
  EXPECT_EQ(h.sim.row_count("EmailCampaignResults"),
            all_results - static_cast<std::size_t>(children));
  for (const auto& row : h.sim.rows("EmailCampaignResults"))
    EXPECT_NE(row.at("campaignId").as_int64(), 3);

  // Creates of a nested object go under an existing (or the given) parent.
  r = control.send(http::verb::post, "/_sim/mutate", {},
                   R"({"object":"FormParticipations","creates":2,"parent_id":5})");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto participations = h.ok(std::string(kForms) + "/5/participations?size=200");
  std::set<std::int64_t> ids;
  for (const auto& row : participations.at("participations").as_array())
    ids.insert(row.as_object().at("id").as_int64());
  const json::object created = r.object();
  for (const auto& id : created.at("created_ids").as_array())
    EXPECT_TRUE(ids.contains(id.as_int64()));
  MutationSpec forms;
  forms.object = "Forms";
  forms.delete_ids = {5};
  EXPECT_EQ(h.sim.mutate(forms).cascaded, static_cast<std::int64_t>(ids.size()));
  EXPECT_EQ(h.get(std::string(kForms) + "/5/participations").code(), "RECORD_NOT_FOUND");
  EXPECT_EQ(control
                .send(http::verb::post, "/_sim/mutate", {},
                      R"({"object":"FormParticipations","creates":1,"parent_id":5})")
                .status,
            400);
  EXPECT_EQ(control
                .send(http::verb::post, "/_sim/mutate", {},
                      R"({"table":"Customers","object":"Forms","creates":1})")
                .status,
            400);
}

TEST(SimStaticMutations, ExplicitIdsOnProfileTables) {
  Harness h(small_options(100));
  MutationSpec m;
  m.table = "Customers";
  m.delete_ids = {7, 8};
  m.update_ids = {9};
  m.updates = 2;
  const MutationResult r = h.sim.mutate(m);
  EXPECT_EQ(r.deleted, (std::vector<std::int64_t>{7, 8}));
  ASSERT_EQ(r.updated.size(), 3U);
  EXPECT_TRUE(std::find(r.updated.begin(), r.updated.end(), 9) != r.updated.end());
  EXPECT_EQ(h.get(std::string(kProfiles) + "/7").code(), "RECORD_NOT_FOUND");
  EXPECT_EQ(h.sim.row_count("Customers"), 98U);
  m.delete_ids = {7};
  m.update_ids.clear();
  EXPECT_THROW(h.sim.mutate(m), std::invalid_argument);  // already gone
}

// ---- run-time structure changes (contract 5.5) --------------------------------------------------

json::array attribute_names(const json::object& structure) {
  json::array names;
  for (const auto& a : structure.at("attributes").as_array()) names.push_back(a.at("name"));
  return names;
}

bool has_name(const json::array& names, std::string_view name) {
  return std::any_of(names.begin(), names.end(),
                     [&](const json::value& v) { return v.as_string() == name; });
}

TEST(SimStructure, AddedAttributeIsListedAndCarriedByNewOrUpdatedRowsOnly) {
  Harness h(small_options(50));
  TestClient control(h.sim.port());
  HttpResult r = control.send(http::verb::post, "/_sim/tables/Customers/attributes", {},
                              R"({"name":"vipSince","valueType":"DATE"})");
  ASSERT_EQ(r.status, 200) << r.body;
  h.sim.add_attribute("Customers", AttributeSpec{"hobbies", "STRING", true});
  const auto structure = h.ok(kProfileStructure);
  const auto names = attribute_names(structure);
  EXPECT_TRUE(has_name(names, "vipSince"));
  EXPECT_TRUE(has_name(names, "hobbies"));
  const auto& last = structure.at("attributes").as_array().back().as_object();
  EXPECT_EQ(last.at("valueType").as_string(), "STRING");
  EXPECT_TRUE(last.at("multiValued").as_bool());
  EXPECT_FALSE(
      h.ok(std::string(kProfiles) + "/3").at("attributes").as_object().contains("vipSince"));

  MutationSpec m;
  m.table = "Customers";
  m.creates = 1;
  m.update_ids = {3};
  const MutationResult mr = h.sim.mutate(m);
  for (const std::int64_t id : {std::int64_t{3}, mr.created.front()}) {
    const auto attributes =
        h.ok(std::string(kProfiles) + "/" + std::to_string(id)).at("attributes").as_object();
    ASSERT_TRUE(attributes.contains("vipSince")) << id;
    EXPECT_TRUE(std::regex_match(std::string(attributes.at("vipSince").as_string()),
                                 std::regex(R"(\d{4}-\d\d-\d\d)")));
    ASSERT_TRUE(attributes.at("hobbies").is_array());
  }
  const auto page = h.ok(std::string(kProfiles) + "?size=1000");
  int carrying = 0;
  for (const auto& row : page.at("profiles").as_array())
    carrying += row.at("attributes").as_object().contains("vipSince") ? 1 : 0;
  EXPECT_EQ(carrying, 2);

  // Removing: a run-time attribute and a built-in one.
  EXPECT_EQ(control.send(http::verb::delete_, "/_sim/tables/Customers/attributes/vipSince", {}, "")
                .status,
            200);
  h.sim.remove_attribute("Customers", "loyaltyPoints");
  const auto after = attribute_names(h.ok(kProfileStructure));
  EXPECT_FALSE(has_name(after, "vipSince"));
  EXPECT_FALSE(has_name(after, "loyaltyPoints"));
  EXPECT_TRUE(has_name(after, "hobbies"));
  const auto row = h.ok(std::string(kProfiles) + "/3").at("attributes").as_object();
  EXPECT_FALSE(row.contains("vipSince"));
  EXPECT_FALSE(row.contains("loyaltyPoints"));
  EXPECT_TRUE(row.contains("hobbies"));
  // The list of profile tables shows the same structure.
  const auto tables = h.ok("/profile-table-structure/v5/entities/acme/profile-tables");
  EXPECT_FALSE(has_name(attribute_names(tables.at("profileTables").as_array()[0].as_object()),
                        "loyaltyPoints"));

  // Errors: duplicates (any letter case), reserved names, bad types, attributes the table needs.
  EXPECT_THROW(h.sim.add_attribute("Customers", {"Hobbies", "STRING", false}),
               std::invalid_argument);
  EXPECT_THROW(h.sim.add_attribute("Customers", {"ProfileId", "LONG", false}),
               std::invalid_argument);
  EXPECT_THROW(h.sim.add_attribute("Customers", {"x", "JSON", false}), std::invalid_argument);
  EXPECT_THROW(h.sim.remove_attribute("Customers", "emailAddress"), std::invalid_argument);
  EXPECT_THROW(h.sim.remove_attribute("Customers", "nope"), std::invalid_argument);
  EXPECT_EQ(
      control.send(http::verb::delete_, "/_sim/tables/Orders/attributes/orderId", {}, "").code(),
      "VALIDATION_FAILED");
  EXPECT_EQ(
      control.send(http::verb::post, "/_sim/tables/Nope/attributes", {}, R"({"name":"a"})").status,
      400);
}

TEST(SimStructure, CustomTablesChangeToo) {
  Harness h(small_options(50));
  const std::string records =
      "/custom-tables/v5/entities/acme/custom-tables/" + h.sim.custom_table_id() + "/records";
  const std::string structure =
      "/custom-table-structure/v5/entities/acme/custom-tables/" + h.sim.custom_table_id();
  h.sim.add_attribute("Orders", {"channel", "STRING", false});
  h.sim.add_attribute("Orders", {"discount", "NUMBER", false});
  h.sim.remove_attribute("Orders", "note");
  const auto names = attribute_names(h.ok(structure));
  EXPECT_TRUE(has_name(names, "channel"));
  EXPECT_FALSE(has_name(names, "note"));
  MutationSpec m;
  m.table = "Orders";
  m.creates = 1;
  const auto id = h.sim.mutate(m).created.front();
  const auto created = h.ok(records + "/" + CustomTable::order_id(id));
  EXPECT_TRUE(created.at("channel").is_string());
  EXPECT_TRUE(created.at("discount").is_number());
  EXPECT_FALSE(created.contains("note"));
  const auto old = h.ok(records + "/" + CustomTable::order_id(1));
  EXPECT_FALSE(old.contains("channel"));
  // A key scan projection is unchanged.
  const auto keys = h.ok(records + "?fields=orderId&size=1000&sort=orderId,asc");
  EXPECT_EQ(keys.at("records").as_array().back().as_object().size(), 2U);  // id + orderId
}

TEST(SimStructure, ChangesAreSafeWhileListsRun) {
  Harness h(small_options(2000));
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0}, pages{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 2; ++t) {
    readers.emplace_back([&] {
      TestClient client(h.sim.port());
      const std::string token = fetch_token(client);
      while (!stop) {
        for (const auto& target :
             {std::string(kProfiles) + "?size=1000&page=1",
              std::string("/profile-table-structure/v5/entities/acme/profile-tables")}) {
          const HttpResult r = client.get(target, bearer(token));
          if (r.status != 200) {
            ++failures;
            continue;
          }
          if (!json::parse(r.body).is_object()) ++failures;
          ++pages;
        }
      }
    });
  }
  const auto deadline = std::chrono::steady_clock::now() + 60s;  // generous for sanitizer builds
  for (int i = 0; i < 40 || (pages < 40 && std::chrono::steady_clock::now() < deadline); ++i) {
    const std::string name = fmt::format("extra{}", i);
    h.sim.add_attribute("Customers", {name, i % 2 == 0 ? "LONG" : "TIMESTAMP", false});
    MutationSpec m;
    m.table = "Customers";
    m.updates = 50;
    h.sim.mutate(m);
    if (i % 3 == 0) h.sim.remove_attribute("Customers", name);
    std::this_thread::sleep_for(2ms);  // let the readers in between
  }
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GE(pages.load(), 40);
}

// ---- the call log
// --------------------------------------------------------------------------------

TEST(SimCallLog, RecordsContractCallsWithDecodedParameters) {
  SimOptions o = small_options(50);
  Harness h(o);
  TestClient control(h.sim.port());
  h.sim.reset_stats();
  EXPECT_TRUE(h.sim.calls().empty());
  const std::string search = "updateMoment=ge=\"2025-01-01T00:00:00.000Z\";profileId==3";
  h.ok(std::string(kProfiles) + "?page=0&size=5&sort=updateMoment,asc&sort=profileId,desc&search=" +
       encode(search) + "&fields=profileId,attributes");
  EXPECT_EQ(h.get(std::string(kCampaigns) + "?search=" + encode("name==\"x\"")).status, 400);
  fetch_token(*h.client);
  control.get("/_sim/stats");  // not a contract call
  const auto calls = h.sim.calls();
  ASSERT_EQ(calls.size(), 3U);
  const CallRecord& list = calls[0];
  EXPECT_EQ(list.method, "GET");
  EXPECT_EQ(list.path, kProfiles);
  EXPECT_EQ(list.route, kProfilesRoute);
  EXPECT_EQ(list.status, 200);
  EXPECT_EQ(list.param("search"), search);
  EXPECT_EQ(list.param_values("sort"),
            (std::vector<std::string>{"updateMoment,asc", "profileId,desc"}));
  EXPECT_EQ(list.param("fields"), "profileId,attributes");
  EXPECT_EQ(list.param("page"), "0");
  EXPECT_EQ(list.param("size"), "5");
  EXPECT_EQ(calls[1].status, 400);
  EXPECT_EQ(calls[1].param("search"), "name==\"x\"");
  EXPECT_EQ(calls[2].route, "GET /auth/token");
  EXPECT_LT(calls[0].seq, calls[1].seq);
  EXPECT_EQ(h.sim.calls(calls[1].seq).size(), 1U);

  HttpResult r = control.get("/_sim/calls?path_prefix=" + encode("/email-campaigns"));
  ASSERT_EQ(r.status, 200) << r.body;
  const json::object log = r.object();
  const auto& listed = log.at("calls").as_array();
  ASSERT_EQ(listed.size(), 1U);
  EXPECT_EQ(listed[0].at("params").at("search").as_array()[0].as_string(), "name==\"x\"");
  EXPECT_EQ(listed[0].at("status").as_int64(), 400);
  EXPECT_EQ(control.get("/_sim/calls?after=" + std::to_string(calls[1].seq))
                .object()
                .at("calls")
                .as_array()
                .size(),
            1U);
  EXPECT_EQ(control.send(http::verb::post, "/_sim/stats/reset", {}, "").status, 200);
  EXPECT_TRUE(h.sim.calls().empty());
  EXPECT_TRUE(control.get("/_sim/calls").object().at("calls").as_array().empty());
}

TEST(SimCallLog, IsABoundedRing) {
  SimOptions o = small_options(20);
  o.call_log_capacity = 5;
  Harness h(o);
  for (int i = 0; i < 9; ++i) h.ok(std::string(kProfiles) + "?page=" + std::to_string(i));
  const auto calls = h.sim.calls();
  ASSERT_EQ(calls.size(), 5U);
  EXPECT_EQ(calls.back().param("page"), "8");
  EXPECT_EQ(calls.front().param("page"), "4");
  EXPECT_EQ(h.sim.last_call_seq(), calls.back().seq);
}

// ---- the whole catalog, table-driven ------------------------------------------------------------

struct ObjectUnderTest {
  ObjectSpec spec;
  std::string path;  // list path (nested: of parent 1)
  std::string data;  // name for sim.rows()
};

std::vector<ObjectUnderTest> every_object(const Simulator& sim) {
  const Catalog catalog = Catalog::load_file(default_catalog_path());
  std::vector<ObjectUnderTest> out;
  for (const auto& spec : catalog.objects()) {
    std::string path = path_of(spec.list_route);
    if (!spec.parent_path_param.empty()) {
      const std::string param = "{" + spec.parent_path_param + "}";
      path.replace(path.find(param), param.size(), "1");
    }
    out.push_back({spec, path, spec.name});
  }
  for (const char* pattern : {"<ProfileTable>_Scenarios", "<ProfileTable>_Interactions",
                              "<ProfileTable>_SubscriptionInteractions"}) {
    std::string name =
        std::string("Customers") + (pattern + std::string_view("<ProfileTable>").size());
    const ObjectSpec spec = instantiate_plain_template(catalog.dynamic(pattern), name);
    out.push_back({spec, path_of(spec.list_route), name});
  }
  const auto* profiles = sim.dataset().table("Customers");
  out.push_back({profiles->spec(), path_of(profiles->spec().list_route), "Customers"});
  const auto* orders = sim.dataset().table("Orders");
  std::string records = orders->spec().list_route;
  records.replace(records.find("{customTableId}"), 15, sim.custom_table_id());
  out.push_back({orders->spec(), path_of(records), "Orders"});
  return out;
}

std::string quoted(const json::value& v) {
  if (v.is_string()) {
    std::string out = "\"";
    for (const char c : v.as_string()) {
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    return out + "\"";
  }
  return json::serialize(v);
}

TEST(SimCatalog, EveryNativeFilterIsAcceptedAndEveryOtherOneRejected) {
  Harness h(small_options(40));
  const auto objects = every_object(h.sim);
  int filters = 0;
  for (const auto& o : objects) {
    const ObjectSpec& spec = o.spec;
    SCOPED_TRACE(spec.name + " " + o.path);
    const auto page = h.ok(o.path + "?size=" + std::to_string(spec.max_page_size));
    const auto& rows = page.at(spec.collection_key).as_array();
    ASSERT_FALSE(rows.empty());
    for (const auto& [selector, ops] : spec.search_selectors) {
      const FieldSpec* field = spec.field(selector);
      ASSERT_NE(field, nullptr) << selector;
      // A value present in the data, so that matching can be checked.
      const json::value* sample = nullptr;
      for (const auto& row : rows) {
        const json::value* v = find_path(row.as_object(), selector);
        if (v != nullptr && !v->is_null()) {
          sample = v;
          break;
        }
      }
      ASSERT_NE(sample, nullptr) << selector;
      for (Op op : ops) {
        const std::string value =
            op == Op::kIn ? "(" + quoted(*sample) + "," + quoted(*sample) + ")" : quoted(*sample);
        const std::string search = selector + std::string(to_rsql(op)) + value;
        const HttpResult r = h.get(o.path + "?size=" + std::to_string(spec.max_page_size) +
                                   "&search=" + encode(search));
        ASSERT_EQ(r.status, 200) << search << " -> " << r.body;
        ++filters;
        const auto matched = r.object().at(spec.collection_key).as_array();
        if (op == Op::kEq || op == Op::kIn || op == Op::kLe || op == Op::kGe) {
          EXPECT_FALSE(matched.empty()) << search;
        }
        for (const auto& row : matched) {
          const json::value* v = find_path(row.as_object(), selector);
          ASSERT_NE(v, nullptr) << search;
          if (op == Op::kEq || op == Op::kIn) {
            EXPECT_EQ(*v, *sample) << search;
          } else if (field->type == FieldType::kTimestamp) {
            const auto a = parse_timestamp(v->as_string());
            const auto b = parse_timestamp(sample->as_string());
            EXPECT_TRUE(op == Op::kLt   ? a < b
                        : op == Op::kLe ? a <= b
                        : op == Op::kGt ? a > b
                                        : a >= b)
                << search;
          }
        }
      }
      // An operator outside the RSQL subset, and a native field with an operator not its own.
      EXPECT_EQ(h.get(o.path + "?search=" + encode(selector + "=out=" + quoted(*sample))).code(),
                "FILTER_NOT_SUPPORTED")
          << selector;
      for (Op op : {Op::kEq, Op::kLt, Op::kGt, Op::kIn}) {
        if (std::find(ops.begin(), ops.end(), op) != ops.end()) continue;
        const std::string value = op == Op::kIn ? "(" + quoted(*sample) + ")" : quoted(*sample);
        EXPECT_EQ(
            h.get(o.path + "?search=" + encode(selector + std::string(to_rsql(op)) + value)).code(),
            "FILTER_NOT_SUPPORTED")
            << selector << to_rsql(op);
        break;
      }
      // OR is not supported.
      EXPECT_EQ(
          h.get(o.path + "?search=" +
                encode(selector + "==" + quoted(*sample) + "," + selector + "==" + quoted(*sample)))
              .code(),
          "INVALID_SEARCH");
    }
    // Every non-native field is rejected, whatever the operator.
    for (const auto& f : spec.fields) {
      if (spec.native_ops(f.wire) != nullptr) continue;
      EXPECT_EQ(h.get(o.path + "?search=" + encode(f.wire + "==\"1\"")).code(),
                "FILTER_NOT_SUPPORTED")
          << f.wire;
    }
  }
  EXPECT_EQ(objects.size(),
            34U);  // 29 static + 3 per profile table + <ProfileTable> + <CustomTable>
  EXPECT_GT(filters, 150);
}

TEST(SimCatalog, ExtendedFieldsOnlyInTheSingleGet) {
  Harness h(small_options(20));
  const Catalog catalog = Catalog::load_file(default_catalog_path());
  for (const char* name :
       {"EmailCampaignsExtended", "EmailCampaignTemplates", "SMSCampaigns", "EmailCampaigns"}) {
    SCOPED_TRACE(name);
    // EmailCampaigns' single GET returns the fields of EmailCampaignsExtended too (6.1.1).
    const ObjectSpec& spec = catalog.object(
        std::string_view(name) == "EmailCampaigns" ? "EmailCampaignsExtended" : name);
    const std::string path = path_of(catalog.object(name).list_route);
    const auto page = h.ok(path + "?size=200");
    int rows = 0;
    for (const auto& row : page.at(spec.collection_key).as_array()) {
      const auto id = row.at("id").as_int64();
      const auto single = h.ok(path + "/" + std::to_string(id));
      for (const auto& f : spec.fields) {
        EXPECT_EQ(row.as_object().contains(f.wire), !f.extended) << f.wire;
        EXPECT_TRUE(single.contains(f.wire)) << f.wire;
        if (!f.extended) {
          EXPECT_EQ(single.at(f.wire), row.at(f.wire)) << f.wire;
        }
      }
      ++rows;
    }
    EXPECT_GE(rows, 10);
  }
}

TEST(SimCatalog, NestedObjectsFanOutPerParent) {
  Harness h(small_options(20));
  struct Case {
    const char* parent_path;
    const char* parent_key;
    const char* child_segment;
    const char* child_key;
    const char* child_field;
    const char* data;
  };
  for (const Case c : {Case{kCampaigns, "emailCampaigns", "results", "results", "campaignId",
                            "EmailCampaignResults"},
                       Case{kForms, "forms", "participations", "participations", "formId",
                            "FormParticipations"}}) {
    SCOPED_TRACE(c.data);
    std::int64_t total = 0, max_parent = 0;
    const auto parents = h.ok(std::string(c.parent_path) + "?size=200&sort=id,asc");
    for (const auto& parent : parents.at(c.parent_key).as_array()) {
      const auto id = parent.at("id").as_int64();
      max_parent = std::max(max_parent, id);
      const auto children =
          h.ok(fmt::format("{}/{}/{}?size=200", c.parent_path, id, c.child_segment));
      for (const auto& row : children.at(c.child_key).as_array())
        EXPECT_EQ(row.at(c.child_field).as_int64(), id);  // the path value repeated
      total += children.at("page").as_object().at("totalElements").as_int64();
    }
    EXPECT_EQ(total, static_cast<std::int64_t>(h.sim.row_count(c.data)));
    EXPECT_EQ(h.get(fmt::format("{}/{}/{}", c.parent_path, max_parent + 1, c.child_segment)).code(),
              "RECORD_NOT_FOUND");
  }
}

TEST(SimCatalog, GeneratedValuesHaveTheDeclaredTypes) {
  Harness h(small_options(40));
  const std::regex utc_ms(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)");
  const std::regex date(R"(\d{4}-\d\d-\d\d)");
  int objects_with_nulls = 0, objects_with_nullables = 0;
  for (const auto& o : every_object(h.sim)) {
    if (o.data == "Customers" || o.data == "Orders" || o.data == "ProfileTables" ||
        o.data == "CustomTables") {
      continue;  // checked by their own tests
    }
    const ObjectSpec& spec = o.spec;
    SCOPED_TRACE(spec.name);
    const auto rows = h.sim.rows(o.data);
    ASSERT_GE(rows.size(), 10U);
    bool any_null = false, any_nullable = false;
    for (const auto& row : rows) {
      for (const auto& f : spec.fields) {
        const json::value* v = find_path(row, f.wire);
        ASSERT_NE(v, nullptr) << f.wire;
        any_nullable |= f.nullable;
        if (v->is_null()) {
          EXPECT_TRUE(f.nullable) << f.wire;
          any_null = true;
          continue;
        }
        switch (f.type) {
          case FieldType::kString:
            ASSERT_TRUE(v->is_string()) << f.wire;
            if (!f.enum_values.empty()) {
              EXPECT_NE(std::find(f.enum_values.begin(), f.enum_values.end(),
                                  std::string(v->as_string())),
                        f.enum_values.end())
                  << f.wire << "=" << v->as_string();
            }
            break;
          case FieldType::kInteger:
            EXPECT_TRUE(v->is_int64() && v->as_int64() >= INT32_MIN && v->as_int64() <= INT32_MAX)
                << f.wire;
            break;
          case FieldType::kLong:
            EXPECT_TRUE(v->is_int64()) << f.wire;
            break;
          case FieldType::kNumber:
            EXPECT_TRUE(v->is_number()) << f.wire;
            break;
          case FieldType::kBoolean:
            EXPECT_TRUE(v->is_bool()) << f.wire;
            break;
          case FieldType::kDate:
            EXPECT_TRUE(v->is_string() && std::regex_match(std::string(v->as_string()), date))
                << f.wire;
            break;
          case FieldType::kTimestamp:
            EXPECT_TRUE(v->is_string() && std::regex_match(std::string(v->as_string()), utc_ms))
                << f.wire;
            break;
          case FieldType::kJson:
            EXPECT_TRUE(v->is_object() || v->is_array()) << f.wire;
            break;
          case FieldType::kStringArray:
            ASSERT_TRUE(v->is_array()) << f.wire;
            for (const auto& item : v->as_array()) EXPECT_TRUE(item.is_string()) << f.wire;
            break;
        }
      }
      if (row.contains("creationMoment") && row.contains("updateMoment")) {
        EXPECT_LE(parse_timestamp(row.at("creationMoment").as_string()),
                  parse_timestamp(row.at("updateMoment").as_string()));
      }
    }
    objects_with_nullables += any_nullable ? 1 : 0;
    objects_with_nulls += any_null ? 1 : 0;
  }
  // Nullable fields are sometimes null: in (almost) every object that has some.
  EXPECT_GE(objects_with_nulls, objects_with_nullables - 2);
}

}  // namespace
}  // namespace replicator::actito_sim

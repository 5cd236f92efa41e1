// The pure pieces of ActitoSource: the single-record GET target of static, profile-table,
// custom-table and nested objects, the list target with a key-scan projection (contract 3.5),
// and the decoding of a single GET that carries extended fields (3.8).
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "config/catalog_loader.hpp"
#include "core/actito/discovery.hpp"
#include "core/actito/source.hpp"
#include "core/engine/stream_plan.hpp"
#include "core/model/error.hpp"
#include "core/model/timestamp.hpp"

namespace replicator::actito {
namespace {

namespace json = boost::json;
using model::Timestamp;

const model::Catalog& catalog() {
  static const model::Catalog kCatalog = config::builtin_catalog();
  return kCatalog;
}

const model::ObjectDescriptor& static_object(std::string_view name) {
  const model::ObjectDescriptor* o = catalog().find_static(name);
  if (!o) throw std::runtime_error("no static object " + std::string(name));
  return *o;
}

model::ObjectDescriptor named(const std::vector<model::ObjectDescriptor>& objects, std::string_view name) {
  for (const auto& o : objects) {
    if (o.name == name) return o;
  }
  throw std::runtime_error("discovery produced no object " + std::string(name));
}

// The structure of contract 5.2, trimmed.
std::vector<model::ObjectDescriptor> contacts() {
  return expand_profile_table(catalog(), json::parse(R"({
    "id": "16", "name": "Contacts",
    "attributes": [
      {"type": "CUSTOM", "name": "profileId", "unique": true, "mandatory": true, "valueType": "INTEGER"},
      {"type": "CUSTOM", "name": "creationMoment", "mandatory": true, "valueType": "TIMESTAMP"},
      {"type": "CUSTOM", "name": "updateMoment", "mandatory": true, "valueType": "TIMESTAMP"},
      {"type": "EMAIL_ADDRESS", "name": "emailAddress", "unique": true, "mandatory": true}
    ],
    "subscriptions": [{"name": "Newsletter"}],
    "segmentations": []
  })"));
}

// The structure of contract 5.3, trimmed.
std::vector<model::ObjectDescriptor> online_orders() {
  return expand_custom_table(catalog(), json::parse(R"({
    "id": "a4aa57cd-64c4-49bc-a17b-34ac8dfa76f8", "name": "OnlineOrders", "type": "INTERACTIONS",
    "primaryKeyAttribute": "orderId", "creationTimeAttribute": null, "bigTable": false,
    "attributes": [
      {"name": "orderId", "valueType": "STRING", "mandatory": true, "unique": true},
      {"name": "amount", "valueType": "NUMBER", "mandatory": true}
    ],
    "foreignKeys": [], "eventsToTrigger": []
  })"));
}

engine::StreamSpec plan(const model::ObjectDescriptor& object, const model::ObjectDescriptor* parent = nullptr) {
  engine::StreamRequest r;
  r.object = object.name;
  return engine::plan_stream(r, object, parent);
}

std::size_t index_of(const engine::StreamSpec& spec, std::string_view name) {
  for (std::size_t i = 0; i < spec.fields.size(); ++i) {
    if (spec.fields[i].name == name) return i;
  }
  ADD_FAILURE() << name << " is not in the layout";
  return 0;
}

TEST(SourceGetTarget, StaticObjectById) {
  engine::StreamSpec spec = plan(static_object("EmailCampaigns"));
  EXPECT_EQ(get_target(spec, {std::int64_t{311}}, "acme"), "/email-campaigns/v5/entities/acme/email-campaigns/311");
  // The entity segment is used as given (the client encodes it once).
  EXPECT_EQ(get_target(spec, {std::int64_t{7}}, "a%20b"), "/email-campaigns/v5/entities/a%20b/email-campaigns/7");
}

TEST(SourceGetTarget, ProfileTableObjectByProfileKey) {
  model::ObjectDescriptor contacts_object = named(contacts(), "Contacts");
  ASSERT_NE(contacts_object.get_route.find("{profileKey}"), std::string::npos) << contacts_object.get_route;
  engine::StreamSpec spec = plan(contacts_object);
  EXPECT_EQ(get_target(spec, {std::int64_t{42}}, "acme"), "/profiles/v5/entities/acme/profile-tables/16/profiles/42");
}

TEST(SourceGetTarget, CustomTableRecordKeyIsPercentEncoded) {
  model::ObjectDescriptor orders = named(online_orders(), "OnlineOrders");
  ASSERT_EQ(orders.key, (std::vector<std::string>{"OrderId"}));
  engine::StreamSpec spec = plan(orders);
  EXPECT_EQ(get_target(spec, {std::string("A/B C+\xC3\xA9%?#")}, "acme"),
            "/custom-tables/v5/entities/acme/custom-tables/a4aa57cd-64c4-49bc-a17b-34ac8dfa76f8/records/"
            "A%2FB%20C%2B%C3%A9%25%3F%23");
}

TEST(SourceGetTarget, NestedObjectTakesTheLastKeyValue) {
  model::ObjectDescriptor participations = static_object("FormParticipations");
  const model::ObjectDescriptor& forms = static_object("Forms");
  // The parent id as a route parameter (how a fan-out fills it).
  participations.route_params["formId"] = "7";
  engine::StreamSpec spec = plan(participations, &forms);
  EXPECT_EQ(get_target(spec, {std::int64_t{7}, std::int64_t{12}}, "acme"),
            "/forms/v5/entities/acme/forms/7/participations/12");
  // Without it, the key (FormId, Id) fills both placeholders in order.
  engine::StreamSpec bare = plan(static_object("FormParticipations"), &forms);
  EXPECT_EQ(get_target(bare, {std::int64_t{7}, std::int64_t{12}}, "acme"),
            "/forms/v5/entities/acme/forms/7/participations/12");
}

TEST(SourceGetTarget, ObjectsWithoutASingleRouteRefuse) {
  engine::StreamSpec spec = plan(static_object("EmailCampaignResults"), &static_object("EmailCampaigns"));
  EXPECT_THROW(get_target(spec, {std::int64_t{3}, std::int64_t{1}}, "acme"), model::Error);
}

TEST(SourceListTarget, AKeyScanAsksForTheKeyOnly) {
  engine::StreamSpec spec = plan(named(contacts(), "Contacts"));
  engine::ListQuery q;
  q.page = 2;
  q.size = 1000;
  q.sort = {{"Id", false}};
  const std::string route = "/profiles/v5/entities/acme/profile-tables/16/profiles";
  EXPECT_EQ(list_target(spec, q, "acme"), route + "?page=2&size=1000&sort=profileId,asc");
  spec.projection = {"profileId"};
  EXPECT_EQ(list_target(spec, q, "acme"), route + "?page=2&size=1000&sort=profileId,asc&fields=profileId");

  // With a bound on creationMoment (contract 3.9): search and fields combine.
  q.constraints = {{"CreatedAt", model::FilterOp::kLt, {Timestamp{1764324930123}}}};
  const std::string t = list_target(spec, q, "acme");
  EXPECT_NE(t.find("&search=creationMoment%3Dlt%3D%222025-11-28T10%3A15%3A30.123Z%22"), std::string::npos) << t;
  EXPECT_EQ(t.substr(t.size() - std::string_view("&fields=profileId").size()), "&fields=profileId") << t;
}

TEST(SourceDecodeRecord, ASingleGetCarriesTheExtendedFields) {
  engine::StreamSpec spec = plan(static_object("EmailCampaignTemplates"));
  ASSERT_EQ(spec.extended, engine::ExtendedFetch::kFetch);
  json::value body = json::parse(R"({
    "id": 77, "name": "Welcome", "type": "STANDARD", "status": "ACTIVE", "profileTableId": "16",
    "creationMoment": "2025-11-28T10:15:30.123Z", "updateMoment": 1764324930123,
    "subject": "Hello \u00e9", "htmlContent": "<p>Hi</p>", "supportedLanguages": ["FR", "NL"],
    "encoding": null
  })");
  model::Row row = decode_record(spec, body.get_object(), model::TimeZone::utc());
  ASSERT_EQ(row.size(), spec.fields.size());
  EXPECT_EQ(std::get<std::int64_t>(row[index_of(spec, "Id")]), 77);
  EXPECT_EQ(std::get<std::string>(row[index_of(spec, "Name")]), "Welcome");
  EXPECT_EQ(std::get<Timestamp>(row[index_of(spec, "UpdatedAt")]).ms, 1764324930123);
  EXPECT_EQ(std::get<Timestamp>(row[index_of(spec, "CreatedAt")]).ms, 1764324930123);
  EXPECT_EQ(std::get<std::string>(row[index_of(spec, "Subject")]), "Hello \xC3\xA9");
  EXPECT_EQ(std::get<std::string>(row[index_of(spec, "HtmlContent")]), "<p>Hi</p>");
  EXPECT_EQ(std::get<std::vector<std::string>>(row[index_of(spec, "SupportedLanguages")]),
            (std::vector<std::string>{"FR", "NL"}));
  EXPECT_TRUE(model::is_null(row[index_of(spec, "Encoding")]));     // null
  EXPECT_TRUE(model::is_null(row[index_of(spec, "TextContent")]));  // absent

  // A record without its key is refused, naming the key field.
  json::value keyless = json::parse(R"({"name": "x", "subject": "y"})");
  try {
    decode_record(spec, keyless.get_object(), model::TimeZone::utc());
    FAIL() << "a row without a key was decoded";
  } catch (const model::Error& e) {
    EXPECT_EQ(e.kind(), model::ErrorKind::kPermanent);
    EXPECT_NE(std::string(e.what()).find("Id"), std::string::npos) << e.what();
  }
}

// Contract 4.7: a NUMBER literal is read exactly, never through a double, whatever its length;
// a JSON field keeps its numbers as written.
TEST(SourceDecodePage, NumbersKeepEveryDigit) {
  engine::StreamSpec spec = plan(named(online_orders(), "OnlineOrders"));
  const std::string body = "{\"" + spec.object.collection_key + R"(": [
      {"id": 1, "orderId": "A", "amount": 12345678901234567890.123456789,
       "creationMoment": "2025-11-28T10:15:30.123Z", "updateMoment": "2025-11-28T10:15:30.123Z"},
      {"id": 2, "orderId": "B", "amount": 19.99,
       "creationMoment": "2025-11-28T10:15:30.123Z", "updateMoment": "2025-11-28T10:15:30.123Z"},
      {"id": 3, "orderId": "C", "amount": 0.1000000000000000055511151231257827,
       "creationMoment": "2025-11-28T10:15:30.123Z", "updateMoment": "2025-11-28T10:15:30.123Z"}
    ], "page": {"totalElements": 3}})";
  engine::PageResult page = decode_page(spec, body, model::TimeZone::utc());
  ASSERT_EQ(page.rows.size(), 3u);
  const std::size_t amount = index_of(spec, "Amount");
  EXPECT_EQ(std::get<model::Decimal>(page.rows[0][amount]).text, "12345678901234567890.123456789");
  EXPECT_EQ(std::get<model::Decimal>(page.rows[1][amount]).text, "19.99");
  EXPECT_EQ(std::get<model::Decimal>(page.rows[2][amount]).text, "0.1000000000000000055511151231257827");
  EXPECT_EQ(page.total_elements, 3);
}

}  // namespace
}  // namespace replicator::actito

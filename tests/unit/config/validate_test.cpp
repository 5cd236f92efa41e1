// The cross-reference pass: connections, destinations, static objects against the catalog, names
// left to discovery, and the per-object checks used again once a dynamic object is resolved.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/catalog_loader.hpp"
#include "config/config.hpp"
#include "tests/unit/config/test_support.hpp"

namespace replicator::config {
namespace {

using testing::config_error;
using testing::parse;

// A job "crm" with one stream on `object` (line 14, value at column 17); `lines` follow from
// line 15 inside the stream (keys at column 9).
std::string job_with_stream(const std::string& object, const std::vector<std::string>& lines = {}) {
  std::string yaml =
      "connections:\n"
      "  main:\n"
      "    environment: ENV-3\n"
      "    entity: Acme\n"
      "    api_key: ${KEY}\n"
      "destinations:\n"
      "  dw:\n"
      "    dsn: ${DSN}\n"
      "jobs:\n"
      "  - name: crm\n"
      "    connection: main\n"
      "    destination: dw\n"
      "    streams:\n"
      "      - object: " +
      object + "\n";
  for (const auto& l : lines) yaml += "        " + l + "\n";
  return yaml;
}

const model::Catalog& catalog() {
  static const model::Catalog kCatalog = builtin_catalog();
  return kCatalog;
}

model::ObjectDescriptor orders();  // below, with the tests of resolved objects

std::string validation_error(const std::string& yaml, const model::Catalog& cat = catalog()) {
  Config c = parse(yaml);
  return config_error([&] { validate(c, cat); });
}

TEST(Validate, ValidConfigPasses) {
  Config c = parse(job_with_stream("EmailCampaigns", {"fields: [Name, Status]", "page_size: 200"}));
  EXPECT_NO_THROW(validate(c, catalog()));
}

TEST(Validate, UnknownConnectionAndDestination) {
  std::string yaml = job_with_stream("EmailCampaigns");
  yaml.replace(yaml.find("connection: main"), 16, "connection: mian");
  yaml.replace(yaml.find("destination: dw"), 15, "destination: dww");
  std::string message = validation_error(yaml);
  EXPECT_ERROR_AT(message, "test.yaml:11:17: ",
                  "job \"crm\": unknown connection \"mian\" (did you mean \"main\"?); defined "
                  "connections: main");
  EXPECT_NE(
      message.find("\ntest.yaml:12:18: job \"crm\": unknown destination \"dww\" (did you mean "
                   "\"dw\"?); defined destinations: dw"),
      std::string::npos)
      << message;
}

TEST(Validate, NoConnectionsAtAll) {
  std::string message = validation_error(
      "jobs:\n  - name: j\n    connection: c\n    destination: d\n    streams: [{object: "
      "Goals}]\n");
  EXPECT_ERROR_AT(message,
                  "test.yaml:3:17: ", "unknown connection \"c\"; no connections are defined");
}

TEST(Validate, IncrementalNeedsACursorField) {
  EXPECT_ERROR_AT(
      validation_error(job_with_stream("EmailCampaignResults", {"mode: incremental"})),
      "test.yaml:15:15: ",
      "job \"crm\", stream \"EmailCampaignResults\": mode: incremental needs a cursor "
      "field (UpdatedAt or CreatedAt) and EmailCampaignResults has none; use mode: full "
      "or leave mode out");
  Config ok = parse(job_with_stream("EmailCampaignResults", {"mode: full"}));
  EXPECT_NO_THROW(validate(ok, catalog()));
}

TEST(Validate, FieldsMustExistOnStaticObjects) {
  EXPECT_ERROR_AT(
      validation_error(job_with_stream("EmailCampaigns", {"fields: [Id, Nme]"})),
      "test.yaml:15:22: ",
      "job \"crm\", stream \"EmailCampaigns\": EmailCampaigns has no field \"Nme\"; did "
      "you mean Name?");
  std::string far = validation_error(job_with_stream("Goals", {"fields: [Zzzzzzzz]"}));
  EXPECT_NE(far.find("Goals has no field \"Zzzzzzzz\"; its fields are Id, "), std::string::npos)
      << far;
}

TEST(Validate, StreamPageSizeMustNotExceedTheObjectMaximum) {
  EXPECT_ERROR_AT(validation_error(job_with_stream("EmailCampaigns", {"page_size: 500"})),
                  "test.yaml:15:20: ",
                  "job \"crm\", stream \"EmailCampaigns\": page_size 500 exceeds the maximum of "
                  "EmailCampaigns (200); use a smaller number or max");
  // A job's or the defaults' page size is capped per object instead.
  std::string yaml = job_with_stream("EmailCampaigns") + "    page_size: 1000\n";
  Config c = parse(yaml);
  EXPECT_NO_THROW(validate(c, catalog()));
  EXPECT_EQ(c.jobs[0].page_size.resolve(catalog().find_static("EmailCampaigns")->max_page_size),
            200);
}

TEST(Validate, NamesThatMayBeDynamicAreLeftToDiscovery) {
  Config c =
      parse(job_with_stream("Customers", {}) + "      - object: Customers_Interactions\n" +
            "      - object: Orders\n        mode: full\n        fields: [OrderId, Amount]\n" +
            "        page_size: 1000\n" +
            "      - object: Customers_Scenarios\n        mode: incremental\n" +
            "      - object: EmailCampaigns_Interactions\n");
  EXPECT_NO_THROW(validate(c, catalog()));
}

TEST(Validate, DynamicNamesAreCheckedAgainstTheirTemplates) {
  EXPECT_ERROR_AT(validation_error(job_with_stream("Orders", {"page_size: 5000"})),
                  "test.yaml:15:20: ",
                  "job \"crm\", stream \"Orders\": page_size 5000 exceeds the maximum of a "
                  "<ProfileTable> or <CustomTable> object (1000)");
  // With only the scenario template, X_Scenarios is a full-refresh object.
  model::Catalog scenarios_only = catalog();
  std::erase_if(scenarios_only.templates,
                [](const auto& t) { return t.name != "<ProfileTable>_Scenarios"; });
  EXPECT_ERROR_AT(
      validation_error(job_with_stream("Customers_Scenarios", {"mode: incremental"}),
                       scenarios_only),
      "test.yaml:15:15: ",
      "mode: incremental needs a cursor field, and a <ProfileTable>_Scenarios object has none");
}

TEST(Validate, NamesThatCannotBeDynamicListCloseStaticNames) {
  EXPECT_ERROR_AT(
      validation_error(job_with_stream("emailcampaigns")), "test.yaml:14:17: ",
      "job \"crm\", stream \"emailcampaigns\": unknown object \"emailcampaigns\"; object "
      "names are case-sensitive: did you mean \"EmailCampaigns\"?");
  EXPECT_ERROR_AT(validation_error(job_with_stream(std::string(70, 'A'))),
                  "test.yaml:14:17: ", "the object name gives no valid PostgreSQL table name");
  model::Catalog static_only = catalog();
  static_only.templates.clear();
  EXPECT_ERROR_AT(
      validation_error(job_with_stream("EmailCampaing"), static_only), "test.yaml:14:17: ",
      "unknown object \"EmailCampaing\": it is not in the catalog and cannot be a profile "
      "or custom table object; did you mean EmailCampaigns");
  model::Catalog profile_interactions_only = catalog();
  std::erase_if(profile_interactions_only.templates,
                [](const auto& t) { return t.name != "<ProfileTable>_Interactions"; });
  EXPECT_ERROR_AT(
      validation_error(job_with_stream("EmailCampaigns_Interactions"), profile_interactions_only),
      "test.yaml:14:17: ", "(a table named \"EmailCampaigns\" would clash with the static object)");
}

TEST(Validate, EnvironmentNeedsAHostInTheCatalog) {
  model::Catalog no_env3 = catalog();
  no_env3.hosts.erase("ENV-3");
  EXPECT_ERROR_AT(
      validation_error(job_with_stream("Goals"), no_env3), "test.yaml:3:18: ",
      "connection \"main\": the catalog has no host for environment \"ENV-3\" (it knows "
      "ENV-0, ENV-1, PREPROD); set base_url instead");
}

TEST(Validate, StructsBuiltInCodeAreCheckedToo) {
  Config c = parse(job_with_stream("Goals"));
  c.jobs.push_back(c.jobs[0]);
  c.jobs[0].streams.push_back(c.jobs[0].streams[0]);
  std::string message = config_error([&] { validate(c, catalog()); });
  EXPECT_NE(message.find("duplicate job name \"crm\""), std::string::npos) << message;
  EXPECT_NE(message.find("job \"crm\": object \"Goals\" has two streams"), std::string::npos)
      << message;
}

TEST(Validate, EveryProblemIsReported) {
  std::string message = validation_error(job_with_stream("EmailCampaigns", {"fields: [A, B]"}));
  EXPECT_NE(message.find("test.yaml:15:18: "), std::string::npos) << message;
  EXPECT_NE(message.find("\ntest.yaml:15:21: "), std::string::npos) << message;
}

// `where` values sit at line 15, column 16 (`        where: "..."`). Errors point at the value,
// like every other stream key (page_size, mode); the parser adds the column inside the text.
TEST(ValidateWhere, ASyntaxErrorNamesThePlaceAndWhatWasExpected) {
  std::string message =
      validation_error(job_with_stream("EmailCampaigns", {"where: \"Status = \""}));
  EXPECT_ERROR_AT(message, "test.yaml:15:16: ",
                  "job \"crm\", stream \"EmailCampaigns\": where: ");
  EXPECT_NE(message.find("expected"), std::string::npos) << message;
  EXPECT_NE(message.find("at column 10"), std::string::npos) << message;
  EXPECT_NE(message.find("(in \"Status = \")"), std::string::npos) << message;
}

TEST(ValidateWhere, UnknownFieldsOfStaticObjectsAreListed) {
  std::string message =
      validation_error(job_with_stream("EmailCampaigns", {"where: \"Nope = 1\""}));
  EXPECT_ERROR_AT(message, "test.yaml:15:16: ", "unknown field Nope");
  for (const char* field : {"Id", "Name", "Status", "UpdatedAt"}) {
    EXPECT_NE(message.find(field, message.find("unknown field Nope") + 18), std::string::npos)
        << field << " is not listed in: " << message;
  }
  // Values are checked against the field's type too.
  EXPECT_ERROR_AT(
      validation_error(job_with_stream("EmailCampaigns", {"where: \"Id = 'abc'\""})),
      "test.yaml:15:16: ", "Id");
  Config ok = parse(job_with_stream(
      "EmailCampaigns", {"where: \"Status = 'SENT' AND CreatedAt >= '2025-01-01'\""}));
  EXPECT_NO_THROW(validate(ok, catalog()));
}

TEST(ValidateWhere, DynamicObjectsAreOnlyParsedAtLoad) {
  // Only discovery knows the fields of Customers: an unknown name is not an error yet...
  Config unknown_field = parse(job_with_stream("Customers", {"where: \"Nope = 1\""}));
  EXPECT_NO_THROW(validate(unknown_field, catalog()));
  // ...but text that does not parse is.
  std::string message = validation_error(job_with_stream("Customers", {"where: \"Status = \""}));
  EXPECT_ERROR_AT(message, "test.yaml:15:16: ", "job \"crm\", stream \"Customers\": where: ");
  EXPECT_NE(message.find("expected"), std::string::npos) << message;
  // Once resolved, validate_stream checks the fields.
  Config resolved = parse(job_with_stream("Orders", {"where: \"Nope = 1\""}));
  EXPECT_ERROR_AT(config_error([&] {
                    validate_stream(resolved.jobs[0], resolved.jobs[0].streams[0], orders());
                  }),
                  "test.yaml:15:16: ", "unknown field Nope");
}

TEST(ValidateWhere, ExtendedFieldsOfStaticObjectsAreRefusedAtLoad) {
  // plan_stream refuses a `where` on an extended field (contract 3.8); `check` must say so
  // before the daemon starts, at the `where` value.
  std::string message = validation_error(
      job_with_stream("EmailCampaignsExtended", {"where: \"Subject = 'Hello'\""}));
  EXPECT_ERROR_AT(message, "test.yaml:15:16: ", "extended");
}

// ---- once discovery has resolved an object -----------------------------------------------------

model::ObjectDescriptor orders() {
  model::ObjectDescriptor o;
  o.name = "Orders";
  o.max_page_size = 1000;
  o.key = {"OrderId"};
  o.created_field = "CreatedAt";
  o.updated_field = "UpdatedAt";
  o.mode = model::ReplicationMode::kIncrementalUpdated;
  for (const char* f : {"Id", "CreatedAt", "UpdatedAt", "OrderId", "Amount", "Status"}) {
    model::FieldDescriptor d;
    d.name = f;
    o.fields.push_back(d);
  }
  return o;
}

TEST(ValidateStream, ChecksAResolvedDynamicObject) {
  Config c = parse(job_with_stream("Orders", {"fields: [OrderId, Amont]"}));
  EXPECT_ERROR_AT(config_error([&] { validate_stream(c.jobs[0], c.jobs[0].streams[0], orders()); }),
                  "test.yaml:15:27: ",
                  "job \"crm\", stream \"Orders\": Orders has no field \"Amont\"; did you mean "
                  "Amount?");
  model::ObjectDescriptor full = orders();
  full.mode = model::ReplicationMode::kFullRefresh;
  Config inc = parse(job_with_stream("Orders", {"mode: incremental", "page_size: 1001"}));
  std::string message =
      config_error([&] { validate_stream(inc.jobs[0], inc.jobs[0].streams[0], full); });
  EXPECT_ERROR_AT(message, "test.yaml:15:15: ", "mode: incremental needs a cursor field");
  EXPECT_NE(
      message.find("\ntest.yaml:16:20: job \"crm\", stream \"Orders\": page_size 1001 exceeds "
                   "the maximum of Orders (1000)"),
      std::string::npos)
      << message;
}

TEST(ValidateStream, KeyAndCursorFieldsAreAlwaysKept) {
  Config c = parse(job_with_stream("Orders", {"fields: [Amount]"}));
  EXPECT_EQ(effective_fields(c.jobs[0].streams[0], orders()),
            (std::vector<std::string>{"UpdatedAt", "OrderId", "Amount"}));
  Config all = parse(job_with_stream("Orders"));
  EXPECT_EQ(effective_fields(all.jobs[0].streams[0], orders()).size(), 6u);
  // Static objects: EmailCampaignResults has a two-part key and no cursor.
  Config results = parse(job_with_stream("EmailCampaignResults", {"fields: [OpenCount]"}));
  EXPECT_EQ(
      effective_fields(results.jobs[0].streams[0], *catalog().find_static("EmailCampaignResults")),
      (std::vector<std::string>{"CampaignId", "Id", "OpenCount"}));
}

}  // namespace
}  // namespace replicator::config

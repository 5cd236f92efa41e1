// The catalog loader on the real catalog file (a sample of facts), the embedded copy, and errors.
#include "config/catalog_loader.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "tests/unit/config/test_support.hpp"

namespace replicator::config {
namespace {

using model::FieldType;
using model::FilterOp;
using model::ReplicationMode;
using testing::config_error;

const std::string kCatalogPath = std::string(REPLICATOR_SOURCE_DIR) + "/core/actito/catalog.yaml";

const model::Catalog& real() {
  static const model::Catalog kCatalog = load_catalog_file(kCatalogPath);
  return kCatalog;
}

const model::ObjectDescriptor& object(std::string_view name) {
  const model::ObjectDescriptor* o = real().find_static(name);
  if (!o) o = real().find_template(name);
  if (!o) throw std::runtime_error("no object " + std::string(name));
  return *o;
}

TEST(CatalogFile, TopLevelFacts) {
  EXPECT_EQ(real().contract_version, "1.0.0");
  EXPECT_EQ(real().objects.size(), 29u);
  EXPECT_EQ(real().templates.size(), 5u);
  EXPECT_EQ(real().hosts.size(), 4u);
  EXPECT_EQ(real().hosts.at("ENV-0"), "https://api.actito.com");
  EXPECT_EQ(real().hosts.at("ENV-3"), "https://api3.actito.com");
  EXPECT_EQ(real().hosts.at("PREPROD"), "https://api-pre1.actito.com");
  EXPECT_EQ(real().hosts.count("override_setting"), 0u);
}

TEST(CatalogFile, EmailCampaignResultsIsNestedUnderEmailCampaigns) {
  const auto& o = object("EmailCampaignResults");
  ASSERT_TRUE(o.parent.has_value());
  EXPECT_EQ(o.parent->object, "EmailCampaigns");
  EXPECT_EQ(o.parent->path_param, "campaignId");
  EXPECT_EQ(o.parent->parent_field, "Id");
  EXPECT_EQ(o.parent->child_field, "CampaignId");
  EXPECT_EQ(o.key, (std::vector<std::string>{"CampaignId", "Id"}));
  EXPECT_EQ(o.mode, ReplicationMode::kFullRefresh);
  EXPECT_EQ(o.cursor_field(), "");
  EXPECT_FALSE(o.cursor_pushdown);
  EXPECT_EQ(o.get_route, "");
  EXPECT_EQ(o.list_route,
            "/email-campaigns/v5/entities/{entity}/email-campaigns/{campaignId}/results");
  EXPECT_EQ(o.collection_key, "results");
  EXPECT_EQ(o.max_page_size, 200);
  EXPECT_TRUE(o.native("Status", FilterOp::kEq));
  EXPECT_TRUE(o.native("CampaignId", FilterOp::kIn));
  EXPECT_FALSE(o.native("CampaignId", FilterOp::kEq));
  EXPECT_EQ(o.find_field("Status")->write, "");
}

TEST(CatalogFile, EmailCampaignsIsIncrementalOnUpdatedAt) {
  const auto& o = object("EmailCampaigns");
  EXPECT_EQ(o.family, "email");
  EXPECT_EQ(o.category, "email-campaigns");
  EXPECT_EQ(o.mode, ReplicationMode::kIncrementalUpdated);
  EXPECT_TRUE(o.cursor_pushdown);
  EXPECT_EQ(o.cursor_field(), "UpdatedAt");
  EXPECT_EQ(o.created_field, "CreatedAt");
  EXPECT_FALSE(o.parent.has_value());
  const model::FieldDescriptor* id = o.find_field("Id");
  ASSERT_NE(id, nullptr);
  EXPECT_EQ(id->type, FieldType::kLong);
  EXPECT_FALSE(id->nullable);
  EXPECT_EQ(id->wire, "id");
  EXPECT_EQ(id->write, "readonly");
  EXPECT_EQ(o.find_field("Name")->write, "required");
  EXPECT_EQ(o.find_field("ScheduledMoment")->type, FieldType::kTimestamp);
  EXPECT_TRUE(o.find_field("TemplateId")->nullable);
  EXPECT_TRUE(o.native("UpdatedAt", FilterOp::kGe));
  EXPECT_TRUE(o.native("TemplateId", FilterOp::kIn));
  EXPECT_FALSE(o.native("Name", FilterOp::kEq));
  EXPECT_EQ(o.sortable,
            (std::vector<std::string>{"id", "scheduledMoment", "creationMoment", "updateMoment"}));
  EXPECT_FALSE(o.fields_projection);
  EXPECT_EQ(o.dml, (std::vector<std::string>{"INSERT", "UPDATE", "DELETE"}));
}

TEST(CatalogFile, ExtendedAndMultiValuedFields) {
  const auto& o = object("EmailCampaignsExtended");
  const model::FieldDescriptor* langs = o.find_field("SupportedLanguages");
  ASSERT_NE(langs, nullptr);
  EXPECT_EQ(langs->type, FieldType::kString);
  EXPECT_TRUE(langs->multi_valued);
  EXPECT_TRUE(langs->extended);
  EXPECT_FALSE(o.find_field("Name")->extended);
  EXPECT_EQ(object("ProfileTables").fields_projection, true);
}

TEST(CatalogFile, ProfileTemplate) {
  const auto& t = object("<ProfileTable>");
  EXPECT_EQ(t.per, "profile table");
  EXPECT_EQ(t.max_page_size, 1000);
  EXPECT_EQ(t.mode, ReplicationMode::kIncrementalUpdated);
  EXPECT_TRUE(t.cursor_pushdown);
  EXPECT_TRUE(t.fields_projection);  // a list in the file
  EXPECT_EQ(t.key, (std::vector<std::string>{"Id"}));
  EXPECT_EQ(t.find_field("Id")->wire, "profileId");
  EXPECT_FALSE(t.find_field("Id")->pattern);
  const model::FieldDescriptor* attr = t.find_field("<AttributeName>");
  ASSERT_NE(attr, nullptr);
  EXPECT_TRUE(attr->pattern);
  EXPECT_EQ(attr->wire_path, (std::vector<std::string>{"attributes", "<attributeName>"}));
  ASSERT_NE(t.find_field("Subscription_<name>"), nullptr);
  EXPECT_TRUE(t.find_field("Subscription_<name>")->pattern);
  EXPECT_EQ(t.find_field("Subscription_<name>")->type, FieldType::kBoolean);
  EXPECT_FALSE(t.find_field("Subscription_<name>")->nullable);
}

TEST(CatalogFile, OtherTemplates) {
  const auto& custom = object("<CustomTable>");
  EXPECT_EQ(custom.per, "custom table");
  EXPECT_EQ(custom.mode, ReplicationMode::kIncrementalUpdated);
  EXPECT_FALSE(custom.cursor_pushdown);
  EXPECT_EQ(custom.key, (std::vector<std::string>{"<PrimaryKeyAttribute>"}));
  EXPECT_TRUE(custom.native("<PrimaryKeyAttribute>", FilterOp::kEq));
  EXPECT_EQ(custom.find_field("<AttributeName>")->wire_path,
            (std::vector<std::string>{"<attributeName>"}));
  const auto& interactions = object("<ProfileTable>_Interactions");
  EXPECT_EQ(interactions.mode, ReplicationMode::kIncrementalCreated);
  EXPECT_EQ(interactions.cursor_field(), "CreatedAt");
  EXPECT_EQ(interactions.get_route, "");
  EXPECT_EQ(object("<ProfileTable>_Scenarios").mode, ReplicationMode::kFullRefresh);
  EXPECT_FALSE(object("<ProfileTable>_Scenarios").fields_projection);  // null in the file
}

TEST(BuiltinCatalog, IsTheFileByteForByte) {
  std::ifstream in(kCatalogPath, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  EXPECT_EQ(builtin_catalog_yaml(), text.str());
  model::Catalog b = builtin_catalog();
  EXPECT_EQ(b.objects.size(), real().objects.size());
  EXPECT_EQ(b.templates.size(), real().templates.size());
  EXPECT_EQ(b.contract_version, real().contract_version);
  EXPECT_EQ(load_catalog(Config{}).objects.size(), real().objects.size());
}

// ---- errors
// ---------------------------------------------------------------------------------------

constexpr const char* kTiny = R"(contract_version: 9.9.9
objects:
- name: Things
  list_route: /things
  collection_key: things
  max_page_size: 50
  key: [Id]
  created_field: null
  updated_field: UpdatedAt
  replication: {mode: incremental_updated, watermark: updateMoment, pushdown: true}
  fields:
  - {name: Id, wire: id, type: LONG, nullable: false}
  - {name: UpdatedAt, wire: meta.updated, type: TIMESTAMP}
  native_filters:
    UpdatedAt: ['>=', '!=']
)";

std::string catalog_error(const std::string& yaml) {
  return config_error([&] { (void)parse_catalog(yaml, "cat.yaml"); });
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  text.replace(text.find(from), from.size(), to);
  return text;
}

TEST(CatalogParse, AMinimalCatalog) {
  model::Catalog c = parse_catalog(kTiny, "cat.yaml");
  EXPECT_EQ(c.contract_version, "9.9.9");
  ASSERT_EQ(c.objects.size(), 1u);
  const auto& o = c.objects[0];
  EXPECT_EQ(o.max_page_size, 50);
  EXPECT_EQ(o.find_field("UpdatedAt")->wire_path, (std::vector<std::string>{"meta", "updated"}));
  EXPECT_TRUE(o.native("UpdatedAt", FilterOp::kNe));
  EXPECT_TRUE(c.hosts.empty());
  EXPECT_TRUE(c.templates.empty());
}

TEST(CatalogParse, ErrorsCarryFileLineColumn) {
  EXPECT_ERROR_AT(catalog_error(replaced(kTiny, "max_page_size: 50", "max_pagesize: 50")),
                  "cat.yaml:6:3: ",
                  "objects[0]: unknown key \"max_pagesize\" (did you mean \"max_page_size\"?)");
  EXPECT_ERROR_AT(catalog_error(replaced(kTiny, "type: LONG", "type: LNG")), "cat.yaml:12:32: ",
                  "objects[0].fields[0].type: unknown field type \"LNG\"; expected STRING");
  EXPECT_ERROR_AT(catalog_error(replaced(kTiny, "'!='", "'=~'")),
                  "cat.yaml:15:23: ", "unknown filter operator \"=~\"");
  EXPECT_ERROR_AT(catalog_error(replaced(kTiny, "key: [Id]", "key: [Ident]")),
                  "cat.yaml:7:8: ", "object \"Things\": key field \"Ident\" is not a field");
  EXPECT_ERROR_AT(catalog_error(replaced(kTiny, "mode: incremental_updated", "mode: incremental")),
                  "cat.yaml:10:23: ",
                  "objects[0].replication.mode: expected one of incremental_updated | "
                  "incremental_created | full_refresh");
  EXPECT_ERROR_AT(
      catalog_error(replaced(kTiny, "updated_field: UpdatedAt", "updated_field: null")),
      "cat.yaml:10:16: ", "replication mode incremental_updated needs an updated_field");
  EXPECT_ERROR_AT(catalog_error(replaced(kTiny, "  key: [Id]\n", "")),
                  "cat.yaml:3:3: ", "objects[0]: object \"Things\": missing required key key");
  EXPECT_ERROR_AT(catalog_error(replaced(kTiny, "- name: Things", "- name: <Things>")),
                  "cat.yaml:3:9: ", "a static object's name has no <Placeholder>");
  EXPECT_ERROR_AT(catalog_error("objects: [\n"), "cat.yaml:2:1: ", "YAML syntax error");
  EXPECT_ERROR_AT(catalog_error("objects: []\n"),
                  "cat.yaml:1:1: ", "missing required key contract_version");
  std::string with_parent =
      replaced(kTiny, "  created_field: null\n",
               "  parent: {object: Others, path_param: p, parent_field: Id, child_field: Id}\n"
               "  created_field: null\n");
  EXPECT_ERROR_AT(catalog_error(with_parent), "cat.yaml:3:3: ",
                  "object \"Things\": parent \"Others\" is not an object of the catalog");
  EXPECT_ERROR_AT(
      catalog_error(std::string(kTiny) + "conventions:\n  hosts: {ENV-9: api.example}\n"),
      "cat.yaml:17:18: ",
      "conventions.hosts.ENV-9: expected a base URL such as https://api3.actito.com");
}

TEST(CatalogParse, TemplatesNeedAPatternAndPer) {
  std::string tmpl = replaced(replaced(kTiny, "objects:", "objects: []\ndynamic_objects:"),
                              "- name: Things", "- name_pattern: <Table>\n  per: custom table");
  model::Catalog c = parse_catalog(tmpl, "cat.yaml");
  ASSERT_EQ(c.templates.size(), 1u);
  EXPECT_EQ(c.templates[0].name, "<Table>");
  EXPECT_EQ(c.templates[0].per, "custom table");
  EXPECT_ERROR_AT(catalog_error(replaced(tmpl, "per: custom table", "per: customs")),
                  "cat.yaml:5:8: ", "expected one of profile table | custom table");
  EXPECT_ERROR_AT(catalog_error(replaced(tmpl, "<Table>", "Table")),
                  "cat.yaml:4:17: ", "a name_pattern holds a <Placeholder>");
}

TEST(CatalogFile, MissingFile) {
  EXPECT_ERROR_AT(config_error([] { (void)load_catalog_file("/nonexistent/catalog.yaml"); }),
                  "/nonexistent/catalog.yaml: ", "cannot read the catalog file");
}

}  // namespace
}  // namespace replicator::config

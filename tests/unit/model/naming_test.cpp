// Names: snake_case for tables and columns (interface.md section 3), quote_ident, upper_first.
#include "core/model/naming.hpp"

#include <gtest/gtest.h>

#include <string>

#include "core/model/error.hpp"

namespace replicator::model {
namespace {

TEST(SnakeCase, InterfaceExamples) {
  EXPECT_EQ(snake_case("EmailCampaigns"), "email_campaigns");
  EXPECT_EQ(snake_case("Customers_Interactions"), "customers_interactions");
  EXPECT_EQ(snake_case("Id"), "id");
  EXPECT_EQ(snake_case("CreatedAt"), "created_at");
  EXPECT_EQ(snake_case("ProfileTableId"), "profile_table_id");
  EXPECT_EQ(snake_case("emailAddress"), "email_address");
}

TEST(SnakeCase, RunsOfCapitals) {
  EXPECT_EQ(snake_case("SMSCampaigns"), "sms_campaigns");
  EXPECT_EQ(snake_case("SMSInteractions"), "sms_interactions");
  EXPECT_EQ(snake_case("ETLExecutions"), "etl_executions");
  EXPECT_EQ(snake_case("ETLId"), "etl_id");
  EXPECT_EQ(snake_case("SMS"), "sms");
  EXPECT_EQ(snake_case("URL"), "url");
  EXPECT_EQ(snake_case("TargetUrl"), "target_url");
  EXPECT_EQ(snake_case("HtmlContent"), "html_content");
}

TEST(SnakeCase, CatalogNames) {
  EXPECT_EQ(snake_case("LocationRemoteLocationId"), "location_remote_location_id");
  EXPECT_EQ(snake_case("EmailCampaignsExtended"), "email_campaigns_extended");
  EXPECT_EQ(snake_case("FileLocationTestRequests"), "file_location_test_requests");
  EXPECT_EQ(snake_case("IsActitoHosted"), "is_actito_hosted");
  EXPECT_EQ(snake_case("Subscription_Newsletter"), "subscription_newsletter");
  EXPECT_EQ(snake_case("Segmentation_Gold"), "segmentation_gold");
  EXPECT_EQ(snake_case("Customers_SubscriptionInteractions"),
            "customers_subscription_interactions");
  EXPECT_EQ(snake_case("Customers_Scenarios"), "customers_scenarios");
  EXPECT_EQ(snake_case("AttributionWindowDays"), "attribution_window_days");
  EXPECT_EQ(snake_case("UniqueClickCount"), "unique_click_count");
}

// Was a bug (fixed): "ETLs" becomes "et_ls": the plural "s" after a run of capitals starts a word. The object
// is called etls on the wire (route /mass-imports/.../etls, collection key "etls").
TEST(SnakeCase, PluralOfAnAcronymStaysOneWord) {
  EXPECT_EQ(snake_case("ETLs"), "etls");
  EXPECT_EQ(snake_case("IDs"), "ids");
  EXPECT_EQ(snake_case("LastETLs"), "last_etls");
}

TEST(SnakeCase, AttributeNamesAndSeparators) {
  EXPECT_EQ(snake_case("firstName"), "first_name");
  EXPECT_EQ(snake_case("motherLanguage"), "mother_language");
  EXPECT_EQ(snake_case("lower"), "lower");
  EXPECT_EQ(snake_case("already_snake"), "already_snake");
  EXPECT_EQ(snake_case("location.remoteLocationId"), "location_remote_location_id");
  EXPECT_EQ(snake_case("some name"), "some_name");
  EXPECT_EQ(snake_case("kebab-case"), "kebab_case");
  EXPECT_EQ(snake_case("A__B"), "a_b");
  EXPECT_EQ(snake_case("_Leading"), "leading");
  EXPECT_EQ(snake_case("Trailing_"), "trailing");
  EXPECT_EQ(snake_case("Camel_Case"), "camel_case");
  EXPECT_EQ(snake_case("address2"), "address2");
  EXPECT_EQ(snake_case("Address2Line"), "address2_line");
  EXPECT_EQ(snake_case("x"), "x");
}

TEST(SnakeCase, NonAsciiIsKept) {
  EXPECT_EQ(snake_case("prénom"), "prénom");
  EXPECT_EQ(snake_case("dateDeNaissance"), "date_de_naissance");
}

TEST(SnakeCase, EmptyOrTooLongIsAnError) {
  for (const char* bad : {"", "_", "___", " ", "-."}) {
    try {
      (void)snake_case(bad);
      ADD_FAILURE() << "\"" << bad << "\" accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kPermanent);
    }
  }
  EXPECT_EQ(snake_case(std::string(63, 'a')).size(), 63u);
  try {
    (void)snake_case(std::string(64, 'a'));
    ADD_FAILURE() << "64 bytes accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kPermanent);
    EXPECT_NE(std::string(e.what()).find("63"), std::string::npos) << e.what();
  }
  // 32 words of two letters become 32 * 3 - 1 = 95 bytes.
  std::string camel;
  for (int i = 0; i < 32; ++i) camel += "Ab";
  EXPECT_THROW((void)snake_case(camel), Error);
}

TEST(SnakeCase, IsIdempotent) {
  for (const char* name : {"EmailCampaigns", "SMSCampaigns", "ETLId", "Customers_Interactions",
                           "LocationRemoteLocationId", "emailAddress", "Subscription_Newsletter"}) {
    const std::string once = snake_case(name);
    EXPECT_EQ(snake_case(once), once) << name;
  }
}

TEST(QuoteIdent, QuotesAndDoublesQuotes) {
  EXPECT_EQ(quote_ident("email_campaigns"), "\"email_campaigns\"");
  EXPECT_EQ(quote_ident(""), "\"\"");
  EXPECT_EQ(quote_ident("a\"b"), "\"a\"\"b\"");
  EXPECT_EQ(quote_ident("\"\""), "\"\"\"\"\"\"");
  EXPECT_EQ(quote_ident("select"), "\"select\"");
  EXPECT_EQ(quote_ident("Mixed Case; DROP TABLE x"), "\"Mixed Case; DROP TABLE x\"");
  EXPECT_EQ(quote_ident("prénom"), "\"prénom\"");
}

TEST(UpperFirst, OnlyTheFirstLetter) {
  EXPECT_EQ(upper_first("orderId"), "OrderId");
  EXPECT_EQ(upper_first("OrderId"), "OrderId");
  EXPECT_EQ(upper_first(""), "");
  EXPECT_EQ(upper_first("x"), "X");
  EXPECT_EQ(upper_first("1abc"), "1abc");
  EXPECT_EQ(upper_first("émail"), "émail");
}

}  // namespace
}  // namespace replicator::model

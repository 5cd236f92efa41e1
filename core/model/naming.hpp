// Names: logical Actito names to PostgreSQL identifiers (interface.md section 3).
#pragma once

#include <string>
#include <string_view>

namespace replicator::model {

// EmailCampaigns -> email_campaigns, Customers_Interactions -> customers_interactions,
// SMSCampaigns -> sms_campaigns, ETLId -> etl_id, emailAddress -> email_address.
// A new word starts at an upper-case letter that follows a lower-case letter or a digit, or that
// is followed by a lower-case letter after a run of capitals. Underscores and spaces separate
// words; other characters are kept. Throws Error(kPermanent) when the result is empty or longer
// than PostgreSQL's 63-byte identifier limit.
std::string snake_case(std::string_view name);

// "ident" with embedded quotes doubled: always quote identifiers in SQL.
std::string quote_ident(std::string_view ident);

// First letter upper-cased (contract A19): orderId -> OrderId.
std::string upper_first(std::string_view name);

}  // namespace replicator::model

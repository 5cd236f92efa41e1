// The generated profile table (contract 5.2, 6.11.1): structure, seeded rows, the A17 record
// shape, and profile keys (numeric id or <uniqueAttribute>=<value>).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "tests/actito_sim/record_table.hpp"

namespace replicator::actito_sim {

// Options of one generated table (profile or custom).
struct TableOptions {
  std::string id;    // "16" for profile tables, a UUID for custom tables (empty: derived)
  std::string name;  // "Customers", "Orders"
  std::size_t rows = 1000;
  std::uint64_t seed = 42;
  HistoryOptions history;
  TimestampStyle style = TimestampStyle::kIsoUtc;
};

// A profile table named e.g. "Customers" with technical attributes, predefined attributes
// (EMAIL_ADDRESS, FIRSTNAME, LASTNAME, BIRTHDATE, SEX, MOTHER_LANGUAGE, GSM_NUMBER), custom
// attributes of every value type (one multi-valued), two subscriptions and two segmentation
// categories. Thread-safe like RecordTable.
class ProfileTable final : public RecordTable {
 public:
  // `record_template` is the catalog's <ProfileTable> entry.
  ProfileTable(const DynamicTemplate& record_template, TableOptions options);

  std::vector<std::string_view> single_get_params() const override;

  // The customerId attribute of a profile: the value custom tables use as a foreign key.
  static std::string customer_id(std::int64_t profile_id);

 protected:
  std::uint64_t projection_mask(const ListRequest& request) const override;
  void render(const RecordCore& row, std::uint64_t mask, JsonWriter& writer) const override;
  std::int64_t resolve_key(std::string_view key) const override;
  std::vector<std::string_view> builtin_attributes() const override;
  std::vector<std::string_view> reserved_names() const override;
  std::string unremovable_reason(std::string_view name) const override;
  // The structure object served by the ProfileTables routes (contract 5.2).
  boost::json::object build_structure() const override;

 private:
  std::string email_of(std::int64_t id) const;
};

}  // namespace replicator::actito_sim

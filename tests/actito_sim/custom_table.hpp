// The generated custom table (contract 5.3, 6.11.5): an "Orders"-like table with a UUID id, a
// string primary-key attribute, attributes of several types and a CASCADE foreign key to the
// profile table.
#pragma once

#include <cstdint>
#include <string>

#include <boost/json/object.hpp>

#include "tests/actito_sim/profile_table.hpp"
#include "tests/actito_sim/record_table.hpp"

namespace replicator::actito_sim {

// Records are flat (A17). The primary key `orderId` is "ORD-" plus the technical id on 12 digits,
// so its code-point order equals the id order. Thread-safe like RecordTable.
class CustomTable final : public RecordTable {
 public:
  // `record_template` is the catalog's <CustomTable> entry; rows reference random profiles
  // 1..profile_count of the profile table `profile_table_id`.
  CustomTable(const DynamicTemplate& record_template, TableOptions options,
              std::string profile_table_id, std::int64_t profile_count);

  const std::string& referenced_table_id() const noexcept { return profile_table_id_; }
  static std::string order_id(std::int64_t id);

 protected:
  std::int64_t derived_key(std::size_t column, const RecordCore& row) const override;
  bool literal_key(std::size_t column, const TypedValue& value, std::int64_t& key) const override;
  std::uint64_t projection_mask(const ListRequest& request) const override;
  void render(const RecordCore& row, std::uint64_t mask, JsonWriter& writer) const override;
  std::int64_t resolve_key(std::string_view key) const override;
  std::vector<std::string_view> builtin_attributes() const override;
  std::vector<std::string_view> reserved_names() const override;
  std::string unremovable_reason(std::string_view name) const override;
  // The structure object served by the CustomTables routes (contract 5.3).
  boost::json::object build_structure() const override;

 private:
  std::int64_t order_moment(const RecordCore& row) const;
  std::string profile_table_id_;
};

}  // namespace replicator::actito_sim

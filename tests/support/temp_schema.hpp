// A uniquely named PostgreSQL schema that lives as long as the object (one per test).
#pragma once

#include <string>

namespace replicator::testsupport {

// Creates schema "<prefix>_<pid>_<n>_<random>" on construction and drops it (CASCADE) on
// destruction; both print the name on stdout so a failed test says where to look.
// Set REPLICATOR_TEST_KEEP_SCHEMAS=1 to keep the schemas for inspection.
// Thread-safety: none needed; each test owns its instance.
class TempSchema {
 public:
  explicit TempSchema(std::string dsn, std::string prefix = "t");
  ~TempSchema();
  TempSchema(const TempSchema&) = delete;
  TempSchema& operator=(const TempSchema&) = delete;

  const std::string& name() const noexcept { return name_; }
  const std::string& dsn() const noexcept { return dsn_; }

 private:
  std::string dsn_;
  std::string name_;
};

}  // namespace replicator::testsupport

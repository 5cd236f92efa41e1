#include "tests/support/temp_schema.hpp"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <iostream>
#include <pqxx/pqxx>
#include <random>

namespace replicator::testsupport {

namespace {
std::string quoted(const std::string& ident) { return "\"" + ident + "\""; }  // [a-z0-9_] only
}  // namespace

TempSchema::TempSchema(std::string dsn, std::string prefix) : dsn_(std::move(dsn)) {
  static std::atomic<int> counter{0};
  std::random_device rd;
  name_ = prefix + "_" + std::to_string(::getpid()) + "_" + std::to_string(++counter) + "_" +
          std::to_string(rd() % 100000);
  pqxx::connection c(dsn_);
  pqxx::nontransaction tx(c);
  tx.exec("CREATE SCHEMA " + quoted(name_));
  std::cout << "[ TempSchema ] created schema " << name_ << std::endl;
}

TempSchema::~TempSchema() {
  const char* keep = std::getenv("REPLICATOR_TEST_KEEP_SCHEMAS");
  if (keep != nullptr && std::string(keep) == "1") {
    std::cout << "[ TempSchema ] kept schema " << name_ << std::endl;
    return;
  }
  try {
    pqxx::connection c(dsn_);
    pqxx::nontransaction tx(c);
    tx.exec("DROP SCHEMA IF EXISTS " + quoted(name_) + " CASCADE");
    std::cout << "[ TempSchema ] dropped schema " << name_ << std::endl;
  } catch (const std::exception& e) {
    std::cerr << "[ TempSchema ] could not drop schema " << name_ << ": " << e.what() << std::endl;
  }
}

}  // namespace replicator::testsupport

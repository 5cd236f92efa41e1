// The world of one end-to-end test: a simulator, a PostgreSQL schema of its own, a job file
// pointing at both, and helpers to compare what Actito holds with what was replicated.
#pragma once

#include <unistd.h>

#include <atomic>
#include <map>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "tests/actito_sim/simulator.hpp"
#include "tests/e2e/e2e_support.hpp"
#include "tests/support/pg_dsn.hpp"

namespace replicator::e2e {

using actito_sim::MutationSpec;
using actito_sim::Simulator;
using actito_sim::SimOptions;

inline SimOptions sim_options(std::size_t profiles, std::size_t records, std::uint64_t seed = 7) {
  SimOptions o;
  o.data.seed = seed;
  o.data.profiles = profiles;
  o.data.custom_records = records;
  o.data.static_objects = false;
  o.limits.max_concurrent = 5;
  o.limits.calls_per_minute = 0;  // the per-minute pacing has its own tests; keep these fast
  return o;
}

// One test's world: a schema, a job file pointing at the simulator, helpers to compare.
class World {
 public:
  explicit World(Simulator& sim) : sim_(sim), schema_("e2e_" + std::to_string(getpid()) + "_" + std::to_string(++counter_)) {
    pqxx::connection c(dsn());
    pqxx::work w(c);
    w.exec("DROP SCHEMA IF EXISTS \"" + schema_ + "\" CASCADE");
    w.commit();
  }
  ~World() {
    try {
      pqxx::connection c(dsn());
      pqxx::work w(c);
      w.exec("DROP SCHEMA IF EXISTS \"" + schema_ + "\" CASCADE");
      w.commit();
    } catch (const std::exception&) {
    }
  }

  static std::string dsn() { return testsupport::test_pg_dsn(); }
  const std::string& schema() const { return schema_; }

  // Writes the job file; returns its path.
  std::string config(const std::string& streams, const std::string& extra_job = "", std::uint16_t admin_port = 0,
                     const std::string& connections_extra = "", const std::string& jobs_extra = "",
                     const std::string& api_key = "sim-api-key") {
    std::string path = dir_.file("replicator.yaml");
    std::string yaml =
        "server:\n  listen: 127.0.0.1:" + std::to_string(admin_port ? admin_port : free_port()) +
        "\nlog:\n  level: info\n  format: json\n"
        "connections:\n  sim:\n    base_url: " + sim_.base_url() +
        "\n    entity: acme\n    api_key: " + api_key + "\n    request_timeout: 20s\n" + connections_extra +
        "destinations:\n  pg:\n    dsn: \"" + dsn() + "\"\n    schema: " + schema_ +
        "\njobs:\n  - name: crm\n    connection: sim\n    destination: pg\n    schedule: { every: 1s }\n"
        "    lookback: 0s\n" + extra_job + "    streams:\n" + streams + jobs_extra;
    write_file(path, yaml);
    return path;
  }

  // profileId -> updateMoment text, from the simulator.
  std::map<std::string, std::string> sim_profiles() {
    std::map<std::string, std::string> out;
    sim_.for_each_row("Customers", [&](const boost::json::object& r) {
      out[boost::json::serialize(r.at("profileId"))] = std::string(r.at("updateMoment").as_string());
    });
    return out;
  }
  std::map<std::string, std::string> sim_orders() {
    std::map<std::string, std::string> out;
    sim_.for_each_row("Orders", [&](const boost::json::object& r) {
      out[std::string(r.at("orderId").as_string())] = std::string(r.at("updateMoment").as_string());
    });
    return out;
  }
  // key -> updated_at as ISO UTC with milliseconds, from PostgreSQL.
  std::map<std::string, std::string> pg_rows(const std::string& table, const std::string& key) {
    std::map<std::string, std::string> out;
    pqxx::connection c(dsn());
    pqxx::work w(c);
    w.exec("SET TIME ZONE 'UTC'");
    for (const auto& row : w.exec("SELECT " + key + "::text, to_char(updated_at, 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') FROM \"" +
                                  schema_ + "\".\"" + table + "\"")) {
      out[row[0].c_str()] = row[1].c_str();
    }
    return out;
  }
  std::map<std::string, std::string> synced_at(const std::string& table, const std::string& key) {
    std::map<std::string, std::string> out;
    pqxx::connection c(dsn());
    pqxx::work w(c);
    for (const auto& row : w.exec("SELECT " + key + "::text, _synced_at::text FROM \"" + schema_ + "\".\"" + table + "\"")) {
      out[row[0].c_str()] = row[1].c_str();
    }
    return out;
  }
  std::int64_t scalar(const std::string& sql) {
    pqxx::connection c(dsn());
    pqxx::work w(c);
    return w.exec1(sql)[0].as<std::int64_t>();
  }

  // Rows of `table` in this world's schema matching `where`; -1 while the table does not exist
  // (the daemon has not created it yet), so it can be polled from the first second.
  std::int64_t count_or_missing(const std::string& table, const std::string& where = "true") {
    try {
      return scalar("SELECT count(*) FROM \"" + schema_ + "\".\"" + table + "\" WHERE " + where);
    } catch (const pqxx::undefined_table&) {
      return -1;
    }
  }

 private:
  Simulator& sim_;
  std::string schema_;
  TempDir dir_;
  static inline std::atomic<int> counter_{0};
};

// Compares two key -> updateMoment maps and names the first differences.
inline ::testing::AssertionResult same_rows(const std::map<std::string, std::string>& expected,
                                     const std::map<std::string, std::string>& actual) {
  std::vector<std::string> problems;
  for (const auto& [k, v] : expected) {
    auto it = actual.find(k);
    if (it == actual.end()) problems.push_back("missing " + k);
    else if (it->second != v) problems.push_back("stale " + k + ": " + it->second + " instead of " + v);
    if (problems.size() > 10) break;
  }
  for (const auto& [k, v] : actual) {
    if (!expected.count(k) && problems.size() <= 10) problems.push_back("extra " + k);
  }
  if (problems.empty()) return ::testing::AssertionSuccess();
  std::string msg = std::to_string(expected.size()) + " expected, " + std::to_string(actual.size()) + " replicated:";
  for (const auto& p : problems) msg += "\n  " + p;
  return ::testing::AssertionFailure() << msg;
}

}  // namespace replicator::e2e

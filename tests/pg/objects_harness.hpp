// In-process replication of any catalog object from actito-sim into a throwaway PostgreSQL
// schema, with the real client, discovery, planner, runner and sink: what the daemon does for
// one stream, minus the scheduler. Used by the per-object integration tests (issue 3).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "core/actito/client.hpp"
#include "core/actito/discovery.hpp"
#include "core/actito/source.hpp"
#include "core/engine/sink_worker.hpp"
#include "core/engine/stream_plan.hpp"
#include "core/engine/stream_runner.hpp"
#include "core/model/catalog.hpp"
#include "tests/actito_sim/simulator.hpp"
#include "tests/support/temp_schema.hpp"

namespace replicator::testsupport {

struct StreamOptions {
  std::string where;
  std::vector<std::string> fields;
  std::optional<model::ReplicationMode> mode;
  bool suppress_extended = false;
  bool detect_deletes = false;
  std::chrono::milliseconds detect_every{0};
  std::chrono::milliseconds lookback{0};
};

// A metadata store over the harness's sink (what the daemon uses).
class WorkerMetadataStore : public actito::MetadataStore {
 public:
  explicit WorkerMetadataStore(engine::SinkWorker& sink) : sink_(sink) {}
  boost::asio::awaitable<std::optional<engine::CachedMetadata>> load(std::string key) override;
  boost::asio::awaitable<void> store(std::string key, engine::CachedMetadata metadata) override;

 private:
  engine::SinkWorker& sink_;
};

class ObjectsHarness {
 public:
  // Starts a simulator with `sim_options` (limits off unless set) and a sink on a new schema.
  explicit ObjectsHarness(actito_sim::SimOptions sim_options, std::chrono::milliseconds metadata_ttl = std::chrono::hours(1));
  ~ObjectsHarness();

  actito_sim::Simulator& sim() { return *sim_; }
  const model::Catalog& catalog() const { return catalog_; }
  actito::Discovery& discovery() { return *discovery_; }
  const std::string& schema() const { return schema_->name(); }
  const std::string& dsn() const { return schema_->dsn(); }
  std::int64_t api_calls() const { return client_->calls(); }

  // The planned spec of `object`, discovered through the metadata store like the daemon does.
  engine::StreamSpec plan(const std::string& object, const StreamOptions& options = {});
  // One cycle of `spec`.
  engine::CycleResult cycle(const engine::StreamSpec& spec);
  // Runs `hook(n)` after the n-th list call of the next cycles (1, 2...): changes made there
  // happen "between pages". An empty hook removes it.
  void after_each_list(std::function<void(std::int64_t)> hook);
  // Like the daemon's first attempt: stop before a page holding undeclared fields.
  void stop_on_undeclared(bool on) { stop_on_undeclared_ = on; }
  // Rebuilds client and discovery (a daemon restart): memory caches are gone, the database stays.
  void restart_connection();

  // The rows of the stream's table as JSON objects (to_jsonb, timestamps in UTC), by column.
  std::vector<boost::json::object> table(const std::string& object, bool include_deleted = true);
  // Empties the stream's table and forgets its state (a fresh start for another variant).
  void forget(const std::string& object);
  // Runs a query and returns the first column of the first row as text ("" for NULL).
  std::string scalar(const std::string& sql);

 private:
  template <typename T>
  T await(boost::asio::awaitable<T> work);

  actito_sim::SimOptions sim_options_;
  std::unique_ptr<actito_sim::Simulator> sim_;
  model::Catalog catalog_;
  std::chrono::milliseconds ttl_;
  boost::asio::io_context io_{1};
  std::unique_ptr<actito::ActitoClient> client_;
  std::unique_ptr<actito::ActitoSource> source_;
  std::unique_ptr<actito::Discovery> discovery_;
  std::unique_ptr<TempSchema> schema_;
  std::unique_ptr<engine::SinkWorker> sink_;
  std::unique_ptr<WorkerMetadataStore> store_;
  bool stop_on_undeclared_ = false;
  std::function<void(std::int64_t)> after_list_;
};

// Compares the replica with the simulator: every simulator row has a table row with the same
// key and, field by field, the same value (type-aware: numbers numerically, timestamps as
// instants, arrays, JSON). Returns the differences, empty when they agree; `expect_rows`
// limits the comparison to those simulator rows (by default all).
std::vector<std::string> compare_with_sim(const engine::StreamSpec& spec,
                                          const std::vector<boost::json::object>& sim_rows,
                                          const std::vector<boost::json::object>& table_rows);

// The wire value of `field` in a simulator row (nullptr when absent).
const boost::json::value* wire_value(const boost::json::object& row, const model::FieldDescriptor& field);

}  // namespace replicator::testsupport

// The Actito simulator: a real HTTP/1.1 server of the wire contract over generated data, usable
// in-process from tests (port 0) and as the `actito-sim` executable.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "tests/actito_sim/call_log.hpp"
#include "tests/actito_sim/dataset.hpp"
#include "tests/actito_sim/record_table.hpp"
#include "tests/actito_sim/sim_options.hpp"
#include "tests/actito_sim/stats_recorder.hpp"

namespace replicator::actito_sim {

// Owns the data, the server threads and the control state of one simulated Actito licence with
// one entity. The constructor loads the catalog and generates the data; start() binds and serves
// on `options.threads` threads of its own; stop() (or the destructor) closes everything.
//
// Thread-safety: every public member may be called from any thread while the server runs.
// start() and stop() must not race each other.
class Simulator {
 public:
  explicit Simulator(SimOptions options);
  ~Simulator();
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  // Binds `options.bind:options.port` and starts serving. Throws std::runtime_error when the
  // address cannot be bound.
  void start();
  void stop();
  bool running() const;

  std::uint16_t port() const;    // the bound port (after start)
  std::string base_url() const;  // "http://127.0.0.1:PORT"
  const SimOptions& options() const;

  // ---- control (the same operations as the /_sim/ endpoints) ----
  StatsSnapshot stats() const;
  void reset_stats();  // also clears the call log
  // A profile/custom table (spec.table) or a static / per-profile-table object (spec.object or
  // spec.table). Throws std::invalid_argument.
  MutationResult mutate(const MutationSpec& spec);
  // Run-time structure changes of a profile or custom table (contract 5.5). Throw
  // std::invalid_argument.
  void add_attribute(std::string_view table, const AttributeSpec& attribute);
  void remove_attribute(std::string_view table, std::string_view attribute);
  // The call log: contract calls (token calls included, /_sim/ calls not), oldest first, the
  // last SimOptions::call_log_capacity of them; only those with seq > after_seq.
  std::vector<CallRecord> calls(std::int64_t after_seq = 0) const;
  std::int64_t last_call_seq() const;  // seq of the latest call (0 before any)
  void clear_calls();
  void set_faults(const FaultSpec& faults);
  FaultSpec faults() const;
  void clear_faults();
  void set_limits(const LimitOptions& limits);
  LimitOptions limits() const;
  // Late arrivals (contract 3.6, SimOptions::visibility_delay): the delay of the rows that later
  // mutations write (rows already written keep theirs). Negative counts as 0.
  void set_visibility_delay(std::chrono::milliseconds delay);
  std::chrono::milliseconds visibility_delay() const;
  bool revoke_api_key(std::string_view key);
  void add_api_key(std::string key);
  std::size_t expire_all_tokens();

  // ---- data (what a replica should end up holding) ----
  Dataset& dataset();
  const Dataset& dataset() const;
  std::string profile_table_id() const;  // id of the first profile table ("16")
  std::string custom_table_id() const;   // id of the first custom table (a UUID)
  // `table` may also name a static or per-profile-table object (below). Throws
  // std::invalid_argument for an unknown name.
  std::size_t row_count(std::string_view table) const;
  // Streams every row of a table in id order, exactly in wire shape (single-GET shape). For a
  // static object (e.g. "EmailCampaigns", "EmailCampaignResults") or a per-profile-table object
  // ("Customers_Interactions"), the rows in key order with the fields of that catalog object:
  // EmailCampaigns rows lack the extended fields that EmailCampaignsExtended rows carry.
  void for_each_row(std::string_view table,
                    const std::function<void(const boost::json::object&)>& callback) const;
  // Convenience for small tables: every row, in id order.
  std::vector<boost::json::object> rows(std::string_view table) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace replicator::actito_sim

// Every knob of the simulator, with defaults, shared by the in-process API and the CLI.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "tests/actito_sim/dataset.hpp"

namespace replicator::actito_sim {

// Request limits of contract 2.5 as the simulator enforces them (contract A09).
struct LimitOptions {
  std::int64_t max_concurrent = 5;           // more in flight -> immediate 429 (0 = off)
  std::int64_t calls_per_minute = 100;       // over it a request waits, holding its slot (0 = off)
  std::chrono::milliseconds window{60'000};  // length of the sliding window (tests shorten it)
};

// Injected faults (flags, the in-process API and POST /_sim/faults). Counters such as fail_next
// are consumed by the requests they hit.
struct FaultSpec {
  std::chrono::milliseconds latency{0};         // added to every contract request
  std::chrono::milliseconds latency_jitter{0};  // plus a random [0, jitter]
  std::int64_t fail_next = 0;                   // the next N matching requests fail
  std::int64_t fail_every = 0;                  // every Nth matching request fails (0 = off)
  int fail_status = 503;                        // status of injected failures (5xx or 429)
  std::int64_t retry_after_s = -1;              // Retry-After on injected failures when >= 0
  std::string route_prefix;                     // failures only hit paths starting with this
  std::int64_t close_next = 0;                  // the next N matching requests get no answer
  std::int64_t token_ttl_s = 0;                 // TTL of newly issued tokens (0 = the default)
};

// Periodic mutations for demos (--mutate-every ...).
struct MutationSchedule {
  std::chrono::milliseconds every{0};  // 0 = off
  std::int64_t creates = 0;
  std::int64_t updates = 0;
  std::int64_t deletes = 0;
  bool same_moment = false;
  std::vector<std::string> tables;  // empty = every table
};

struct SimOptions {
  std::string bind = "127.0.0.1";
  std::uint16_t port = 0;  // 0 = ephemeral (the CLI defaults to 8089)
  std::size_t threads = 2;
  std::string entity = "acme";
  std::vector<std::string> api_keys = {"sim-api-key"};
  std::string catalog_path;  // empty = default_catalog_path()
  std::int64_t token_ttl_s = 900;
  DataOptions data;
  LimitOptions limits;
  FaultSpec faults;
  MutationSchedule mutations;
  // Late arrivals (contract 3.6, A07): a row created or updated by a mutation is listed only once
  // the server clock reaches its stamped moment (updateMoment) + this delay; until then list
  // routes, key scans and totalElements show the row as it was before (a new row is absent, an
  // updated row keeps its previous version). Single GETs show every write at once. The delay is
  // taken when a row is written: changing it at run time (Simulator::set_visibility_delay,
  // POST /_sim/visibility) affects later writes only. 0 = read-your-writes (the default).
  std::chrono::milliseconds visibility_delay{0};
  std::chrono::seconds idle_timeout{120};  // keep-alive connections idle longer are closed
  std::size_t call_log_capacity = 20'000;  // calls kept by the call log ring (0 = none)
  std::string log_level = "info";          // trace debug info warn error off
};

// The catalog compiled in (the source tree's core/actito/catalog.yaml), or the installed copy
// next to the executable (../share/actito-replicator/catalog.yaml) when the source is gone.
std::string default_catalog_path();

}  // namespace replicator::actito_sim

// High availability: several instances of the real daemon run one config against one database;
// each job runs on one instance at a time (its lease: a PostgreSQL advisory lock), and killing
// the active instance lets another take over.
#include <signal.h>

#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "tests/e2e/e2e_support.hpp"
#include "tests/e2e/world.hpp"

namespace replicator::e2e {
namespace {

const std::string kCustomersStream = "      - object: Customers\n";
const std::string kOrdersJob =
    "  - name: orders\n    connection: sim\n    destination: pg\n    schedule: { every: 1s }\n"
    "    lookback: 0s\n    streams:\n      - object: Orders\n";

struct Instance {
  std::uint16_t port;
  std::unique_ptr<Daemon> daemon;

  std::string metrics() const { return http_get(port, "/metrics").second; }
  // actito_replicator_job_active{job}: 1, 0, or -1 when not exported (yet).
  double active(const std::string& job) const {
    return metric_value(metrics(), "actito_replicator_job_active", {"job=\"" + job + "\""});
  }
  double cycles(const std::string& job) const {
    const std::string text = metrics();
    double ok = metric_value(text, "actito_replicator_cycles_total", {"job=\"" + job + "\"", "result=\"success\""});
    double failed =
        metric_value(text, "actito_replicator_cycles_total", {"job=\"" + job + "\"", "result=\"failure\""});
    return std::max(ok, 0.0) + std::max(failed, 0.0);
  }
  double api_requests(const std::string& object) const {
    const std::string text = metrics();
    double sum = 0;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("actito_replicator_api_requests_total{", 0) == 0 &&
          line.find("object=\"" + object + "\"") != std::string::npos) {
        sum += std::stod(line.substr(line.find('}') + 1));
      }
    }
    return sum;
  }
};

// Two instances, same jobs and destination, admin servers on their own ports.
class TwoInstances {
 public:
  explicit TwoInstances(World& w) {
    for (int i = 0; i < 2; ++i) {
      const std::uint16_t port = free_port();
      const std::string written = w.config(kCustomersStream, "", port, "", kOrdersJob);
      const std::string path = dir_.file("instance" + std::to_string(i) + ".yaml");
      write_file(path, read_file(written));
      paths_.push_back(path);
      instances_.push_back(Instance{port, nullptr});
    }
    for (std::size_t i = 0; i < instances_.size(); ++i) {
      instances_[i].daemon = std::make_unique<Daemon>(std::vector<std::string>{"run", "-c", paths_[i]});
    }
  }
  Instance& operator[](std::size_t i) { return instances_[i]; }
  const std::string& config(std::size_t i) const { return paths_[i]; }

  // Index of the instance that runs `job` once exactly one reports job_active 1 and the other 0;
  // -1 when that did not happen within `seconds`.
  int active_for(const std::string& job, int seconds) {
    int found = -1;
    wait_until(
        [&] {
          double a = instances_[0].active(job), b = instances_[1].active(job);
          found = a == 1 && b == 0 ? 0 : a == 0 && b == 1 ? 1 : -1;
          return found >= 0;
        },
        seconds);
    return found;
  }

 private:
  TempDir dir_;
  std::vector<std::string> paths_;
  std::vector<Instance> instances_;
};

TEST(HighAvailability, EachJobRunsOnOneInstanceAndTheOtherTakesOverWhenItIsKilled) {
  auto o = sim_options(300, 300);
  o.faults.latency = std::chrono::milliseconds(20);  // cycles last long enough to overlap if allowed
  Simulator sim(o);
  sim.start();
  World w(sim);
  TwoInstances ha(w);

  const int crm = ha.active_for("crm", 30);
  const int orders = ha.active_for("orders", 30);
  ASSERT_GE(crm, 0) << "job crm: not exactly one active instance\n"
                    << ha[0].daemon->stderr_text() << ha[1].daemon->stderr_text();
  ASSERT_GE(orders, 0) << "job orders: not exactly one active instance";
  // Several cycles later, the standby instance of each job has run none and made no API call for
  // its objects: the jobs' cycles never overlapped.
  ASSERT_TRUE(wait_until([&] { return ha[crm].cycles("crm") >= 3 && ha[orders].cycles("orders") >= 3; }, 30));
  EXPECT_EQ(ha[1 - crm].cycles("crm"), 0);
  EXPECT_EQ(ha[1 - crm].api_requests("Customers"), 0);
  EXPECT_EQ(ha[1 - orders].cycles("orders"), 0);
  EXPECT_EQ(ha[1 - orders].api_requests("Orders"), 0);
  EXPECT_EQ(w.scalar("SELECT count(*) FROM \"" + w.schema() + "\".customers"),
            static_cast<std::int64_t>(sim.row_count("Customers")));

  // The standby's /status says who runs the job.
  auto [code, status] = http_get(ha[1 - crm].port, "/status");
  ASSERT_EQ(code, 200);
  EXPECT_NE(status.find("\"state\":\"standby\""), std::string::npos) << status;
  EXPECT_NE(status.find(":" + std::to_string(ha[crm].daemon->pid()) + " "), std::string::npos)
      << "the holder should name the active instance's pid: " << status;
  // And so does its job entry; the active instance's says it runs the job.
  auto job_entry = [&](int instance, const std::string& job) {
    const boost::json::value doc = boost::json::parse(http_get(ha[instance].port, "/status.json").second);
    for (const auto& j : doc.at("jobs").as_array()) {
      if (j.at("job").as_string() == job) return j.as_object();
    }
    return boost::json::object{};
  };
  const boost::json::object standby_job = job_entry(1 - crm, "crm");
  ASSERT_FALSE(standby_job.empty()) << status;
  EXPECT_EQ(standby_job.at("active"), false);
  EXPECT_NE(std::string(standby_job.at("held_by").as_string()).find(":" + std::to_string(ha[crm].daemon->pid()) + " "),
            std::string::npos)
      << boost::json::serialize(standby_job);
  const boost::json::object active_job = job_entry(crm, "crm");
  ASSERT_FALSE(active_job.empty());
  EXPECT_EQ(active_job.at("active"), true);
  EXPECT_EQ(active_job.at("schedule"), "every 1s");
  EXPECT_FALSE(active_job.contains("held_by"));

  // `once` on a third process does not run a job an instance runs.
  auto once = run_binary({"once", "-c", ha.config(0), "--job", "crm"});
  EXPECT_EQ(once.exit_code, 1) << once.out << once.err;
  EXPECT_NE(once.out.find("NOT RUN"), std::string::npos) << once.out;
  EXPECT_NE(once.out.find("another instance runs this job"), std::string::npos) << once.out;

  // Kill the instance running crm; the other takes it over, and keeps up with new changes.
  const double cycles_before = ha[1 - crm].cycles("crm");
  ha[crm].daemon->signal(SIGKILL);
  ha[crm].daemon->wait();
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(wait_until([&] { return ha[1 - crm].active("crm") == 1; }, 20))
      << ha[1 - crm].daemon->stderr_text();
  const double takeover_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(takeover_s, 10) << "takeover took too long";
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  auto m = sim.mutate(MutationSpec{"Customers", 5, 10, 0, false});
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  EXPECT_TRUE(wait_until([&] { return w.pg_rows("customers", "id") == w.sim_profiles(); }, 30))
      << same_rows(w.sim_profiles(), w.pg_rows("customers", "id"));
  EXPECT_GT(ha[1 - crm].cycles("crm"), cycles_before);

  ha[1 - crm].daemon->signal(SIGTERM);
  EXPECT_EQ(ha[1 - crm].daemon->wait(), 0);
}

}  // namespace
}  // namespace replicator::e2e

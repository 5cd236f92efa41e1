// End to end for the catalog's static, nested and extended objects: the real binary's
// `once --explain`, `once`, `run` and `check` against the simulator and a real PostgreSQL.
#include <signal.h>

#include <algorithm>
#include <set>
#include <sstream>
#include <thread>

#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "tests/e2e/e2e_support.hpp"
#include "tests/e2e/world.hpp"

namespace replicator::e2e {
namespace {

SimOptions objects_world(std::uint64_t seed) {
  SimOptions o = sim_options(50, 50, seed);
  o.data.static_objects = true;
  o.data.static_rows = 12;
  o.data.interaction_rows = 40;
  return o;
}

// The block `once --explain` prints for one stream ("crm/<object>  -> table ..." up to the
// blank line), or "" when absent.
std::string explain_block(const std::string& out, const std::string& object) {
  const std::string head = "crm/" + object + "  -> ";
  auto at = out.find(head);
  if (at == std::string::npos) return "";
  auto end = out.find("\n\n", at);
  return out.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

// The first line of `block` that starts (after spaces) with `label`, without the label.
std::string explain_line(const std::string& block, const std::string& label) {
  std::istringstream in(block);
  std::string line;
  while (std::getline(in, line)) {
    auto first = line.find_first_not_of(' ');
    if (first != std::string::npos && line.compare(first, label.size(), label) == 0) {
      auto value = line.substr(first + label.size());
      value.erase(0, value.find_first_not_of(' '));
      return value;
    }
  }
  return "<no " + label + " line>";
}

std::size_t gets_of(const Simulator& sim, std::int64_t after, const std::string& path_part, bool single_record) {
  std::size_t n = 0;
  for (const auto& c : sim.calls(after)) {
    if (c.method != "GET" || c.path.find(path_part) == std::string::npos) continue;
    if ((c.route.find("{id}") != std::string::npos) == single_record) ++n;
  }
  return n;
}

std::set<std::int64_t> pg_ids(const std::string& sql) {
  std::set<std::int64_t> out;
  pqxx::connection c(World::dsn());
  pqxx::work tx(c);
  for (const auto& row : tx.exec(sql)) out.insert(row[0].as<std::int64_t>());
  return out;
}

const std::string kObjectStreams =
    "      - object: EmailCampaigns\n"
    "        where: \"Status = 'SENT' AND Name != 'nothing'\"\n"
    "      - object: EmailCampaignResults\n"
    "        where: \"CampaignId IN (1, 2) AND SentCount >= 0\"\n"
    "      - object: SMSCampaigns\n";

TEST(ObjectsE2E, ExplainShowsWhereEachPartGoesAndSendsNoListRequest) {
  Simulator sim(objects_world(61));
  sim.start();
  World w(sim);
  auto cfg = w.config(kObjectStreams);
  const auto seq = sim.last_call_seq();
  auto r = run_binary({"once", "-c", cfg, "--explain"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;

  const std::string campaigns = explain_block(r.out, "EmailCampaigns");
  ASSERT_FALSE(campaigns.empty()) << r.out;
  EXPECT_EQ(explain_line(campaigns, "where:"), "Status = 'SENT' AND Name != 'nothing'");
  EXPECT_NE(explain_line(campaigns, "pushed down:").find("Status = 'SENT'"), std::string::npos) << campaigns;
  EXPECT_NE(explain_line(campaigns, "pushed down:").find("search="), std::string::npos) << campaigns;
  EXPECT_EQ(explain_line(campaigns, "applied locally:"), "Name != 'nothing'");
  EXPECT_NE(explain_line(campaigns, "first request:").find("/email-campaigns?"), std::string::npos) << campaigns;

  const std::string results = explain_block(r.out, "EmailCampaignResults");
  ASSERT_FALSE(results.empty()) << r.out;
  EXPECT_EQ(explain_line(results, "pushed down:"), "CampaignId IN (1, 2)");
  EXPECT_EQ(explain_line(results, "applied locally:"), "SentCount >= 0");
  EXPECT_NE(explain_line(results, "fan-out:").find("2 from where: 1, 2"), std::string::npos) << results;
  EXPECT_NE(explain_line(results, "first request:").find("/email-campaigns/1/results"), std::string::npos) << results;

  const std::string sms = explain_block(r.out, "SMSCampaigns");
  ASSERT_FALSE(sms.empty()) << r.out;
  EXPECT_EQ(explain_line(sms, "pushed down:"), "nothing");
  const std::string extended = explain_line(sms, "extended fields:");
  EXPECT_NE(extended.find("MessageText"), std::string::npos) << sms;
  EXPECT_NE(extended.find("one GET"), std::string::npos) << sms;

  // Static objects need no discovery: explaining them reads nothing from the API.
  std::size_t gets = 0;
  for (const auto& c : sim.calls(seq)) gets += c.method == "GET" ? 1 : 0;
  EXPECT_EQ(gets, 0u) << "--explain sent list or record requests";
}

TEST(ObjectsE2E, OnceReplicatesFilteredFannedOutAndExtendedObjects) {
  Simulator sim(objects_world(62));
  sim.start();
  World w(sim);
  auto cfg = w.config(kObjectStreams);
  const auto seq = sim.last_call_seq();
  auto r = run_binary({"once", "-c", cfg});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;

  // EmailCampaigns: exactly the SENT ones (the sim's data has Name values other than 'nothing').
  std::set<std::int64_t> sent;
  for (const auto& row : sim.rows("EmailCampaigns")) {
    if (row.at("status").as_string() == "SENT") sent.insert(row.at("id").as_int64());
  }
  ASSERT_FALSE(sent.empty()) << "the generated data should hold SENT campaigns";
  EXPECT_EQ(pg_ids("SELECT id FROM \"" + w.schema() + "\".email_campaigns"), sent);
  for (const auto& c : sim.calls(seq)) {
    if (c.method == "GET" && c.route.find("email-campaigns") != std::string::npos &&
        c.path.size() >= 16 && c.path.compare(c.path.size() - 16, 16, "/email-campaigns") == 0) {
      EXPECT_NE(c.param("search").find("status==\"SENT\""), std::string::npos)
          << "the native part was not sent: " << c.param("search");
    }
  }

  // EmailCampaignResults: only campaigns 1 and 2 were listed, and every one of their results came.
  std::set<std::int64_t> expected_results;
  for (const auto& row : sim.rows("EmailCampaignResults")) {
    const auto campaign = row.at("campaignId").as_int64();
    if (campaign == 1 || campaign == 2) expected_results.insert(row.at("id").as_int64());
  }
  EXPECT_EQ(pg_ids("SELECT id FROM \"" + w.schema() + "\".email_campaign_results"), expected_results);
  std::set<std::string> result_paths;
  for (const auto& c : sim.calls(seq)) {
    if (c.method == "GET" && c.path.find("/results") != std::string::npos) result_paths.insert(c.path);
  }
  EXPECT_EQ(result_paths.size(), 2u) << "one list per parent of the where";
  for (const auto& p : result_paths) {
    EXPECT_TRUE(p.find("/email-campaigns/1/results") != std::string::npos ||
                p.find("/email-campaigns/2/results") != std::string::npos)
        << p;
  }

  // SMSCampaigns: one GET per record, and the extended values arrived.
  const auto sms_rows = sim.rows("SMSCampaigns");
  EXPECT_EQ(gets_of(sim, seq, "/sms-campaigns/", true), sms_rows.size());
  {
    pqxx::connection c(World::dsn());
    pqxx::work tx(c);
    std::size_t checked = 0;
    for (const auto& row : sms_rows) {
      auto res = tx.exec_params("SELECT message_text FROM \"" + w.schema() + "\".sms_campaigns WHERE id = $1",
                                row.at("id").as_int64());
      ASSERT_EQ(res.size(), 1u) << "SMS campaign " << row.at("id").as_int64() << " missing";
      const auto& text = row.at("messageText");
      if (text.is_string()) {
        EXPECT_EQ(std::string(res[0][0].c_str()), std::string(text.as_string()));
        ++checked;
      }
    }
    EXPECT_GT(checked, 0u);
  }

  // A second run finds nothing new: no GET per record.
  const auto seq2 = sim.last_call_seq();
  auto again = run_binary({"once", "-c", cfg});
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_EQ(gets_of(sim, seq2, "/sms-campaigns/", true), 0u) << "up-to-date rows were fetched again";
}

TEST(ObjectsE2E, RunningDaemonSoftDeletesAndCountsExtendedRequests) {
  Simulator sim(objects_world(63));
  sim.start();
  World w(sim);
  const std::uint16_t port = free_port();
  auto cfg = w.config(
      "      - object: Orders\n"
      "        deletes: detect\n"
      "        detect_deletes_every: 1s\n"
      "      - object: SMSCampaigns\n"
      "        deletes: detect\n",
      "", port);
  Daemon d({"run", "-c", cfg});
  const auto orders = static_cast<std::int64_t>(sim.row_count("Orders"));
  const auto sms = static_cast<std::int64_t>(sim.rows("SMSCampaigns").size());
  auto count = [&](const std::string& table, const std::string& cond) { return w.count_or_missing(table, cond); };
  ASSERT_TRUE(wait_until([&] { return count("orders", "true") == orders && count("sms_campaigns", "true") == sms; }, 60))
      << d.stderr_text();

  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  auto gone_orders = sim.mutate(MutationSpec{"Orders", 0, 0, 4, false});
  ASSERT_EQ(gone_orders.deleted.size(), 4u);
  MutationSpec sms_delete;
  sms_delete.object = "SMSCampaigns";
  sms_delete.delete_ids = {sim.rows("SMSCampaigns").front().at("id").as_int64()};
  auto gone_sms = sim.mutate(sms_delete);
  ASSERT_EQ(gone_sms.deleted.size(), 1u);

  EXPECT_TRUE(wait_until([&] { return count("orders", "_deleted_at IS NOT NULL") == 4; }, 60)) << d.stderr_text();
  EXPECT_TRUE(wait_until([&] { return count("sms_campaigns", "_deleted_at IS NOT NULL") == 1; }, 60)) << d.stderr_text();
  std::set<std::int64_t> marked =
      pg_ids("SELECT id FROM \"" + w.schema() + "\".sms_campaigns WHERE _deleted_at IS NOT NULL");
  EXPECT_EQ(marked, std::set<std::int64_t>(gone_sms.deleted.begin(), gone_sms.deleted.end()));
  // Soft delete: the rows are still there.
  EXPECT_EQ(count("orders", "true"), orders);

  auto [status, body] = http_get(port, "/metrics");
  ASSERT_EQ(status, 200);
  EXPECT_GE(metric_value(body, "actito_replicator_rows_total", {"stream=\"Orders\"", "op=\"delete\""}), 4) << body;
  EXPECT_GE(metric_value(body, "actito_replicator_rows_total", {"stream=\"SMSCampaigns\"", "op=\"delete\""}), 1);
  EXPECT_EQ(metric_value(body, "actito_replicator_extended_requests_total", {"object=\"SMSCampaigns\""}),
            static_cast<double>(sms))
      << "one GET per SMS campaign, once: later cycles find them up to date";
  d.signal(SIGTERM);
  EXPECT_EQ(d.wait(), 0) << d.stderr_text();
}

TEST(ObjectsE2E, BadWhereIsRefusedWithItsLocation) {
  Simulator sim(objects_world(64));
  sim.start();
  World w(sim);
  auto cfg = w.config("      - object: EmailCampaigns\n        where: \"Nope = 1\"\n");
  auto r = run_binary({"check", "-c", cfg});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  const std::string all = r.out + r.err;
  EXPECT_NE(all.find("unknown field Nope"), std::string::npos) << all;
  // World's job file puts the stream's where value on line 24, after `        where: `.
  EXPECT_NE(all.find("replicator.yaml:24:16"), std::string::npos) << all;

  cfg = w.config("      - object: SMSCampaigns\n        where: \"MessageText = 'hi'\"\n");
  r = run_binary({"once", "-c", cfg});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE((r.out + r.err).find("extended"), std::string::npos) << r.out << r.err;
  EXPECT_EQ(w.scalar("SELECT count(*) FROM information_schema.tables WHERE table_schema = '" + w.schema() +
                     "' AND table_name = 'sms_campaigns'"),
            0)
      << "a refused config must not touch the destination";
}

TEST(ObjectsE2E, StructuresDiscoveredOnceAreCachedAcrossProcesses) {
  Simulator sim(objects_world(65));
  sim.start();
  World w(sim);
  auto cfg = w.config("      - object: Customers_Interactions\n");
  auto first = run_binary({"once", "-c", cfg, "--explain"});
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  EXPECT_NE(first.out.find("discovery read the table structures"), std::string::npos) << first.out;

  const auto seq = sim.last_call_seq();
  auto second = run_binary({"once", "-c", cfg, "--explain"});
  ASSERT_EQ(second.exit_code, 0) << second.out << second.err;
  EXPECT_EQ(second.out.find("discovery read"), std::string::npos) << second.out;
  std::size_t gets = 0;
  for (const auto& c : sim.calls(seq)) gets += c.method == "GET" ? 1 : 0;
  EXPECT_EQ(gets, 0u) << "the second process read the structures again instead of the cache";

  auto run = run_binary({"once", "-c", cfg});
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_EQ(w.scalar("SELECT count(*) FROM \"" + w.schema() + "\".customers_interactions"),
            static_cast<std::int64_t>(sim.rows("Customers_Interactions").size()));
}

TEST(ObjectsE2E, SigtermDoesNotWaitForTheCallBudget) {
  Simulator sim(objects_world(66));
  sim.start();
  World w(sim);
  const std::uint16_t port = free_port();
  // 3 calls a minute: the token and the two structure reads use them up, so the first list
  // request waits for the window (a minute) when SIGTERM arrives.
  auto cfg = w.config("      - object: Customers\n      - object: SMSCampaigns\n", "", port, "    calls_per_minute: 3\n");
  Daemon d({"run", "-c", cfg});
  ASSERT_TRUE(wait_until([&] { return http_get(port, "/healthz").first == 200; }, 20)) << d.stderr_text();
  ASSERT_TRUE(wait_until(
      [&] {
        const std::string m = http_get(port, "/metrics").second;
        return m.find("actito_replicator_api_requests_total{") != std::string::npos && sim.stats().total_calls >= 3;
      },
      20));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const auto t0 = std::chrono::steady_clock::now();
  d.signal(SIGTERM);
  EXPECT_EQ(d.wait(std::chrono::seconds(30)), 0) << d.stderr_text();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5))
      << "the daemon waited for the call budget before stopping";
}

}  // namespace
}  // namespace replicator::e2e

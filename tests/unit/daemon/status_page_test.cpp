// The /status HTML page: what a person reads in it for each kind of stream, that every value is
// escaped (read back through a small HTML reader: injected markup must stay text), and the
// content negotiation between the page and the JSON.
#include "daemon/status_page.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <set>
#include <string>

#include "tests/support/html_probe.hpp"

namespace replicator::daemon {
namespace {

namespace json = boost::json;
using testsupport::html_element;
using testsupport::html_element_text;
using testsupport::html_tags;
using testsupport::html_text;

constexpr const char* kNow = "2026-01-01T12:00:00.000Z";

// A stream as status_json() writes it: a healthy incremental stream, last run 3 min ago.
json::object ok_stream(const std::string& job, const std::string& stream) {
  return json::object{{"job", job},
                      {"stream", stream},
                      {"mode", "incremental"},
                      {"state", "idle"},
                      {"last_run_started", "2026-01-01T11:56:58.500Z"},
                      {"last_run_finished", "2026-01-01T11:57:00.000Z"},
                      {"last_success", "2026-01-01T11:57:00.000Z"},
                      {"last_error", nullptr},
                      {"watermark", "2026-01-01T09:55:00.000Z"},
                      {"lag_seconds", 7500},
                      {"rows_total", 1234567},
                      {"last_rows_read", 120},
                      {"last_rows_written", 30},
                      {"last_api_calls", 4},
                      {"next_run", "2026-01-01T12:02:00.000Z"}};
}

// A stream the scheduler knows but that never ran.
json::object new_stream(const std::string& job, const std::string& stream) {
  return json::object{{"job", job},
                      {"stream", stream},
                      {"mode", ""},
                      {"state", "idle"},
                      {"last_run_started", nullptr},
                      {"last_run_finished", nullptr},
                      {"last_success", nullptr},
                      {"last_error", nullptr},
                      {"watermark", nullptr},
                      {"lag_seconds", nullptr},
                      {"rows_total", 0},
                      {"last_rows_read", 0},
                      {"last_rows_written", 0},
                      {"last_api_calls", 0},
                      {"next_run", "2026-01-01T12:02:00.000Z"}};
}

json::value document(json::array streams, const char* now = kNow) {
  return json::object{{"version", "1.2.3"}, {"now", now}, {"streams", std::move(streams)}};
}

using Match = std::vector<std::pair<std::string, std::string>>;

// The text of one cell (td.<cls>) of the row of job/stream.
std::string cell(const std::string& page, const std::string& job, const std::string& stream,
                 const std::string& cls) {
  auto row = html_element(page, "tr", Match{{"data-job", job}, {"data-stream", stream}});
  if (!row) return "<no row " + job + "/" + stream + ">";
  return html_element_text(*row, "td", Match{{"class", cls}}).value_or("<no cell " + cls + ">");
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(HtmlEscape, ReplacesTheCharactersThatMatterInTextAndAttributes) {
  EXPECT_EQ(html_escape("<script>alert(1)</script>"), "&lt;script&gt;alert(1)&lt;/script&gt;");
  EXPECT_EQ(html_escape("say \"hi\" & 'bye'"), "say &quot;hi&quot; &amp; &#39;bye&#39;");
  EXPECT_EQ(html_escape("&amp;"), "&amp;amp;")
      << "an already escaped text is escaped again, not trusted";
  EXPECT_EQ(html_escape("Zoë – 東京 ✓ 🙂"), "Zoë – 東京 ✓ 🙂")
      << "UTF-8 passes through byte for byte";
  EXPECT_EQ(html_escape(""), "");
  EXPECT_EQ(html_escape("plain text, 42 rows (100%)"), "plain text, 42 rows (100%)");
}

TEST(PrefersHtml, BrowsersGetThePageEverythingElseTheJson) {
  // What Chromium, Firefox and Safari send for a navigation.
  EXPECT_TRUE(
      prefers_html("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/"
                   "webp,image/apng,*/*;q=0.8,"
                   "application/signed-exchange;v=b3;q=0.7"));
  EXPECT_TRUE(prefers_html("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"));
  EXPECT_TRUE(prefers_html("text/html"));
  EXPECT_TRUE(prefers_html("Text/HTML"));
  EXPECT_TRUE(prefers_html("text/*"));
  EXPECT_TRUE(prefers_html("application/json;q=0.4, text/html;level=1;q=0.5"));

  EXPECT_FALSE(prefers_html("")) << "no Accept: JSON, as the existing clients expect";
  EXPECT_FALSE(prefers_html("*/*")) << "curl's default";
  EXPECT_FALSE(prefers_html("application/json"));
  EXPECT_FALSE(prefers_html("application/json, text/html")) << "a tie means JSON";
  EXPECT_FALSE(prefers_html("application/json, text/html;q=0.9"));
  EXPECT_FALSE(prefers_html("text/html;q=0"));
  EXPECT_FALSE(prefers_html("text/html;q=0.5, */*;q=0.8"))
      << "JSON through */* at 0.8 beats HTML at 0.5";
  EXPECT_FALSE(prefers_html("text/html;q=lots")) << "an unreadable range is ignored";
  EXPECT_FALSE(prefers_html(" , ;q=1,"));
}

TEST(StatusPage, EveryValueIsEscapedAndInjectedMarkupStaysText) {
  const std::string evil = "<script>alert(1)</script>\"'&é";
  json::object s = ok_stream("crm" + evil, "Customers" + evil);
  s["mode"] = "incremental" + evil;
  s["state"] = "failed";
  s["last_error"] = "connection sim: no entity '<img src=x onerror=\"alert(2)\">' & more" + evil;
  s["watermark"] = "not a timestamp " + evil;
  s["next_run"] = evil;
  json::object doc = document(json::array{s}).get_object();
  doc["version"] = "9" + evil;
  doc["jobs"] = json::array{json::object{{"job", "crm" + evil},
                                         {"connection", "sim" + evil},
                                         {"destination", "pg" + evil},
                                         {"schedule", "every " + evil},
                                         {"active", false},
                                         {"held_by", "host " + evil}}};
  const std::string page = render_status_page(doc);

  // Only the elements the page itself writes: no script, no img, whatever the data says.
  const std::set<std::string> allowed = {
      "html", "head",     "meta", "title",  "style",   "body",  "header",   "h1",    "h2", "p",
      "span", "time",     "a",    "main",   "section", "table", "thead",    "tbody", "tr", "th",
      "td",   "progress", "pre",  "footer", "code",    "div",   "colgroup", "col",   "wbr"};
  for (const auto& tag : html_tags(page)) {
    EXPECT_TRUE(allowed.count(tag.name)) << "unexpected element <" << tag.name << "> in\n" << page;
    for (const auto& [name, value] : tag.attributes) {
      EXPECT_NE(name, "onerror") << "an attribute escaped from its quotes";
    }
  }
  EXPECT_FALSE(contains(page, "<script")) << page;
  EXPECT_FALSE(contains(page, "<img")) << page;

  // And each value reads back exactly as it was, in its place.
  const std::string job = "crm" + evil, stream = "Customers" + evil;
  EXPECT_TRUE(html_element(page, "section", Match{{"data-job", job}}))
      << "attribute value not intact";
  EXPECT_EQ(html_element_text(page, "h2", {}), "Job " + job);
  EXPECT_EQ(cell(page, job, stream, "stream"), stream + " incremental" + evil);
  EXPECT_EQ(cell(page, job, stream, "watermark"), "not a timestamp " + evil);
  EXPECT_EQ(cell(page, job, stream, "next-run"), evil);
  auto error_row = html_element(page, "tr", Match{{"data-job", job}, {"data-error-for", stream}});
  ASSERT_TRUE(error_row) << page;
  EXPECT_EQ(html_element_text(*error_row, "pre", Match{{"class", "error"}}),
            "connection sim: no entity '<img src=x onerror=\"alert(2)\">' & more" + evil);
  EXPECT_EQ(html_element_text(page, "span", Match{{"class", "version"}}), "9" + evil);
  EXPECT_EQ(html_element_text(page, "p", Match{{"class", "job-meta"}}),
            "every " + evil + " \xC2\xB7 sim" + evil + " \xE2\x86\x92 pg" + evil + " \xC2\xB7 standby: runs on host " + evil);
  // The escaped forms are what the page holds.
  EXPECT_TRUE(contains(page, "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;é")) << page;
}

TEST(StatusPage, AHealthyStreamShowsTimesLagRowsAndNextRun) {
  const std::string page = render_status_page(document(json::array{ok_stream("crm", "Customers")}));
  EXPECT_EQ(cell(page, "crm", "Customers", "stream"), "Customers incremental");
  EXPECT_EQ(cell(page, "crm", "Customers", "state"), "ok");
  EXPECT_EQ(cell(page, "crm", "Customers", "last-run"),
            "2026-01-01T11:57:00.000Z 3 min ago took 1.5 s");
  EXPECT_EQ(cell(page, "crm", "Customers", "last-success"), "2026-01-01T11:57:00.000Z 3 min ago");
  EXPECT_EQ(cell(page, "crm", "Customers", "watermark"), "2026-01-01T09:55:00.000Z 2 h 5 min ago");
  EXPECT_EQ(cell(page, "crm", "Customers", "lag"), "2 h 5 min");
  EXPECT_EQ(cell(page, "crm", "Customers", "rows"),
            "1,234,567 last cycle: 120 read, 30 written, 4 API calls");
  EXPECT_EQ(cell(page, "crm", "Customers", "next-run"), "2026-01-01T12:02:00.000Z in 2 min");
  // ISO times are machine-readable too.
  auto row = html_element(page, "tr", Match{{"data-stream", "Customers"}});
  ASSERT_TRUE(row);
  auto tags = html_tags(*row);
  EXPECT_TRUE(std::any_of(tags.begin(), tags.end(), [](const testsupport::HtmlTag& t) {
    return t.name == "time" && t.has("datetime", "2026-01-01T09:55:00.000Z");
  }));
  EXPECT_FALSE(html_element(page, "tr", Match{{"class", "error-row"}})) << "no error, no error row";
  const std::string summary =
      html_element_text(page, "p", Match{{"class", "summary"}}).value_or("");
  EXPECT_EQ(summary, "1 stream in 1 job: 1 ok");
  EXPECT_EQ(html_element_text(page, "title", {}), "actito-replicator status");
}

TEST(StatusPage, HumanisesLagInTheTwoLargestUnits) {
  auto lag_text = [](std::int64_t seconds) {
    json::object s = ok_stream("crm", "Orders");
    s["lag_seconds"] = seconds;
    return cell(render_status_page(document(json::array{s})), "crm", "Orders", "lag");
  };
  EXPECT_EQ(lag_text(0), "0 s");
  EXPECT_EQ(lag_text(45), "45 s");
  EXPECT_EQ(lag_text(180), "3 min");
  EXPECT_EQ(lag_text(200), "3 min 20 s");
  EXPECT_EQ(lag_text(3600), "1 h");
  EXPECT_EQ(lag_text(97200), "1 d 3 h");
  EXPECT_EQ(lag_text(-5), "0 s") << "a watermark ahead of the local clock is no lag";
}

TEST(StatusPage, AStreamThatNeverRanSaysSoInsteadOfShowingNulls) {
  const std::string page = render_status_page(document(json::array{new_stream("crm", "Orders")}));
  EXPECT_EQ(cell(page, "crm", "Orders", "stream"), "Orders");
  EXPECT_EQ(cell(page, "crm", "Orders", "state"), "waiting not run yet");
  EXPECT_EQ(cell(page, "crm", "Orders", "last-run"), "never");
  EXPECT_EQ(cell(page, "crm", "Orders", "last-success"), "never");
  EXPECT_EQ(cell(page, "crm", "Orders", "watermark"), "none yet");
  EXPECT_EQ(cell(page, "crm", "Orders", "lag"), "no watermark");
  EXPECT_EQ(cell(page, "crm", "Orders", "rows"), "0");
  EXPECT_EQ(cell(page, "crm", "Orders", "next-run"), "2026-01-01T12:02:00.000Z in 2 min");
  EXPECT_FALSE(contains(page, "null")) << page;

  json::object unscheduled = new_stream("crm", "Orders");
  unscheduled["next_run"] = nullptr;
  EXPECT_EQ(
      cell(render_status_page(document(json::array{unscheduled})), "crm", "Orders", "next-run"),
      "not scheduled");
}

TEST(StatusPage, AFailingStreamShowsItsWholeErrorAndCountsInTheTitle) {
  std::string error = "connection sim: GET Customers answered 500: boom\n  at page 7";
  for (int i = 0; i < 40; ++i) error += " and a long tail " + std::to_string(i);
  json::object s = ok_stream("crm", "Customers");
  s["state"] = "failed";
  s["last_error"] = error;
  s["last_run_started"] = "2026-01-01T11:59:49.200Z";
  s["last_run_finished"] = "2026-01-01T11:59:50.000Z";
  const std::string page = render_status_page(document(json::array{s, ok_stream("crm", "Orders")}));
  EXPECT_EQ(cell(page, "crm", "Customers", "state"), "failing");
  EXPECT_EQ(cell(page, "crm", "Orders", "state"), "ok");
  EXPECT_EQ(cell(page, "crm", "Customers", "last-run"),
            "2026-01-01T11:59:50.000Z 10 s ago took 800 ms");
  auto error_row =
      html_element(page, "tr", Match{{"data-job", "crm"}, {"data-error-for", "Customers"}});
  ASSERT_TRUE(error_row) << page;
  EXPECT_EQ(html_element(*error_row, "pre", Match{{"class", "error"}}), error)
      << "in full, line breaks kept";
  EXPECT_TRUE(contains(html_text(*error_row), "Last error"));
  EXPECT_FALSE(html_element(page, "tr", Match{{"data-error-for", "Orders"}}));
  EXPECT_EQ(html_element_text(page, "title", {}), "1 failing - actito-replicator status")
      << "visible in the tab";
  EXPECT_EQ(html_element_text(page, "p", Match{{"class", "summary"}}),
            "2 streams in 1 job: 1 failing, 1 ok");
}

TEST(StatusPage, ARunningCycleShowsItsProgress) {
  json::object s = ok_stream("crm", "Customers");
  s["state"] = "running";
  s["last_run_started"] = "2026-01-01T11:59:48.000Z";
  s["progress_rows"] = 1200;
  s["progress_total"] = 5000;
  std::string page = render_status_page(document(json::array{s}));
  EXPECT_EQ(cell(page, "crm", "Customers", "state"), "running for 12 s 1,200 of 5,000 rows (24%)");
  auto row = html_element(page, "tr", Match{{"data-stream", "Customers"}});
  ASSERT_TRUE(row);
  auto tags = html_tags(*row);
  auto bar =
      std::find_if(tags.begin(), tags.end(), [](const auto& t) { return t.name == "progress"; });
  ASSERT_NE(bar, tags.end()) << *row;
  EXPECT_TRUE(bar->has("value", "1200") && bar->has("max", "5000"));
  // The previous cycle's end stays the last run until this one finishes.
  EXPECT_EQ(cell(page, "crm", "Customers", "last-run"), "2026-01-01T11:57:00.000Z 3 min ago");

  // Total unknown (the API did not say): the rows so far, no bar.
  s["progress_total"] = -1;
  s["last_error"] = "the previous cycle failed";
  page = render_status_page(document(json::array{s}));
  EXPECT_EQ(cell(page, "crm", "Customers", "state"), "running for 12 s 1,200 rows read so far");
  EXPECT_FALSE(contains(page, "<progress"));
  auto error_row = html_element(page, "tr", Match{{"data-error-for", "Customers"}});
  ASSERT_TRUE(error_row);
  EXPECT_TRUE(
      contains(html_text(*error_row), "Last error (previous cycle) the previous cycle failed"))
      << html_text(*error_row);

  // A first cycle: nothing finished yet.
  json::object first = new_stream("crm", "Orders");
  first["state"] = "running";
  first["last_run_started"] = "2026-01-01T11:59:59.000Z";
  first["progress_rows"] = 0;
  first["progress_total"] = 0;
  page = render_status_page(document(json::array{first}));
  EXPECT_EQ(cell(page, "crm", "Orders", "state"), "running for 1 s 0 of 0 rows (100%)");
  EXPECT_EQ(cell(page, "crm", "Orders", "last-run"), "first cycle running");
}

TEST(StatusPage, AStandbyStreamNamesTheInstanceThatRunsItsJob) {
  json::object s = ok_stream("crm", "Customers");
  s["state"] = "standby";
  s["held_by"] = "actito-replicator/crm host-b:4242 <pid & co>";
  const std::string page = render_status_page(document(json::array{s}));
  EXPECT_EQ(cell(page, "crm", "Customers", "state"),
            "standby another instance runs this job: actito-replicator/crm host-b:4242 <pid & co>");
  EXPECT_EQ(html_element_text(page, "p", Match{{"class", "summary"}}),
            "1 stream in 1 job: 1 standby");
  EXPECT_FALSE(html_element(page, "tr", Match{{"class", "error-row"}}));
}

TEST(StatusPage, StreamsAreGroupedByJob) {
  json::array streams{ok_stream("billing", "Invoices"), ok_stream("crm", "Customers"),
                      new_stream("crm", "Orders")};
  const std::string page = render_status_page(document(streams));
  auto billing = html_element(page, "section", Match{{"data-job", "billing"}});
  auto crm = html_element(page, "section", Match{{"data-job", "crm"}});
  ASSERT_TRUE(billing && crm) << page;
  EXPECT_TRUE(html_element(*billing, "tr", Match{{"data-stream", "Invoices"}}));
  EXPECT_FALSE(html_element(*billing, "tr", Match{{"data-stream", "Customers"}}));
  EXPECT_TRUE(html_element(*crm, "tr", Match{{"data-stream", "Customers"}}));
  EXPECT_TRUE(html_element(*crm, "tr", Match{{"data-stream", "Orders"}}));
  EXPECT_LT(page.find("data-job=\"billing\""), page.find("data-job=\"crm\""))
      << "in the document's order";
  EXPECT_EQ(html_element_text(*crm, "p", Match{{"class", "job-summary"}}),
            "2 streams: 1 ok, 1 waiting");
  EXPECT_EQ(html_element_text(page, "p", Match{{"class", "summary"}}),
            "3 streams in 2 jobs: 2 ok, 1 waiting");
}

TEST(StatusPage, EachJobShowsItsScheduleRouteAndWhichInstanceRunsIt) {
  json::array streams{ok_stream("billing", "Invoices"), ok_stream("crm", "Customers"), new_stream("web", "Forms")};
  json::object doc = document(streams).get_object();
  doc["jobs"] = json::array{
      json::object{{"job", "billing"}, {"connection", "sim"}, {"destination", "pg"}, {"schedule", "every 15m"},
                   {"active", true}},
      json::object{{"job", "crm"}, {"connection", "sim"}, {"destination", "warehouse"},
                   {"schedule", "cron 0 * * * *"}, {"active", false}, {"held_by", "actito-replicator/crm host-b:4242"}},
      json::object{{"job", "web"}, {"connection", "sim"}, {"destination", "pg"}, {"schedule", "every 1h"},
                   {"active", false}, {"held_by", ""}},
      json::object{{"job", "late"}, {"connection", "sim"}, {"destination", "pg"}, {"schedule", "every 1h"},
                   {"active", nullptr}}};
  doc["streams"].as_array().push_back(new_stream("late", "Goals"));
  const std::string page = render_status_page(doc);
  auto meta = [&](const std::string& job) -> std::string {
    auto section = html_element(page, "section", Match{{"data-job", job}});
    if (!section) return "<no section " + job + ">";
    return html_element_text(*section, "p", Match{{"class", "job-meta"}}).value_or("<no job-meta>");
  };
  EXPECT_EQ(meta("billing"), "every 15m \xC2\xB7 sim \xE2\x86\x92 pg \xC2\xB7 runs on this instance");
  EXPECT_EQ(meta("crm"), "cron 0 * * * * \xC2\xB7 sim \xE2\x86\x92 warehouse \xC2\xB7 standby: runs on "
                         "actito-replicator/crm host-b:4242");
  EXPECT_EQ(meta("web"), "every 1h \xC2\xB7 sim \xE2\x86\x92 pg \xC2\xB7 standby: another instance runs it");
  EXPECT_EQ(meta("late"), "every 1h \xC2\xB7 sim \xE2\x86\x92 pg \xC2\xB7 which instance runs it: not known yet "
                          "(destination not reached)");
  // A document without "jobs" (from an older daemon) renders without the line.
  EXPECT_FALSE(html_element(render_status_page(document(streams)), "p", Match{{"class", "job-meta"}}));
}

TEST(StatusPage, ReloadsItselfAndNeedsNothingButItself) {
  const std::string page = render_status_page(document(json::array{ok_stream("crm", "Customers")}));
  auto head = html_element(page, "head", {});
  ASSERT_TRUE(head);
  bool refresh = false;
  for (const auto& t : html_tags(*head)) {
    if (t.name == "meta" && t.has("http-equiv", "refresh")) {
      refresh = true;
      EXPECT_TRUE(t.has("content", std::to_string(kStatusPageRefreshSeconds)));
    }
  }
  EXPECT_TRUE(refresh) << "the page must refresh itself";
  EXPECT_TRUE(contains(html_text(page), "this page reloads every " +
                                            std::to_string(kStatusPageRefreshSeconds) + " s"));
  for (const auto& t : html_tags(page)) {
    EXPECT_NE(t.name, "script") << "no script: the first paint is the whole page";
    EXPECT_NE(t.name, "link") << "no external stylesheet";
    EXPECT_EQ(t.attribute("src"), nullptr) << "no external asset";
    if (const auto* href = t.attribute("href")) {
      EXPECT_EQ(href->rfind("/", 0), 0u) << *href;
    }
  }
  EXPECT_EQ(page.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_TRUE(contains(page, "<meta charset=\"utf-8\">"));
}

TEST(StatusPage, AnEmptyOrOddDocumentStillRenders) {
  for (const json::value& doc :
       {json::value(nullptr), json::value(json::array{}), json::value(json::object{}),
        json::value(json::object{{"streams", 42}}),
        json::value(json::object{{"streams", json::array{1, "x"}}})}) {
    const std::string page = render_status_page(doc);
    EXPECT_EQ(html_element_text(page, "p", Match{{"class", "summary"}}), "No stream scheduled yet.")
        << json::serialize(doc);
  }
  // Fields of unexpected types are shown as their JSON, not dropped and not crashing.
  json::object s{{"job", "crm"},         {"stream", "Odd"}, {"state", "idle"},
                 {"rows_total", "many"}, {"watermark", 12}, {"lag_seconds", "soon"}};
  const std::string page = render_status_page(document(json::array{s}));
  EXPECT_EQ(cell(page, "crm", "Odd", "watermark"), "12");
  EXPECT_EQ(cell(page, "crm", "Odd", "lag"), "no watermark");
  EXPECT_EQ(cell(page, "crm", "Odd", "rows"), "0");
}

}  // namespace
}  // namespace replicator::daemon

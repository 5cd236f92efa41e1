#include "daemon/status_page.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/model/error.hpp"
#include "core/model/timestamp.hpp"

namespace replicator::daemon {

namespace json = boost::json;

namespace {

// ---- reading the document (tolerant: a missing or mistyped field reads as null) ----------------

const json::value* field(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && !v->is_null() ? v : nullptr;
}

std::optional<std::string> text_field(const json::object& o, std::string_view key) {
  const json::value* v = field(o, key);
  if (!v) return std::nullopt;
  if (v->is_string()) return std::string(v->get_string());
  return json::serialize(*v);  // a number or anything else: shown as JSON text
}

std::optional<std::int64_t> int_field(const json::object& o, std::string_view key) {
  const json::value* v = field(o, key);
  if (!v) return std::nullopt;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<std::int64_t>(v->get_uint64());
  if (v->is_double()) return static_cast<std::int64_t>(v->get_double());
  return std::nullopt;
}

std::optional<std::int64_t> epoch_ms(const std::optional<std::string>& iso) {
  if (!iso) return std::nullopt;
  try {
    return model::parse_timestamp(*iso, model::TimeZone::utc()).ms;
  } catch (const model::Error&) {
    return std::nullopt;
  }
}

// ---- humanising --------------------------------------------------------------------------------

// "45 s", "3 min", "3 min 20 s", "2 h 5 min", "3 d 4 h": the two largest units.
std::string humanize_seconds(std::int64_t s) {
  struct Unit {
    std::int64_t seconds;
    const char* name;
  };
  static constexpr Unit kUnits[] = {{86400, "d"}, {3600, "h"}, {60, "min"}, {1, "s"}};
  if (s < 60) return std::to_string(std::max<std::int64_t>(s, 0)) + " s";
  for (std::size_t i = 0; i + 1 < std::size(kUnits); ++i) {
    if (s < kUnits[i].seconds) continue;
    std::string out = std::to_string(s / kUnits[i].seconds) + " " + kUnits[i].name;
    const std::int64_t minor = s % kUnits[i].seconds / kUnits[i + 1].seconds;
    if (minor > 0) out += " " + std::to_string(minor) + " " + kUnits[i + 1].name;
    return out;
  }
  return std::to_string(s) + " s";
}

// "3 min ago", "in 2 min", "now" for an instant `delta_ms` after (or before) now.
std::string relative(std::int64_t delta_ms) {
  const std::int64_t s = delta_ms / 1000;
  if (s == 0) return "now";
  return s < 0 ? humanize_seconds(-s) + " ago" : "in " + humanize_seconds(s);
}

// 1234567 -> "1,234,567".
std::string grouped(std::int64_t n) {
  const std::uint64_t magnitude =
      n < 0 ? 0 - static_cast<std::uint64_t>(n) : static_cast<std::uint64_t>(n);
  const std::string digits = std::to_string(magnitude);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

// What a person should read first about a stream.
std::string display_state(const std::string& state, bool has_error, bool has_success) {
  if (state == "running") return "running";
  if (state == "failed") return "failing";
  if (state == "stopped") return "stopped";
  if (state == "standby") return "standby";
  if (state == "idle") {
    if (has_error) return "failing";
    return has_success ? "ok" : "waiting";
  }
  return state;  // a state this page does not know yet: shown as the JSON says it
}

// ---- writing -----------------------------------------------------------------------------------

constexpr std::string_view kStyle = R"css(
:root{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
  color:#1f2328;background:#f6f8fa}
body{margin:0 auto;max-width:1500px;padding:1rem 1.5rem 2rem}
h1{font-size:1.4rem;margin:.3rem 0}
h2{font-size:1.1rem;margin:1.6rem 0 .5rem}
.meta,.summary,footer{color:#57606a;margin:.25rem 0;font-size:.9rem}
footer{margin-top:1rem}
.summary{font-size:1rem;color:#1f2328}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;min-width:1000px;table-layout:fixed;background:#fff;
  border:1px solid #d0d7de}
col.stream{width:11%}col.state{width:10%}col.time{width:15.25%}col.lag{width:9%}col.rows{width:9%}
th,td{text-align:left;vertical-align:top;padding:.45rem .5rem;border-bottom:1px solid #d0d7de}
th{background:#f6f8fa;font-weight:600;font-size:.8rem;color:#57606a;white-space:nowrap}
td.rows,td.lag,th.num{text-align:right;font-variant-numeric:tabular-nums}
td.stream{overflow-wrap:anywhere}
td.lag span{white-space:nowrap}
td.stream .name{font-weight:600}
time{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.76rem}
.rel,.detail,.mode{display:block;color:#57606a;font-size:.8rem}
.none{color:#8c959f}
.job-meta{color:#57606a;font-size:.85rem;margin-top:-.4rem}
.badge{display:inline-block;padding:.1rem .6rem;border-radius:1rem;font-weight:600;font-size:.8rem}
.badge.ok{background:#dafbe1;color:#116329}
.badge.running{background:#ddf4ff;color:#0550ae}
.badge.failing{background:#ffebe9;color:#a40e26}
.badge.waiting,.badge.stopped,.badge.standby{background:#eaeef2;color:#424a53}
tr.failing td{background:#fff8f7}
tr.stream.with-error td{border-bottom:none}
tr.error-row td{background:#fff8f7}
.error-label{font-weight:600;font-size:.8rem;color:#a40e26}
pre.error{margin:.2rem 0 0;white-space:pre-wrap;overflow-wrap:anywhere;font-size:.85rem;
  color:#82071e}
progress{display:block;width:11rem;margin-top:.3rem}
a{color:#0969da}
)css";

class PageWriter {
 public:
  explicit PageWriter(std::optional<std::int64_t> now_ms) : now_ms_(now_ms) {}

  std::string& out() { return out_; }
  // Markup written by this file; never data.
  PageWriter& raw(std::string_view markup) {
    out_ += markup;
    return *this;
  }
  // Data: always escaped.
  PageWriter& text(std::string_view value) {
    out_ += html_escape(value);
    return *this;
  }

  // An instant: its ISO UTC text, then how long ago or how soon; `when_null` if there is none.
  void instant(const std::optional<std::string>& iso, std::string_view when_null,
               bool with_relative = true) {
    if (!iso) {
      raw("<span class=\"none\">").text(when_null).raw("</span>");
      return;
    }
    raw("<time datetime=\"").text(*iso).raw("\">");
    const auto t = iso->find('T');
    if (t == std::string::npos) {
      text(*iso);
    } else {  // a line may break after the date: the text is still exactly the ISO string
      text(std::string_view(*iso).substr(0, t + 1))
          .raw("<wbr>")
          .text(std::string_view(*iso).substr(t + 1));
    }
    raw("</time>");
    const auto at = epoch_ms(iso);
    if (at && now_ms_ && with_relative)
      raw("<span class=\"rel\">").text(relative(*at - *now_ms_)).raw("</span>");
  }

  std::optional<std::int64_t> since_ms(const std::optional<std::string>& iso) const {
    const auto at = epoch_ms(iso);
    if (!at || !now_ms_) return std::nullopt;
    return *now_ms_ - *at;
  }

 private:
  std::optional<std::int64_t> now_ms_;
  std::string out_;
};

struct Counts {
  std::map<std::string, int> by_state;
  int streams = 0;
  void add(const std::string& state) {
    ++by_state[state];
    ++streams;
  }
  // "2 ok, 1 failing" in a fixed order of urgency.
  std::string text() const {
    std::string out;
    std::vector<std::string> order = {"failing", "running", "ok", "waiting", "standby", "stopped"};
    for (const auto& [state, n] : by_state) {
      if (std::find(order.begin(), order.end(), state) == order.end()) order.push_back(state);
    }
    for (const auto& state : order) {
      auto it = by_state.find(state);
      if (it == by_state.end()) continue;
      if (!out.empty()) out += ", ";
      out += std::to_string(it->second) + " " + state;
    }
    return out;
  }
};

std::string plural(int n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

constexpr int kColumns = 8;

// Under a job's title: its schedule, where it reads and writes, and which instance runs it.
void job_meta(PageWriter& w, const json::object& j) {
  w.raw("<p class=\"job-meta\"><span class=\"schedule\">").text(text_field(j, "schedule").value_or("-"));
  w.raw("</span> &middot; <span class=\"route\">").text(text_field(j, "connection").value_or("?"));
  w.raw(" &rarr; ").text(text_field(j, "destination").value_or("?")).raw("</span> &middot; ");
  const json::value* active = field(j, "active");
  if (active && active->is_bool() && active->get_bool()) {
    w.raw("<span class=\"instance\">runs on this instance</span>");
  } else if (active && active->is_bool()) {
    const std::string holder = text_field(j, "held_by").value_or("");
    w.raw("<span class=\"instance\">standby: ")
        .text(holder.empty() ? std::string("another instance runs it") : "runs on " + holder)
        .raw("</span>");
  } else {
    w.raw("<span class=\"instance\">which instance runs it: not known yet (destination not reached)</span>");
  }
  w.raw("</p>\n");
}

void stream_rows(PageWriter& w, const json::object& s, const std::string& job, Counts& counts) {
  const std::string stream = text_field(s, "stream").value_or("");
  const std::string state = text_field(s, "state").value_or("unknown");
  const auto last_error = text_field(s, "last_error");
  const auto last_success = text_field(s, "last_success");
  const std::string shown = display_state(state, last_error.has_value(), last_success.has_value());
  counts.add(shown);
  const bool running = state == "running";

  w.raw("<tr class=\"stream ").text(shown).raw(last_error ? " with-error" : "");
  w.raw("\" data-job=\"").text(job).raw("\" data-stream=\"").text(stream).raw("\">\n");

  // Stream: name and mode.
  w.raw("<td class=\"stream\"><span class=\"name\">").text(stream).raw("</span>");
  if (const auto mode = text_field(s, "mode"); mode && !mode->empty()) {
    w.raw("<span class=\"mode\">").text(*mode).raw("</span>");
  }
  w.raw("</td>\n");

  // State: the badge, and for a running cycle how long it has run and how far it got.
  w.raw("<td class=\"state\"><span class=\"badge ")
      .text(shown)
      .raw("\">")
      .text(shown)
      .raw("</span>");
  if (running) {
    if (const auto ms = w.since_ms(text_field(s, "last_run_started"))) {
      w.raw("<span class=\"detail\">").text("for " + humanize_seconds(*ms / 1000)).raw("</span>");
    }
    const std::int64_t rows = int_field(s, "progress_rows").value_or(0);
    const std::int64_t total = int_field(s, "progress_total").value_or(-1);
    w.raw("<span class=\"progress detail\">");
    if (total >= 0) {
      const std::int64_t pct = total > 0 ? std::min<std::int64_t>(100, rows * 100 / total) : 100;
      w.text(grouped(rows) + " of " + grouped(total) + " rows (" + std::to_string(pct) + "%)");
    } else {
      w.text(grouped(rows) + " rows read so far");
    }
    w.raw("</span>");
    if (total > 0) {
      w.raw("<progress value=\"").text(std::to_string(std::min(rows, total))).raw("\" max=\"");
      w.text(std::to_string(total)).raw("\"></progress>");
    }
  } else if (shown == "waiting") {
    w.raw("<span class=\"detail\">not run yet</span>");
  } else if (state == "standby") {
    const auto holder = text_field(s, "held_by");
    w.raw("<span class=\"detail\">");
    w.text("another instance runs this job" + (holder && !holder->empty() ? ": " + *holder : ""));
    w.raw("</span>");
  }
  w.raw("</td>\n");

  // Last run: when the last finished cycle ended and how long it took.
  const auto started = text_field(s, "last_run_started");
  const auto finished = text_field(s, "last_run_finished");
  w.raw("<td class=\"last-run\">");
  w.instant(finished, running ? "first cycle running" : "never");
  if (!running) {
    const auto a = epoch_ms(started), b = epoch_ms(finished);
    if (a && b && *b >= *a) {
      char took[32];
      if (*b - *a < 1000) {
        std::snprintf(took, sizeof took, "took %lld ms", static_cast<long long>(*b - *a));
      } else {
        std::snprintf(took, sizeof took, "took %.1f s", static_cast<double>(*b - *a) / 1000.0);
      }
      w.raw("<span class=\"detail\">").text(took).raw("</span>");
    }
  }
  w.raw("</td>\n");

  w.raw("<td class=\"last-success\">");
  w.instant(last_success, "never");
  w.raw("</td>\n");

  w.raw("<td class=\"watermark\">");
  w.instant(text_field(s, "watermark"), "none yet");
  w.raw("</td>\n");

  w.raw("<td class=\"lag\">");
  if (const auto lag = int_field(s, "lag_seconds")) {
    w.raw("<span title=\"").text(std::to_string(*lag) + " s").raw("\">");
    w.text(humanize_seconds(*lag)).raw("</span>");
  } else {
    w.raw("<span class=\"none\">no watermark</span>");
  }
  w.raw("</td>\n");

  // Rows: written since the first sync (the state table's rows_total), then what the last
  // successful cycle did.
  w.raw("<td class=\"rows\"><span class=\"total\">")
      .text(grouped(int_field(s, "rows_total").value_or(0)));
  w.raw("</span>");
  if (last_success) {
    w.raw("<span class=\"detail\">")
        .text("last cycle: " + grouped(int_field(s, "last_rows_read").value_or(0)) + " read, " +
              grouped(int_field(s, "last_rows_written").value_or(0)) + " written, " +
              plural(static_cast<int>(int_field(s, "last_api_calls").value_or(0)), "API call",
                     "API calls"));
    w.raw("</span>");
  }
  w.raw("</td>\n");

  w.raw("<td class=\"next-run\">");
  w.instant(text_field(s, "next_run"), "not scheduled");
  w.raw("</td>\n</tr>\n");

  if (last_error) {
    w.raw("<tr class=\"error-row\" data-job=\"").text(job).raw("\" data-error-for=\"").text(stream);
    w.raw("\">\n<td colspan=\"")
        .text(std::to_string(kColumns))
        .raw("\"><span class=\"error-label\">");
    w.text(running ? "Last error (previous cycle)" : "Last error")
        .raw("</span>\n<pre class=\"error\">");
    w.text(*last_error).raw("</pre></td>\n</tr>\n");
  }
}

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

bool prefers_html(std::string_view accept) {
  // The q of each type: from the most specific range that matches it (exact > type/* > */*).
  struct Best {
    int specificity = -1;
    double q = 0;
  };
  Best html, json_type;
  auto lower = [](std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    return out;
  };
  auto trim = [](std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
  };
  std::string_view rest = accept;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    const auto semi = item.find(';');
    const std::string range = lower(trim(item.substr(0, semi)));
    if (range.empty()) continue;
    double q = 1;
    bool readable = true;
    std::string_view params =
        semi == std::string_view::npos ? std::string_view{} : item.substr(semi + 1);
    while (!params.empty()) {
      const auto next = params.find(';');
      const std::string_view p = trim(params.substr(0, next));
      params = next == std::string_view::npos ? std::string_view{} : params.substr(next + 1);
      if (p.size() >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
        try {
          std::size_t used = 0;
          const std::string value(p.substr(2));
          q = std::stod(value, &used);
          readable = used == value.size() && q >= 0 && q <= 1;
        } catch (const std::exception&) {
          readable = false;
        }
      }
    }
    if (!readable) continue;
    auto consider = [&](Best& best, std::string_view type) {
      const std::string_view major = type.substr(0, type.find('/'));
      int specificity = -1;
      if (range == type)
        specificity = 2;
      else if (range == std::string(major) + "/*")
        specificity = 1;
      else if (range == "*/*")
        specificity = 0;
      if (specificity > best.specificity) best = Best{specificity, q};
    };
    consider(html, "text/html");
    consider(json_type, "application/json");
  }
  return html.specificity >= 0 && html.q > 0 &&
         html.q > (json_type.specificity >= 0 ? json_type.q : 0);
}

std::string render_status_page(const json::value& status) {
  static const json::object kEmpty;
  const json::object& root = status.is_object() ? status.get_object() : kEmpty;
  const auto now = text_field(root, "now");
  PageWriter w(epoch_ms(now));

  // Streams grouped by job, jobs in order of first appearance (the board's order).
  std::vector<std::pair<std::string, std::vector<const json::object*>>> jobs;
  if (const json::value* streams = field(root, "streams"); streams && streams->is_array()) {
    for (const auto& v : streams->get_array()) {
      if (!v.is_object()) continue;
      const std::string job = text_field(v.get_object(), "job").value_or("");
      auto it =
          std::find_if(jobs.begin(), jobs.end(), [&](const auto& j) { return j.first == job; });
      if (it == jobs.end()) it = jobs.insert(jobs.end(), {job, {}});
      it->second.push_back(&v.get_object());
    }
  }

  // Job-level facts (schedule, names, high availability), by job name.
  std::map<std::string, const json::object*> job_facts;
  if (const json::value* list = field(root, "jobs"); list && list->is_array()) {
    for (const auto& v : list->get_array()) {
      if (!v.is_object()) continue;
      if (const auto name = text_field(v.get_object(), "job")) job_facts[*name] = &v.get_object();
    }
  }

  // The body first: the title and the summary need the counts.
  Counts all;
  PageWriter body(epoch_ms(now));
  for (const auto& [job, streams] : jobs) {
    Counts counts;
    PageWriter rows(epoch_ms(now));
    for (const auto* s : streams) stream_rows(rows, *s, job, counts);
    for (const auto& [state, n] : counts.by_state) {
      for (int i = 0; i < n; ++i) all.add(state);
    }
    body.raw("<section class=\"job\" data-job=\"")
        .text(job)
        .raw("\">\n<h2>Job <span class=\"name\">");
    body.text(job).raw("</span></h2>\n<p class=\"job-summary\">");
    body.text(plural(counts.streams, "stream", "streams") + ": " + counts.text()).raw("</p>\n");
    if (auto it = job_facts.find(job); it != job_facts.end()) job_meta(body, *it->second);
    body.raw(
        "<div class=\"scroll\"><table>\n<colgroup><col class=\"stream\"><col class=\"state\">"
        "<col class=\"time\"><col class=\"time\"><col class=\"time\"><col class=\"lag\">"
        "<col class=\"rows\"><col class=\"time\"></colgroup>\n"
        "<thead><tr><th>Stream</th><th>State</th><th>Last run</th><th>Last success</th>"
        "<th>Watermark</th><th class=\"num\">Lag</th><th class=\"num\">Rows written</th>"
        "<th>Next run</th></tr></thead>\n<tbody>\n");
    body.raw(rows.out()).raw("</tbody>\n</table></div>\n</section>\n");
  }

  const auto failing = all.by_state.find("failing");
  std::string title = "actito-replicator status";
  if (failing != all.by_state.end())
    title = std::to_string(failing->second) + " failing - " + title;

  w.raw("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
  w.raw("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
  w.raw("<meta http-equiv=\"refresh\" content=\"")
      .text(std::to_string(kStatusPageRefreshSeconds))
      .raw("\">\n");
  w.raw("<title>")
      .text(title)
      .raw("</title>\n<style>")
      .raw(kStyle)
      .raw("</style>\n</head>\n<body>\n");
  w.raw("<header>\n<h1>actito-replicator</h1>\n<p class=\"meta\">version <span class=\"version\">");
  w.text(text_field(root, "version").value_or("unknown")).raw("</span> &middot; status at ");
  w.instant(now, "an unknown time", false);
  w.raw(" &middot; this page reloads every ").text(std::to_string(kStatusPageRefreshSeconds));
  w.raw(" s &middot; <a href=\"/status.json\">JSON</a></p>\n<p class=\"summary\">");
  if (all.streams == 0) {
    w.text("No stream scheduled yet.");
  } else {
    w.text(plural(all.streams, "stream", "streams") + " in " +
           plural(static_cast<int>(jobs.size()), "job", "jobs") + ": " + all.text());
  }
  w.raw("</p>\n</header>\n<main>\n").raw(body.out()).raw("</main>\n");
  w.raw(
      "<footer>Times are UTC. Rows written: since the first sync, an updated row counting "
      "again. Lag: now minus the watermark. The same data as JSON: <a "
      "href=\"/status.json\">/status.json</a>, or /status "
      "with <code>Accept: application/json</code>.</footer>\n</body>\n</html>\n");
  return std::move(w.out());
}

}  // namespace replicator::daemon

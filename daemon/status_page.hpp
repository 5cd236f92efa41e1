// The /status page for browsers: the /status JSON document rendered as one self-contained HTML
// page (inline CSS, no script, no external asset), refreshed by the browser every few seconds.
#pragma once

#include <boost/json/value.hpp>
#include <string>
#include <string_view>

namespace replicator::daemon {

// Seconds between two automatic reloads of the page (<meta http-equiv="refresh">).
inline constexpr int kStatusPageRefreshSeconds = 5;

// `text` with the five characters that matter in HTML text and quoted attribute values replaced
// by character references: & < > " '. Everything else, non-ASCII UTF-8 included, is kept as is
// (the page declares UTF-8).
std::string html_escape(std::string_view text);

// Whether an Accept header prefers text/html to application/json (RFC 9110 12.5.1: the most
// specific matching range gives each type its q; a tie, an empty or an unreadable header mean
// JSON). Browsers ask for HTML first; curl ("*/*") and scripts get JSON.
bool prefers_html(std::string_view accept);

// The page for one /status document (the value `status_json()` serialises: version, now,
// streams[]). The only input is that document, so the page and the JSON cannot disagree; relative
// times ("3 min ago") are computed against its `now`. Missing or null fields are shown as such
// ("never", "none yet"); every value printed goes through html_escape. Pure; thread-safe.
std::string render_status_page(const boost::json::value& status);

}  // namespace replicator::daemon

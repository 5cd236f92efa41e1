// Logging to stderr: readable text on a terminal, one JSON object per line otherwise.
#pragma once

#include <string>

namespace replicator::daemon {

// level: trace debug info warn error; format: auto | text | json. Throws model::Error(kConfig)
// for unknown values.
void setup_logging(const std::string& level, const std::string& format);

// A live line at the bottom of the terminal (stderr), e.g. `once`'s progress: log lines written
// meanwhile appear above it and it is drawn again under them. Thread-safe.
//   status_line_available(): stderr is a terminal.
//   set_status_line(text): shows `text` (cut to the terminal's width); "" removes the line.
bool status_line_available();
void set_status_line(const std::string& text);

}  // namespace replicator::daemon

// Logging to stderr: readable text on a terminal, one JSON object per line otherwise.
#pragma once

#include <string>

namespace replicator::daemon {

// level: trace debug info warn error; format: auto | text | json. Throws model::Error(kConfig)
// for unknown values.
void setup_logging(const std::string& level, const std::string& format);

}  // namespace replicator::daemon

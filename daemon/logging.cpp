#include "daemon/logging.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <mutex>

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "core/model/error.hpp"
#include "core/model/timestamp.hpp"
#include "core/model/value.hpp"

namespace replicator::daemon {

namespace {

// {"ts":"...Z","level":"info","msg":"..."} per line on stderr.
class JsonStderrSink : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch()).count();
    std::string line = "{\"ts\":\"" + model::format_timestamp(model::Timestamp{ms}) + "\",\"level\":\"";
    auto lv = spdlog::level::to_string_view(msg.level);
    line.append(lv.data(), lv.size());
    line += "\",\"msg\":";
    model::append_json_string(line, std::string_view(msg.payload.data(), msg.payload.size()));
    line += "}\n";
    std::fwrite(line.data(), 1, line.size(), stderr);
  }
  void flush_() override { std::fflush(stderr); }
};

}  // namespace

void setup_logging(const std::string& level, const std::string& format) {
  auto lv = spdlog::level::from_str(level);
  if (level == "warn") lv = spdlog::level::warn;
  if (lv == spdlog::level::off && level != "off") {
    model::fail(model::ErrorKind::kConfig,
                "log level \"" + level + "\" is not one of trace, debug, info, warn, error");
  }
  bool json = format == "json" || (format == "auto" && !isatty(STDERR_FILENO));
  if (format != "json" && format != "text" && format != "auto") {
    model::fail(model::ErrorKind::kConfig, "log format \"" + format + "\" is not one of auto, text, json");
  }
  std::shared_ptr<spdlog::logger> logger;
  if (json) {
    logger = std::make_shared<spdlog::logger>("actito-replicator", std::make_shared<JsonStderrSink>());
  } else {
    logger = std::make_shared<spdlog::logger>("actito-replicator",
                                              std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
    logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ %v");
  }
  logger->set_level(lv);
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

}  // namespace replicator::daemon

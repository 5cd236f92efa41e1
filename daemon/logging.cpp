#include "daemon/logging.hpp"

#include <sys/ioctl.h>
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

// The live line: drawn with "\r" + text + "erase to end of line", never followed by a newline.
// Log sinks erase it before writing a record and draw it again after.
struct StatusLine {
  std::mutex mutex;
  std::string text;

  static StatusLine& get() {
    static StatusLine line;
    return line;
  }
  void erase_locked() {
    if (!text.empty()) std::fputs("\r\x1b[K", stderr);
  }
  void draw_locked() {
    if (text.empty()) return;
    std::string shown = text;
    winsize ws{};
    if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1 && shown.size() >= ws.ws_col) {
      shown.resize(ws.ws_col - 1);
    }
    std::fputs(("\r\x1b[K" + shown).c_str(), stderr);
    std::fflush(stderr);
  }
};

// Writes a record with the live line out of the way.
template <class Write>
void around_status_line(const Write& write) {
  StatusLine& line = StatusLine::get();
  std::lock_guard lock(line.mutex);
  line.erase_locked();
  write();
  line.draw_locked();
}

// The readable format, for terminals.
class TextStderrSink : public spdlog::sinks::base_sink<std::mutex> {
 public:
  TextStderrSink() : inner_(std::make_shared<spdlog::sinks::stderr_color_sink_st>()) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    around_status_line([&] { inner_->log(msg); });
  }
  void flush_() override { inner_->flush(); }
  void set_pattern_(const std::string& pattern) override { inner_->set_pattern(pattern); }
  void set_formatter_(std::unique_ptr<spdlog::formatter> formatter) override {
    inner_->set_formatter(std::move(formatter));
  }

 private:
  std::shared_ptr<spdlog::sinks::stderr_color_sink_st> inner_;
};

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
    around_status_line([&] { std::fwrite(line.data(), 1, line.size(), stderr); });
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
    logger = std::make_shared<spdlog::logger>("actito-replicator", std::make_shared<TextStderrSink>());
    logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ %v");
  }
  logger->set_level(lv);
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

bool status_line_available() { return ::isatty(STDERR_FILENO) == 1; }

void set_status_line(const std::string& text) {
  StatusLine& line = StatusLine::get();
  std::lock_guard lock(line.mutex);
  if (text.empty()) {
    line.erase_locked();
    std::fflush(stderr);
    line.text.clear();
    return;
  }
  line.text = text;
  for (char& c : line.text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  line.draw_locked();
}

}  // namespace replicator::daemon

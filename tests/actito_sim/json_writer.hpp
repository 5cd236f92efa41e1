// A small append-only JSON text writer: the fast path for rendering pages of records.
#pragma once

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

namespace replicator::actito_sim {

// Appends JSON tokens to a caller-owned std::string. It does not check structure: callers write
// well-formed documents (commas are handled by `key()` / `comma()`). Not thread-safe; one writer
// per output string.
class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  void begin_object() {
    separate();
    out_.push_back('{');
    first_ = true;
  }
  void end_object() {
    out_.push_back('}');
    first_ = false;
  }
  void begin_array() {
    separate();
    out_.push_back('[');
    first_ = true;
  }
  void end_array() {
    out_.push_back(']');
    first_ = false;
  }

  // Writes `"name":`; the next value follows without a comma.
  void key(std::string_view name) {
    separate();
    append_string(name);
    out_.push_back(':');
    after_key_ = true;
  }

  void string(std::string_view value) {
    separate();
    append_string(value);
  }
  void null() {
    separate();
    out_.append("null");
  }
  void boolean(bool value) {
    separate();
    out_.append(value ? "true" : "false");
  }
  void integer(std::int64_t value) {
    separate();
    char buffer[24];
    auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
    out_.append(buffer, result.ptr);
  }
  // A decimal with exactly `scale` fraction digits from a scaled integer: (1999, 2) -> 19.99.
  void decimal(std::int64_t scaled, int scale);
  // Pre-rendered JSON (a number literal, or a whole value rendered elsewhere).
  void raw(std::string_view json) {
    separate();
    out_.append(json);
  }

  // Appends `value` as a JSON string literal with escapes.
  static void append_escaped(std::string& out, std::string_view value);

 private:
  void separate() {
    if (after_key_) {
      after_key_ = false;
    } else if (!first_) {
      out_.push_back(',');
    }
    first_ = false;
  }
  void append_string(std::string_view value) { append_escaped(out_, value); }

  std::string& out_;
  bool first_ = true;
  bool after_key_ = false;
};

}  // namespace replicator::actito_sim

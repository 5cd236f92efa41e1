#include "tests/actito_sim/json_writer.hpp"

namespace replicator::actito_sim {

void JsonWriter::decimal(std::int64_t scaled, int scale) {
  separate();
  if (scaled < 0) {
    out_.push_back('-');
    scaled = -scaled;
  }
  std::int64_t divisor = 1;
  for (int i = 0; i < scale; ++i) divisor *= 10;
  char buffer[24];
  auto result = std::to_chars(buffer, buffer + sizeof buffer, scaled / divisor);
  out_.append(buffer, result.ptr);
  if (scale == 0) return;
  out_.push_back('.');
  std::int64_t fraction = scaled % divisor;
  for (std::int64_t d = divisor / 10; d > 0; d /= 10) {
    out_.push_back(static_cast<char>('0' + (fraction / d) % 10));
  }
}

void JsonWriter::append_escaped(std::string& out, std::string_view value) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t run_start = 0;
  for (std::size_t i = 0; i < value.size(); ++i) {
    const auto c = static_cast<unsigned char>(value[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(value.data() + run_start, i - run_start);
    run_start = i + 1;
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      case '\b':
        out.append("\\b");
        break;
      case '\f':
        out.append("\\f");
        break;
      default:
        out.append("\\u00");
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xF]);
    }
  }
  out.append(value.data() + run_start, value.size() - run_start);
  out.push_back('"');
}

}  // namespace replicator::actito_sim

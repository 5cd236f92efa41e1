#include "sinks/postgres/detail/state_json.hpp"

#include <cctype>
#include <charconv>
#include <cstdint>
#include <utility>

#include "core/model/error.hpp"
#include "core/model/value.hpp"

namespace replicator::sink_postgres::detail {
namespace {

using model::ErrorKind;

// ---- writing ------------------------------------------------------------------------------------

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (u < 0x20) {
          out += "\\u00";
          out += kHex[u >> 4];
          out += kHex[u & 15];
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

void append_tagged(std::string& out, char tag) {
  out += "{\"";
  out += tag;
  out += "\":";
}

void append_value(std::string& out, const model::Value& v) {
  struct Visitor {
    std::string& out;
    void operator()(std::monostate) const { out += "null"; }
    void operator()(bool b) const {
      append_tagged(out, 'b');
      out += b ? "true" : "false";
      out += '}';
    }
    void operator()(std::int64_t i) const {
      append_tagged(out, 'i');
      out += std::to_string(i);
      out += '}';
    }
    void operator()(model::Timestamp t) const {
      append_tagged(out, 't');
      out += std::to_string(t.ms);
      out += '}';
    }
    void operator()(const model::Decimal& d) const {
      append_tagged(out, 'd');
      append_json_string(out, d.text);
      out += '}';
    }
    void operator()(const std::string& s) const {
      append_tagged(out, 's');
      append_json_string(out, s);
      out += '}';
    }
    void operator()(const model::JsonText& j) const {
      append_tagged(out, 'j');
      append_json_string(out, j.text);
      out += '}';
    }
    void operator()(const std::vector<std::string>& items) const {
      append_tagged(out, 'a');
      out += '[';
      for (std::size_t i = 0; i < items.size(); ++i) {
        if (i > 0) out += ',';
        append_json_string(out, items[i]);
      }
      out += "]}";
    }
  };
  std::visit(Visitor{out}, v);
}

// ---- reading ------------------------------------------------------------------------------------

struct Node {
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject } kind = Kind::kNull;
  bool boolean = false;
  std::string text;  // number literal or string value
  std::vector<Node> items;
  std::vector<std::pair<std::string, Node>> members;
};

class Parser {
 public:
  explicit Parser(std::string_view text) : s_(text) {}

  Node parse_document() {
    Node n = parse_value(0);
    skip_ws();
    if (i_ != s_.size()) error("trailing characters");
    return n;
  }

 private:
  [[noreturn]] void error(std::string_view what) const {
    model::fail(ErrorKind::kPermanent, "keys_at_watermark is not valid state JSON (" +
                                           std::string(what) + " at offset " + std::to_string(i_) +
                                           ")");
  }

  void skip_ws() {
    while (i_ < s_.size() &&
           (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\t' || s_[i_] == '\r')) {
      ++i_;
    }
  }

  bool consume(std::string_view word) {
    if (s_.substr(i_, word.size()) != word) return false;
    i_ += word.size();
    return true;
  }

  Node parse_value(int depth) {
    if (depth > 16) error("nesting too deep");
    skip_ws();
    if (i_ >= s_.size()) error("unexpected end");
    Node n;
    char c = s_[i_];
    if (c == '[') {
      ++i_;
      n.kind = Node::Kind::kArray;
      skip_ws();
      if (i_ < s_.size() && s_[i_] == ']') {
        ++i_;
        return n;
      }
      while (true) {
        n.items.push_back(parse_value(depth + 1));
        skip_ws();
        if (i_ < s_.size() && s_[i_] == ',') {
          ++i_;
          continue;
        }
        if (i_ < s_.size() && s_[i_] == ']') {
          ++i_;
          return n;
        }
        error("expected , or ]");
      }
    }
    if (c == '{') {
      ++i_;
      n.kind = Node::Kind::kObject;
      skip_ws();
      if (i_ < s_.size() && s_[i_] == '}') {
        ++i_;
        return n;
      }
      while (true) {
        skip_ws();
        std::string key = parse_string();
        skip_ws();
        if (i_ >= s_.size() || s_[i_] != ':') error("expected :");
        ++i_;
        n.members.emplace_back(std::move(key), parse_value(depth + 1));
        skip_ws();
        if (i_ < s_.size() && s_[i_] == ',') {
          ++i_;
          continue;
        }
        if (i_ < s_.size() && s_[i_] == '}') {
          ++i_;
          return n;
        }
        error("expected , or }");
      }
    }
    if (c == '"') {
      n.kind = Node::Kind::kString;
      n.text = parse_string();
      return n;
    }
    if (consume("null")) return n;
    if (consume("true")) {
      n.kind = Node::Kind::kBool;
      n.boolean = true;
      return n;
    }
    if (consume("false")) {
      n.kind = Node::Kind::kBool;
      return n;
    }
    std::size_t start = i_;
    while (i_ < s_.size() && (std::isdigit(static_cast<unsigned char>(s_[i_])) || s_[i_] == '-' ||
                              s_[i_] == '+' || s_[i_] == '.' || s_[i_] == 'e' || s_[i_] == 'E')) {
      ++i_;
    }
    if (start == i_) error("unexpected character");
    n.kind = Node::Kind::kNumber;
    n.text = std::string(s_.substr(start, i_ - start));
    return n;
  }

  unsigned hex4() {
    if (i_ + 4 > s_.size()) error("short \\u escape");
    unsigned v = 0;
    for (int k = 0; k < 4; ++k) {
      char c = s_[i_++];
      v <<= 4;
      if (c >= '0' && c <= '9') {
        v |= static_cast<unsigned>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        v |= static_cast<unsigned>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        v |= static_cast<unsigned>(c - 'A' + 10);
      } else {
        error("bad \\u escape");
      }
    }
    return v;
  }

  std::string parse_string() {
    if (i_ >= s_.size() || s_[i_] != '"') error("expected a string");
    ++i_;
    std::string out;
    while (true) {
      if (i_ >= s_.size()) error("unterminated string");
      char c = s_[i_++];
      if (c == '"') return out;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (i_ >= s_.size()) error("unterminated escape");
      char e = s_[i_++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out += e;
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          unsigned cp = hex4();
          if (cp >= 0xD800 && cp < 0xDC00 && s_.substr(i_, 2) == "\\u") {
            i_ += 2;
            unsigned lo = hex4();
            if (lo < 0xDC00 || lo > 0xDFFF) error("bad surrogate pair");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xD800 && cp <= 0xDFFF) {
            error("lone surrogate");
          }
          model::append_utf8(out, cp);
          break;
        }
        default:
          error("bad escape");
      }
    }
  }

  std::string_view s_;
  std::size_t i_ = 0;
};

[[noreturn]] void bad_shape(std::string_view what) {
  model::fail(ErrorKind::kPermanent,
              "keys_at_watermark has an unexpected shape: " + std::string(what));
}

std::int64_t to_int64(const Node& n) {
  std::int64_t v = 0;
  if (n.kind != Node::Kind::kNumber) bad_shape("expected an integer");
  auto [end, ec] = std::from_chars(n.text.data(), n.text.data() + n.text.size(), v);
  if (ec != std::errc() || end != n.text.data() + n.text.size()) bad_shape("expected an integer");
  return v;
}

const std::string& to_text(const Node& n) {
  if (n.kind != Node::Kind::kString) bad_shape("expected a string");
  return n.text;
}

model::Value to_value(const Node& n) {
  if (n.kind == Node::Kind::kNull) return std::monostate{};
  if (n.kind != Node::Kind::kObject || n.members.size() != 1 || n.members[0].first.size() != 1) {
    bad_shape("a value must be null or an object with one tag");
  }
  const Node& v = n.members[0].second;
  switch (n.members[0].first[0]) {
    case 'b':
      if (v.kind != Node::Kind::kBool) bad_shape("expected a boolean");
      return v.boolean;
    case 'i':
      return to_int64(v);
    case 't':
      return model::Timestamp{to_int64(v)};
    case 'd':
      return model::Decimal{to_text(v)};
    case 's':
      return to_text(v);
    case 'j':
      return model::JsonText{to_text(v)};
    case 'a': {
      if (v.kind != Node::Kind::kArray) bad_shape("expected a list");
      std::vector<std::string> items;
      for (const Node& item : v.items) items.push_back(to_text(item));
      return items;
    }
    default:
      bad_shape("unknown tag \"" + n.members[0].first + "\"");
  }
}

}  // namespace

std::string encode_keys(const std::vector<model::Row>& keys) {
  std::string out = "[";
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (i > 0) out += ',';
    out += '[';
    for (std::size_t k = 0; k < keys[i].size(); ++k) {
      if (k > 0) out += ',';
      append_value(out, keys[i][k]);
    }
    out += ']';
  }
  out += ']';
  return out;
}

std::vector<model::Row> decode_keys(std::string_view json) {
  Node root = Parser(json).parse_document();
  if (root.kind != Node::Kind::kArray) bad_shape("expected a list of key tuples");
  std::vector<model::Row> keys;
  keys.reserve(root.items.size());
  for (const Node& tuple : root.items) {
    if (tuple.kind != Node::Kind::kArray) bad_shape("a key tuple must be a list");
    model::Row row;
    row.reserve(tuple.items.size());
    for (const Node& v : tuple.items) row.push_back(to_value(v));
    keys.push_back(std::move(row));
  }
  return keys;
}

}  // namespace replicator::sink_postgres::detail

#include "config/detail/yaml_reader.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>

#include "config/detail/text.hpp"
#include "core/model/error.hpp"

namespace replicator::config::detail {
namespace {

constexpr std::size_t kMaxProblems = 25;

bool is_var_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool is_var_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

}  // namespace

Problem::Problem(Location where, std::string message)
    : where_(std::move(where)), text_(where_.to_string() + ": " + std::move(message)) {}

void Problems::add(const Problem& p) {
  if (lines_.size() < kMaxProblems) {
    lines_.emplace_back(p.what());
  } else {
    ++dropped_;
  }
}

void Problems::throw_if_any() const {
  if (lines_.empty()) return;
  std::string message = join(lines_, "\n");
  if (dropped_) message += fmt::format("\n({} more problems not shown)", dropped_);
  throw model::Error(model::ErrorKind::kConfig, std::move(message));
}

Location Reader::location(const YAML::Mark& mark) const {
  if (mark.is_null() || mark.line < 0) return Location{file_, 1, 1};
  return Location{file_, mark.line + 1, mark.column + 1};
}

void Reader::fail(const Location& at, const std::string& path, std::string message) const {
  throw Problem(at, path.empty() ? std::move(message) : path + ": " + std::move(message));
}

Item Reader::load(std::string_view text) const {
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(std::string(text));
  } catch (const YAML::Exception& e) {
    // yaml-cpp messages name the construct, never the text around it.
    throw Problem(location(e.mark), "YAML syntax error: " + e.msg);
  }
  if (documents.size() > 1) {
    throw Problem(location(documents[1].Mark()),
                  "the file holds several YAML documents (---); expected one");
  }
  YAML::Node root = documents.empty() ? YAML::Node() : documents[0];
  Location start{file_, 1, 1};
  return Item{root, "", start, start, ""};
}

std::string Reader::describe(const YAML::Node& node) {
  if (!node || node.IsNull()) return "nothing";
  if (node.IsMap()) return "a mapping";
  if (node.IsSequence()) return "a list";
  return in_quotes(node.Scalar());
}

std::vector<Item> Reader::entries(const Item& map, std::string_view expected) const {
  if (!map.node || !map.node.IsMap()) {
    fail(map, fmt::format("expected a mapping of {}, got {}", expected, describe(map.node)));
  }
  std::vector<Item> out;
  for (auto it = map.node.begin(); it != map.node.end(); ++it) {
    // Copies: yaml-cpp iterators yield a temporary proxy, references into it dangle.
    const YAML::Node k = it->first;
    Location key_at = location(k.Mark());
    if (!k.IsScalar()) {
      fail(key_at, map.path, fmt::format("keys must be plain names, got {}", describe(k)));
    }
    std::string key = k.Scalar();
    for (const auto& prev : out) {
      if (prev.key == key) {
        fail(key_at, map.path,
             fmt::format("duplicate key {} (first given at line {}, column {})", in_quotes(key),
                         prev.key_at.line, prev.key_at.column));
      }
    }
    const YAML::Node v = it->second;
    // An empty value has no position of its own (yaml-cpp marks the next token): use the key's.
    Location at = (!v || (v.IsNull() && v.Scalar().empty())) ? key_at : location(v.Mark());
    std::string path = map.path.empty() ? key : map.path + "." + key;
    out.push_back(Item{v, std::move(path), at, key_at, key});
  }
  return out;
}

std::vector<Item> Reader::entries(const Item& map, std::string_view expected,
                                  std::span<const std::string_view> allowed,
                                  Problems& problems) const {
  std::vector<Item> all = entries(map, expected);
  std::vector<Item> out;
  std::vector<std::string> names(allowed.begin(), allowed.end());
  for (auto& e : all) {
    if (std::find(allowed.begin(), allowed.end(), e.key) != allowed.end()) {
      out.push_back(std::move(e));
      continue;
    }
    problems.add(Problem(e.key_at,
                         fmt::format("{}: unknown key {}{}; allowed keys: {}", where_text(map.path),
                                     in_quotes(e.key), did_you_mean(e.key, names), join(names))));
  }
  return out;
}

std::vector<Item> Reader::elements(const Item& seq, std::string_view expected) const {
  if (!seq.node || !seq.node.IsSequence()) {
    fail(seq, fmt::format("expected a list of {}, got {}", expected, describe(seq.node)));
  }
  std::vector<Item> out;
  std::size_t i = 0;
  for (auto it = seq.node.begin(); it != seq.node.end(); ++it, ++i) {
    const YAML::Node v = *it;
    Location at = (!v || (v.IsNull() && v.Scalar().empty())) ? seq.at : location(v.Mark());
    out.push_back(Item{v, fmt::format("{}[{}]", seq.path, i), at, at, ""});
  }
  return out;
}

std::string Reader::expand(const Item& item, const std::string& raw, bool secret) const {
  if (!env_ || raw.find('$') == std::string::npos) return raw;
  std::string out;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '$') {
      out += raw[i];
      continue;
    }
    if (raw.compare(i, 3, "$${") == 0) {  // escaped: a literal ${
      out += "${";
      i += 2;
      continue;
    }
    if (raw.compare(i, 2, "${") != 0) {
      out += '$';
      continue;
    }
    std::size_t close = raw.find('}', i + 2);
    std::string name =
        close == std::string::npos ? std::string() : raw.substr(i + 2, close - i - 2);
    bool valid = !name.empty() && is_var_start(name[0]) &&
                 std::all_of(name.begin(), name.end(), is_var_char);
    if (!valid) {
      // In a secret the text around `${` may be part of the secret: it is not shown.
      std::string shown =
          secret ? std::string("in this secret value")
                 : in_quotes(raw.substr(i, close == std::string::npos ? 24 : close - i + 1));
      fail(item, fmt::format("bad environment reference {}: expected ${{NAME}} with letters, "
                             "digits and _ (write $${{ for a literal ${{)",
                             shown));
    }
    std::optional<std::string> value = (*env_)(name);
    if (!value) {
      fail(item, fmt::format("environment variable {} is not set", name));
    }
    out += *value;
    i = close;
  }
  return out;
}

std::string Reader::text(const Item& item, bool allow_empty) const {
  if (!item.node || !item.node.IsScalar()) {
    fail(item, fmt::format("expected a string, got {}", describe(item.node)));
  }
  std::string value = expand(item, item.node.Scalar(), false);
  if (value.empty() && !allow_empty) fail(item, "expected a non-empty string");
  return value;
}

std::string Reader::secret_text(const Item& item) const {
  if (!item.node || !item.node.IsScalar()) {
    // describe() would show a scalar: only structure is named here.
    fail(item, fmt::format("expected a string, got {}", is_null(item)       ? "nothing"
                                                        : item.node.IsMap() ? "a mapping"
                                                                            : "a list"));
  }
  std::string value = expand(item, item.node.Scalar(), true);
  if (value.empty()) fail(item, "expected a non-empty value, got an empty one");
  if (value.find_first_of("\r\n") != std::string::npos) {
    fail(item, "the value spans several lines; expected a single line");
  }
  return value;
}

bool Reader::boolean(const Item& item) const {
  std::string v = text(item, true);
  if (v == "true" || v == "True" || v == "TRUE") return true;
  if (v == "false" || v == "False" || v == "FALSE") return false;
  fail(item, fmt::format("expected true or false, got {}", describe(item.node)));
}

long long Reader::integer(const Item& item, long long min, long long max) const {
  std::string v = text(item, true);
  long long n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  bool ok = !v.empty() && ec == std::errc() && p == v.data() + v.size();
  if (!ok || n < min || n > max) {
    std::string range = max == std::numeric_limits<long long>::max()
                            ? fmt::format(">= {}", min)
                            : fmt::format("from {} to {}", min, max);
    fail(item, fmt::format("expected an integer {}, got {}", range, in_quotes(v)));
  }
  return n;
}

model::Duration Reader::duration(const Item& item, model::Duration min) const {
  std::string v = text(item, true);
  auto d = model::parse_duration(v);
  if (!d) {
    fail(item,
         fmt::format("expected a duration such as 500ms, 30s, 5m, 2h or 1d, got {}", in_quotes(v)));
  }
  if (*d < min) {
    fail(item, fmt::format("expected a duration of at least {}, got {}",
                           model::format_duration(min), in_quotes(v)));
  }
  return *d;
}

std::string Reader::choice(const Item& item, std::span<const std::string_view> allowed) const {
  std::string v = text(item, true);
  if (std::find(allowed.begin(), allowed.end(), v) != allowed.end()) return v;
  std::vector<std::string> names(allowed.begin(), allowed.end());
  fail(item, fmt::format("expected one of {}, got {}{}", join(names, " | "), in_quotes(v),
                         did_you_mean(v, names)));
}

std::vector<std::pair<std::string, Location>> Reader::string_list(const Item& item) const {
  std::vector<std::pair<std::string, Location>> out;
  for (const auto& e : elements(item, "names")) {
    out.emplace_back(text(e), e.at);
  }
  return out;
}

}  // namespace replicator::config::detail

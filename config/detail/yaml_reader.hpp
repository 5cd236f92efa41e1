// Private to config/: reading yaml-cpp nodes with their locations. The only header that includes
// yaml-cpp; no YAML type leaves config/.
#pragma once

#include <exception>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// GCC 12 reports -Wdangling-pointer false positives inside yaml-cpp 0.7's inline node code; the
// suppression covers only the library's headers.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdangling-pointer"
#include <yaml-cpp/yaml.h>
#pragma GCC diagnostic pop
#else
#include <yaml-cpp/yaml.h>
#endif

#include "config/config.hpp"

namespace replicator::config::detail {

// One problem at one place. Thrown inside config/ and collected by Problems.
class Problem : public std::exception {
 public:
  Problem(Location where, std::string message);
  const char* what() const noexcept override { return text_.c_str(); }  // "FILE:L:C: message"
  const Location& where() const noexcept { return where_; }

 private:
  Location where_;
  std::string text_;
};

// Collects problems so one run reports every independent mistake.
class Problems {
 public:
  void add(const Problem& p);
  // Runs `f`; a Problem it throws is recorded. Returns whether `f` completed.
  template <typename F>
  bool guard(F&& f) {
    try {
      f();
      return true;
    } catch (const Problem& p) {
      add(p);
      return false;
    }
  }
  bool empty() const noexcept { return lines_.empty(); }
  // Throws model::Error(kConfig): one line per problem, in the order found (at most 25).
  void throw_if_any() const;

 private:
  std::vector<std::string> lines_;
  std::size_t dropped_ = 0;
};

// A node and how it was reached.
struct Item {
  YAML::Node node;
  std::string path;  // "connections.actito-main.entity", "jobs[0].streams[2]"; "" for the root
  Location at;       // the value; the key's position when the value is empty
  Location key_at;   // the key; == at for list items and the root
  std::string key;   // "" for list items and the root
};

// Reads one document. Every failure throws Problem with the node's location.
// Thread safety: none needed; one reader per parse.
class Reader {
 public:
  // `env` == nullptr disables ${VAR} expansion (the catalog is not a config file).
  Reader(std::string file, const EnvLookup* env) : file_(std::move(file)), env_(env) {}

  const std::string& file() const noexcept { return file_; }
  Location location(const YAML::Mark& mark) const;
  [[noreturn]] void fail(const Location& at, const std::string& path, std::string message) const;
  [[noreturn]] void fail(const Item& item, std::string message) const {
    fail(item.at, item.path, std::move(message));
  }

  // The document root. YAML syntax errors become a Problem at yaml-cpp's mark.
  Item load(std::string_view text) const;

  // Entries of a mapping in file order. Keys must be unique scalars. With `allowed`, unknown keys
  // are recorded in `problems` (naming the allowed keys and the closest one) and skipped.
  // `expected` describes the mapping for the "expected a mapping of ..." message.
  std::vector<Item> entries(const Item& map, std::string_view expected) const;
  std::vector<Item> entries(const Item& map, std::string_view expected,
                            std::span<const std::string_view> allowed, Problems& problems) const;
  // Elements of a sequence.
  std::vector<Item> elements(const Item& seq, std::string_view expected) const;

  bool is_null(const Item& item) const noexcept { return !item.node || item.node.IsNull(); }
  // A scalar with ${VAR} expanded. Empty values are errors unless `allow_empty`.
  std::string text(const Item& item, bool allow_empty = false) const;
  // Like text(), but no message ever shows the value.
  std::string secret_text(const Item& item) const;
  bool boolean(const Item& item) const;
  long long integer(const Item& item, long long min, long long max) const;
  model::Duration duration(const Item& item, model::Duration min) const;
  // One of `allowed` (exact spelling).
  std::string choice(const Item& item, std::span<const std::string_view> allowed) const;
  // A list of non-empty strings, each with its location.
  std::vector<std::pair<std::string, Location>> string_list(const Item& item) const;

  // "a mapping", "a list", "nothing", or the quoted scalar.
  static std::string describe(const YAML::Node& node);

 private:
  std::string expand(const Item& item, const std::string& raw, bool secret) const;

  std::string file_;
  const EnvLookup* env_;
};

// "top level" for the root, else the path.
inline std::string where_text(const std::string& path) { return path.empty() ? "top level" : path; }

}  // namespace replicator::config::detail

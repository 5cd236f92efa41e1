#include "core/model/naming.hpp"

#include "core/model/error.hpp"

namespace replicator::model {
namespace {
bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
}  // namespace

std::string snake_case(std::string_view name) {
  std::string out;
  out.reserve(name.size() + 8);
  auto separate = [&out] {
    if (!out.empty() && out.back() != '_') out += '_';
  };
  for (std::size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (c == '_' || c == ' ' || c == '-' || c == '.') {
      separate();
      continue;
    }
    if (is_upper(c)) {
      char prev = i > 0 ? name[i - 1] : '\0';
      char next = i + 1 < name.size() ? name[i + 1] : '\0';
      // A plural "s" closes an acronym instead of starting a word: ETLs -> etls, IDs -> ids.
      const bool plural = next == 's' && (i + 2 >= name.size() || !is_lower(name[i + 2]));
      if (is_lower(prev) || is_digit(prev) || (is_upper(prev) && is_lower(next) && !plural)) separate();
      out += static_cast<char>(c - 'A' + 'a');
    } else {
      out += c;
    }
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  if (out.empty()) fail(ErrorKind::kPermanent, "name \"" + std::string(name) + "\" gives an empty identifier");
  if (out.size() > 63) {
    fail(ErrorKind::kPermanent, "identifier \"" + out + "\" (from \"" + std::string(name) +
                                    "\") is longer than PostgreSQL's 63-byte limit");
  }
  return out;
}

std::string quote_ident(std::string_view ident) {
  std::string out;
  out.reserve(ident.size() + 2);
  out += '"';
  for (char c : ident) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string upper_first(std::string_view name) {
  std::string out(name);
  if (!out.empty() && is_lower(out[0])) out[0] = static_cast<char>(out[0] - 'a' + 'A');
  return out;
}

}  // namespace replicator::model

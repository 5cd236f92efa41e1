// Private to config/: small text helpers for messages (quoting, joining, close-name suggestions).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace replicator::config::detail {

// Optimal-string-alignment distance (insertions, deletions, substitutions, transpositions),
// ignoring ASCII letter case.
std::size_t edit_distance(std::string_view a, std::string_view b);

// Candidates that look like `word`: within an edit distance of about a third of its length (letter
// case ignored) and at most one edit worse than the best of them; best first, at most `max`.
std::vector<std::string> close_names(std::string_view word,
                                     const std::vector<std::string>& candidates,
                                     std::size_t max = 3);

// `"text"` with control characters escaped, cut at 80 characters.
std::string in_quotes(std::string_view text);
// a, b, c
std::string join(const std::vector<std::string>& items, std::string_view separator = ", ");
// ` (did you mean "x"?)`, ` (did you mean "x" or "y"?)`, or "" when there is none.
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

bool iequals(std::string_view a, std::string_view b) noexcept;

}  // namespace replicator::config::detail

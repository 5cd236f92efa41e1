// The simulator's own parser for the RSQL subset of contract 3.4 (AND only), independent of the
// client's parser so that the two cannot share a misunderstanding.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace replicator::actito_sim {

// One `selector comparison argument` term, before any check against an object.
struct RsqlConstraint {
  std::string selector;
  // Normalised comparison: the aliases < <= > >= become =lt= =le= =gt= =ge=. Any other
  // syntactically valid operator (!=, =out=, =like=...) is kept as written; it is never native.
  std::string op;
  std::vector<std::string> values;  // unquoted and unescaped
  bool list_form = false;           // argument written as "(a,b,...)"
};

// The text does not parse (contract 3.4: OR, grouping, `and`/`or` keywords included).
class RsqlSyntaxError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// Parses `constraint *( ";" constraint )`. An empty text gives no constraints. Throws
// RsqlSyntaxError with a message that names the position.
std::vector<RsqlConstraint> parse_rsql(std::string_view text);

}  // namespace replicator::actito_sim

// Request-target parsing and the generic list conventions of contract section 3: page, size, sort,
// search, fields, their validation order and error codes, and the list envelope.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tests/actito_sim/catalog.hpp"

namespace replicator::actito_sim {

// Query parameters in request order, names and values percent-decoded.
using QueryParams = std::vector<std::pair<std::string, std::string>>;

// A request target split into its path and query (contract 2.2, 3.4 encoding rules).
struct Target {
  std::string raw_path;               // as received, still encoded
  std::vector<std::string> segments;  // decoded exactly once; '+' stays '+' in paths
  QueryParams params;                 // decoded with '+' read as a space (form semantics)
};

// Throws ApiError 400 INVALID_PARAMETER on malformed percent-encoding.
Target parse_target(std::string_view target);

// Decodes %XX escapes (and '+' as a space when asked). Throws std::invalid_argument.
std::string percent_decode(std::string_view text, bool plus_as_space);
// Encodes every byte outside A-Z a-z 0-9 - . _ ~ and outside `keep`.
std::string percent_encode(std::string_view text, std::string_view keep = {});

// A `search` value converted to the type of its field (contract 3.4, type check step).
struct TypedValue {
  std::int64_t integer = 0;  // LONG, INTEGER, TIMESTAMP (epoch ms), DATE (days), BOOLEAN (0/1)
  double number = 0;         // NUMBER
  std::string text;          // STRING as given; the literal for every other type
};

struct Constraint {
  const FieldSpec* field = nullptr;  // points into the ObjectSpec the request was parsed with
  Op op = Op::kEq;
  std::vector<TypedValue> values;  // one value, or 1..100 for =in=
};

struct SortKey {
  std::string wire;
  bool descending = false;
};

// A validated list request. The pointers inside refer to the ObjectSpec it was parsed against,
// which must outlive it.
struct ListRequest {
  std::int64_t page = 0;
  std::int64_t size = 50;
  std::vector<SortKey> sort;  // effective order: requested keys, then the key tie-breakers
  std::vector<Constraint> constraints;
  bool projected = false;
  std::vector<std::string> fields;  // projected names, always-returned names included

  // What the links repeat (contract 3.2): the parameters as the client gave them.
  std::vector<std::string> sort_params;
  std::string search_param;
  std::string fields_param;
  bool has_fields_param = false;

  // page * size, saturated (any page number is legal, contract 3.1).
  std::int64_t offset() const noexcept;
  bool wants(std::string_view name) const noexcept;  // projection test (true when not projected)
};

// Validates a list request against an object (contract 3.1-3.5). Throws ApiError 400 with the
// contract's codes: INVALID_PARAMETER, PAGE_SIZE_TOO_LARGE, INVALID_SORT, INVALID_SEARCH,
// FILTER_NOT_SUPPORTED, INVALID_FIELDS.
ListRequest parse_list_request(const ObjectSpec& spec, const QueryParams& params);

// Rejects unknown or repeated parameters of a non-list route (single GETs and the like).
void check_plain_params(const QueryParams& params, const std::vector<std::string_view>& allowed);

// Converts a literal to a field's type; throws ApiError 400 INVALID_SEARCH.
TypedValue typed_value(const FieldSpec& field, const std::string& literal);

// Path-absolute href of a page of the same query.
std::string page_href(std::string_view raw_path, const ListRequest& request, std::int64_t page);

// Writes `{"<key>":[` ; the caller then appends the rows and calls finish_envelope.
void begin_envelope(std::string& out, const ObjectSpec& spec);
void finish_envelope(std::string& out, std::string_view raw_path, const ListRequest& request,
                     std::int64_t total_elements);

}  // namespace replicator::actito_sim

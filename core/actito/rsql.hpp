// Rendering engine constraints as the RSQL `search` parameter of the wire contract (3.4), and
// the percent-encoding of query components.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/engine/ports.hpp"
#include "core/model/catalog.hpp"

namespace replicator::actito {

// RSQL operator of a filter operator; throws Error(kPermanent) for operators RSQL lacks (!=).
std::string_view rsql_operator(model::FilterOp op);

// A value as an RSQL argument: strings, dates and timestamps double-quoted with `"` and `\`
// escaped (timestamps in the 4.1 UTC form), numbers and booleans bare.
std::string rsql_value(const model::Value& v);

// `a==1;b=ge="..."` for constraints on `object` (logical field names mapped to wire names).
// Throws Error(kPermanent) naming the field when a constraint is not a native filter of the
// object: the API would answer 400, and the client must never send it (contract 3.4).
std::string render_search(const model::ObjectDescriptor& object,
                          const std::vector<engine::Constraint>& constraints);

// Percent-encodes every byte outside A-Z a-z 0-9 - . _ ~ (contract 3.4 "Encoding").
std::string percent_encode(std::string_view s);

}  // namespace replicator::actito

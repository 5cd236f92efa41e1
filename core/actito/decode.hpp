// JSON values of the wire (contract 4.7) to model values, with the tolerances the contract asks
// for: numbers sent as strings, booleans as strings, a scalar where an array is expected, every
// timestamp form of 4.2.
#pragma once

#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "core/model/catalog.hpp"
#include "core/model/timestamp.hpp"
#include "core/model/value.hpp"

namespace replicator::actito {

// The value at `field.wire_path` in `record` (nullptr when absent: same as null, 4.7).
const boost::json::value* find_path(const boost::json::object& record,
                                    const model::FieldDescriptor& field) noexcept;

// Converts one wire value. Throws model::Error(kPermanent) saying which field and what was
// expected; callers add the object and the row's key.
model::Value decode_value(const boost::json::value& v, const model::FieldDescriptor& field,
                          const model::TimeZone& zone);

}  // namespace replicator::actito

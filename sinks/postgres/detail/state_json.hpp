// The typed JSON form of `keys_at_watermark` in _replication_state. Private to sinks/postgres.
//
// A list of key tuples; each value is an object with one tag naming its alternative, so that
// every model::Value round-trips exactly (jsonb keeps integers exact; timestamps are epoch ms):
//   [[{"i": 123}, {"s": "x"}], [{"t": 1700000000000}], [null]]
//   tags: b boolean, i int64, t timestamp (ms), d decimal (text), s string, j JSON (text),
//         a string list; JSON null is a null value.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/model/value.hpp"

namespace replicator::sink_postgres::detail {

std::string encode_keys(const std::vector<model::Row>& keys);

// Parses what encode_keys wrote (as jsonb prints it back). Throws model::Error(kPermanent)
// describing the problem when the text is not in that form.
std::vector<model::Row> decode_keys(std::string_view json);

}  // namespace replicator::sink_postgres::detail

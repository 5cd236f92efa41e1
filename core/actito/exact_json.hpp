// JSON of Actito records, read so that no number loses digits (contract 4.7: a NUMBER literal is
// read exactly, as a decimal, never through a double).
//
// Boost.JSON 1.81 turns every non-integer literal into a double and has no option to keep its
// text. parse_exact() reads a document like boost::json::parse, except that a number literal a
// double cannot carry exactly (more than 15 significant digits, or outside the double range)
// becomes a string holding kNumberMark followed by the literal. The decoder reads such a value
// back as the number it is (exact_literal), and serialize_exact() writes it back as a number.
// The mark is the byte 0xFF, which no UTF-8 text holds and the parser lets into no real string
// (it refuses invalid UTF-8): a string of the document is never taken for a number.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <boost/json/storage_ptr.hpp>
#include <boost/json/value.hpp>
#include <boost/system/error_code.hpp>

namespace replicator::actito {

inline constexpr char kNumberMark = '\xFF';

boost::json::value parse_exact(std::string_view text, boost::system::error_code& ec,
                               boost::json::storage_ptr sp = {});

// The literal of a number parse_exact kept as text; nullopt for any other value.
std::optional<std::string_view> exact_literal(const boost::json::value& v) noexcept;

// boost::json::serialize, with the numbers parse_exact kept as text written back as numbers.
std::string serialize_exact(const boost::json::value& v);

// Whether a number literal (JSON grammar) has more significant digits than a double carries
// exactly (15). Exposed for tests.
bool needs_exact_text(std::string_view literal) noexcept;

}  // namespace replicator::actito

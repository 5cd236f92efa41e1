// The interface every servable object implements: a list page and, when routed, a single GET.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tests/actito_sim/catalog.hpp"
#include "tests/actito_sim/list_request.hpp"

namespace replicator::actito_sim {

// One object the server can list. Implementations are thread-safe: list and get may run on any
// number of server threads at once, concurrently with the implementation's own mutations.
class Collection {
 public:
  virtual ~Collection() = default;

  virtual const ObjectSpec& spec() const noexcept = 0;

  // Appends the rows of the requested page, comma-separated, to `out` (the caller writes the
  // envelope around them) and returns the exact totalElements (contract 3.2, A07).
  virtual std::int64_t list_page(const ListRequest& request, std::string& out) const = 0;

  // Appends the single-GET shape of one record; throws ApiError 404 RECORD_NOT_FOUND (or 400 for a
  // malformed key).
  virtual void get_one(std::string_view key, std::string& out) const = 0;

  // Extra query parameters the single GET accepts and ignores (contract 6.11.1 "extras").
  virtual std::vector<std::string_view> single_get_params() const { return {}; }
};

}  // namespace replicator::actito_sim

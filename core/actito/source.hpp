// engine::Source over the Actito list routes: renders a ListQuery as page/size/sort/search,
// and decodes the envelope (contract 3.1-3.2) into rows of the stream's field layout.
#pragma once

#include <optional>
#include <string>

#include <boost/json/object.hpp>

#include "core/actito/client.hpp"
#include "core/engine/ports.hpp"

namespace replicator::actito {

// The route of `object` with {entity} and its route parameters filled in.
std::string fill_route(const std::string& route, const model::ObjectDescriptor& object,
                       const std::string& entity_segment);
// `route?page=..&size=..&sort=..&search=..` for one list request.
std::string list_target(const engine::StreamSpec& spec, const engine::ListQuery& query,
                        const std::string& entity_segment);
// `single route` with the key's values: the target of the single-record GET.
std::string get_target(const engine::StreamSpec& spec, const model::Row& key,
                       const std::string& entity_segment);
// One record (a list item or a single-record answer) in the stream's field layout.
model::Row decode_record(const engine::StreamSpec& spec, const boost::json::object& record,
                         const model::TimeZone& zone);
// Decodes one list answer. Throws model::Error(kPermanent) naming the object, the row's key and
// the field for bad values, kTransient for a body that is not a list envelope.
engine::PageResult decode_page(const engine::StreamSpec& spec, std::string_view body,
                               const model::TimeZone& zone);

// Thread-safety: like the client it wraps, one executor.
class ActitoSource : public engine::Source {
 public:
  explicit ActitoSource(ActitoClient& client) : client_(client) {}
  boost::asio::awaitable<engine::PageResult> list(const engine::StreamSpec& spec,
                                                  engine::ListQuery query) override;
  boost::asio::awaitable<std::optional<model::Row>> get(const engine::StreamSpec& spec,
                                                        model::Row key) override;

 private:
  ActitoClient& client_;
};

}  // namespace replicator::actito

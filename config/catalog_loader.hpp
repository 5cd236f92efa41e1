// Reads the object catalog YAML (shared/docs/actito-catalog.yaml, core/actito/catalog.yaml) into
// model::Catalog, and gives the copy compiled into the binary.
//
// What is read: contract_version; conventions.hosts (every entry but `override_setting`, each a
// base URL); every entry of `objects:` and every template of `dynamic_objects:` (name_pattern
// becomes the descriptor's name, `per` is kept). Per object: category, family, list_route,
// get_route, collection_key, max_page_size, key, parent, created_field, updated_field,
// replication.mode (incremental_updated | incremental_created | full_refresh) and
// replication.pushdown, fields (name, wire split on '.', type via model::parse_field_type with
// STRING[] as multi-valued, nullable, extended, write), native_filters ('=', '!=', <, <=, '>',
// '>=', IN), sortable, fields_projection (a bool, or a list meaning true), dml. Fields whose
// name holds '<' are patterns (`pattern = true`; their type text may be descriptive). Purely
// descriptive keys (notes, search_selectors, write_routes, enum, ...) are accepted and ignored;
// any other key is an error, as are broken references (key, cursor and filter fields that are
// not fields of the object, a parent that is not an object). Errors are model::Error(kConfig)
// with FILE:LINE:COLUMN, like the config.
#pragma once

#include <string>
#include <string_view>

#include "core/model/catalog.hpp"

namespace replicator::config {

struct Config;

model::Catalog parse_catalog(std::string_view yaml_text, const std::string& name_for_errors);
model::Catalog load_catalog_file(const std::string& path);

// The catalog YAML embedded at build time from core/actito/catalog.yaml.
std::string_view builtin_catalog_yaml() noexcept;
// builtin_catalog_yaml() parsed (once per process; each call returns a copy).
model::Catalog builtin_catalog();

// The catalog a config asks for: the file named by `catalog:`, else the built-in one.
model::Catalog load_catalog(const Config& config);

}  // namespace replicator::config

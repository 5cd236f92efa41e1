#include "sinks/postgres/detail/table_layout.hpp"

#include <cstdint>
#include <map>

#include "core/model/error.hpp"
#include "core/model/naming.hpp"
#include "sinks/postgres/detail/copy_text.hpp"

namespace replicator::sink_postgres::detail {
namespace {

using model::quote_ident;

std::string joined(const TableLayout& t, const std::vector<std::size_t>& which,
                   std::string_view prefix, std::string_view separator) {
  std::string out;
  for (std::size_t i = 0; i < which.size(); ++i) {
    if (i > 0) out += separator;
    out += prefix;
    out += quote_ident(t.columns[which[i]].name);
  }
  return out;
}

bool is_key(const TableLayout& t, std::size_t i) {
  for (std::size_t k : t.key) {
    if (k == i) return true;
  }
  return false;
}

// Columns that are not part of the key; without the extended ones when `skip_extended`.
std::vector<std::size_t> data_columns(const TableLayout& t, bool skip_extended) {
  std::vector<std::size_t> v;
  for (std::size_t i = 0; i < t.columns.size(); ++i) {
    if (is_key(t, i) || (skip_extended && t.columns[i].extended)) continue;
    v.push_back(i);
  }
  return v;
}

// "cur"."k1" = "s"."k1" AND ...
std::string key_join(const TableLayout& t, std::string_view left, std::string_view right) {
  std::string sql;
  for (std::size_t i = 0; i < t.key.size(); ++i) {
    const std::string k = quote_ident(t.columns[t.key[i]].name);
    if (i > 0) sql += " AND ";
    sql += std::string(left) + "." + k + " = " + std::string(right) + "." + k;
  }
  return sql;
}

// cur.<key0> IS NULL OR cur._deleted_at IS NOT NULL [OR ROW(cur.data) IS DISTINCT FROM ...]
std::string differs(const TableLayout& t, const std::vector<std::size_t>& compared) {
  std::string sql = "cur." + quote_ident(t.columns[t.key[0]].name) + " IS NULL OR cur." +
                    quote_ident(kDeletedAt) + " IS NOT NULL";
  if (!compared.empty()) {
    sql += "\n   OR ROW(" + joined(t, compared, "cur.", ", ") + ") IS DISTINCT FROM ROW(" +
           joined(t, compared, "s.", ", ") + ")";
  }
  return sql;
}

}  // namespace

std::string TableLayout::qualified() const {
  return quote_ident(schema) + "." + quote_ident(table);
}

std::string TableLayout::display() const { return schema + "." + table; }

std::string TableLayout::signature() const {
  std::string s;
  for (const Column& c : columns) {
    s += c.name;
    s += ' ';
    s += c.type;
    s += '\n';
  }
  s += "key";
  for (std::size_t k : key) s += " " + std::to_string(k);
  s += "\nextended";
  for (std::size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].extended) s += " " + std::to_string(i);
  }
  s += keep_extended ? "\nkeep" : "\nwrite";
  return s;
}

TableLayout layout_for(const engine::StreamSpec& spec, std::string_view schema) {
  TableLayout t;
  t.schema = std::string(schema);
  t.table = model::snake_case(spec.stream);
  std::map<std::string, std::string> seen;  // column -> field
  for (const auto& f : spec.fields) {
    Column c{model::snake_case(f.name), pg_type(f), f.name};
    if (c.name == kSyncedAt || c.name == kDeletedAt || c.name == kOrdinal) {
      model::fail(model::ErrorKind::kPermanent,
                  t.display() + ": field " + f.name + " maps to the reserved column " + c.name);
    }
    auto [it, fresh] = seen.emplace(c.name, f.name);
    if (!fresh) {
      model::fail(model::ErrorKind::kPermanent, t.display() + ": fields " + it->second + " and " +
                                                    f.name + " both map to column " + c.name);
    }
    t.columns.push_back(std::move(c));
  }
  for (std::size_t k : spec.key_index) {
    if (k >= t.columns.size()) {
      model::fail(model::ErrorKind::kPermanent,
                  t.display() + ": key position " + std::to_string(k) + " is not a field");
    }
    t.key.push_back(k);
  }
  // A key is always in the list rows: it is never treated as extended.
  for (std::size_t i = 0; i < t.columns.size(); ++i) {
    t.columns[i].extended = spec.fields[i].extended && !is_key(t, i);
  }
  t.keep_extended = spec.extended == engine::ExtendedFetch::kKeep;
  if (t.key.empty()) {
    model::fail(model::ErrorKind::kPermanent,
                t.display() + ": the stream has no key fields; rows cannot be upserted");
  }
  return t;
}

std::string create_table_sql(const TableLayout& t) {
  std::string sql = "CREATE TABLE " + t.qualified() + " (";
  for (const Column& c : t.columns) {
    sql += quote_ident(c.name) + " " + std::string(c.type) + ", ";
  }
  sql += quote_ident(kSyncedAt) + " timestamp with time zone NOT NULL, ";
  sql += quote_ident(kDeletedAt) + " timestamp with time zone, ";
  sql += "PRIMARY KEY (" + joined(t, t.key, "", ", ") + "))";
  return sql;
}

std::string add_columns_sql(const TableLayout& t, const std::vector<const Column*>& missing) {
  std::string sql = "ALTER TABLE " + t.qualified();
  for (std::size_t i = 0; i < missing.size(); ++i) {
    sql += i == 0 ? " " : ", ";
    sql += "ADD COLUMN " + quote_ident(missing[i]->name) + " " + std::string(missing[i]->type);
  }
  return sql;
}

std::string create_staging_sql(const TableLayout& t, std::string_view staging) {
  std::string sql = "CREATE TEMP TABLE " + quote_ident(staging) + " (" + quote_ident(kOrdinal) +
                    " bigint NOT NULL";
  for (const Column& c : t.columns) sql += ", " + quote_ident(c.name) + " " + std::string(c.type);
  sql += ") ON COMMIT DELETE ROWS";
  return sql;
}

std::string upsert_sql(const TableLayout& t, std::string_view staging) {
  // With keep_extended the extended columns are left out everywhere: not inserted (NULL in a new
  // row), not compared, not updated.
  std::vector<std::size_t> inserted;
  for (std::size_t i = 0; i < t.columns.size(); ++i) {
    if (!(t.keep_extended && t.columns[i].extended)) inserted.push_back(i);
  }
  const auto data = data_columns(t, t.keep_extended);
  const std::string keys = joined(t, t.key, "", ", ");
  const std::string synced = quote_ident(kSyncedAt);
  const std::string deleted = quote_ident(kDeletedAt);

  std::string sql = "INSERT INTO " + t.qualified() + " AS t (" + joined(t, inserted, "", ", ") +
                    ", " + synced + ", " + deleted + ")\n";
  sql += "SELECT " + joined(t, inserted, "s.", ", ") + ", now(), NULL\n";
  // Duplicate keys inside one page: the last occurrence wins.
  sql += "FROM (SELECT DISTINCT ON (" + keys + ") * FROM pg_temp." + quote_ident(staging) +
         " ORDER BY " + keys + ", " + quote_ident(kOrdinal) + " DESC) AS s\n";
  sql += "LEFT JOIN " + t.qualified() + " AS cur ON " + key_join(t, "cur", "s");
  // Only new rows, rows that differ, and soft-deleted rows that came back.
  sql += "\nWHERE " + differs(t, data);
  sql += "\nON CONFLICT (" + keys + ") DO UPDATE SET ";
  for (std::size_t i : data) {
    const std::string c = quote_ident(t.columns[i].name);
    sql += c + " = EXCLUDED." + c + ", ";
  }
  sql += synced + " = EXCLUDED." + synced + ", " + deleted + " = NULL";
  return sql;
}

std::string changed_sql(const TableLayout& t, std::string_view staging) {
  return "SELECT s." + quote_ident(kOrdinal) + " FROM pg_temp." + quote_ident(staging) +
         " AS s\nLEFT JOIN " + t.qualified() + " AS cur ON " + key_join(t, "cur", "s") +
         "\nWHERE " + differs(t, data_columns(t, true));
}

std::string truncate_utf8(std::string_view name, std::size_t max) {
  if (name.size() <= max) return std::string(name);
  std::size_t n = max;
  // Back up to the start of the sequence the cut falls into.
  while (n > 0 && (static_cast<unsigned char>(name[n]) & 0xC0) == 0x80) --n;
  return std::string(name.substr(0, n));
}

std::string seen_table_name(std::string_view table) {
  static constexpr std::string_view kPrefix = "_seen_";
  if (kPrefix.size() + table.size() <= kMaxIdentifier)
    return std::string(kPrefix) + std::string(table);
  // FNV-1a: stable across builds and processes (std::hash is not).
  std::uint32_t h = 2166136261u;
  for (char c : table) {
    h ^= static_cast<unsigned char>(c);
    h *= 16777619u;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string suffix = "_";
  for (int shift = 28; shift >= 0; shift -= 4) suffix += kHex[(h >> shift) & 0xF];
  return std::string(kPrefix) +
         truncate_utf8(table, kMaxIdentifier - kPrefix.size() - suffix.size()) + suffix;
}

std::string key_shape(const TableLayout& t) {
  std::string s;
  for (std::size_t i = 0; i < t.key.size(); ++i) {
    if (i > 0) s += ", ";
    s += t.columns[t.key[i]].name + " " + std::string(t.columns[t.key[i]].type);
  }
  return s;
}

std::string create_seen_sql(const TableLayout& t, std::string_view seen) {
  std::string sql =
      "CREATE UNLOGGED TABLE " + quote_ident(t.schema) + "." + quote_ident(seen) + " (";
  for (std::size_t k : t.key) {
    sql += quote_ident(t.columns[k].name) + " " + std::string(t.columns[k].type) + " NOT NULL, ";
  }
  sql += "PRIMARY KEY (" + joined(t, t.key, "", ", ") + "))";
  return sql;
}

std::string create_key_staging_sql(const TableLayout& t, std::string_view staging) {
  std::string sql = "CREATE TEMP TABLE " + quote_ident(staging) + " (";
  for (std::size_t i = 0; i < t.key.size(); ++i) {
    const Column& c = t.columns[t.key[i]];
    if (i > 0) sql += ", ";
    sql += quote_ident(c.name) + " " + std::string(c.type);
  }
  sql += ") ON COMMIT DELETE ROWS";
  return sql;
}

std::string add_seen_sql(const TableLayout& t, std::string_view seen, std::string_view staging) {
  const std::string keys = joined(t, t.key, "", ", ");
  return "INSERT INTO " + quote_ident(t.schema) + "." + quote_ident(seen) + " (" + keys +
         ") SELECT " + keys + " FROM pg_temp." + quote_ident(staging) + " ON CONFLICT DO NOTHING";
}

std::string mark_deleted_sql(const TableLayout& t, std::string_view seen) {
  const std::string deleted = quote_ident(kDeletedAt);
  return "UPDATE " + t.qualified() + " AS cur SET " + deleted + " = $1::timestamptz WHERE cur." +
         deleted + " IS NULL AND NOT EXISTS (SELECT 1 FROM " + quote_ident(t.schema) + "." +
         quote_ident(seen) + " AS s WHERE " + key_join(t, "s", "cur") + ")";
}

std::string unseen_keys_sql(const TableLayout& t, std::string_view seen) {
  std::string tagged, order;
  for (std::size_t i = 0; i < t.key.size(); ++i) {
    const Column& c = t.columns[t.key[i]];
    const std::string col = "cur." + quote_ident(c.name);
    std::string value;
    if (c.type == "bigint") {
      value = "jsonb_build_object('i', " + col + ")";
    } else if (c.type == "text") {
      value = "jsonb_build_object('s', " + col + ")";
    } else if (c.type == "boolean") {
      value = "jsonb_build_object('b', " + col + ")";
    } else if (c.type == "numeric") {
      value = "jsonb_build_object('d', " + col + "::text)";
    } else if (c.type == "date") {
      value = "jsonb_build_object('s', to_char(" + col + ", 'YYYY-MM-DD'))";
    } else if (c.type == "timestamp with time zone") {
      value = "jsonb_build_object('t', (extract(epoch FROM " + col + ") * 1000)::bigint)";
    } else {
      return "";
    }
    tagged += (i ? ", " : "") + ("CASE WHEN " + col + " IS NULL THEN 'null'::jsonb ELSE " + value + " END");
    order += (i ? ", " : "") + col;
  }
  const std::string deleted = quote_ident(kDeletedAt);
  return "SELECT jsonb_build_array(" + tagged + ")::text FROM " + t.qualified() + " AS cur WHERE cur." + deleted +
         " IS NULL AND NOT EXISTS (SELECT 1 FROM " + quote_ident(t.schema) + "." + quote_ident(seen) +
         " AS s WHERE " + key_join(t, "s", "cur") + ") ORDER BY " + order + " LIMIT $1";
}

std::string quoted_state_table(std::string_view schema) {
  return quote_ident(schema) + "." + quote_ident(kStateTable);
}

std::string create_state_table_sql(std::string_view schema) {
  return "CREATE TABLE " + quoted_state_table(schema) +
         " (\n"
         "  job text NOT NULL,\n"
         "  stream text NOT NULL,\n"
         "  cursor_field text,\n"
         "  watermark timestamp with time zone,\n"
         "  watermark_exclusive boolean NOT NULL DEFAULT false,\n"
         "  keys_at_watermark jsonb NOT NULL DEFAULT '[]',\n"
         "  plateau jsonb,\n"
         "  rows_total bigint NOT NULL DEFAULT 0,\n"
         "  last_success timestamp with time zone,\n"
         "  last_error text,\n"
         "  updated_at timestamp with time zone NOT NULL DEFAULT now(),\n"
         "  last_delete_scan timestamp with time zone,\n"
         "  resets bigint NOT NULL DEFAULT 0,\n"
         "  PRIMARY KEY (job, stream))";
}

std::string create_metadata_table_sql(std::string_view schema) {
  return "CREATE TABLE IF NOT EXISTS " + quote_ident(schema) + "." + quote_ident(kMetadataTable) +
         " (\n"
         "  key text PRIMARY KEY,\n"
         "  fetched_at timestamp with time zone NOT NULL,\n"
         "  body text NOT NULL,\n"
         "  updated_at timestamp with time zone NOT NULL DEFAULT now())";
}

std::string create_key_scans_table_sql(std::string_view schema) {
  return "CREATE UNLOGGED TABLE IF NOT EXISTS " + quote_ident(schema) + "." +
         quote_ident(kKeyScansTable) +
         " (\n"
         "  seen_table text PRIMARY KEY,\n"
         "  started_at timestamp with time zone NOT NULL DEFAULT now())";
}

}  // namespace replicator::sink_postgres::detail

#include "sinks/postgres/detail/table_layout.hpp"

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

std::vector<std::size_t> all_columns(const TableLayout& t) {
  std::vector<std::size_t> v(t.columns.size());
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = i;
  return v;
}

std::vector<std::size_t> non_key_columns(const TableLayout& t) {
  std::vector<std::size_t> v;
  for (std::size_t i = 0; i < t.columns.size(); ++i) {
    bool is_key = false;
    for (std::size_t k : t.key) is_key = is_key || k == i;
    if (!is_key) v.push_back(i);
  }
  return v;
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
  const auto all = all_columns(t);
  const auto data = non_key_columns(t);
  const std::string keys = joined(t, t.key, "", ", ");
  const std::string synced = quote_ident(kSyncedAt);
  const std::string deleted = quote_ident(kDeletedAt);

  std::string sql = "INSERT INTO " + t.qualified() + " AS t (" + joined(t, all, "", ", ") + ", " +
                    synced + ", " + deleted + ")\n";
  sql += "SELECT " + joined(t, all, "s.", ", ") + ", now(), NULL\n";
  // Duplicate keys inside one page: the last occurrence wins.
  sql += "FROM (SELECT DISTINCT ON (" + keys + ") * FROM pg_temp." + quote_ident(staging) +
         " ORDER BY " + keys + ", " + quote_ident(kOrdinal) + " DESC) AS s\n";
  sql += "LEFT JOIN " + t.qualified() + " AS cur ON ";
  for (std::size_t i = 0; i < t.key.size(); ++i) {
    const std::string k = quote_ident(t.columns[t.key[i]].name);
    if (i > 0) sql += " AND ";
    sql += "cur." + k + " = s." + k;
  }
  // Only new rows, rows that differ, and soft-deleted rows that came back.
  sql += "\nWHERE cur." + quote_ident(t.columns[t.key[0]].name) + " IS NULL OR cur." + deleted +
         " IS NOT NULL";
  if (!data.empty()) {
    sql += "\n   OR ROW(" + joined(t, data, "cur.", ", ") + ") IS DISTINCT FROM ROW(" +
           joined(t, data, "s.", ", ") + ")";
  }
  sql += "\nON CONFLICT (" + keys + ") DO UPDATE SET ";
  for (std::size_t i : data) {
    const std::string c = quote_ident(t.columns[i].name);
    sql += c + " = EXCLUDED." + c + ", ";
  }
  sql += synced + " = EXCLUDED." + synced + ", " + deleted + " = NULL";
  return sql;
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
         "  PRIMARY KEY (job, stream))";
}

}  // namespace replicator::sink_postgres::detail

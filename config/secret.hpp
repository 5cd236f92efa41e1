// Secret: a credential read from the config (API key, PostgreSQL DSN) that formats as a mask.
#pragma once

#include <fmt/format.h>

#include <iosfwd>
#include <string>
#include <string_view>

namespace replicator::config {

// Holds a credential. Every rendering (operator<<, fmt, to_string) is masked: "***" for opaque
// secrets, and for DSNs the DSN with the password replaced by "***" (keyword form
// `password=***`, URI form `postgresql://user:***@host/db`; values of keywords that are not known
// non-secret libpq keywords are masked too, and a DSN that parses as neither form is "***"). Only
// `reveal()` gives the value: call it at the one place that sends it (the token request, the libpq
// connection), never to build a message. Thread safety: immutable after construction; safe to share
// between threads.
class Secret {
 public:
  enum class Kind { kOpaque, kDsn };

  Secret() = default;
  explicit Secret(std::string value, Kind kind = Kind::kOpaque)
      : value_(std::move(value)), kind_(kind) {}
  static Secret dsn(std::string value) { return Secret(std::move(value), Kind::kDsn); }

  const std::string& reveal() const noexcept { return value_; }
  bool empty() const noexcept { return value_.empty(); }
  Kind kind() const noexcept { return kind_; }
  // The masked rendering used by every formatter.
  std::string masked() const;

  friend bool operator==(const Secret&, const Secret&) = default;

 private:
  std::string value_;
  Kind kind_ = Kind::kOpaque;
};

// A libpq DSN (keyword/value conninfo or postgres:// URI) with its password values masked (see
// Secret); "***" when the text does not parse as either form.
std::string mask_dsn(std::string_view dsn);

std::ostream& operator<<(std::ostream& os, const Secret& secret);

}  // namespace replicator::config

template <>
struct fmt::formatter<replicator::config::Secret> : fmt::formatter<std::string_view> {
  template <typename FormatContext>
  auto format(const replicator::config::Secret& secret, FormatContext& ctx) const {
    const std::string masked = secret.masked();
    return fmt::formatter<std::string_view>::format(std::string_view(masked), ctx);
  }
};

#include "tests/actito_sim/token_store.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "tests/actito_sim/api_error.hpp"

namespace replicator::actito_sim {
namespace {

constexpr std::size_t kPruneThreshold = 10'000;

[[noreturn]] void unauthorized(std::string code, std::string message) {
  throw ApiError(401, std::move(code), std::move(message));
}

}  // namespace

TokenStore::TokenStore(const std::vector<std::string>& api_keys, std::int64_t ttl_s)
    : keys_(api_keys.begin(), api_keys.end()),
      default_ttl_s_(ttl_s),
      random_(std::random_device{}()) {}

std::string TokenStore::random_hex(std::size_t bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < bytes; ++i) {
    const auto byte = static_cast<unsigned>(random_() & 0xFF);
    out.push_back(kHex[byte >> 4]);
    out.push_back(kHex[byte & 0xF]);
  }
  return out;
}

IssuedToken TokenStore::issue(std::string_view raw_api_key) {
  std::lock_guard lock(mutex_);
  if (raw_api_key.empty()) {
    unauthorized("INVALID_API_KEY",
                 "missing API key: send the raw key in the Authorization header");
  }
  if (!keys_.contains(std::string(raw_api_key))) {
    unauthorized("INVALID_API_KEY", "unknown or revoked API key");
  }
  const auto now = std::chrono::steady_clock::now();
  if (tokens_.size() > kPruneThreshold) {
    std::erase_if(tokens_, [&](const auto& entry) {
      const Token& t = entry.second;
      return t.expired || now - t.issued >= std::chrono::seconds(t.ttl_s);
    });
  }
  IssuedToken issued;
  issued.ttl_s = ttl_override_s_ > 0 ? ttl_override_s_ : default_ttl_s_;
  issued.access_token = "sim." + random_hex(24);
  const std::string h = random_hex(16);
  issued.jti = fmt::format("{}-{}-4{}-a{}-{}", h.substr(0, 8), h.substr(8, 4), h.substr(13, 3),
                           h.substr(17, 3), h.substr(20, 12));
  tokens_[issued.access_token] = Token{std::string(raw_api_key), now, issued.ttl_s, false};
  return issued;
}

void TokenStore::check(std::string_view authorization) const {
  if (authorization.empty()) unauthorized("INVALID_TOKEN", "missing Authorization header");
  const std::size_t space = authorization.find(' ');
  std::string scheme(authorization.substr(0, space));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (space == std::string_view::npos || scheme != "bearer") {
    unauthorized("INVALID_TOKEN", "the Authorization header must be 'Bearer <accessToken>'");
  }
  std::string_view token = authorization.substr(space + 1);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  std::lock_guard lock(mutex_);
  const auto it = tokens_.find(std::string(token));
  if (it == tokens_.end()) unauthorized("INVALID_TOKEN", "unknown access token");
  const Token& t = it->second;
  if (!keys_.contains(t.key))
    unauthorized("INVALID_TOKEN", "the API key of this token was revoked");
  if (t.expired || std::chrono::steady_clock::now() - t.issued >= std::chrono::seconds(t.ttl_s)) {
    unauthorized("TOKEN_EXPIRED", fmt::format("the access token expired (TTL {} s)", t.ttl_s));
  }
}

std::size_t TokenStore::expire_all() {
  std::lock_guard lock(mutex_);
  std::size_t count = 0;
  for (auto& [token, t] : tokens_) {
    if (!t.expired) ++count;
    t.expired = true;
  }
  return count;
}

bool TokenStore::revoke_key(std::string_view key) {
  std::lock_guard lock(mutex_);
  return keys_.erase(std::string(key)) > 0;
}

void TokenStore::add_key(std::string key) {
  std::lock_guard lock(mutex_);
  keys_.insert(std::move(key));
}

void TokenStore::set_ttl_override(std::int64_t ttl_s) {
  std::lock_guard lock(mutex_);
  ttl_override_s_ = std::max<std::int64_t>(ttl_s, 0);
}

std::int64_t TokenStore::ttl_s() const {
  std::lock_guard lock(mutex_);
  return ttl_override_s_ > 0 ? ttl_override_s_ : default_ttl_s_;
}

}  // namespace replicator::actito_sim

// API keys and bearer tokens of contract 2.4: issue, check, expire, revoke.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace replicator::actito_sim {

struct IssuedToken {
  std::string access_token;
  std::string jti;
  std::int64_t ttl_s = 0;
};

// Thread-safe: every member may be called from any server thread.
class TokenStore {
 public:
  TokenStore(const std::vector<std::string>& api_keys, std::int64_t ttl_s);

  // GET /auth/token. Throws ApiError 401 INVALID_API_KEY for an unknown or revoked key.
  IssuedToken issue(std::string_view raw_api_key);
  // Checks an `Authorization: Bearer ...` header. Throws ApiError 401 INVALID_TOKEN (missing,
  // malformed, unknown, or its key revoked) or TOKEN_EXPIRED (age >= TTL).
  void check(std::string_view authorization) const;

  std::size_t expire_all();               // every issued token is now expired
  bool revoke_key(std::string_view key);  // false when the key was not active
  void add_key(std::string key);
  void set_ttl_override(std::int64_t ttl_s);  // 0 = back to the default TTL
  std::int64_t ttl_s() const;

 private:
  struct Token {
    std::string key;
    std::chrono::steady_clock::time_point issued;
    std::int64_t ttl_s = 0;
    bool expired = false;
  };
  std::string random_hex(std::size_t bytes);

  mutable std::mutex mutex_;  // guards everything below
  std::unordered_set<std::string> keys_;
  std::unordered_map<std::string, Token> tokens_;
  std::int64_t default_ttl_s_;
  std::int64_t ttl_override_s_ = 0;
  std::mt19937_64 random_;
};

}  // namespace replicator::actito_sim

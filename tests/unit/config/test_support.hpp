// Helpers shared by the config unit tests.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "core/model/error.hpp"

namespace replicator::config::testing {

inline constexpr const char* kApiKey = "s3cr3t-api-key-VALUE";
inline constexpr const char* kDbPassword = "pg-Pass-w0rd";
inline const std::string kDsn =
    std::string("postgresql://app:") + kDbPassword + "@db.example:5432/warehouse";

// An environment holding exactly `vars`.
inline EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

// KEY and DSN hold the test secrets.
inline EnvLookup test_env() { return env_of({{"KEY", kApiKey}, {"DSN", kDsn}}); }

inline Config parse(std::string_view yaml, const EnvLookup& env = test_env()) {
  return parse_config(yaml, "test.yaml", env);
}

// The message of the model::Error(kConfig) that `f` throws ("" and a test failure otherwise).
template <typename F>
std::string config_error(F&& f) {
  try {
    f();
  } catch (const model::Error& e) {
    EXPECT_EQ(e.kind(), model::ErrorKind::kConfig) << e.what();
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "unexpected exception type: " << e.what();
    return {};
  }
  ADD_FAILURE() << "no error was thrown";
  return {};
}

// The error starts with `where` ("test.yaml:3:5: ") and contains `phrase`.
#define EXPECT_ERROR_AT(message, where, phrase)                                                   \
  do {                                                                                            \
    const std::string m_ = (message);                                                             \
    EXPECT_EQ(m_.substr(0, std::string_view(where).size()), where) << m_;                         \
    EXPECT_NE(m_.find(phrase), std::string::npos) << "missing \"" << (phrase) << "\" in: " << m_; \
  } while (0)

#define EXPECT_PARSE_ERROR(yaml, where, phrase)                                   \
  EXPECT_ERROR_AT(::replicator::config::testing::config_error(                    \
                      [&] { (void)::replicator::config::testing::parse(yaml); }), \
                  where, phrase)

}  // namespace replicator::config::testing

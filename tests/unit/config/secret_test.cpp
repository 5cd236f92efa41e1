// Secrets: masked in every rendering, revealed only on request, absent from every error message.
#include "config/secret.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "config/config.hpp"
#include "tests/unit/config/test_support.hpp"

namespace replicator::config {
namespace {

using testing::config_error;
using testing::env_of;
using testing::kApiKey;
using testing::kDbPassword;
using testing::kDsn;
using testing::parse;
using testing::test_env;

std::string streamed(const Secret& s) {
  std::ostringstream os;
  os << s;
  return os.str();
}

TEST(Secret, OpaqueSecretIsMaskedInEveryRendering) {
  Secret s(kApiKey);
  EXPECT_EQ(s.reveal(), kApiKey);
  EXPECT_EQ(s.masked(), "***");
  EXPECT_EQ(streamed(s), "***");
  EXPECT_EQ(fmt::format("{}", s), "***");
  EXPECT_EQ(fmt::format("key={:>5}", s), "key=  ***");
  EXPECT_EQ(::testing::PrintToString(s), "***");
  EXPECT_EQ(streamed(Secret()), "***");  // not even whether it is empty
  EXPECT_TRUE(Secret().empty());
  EXPECT_EQ(Secret("a"), Secret("a"));
  EXPECT_NE(Secret("a"), Secret("b"));
}

TEST(Secret, DsnUriShowsEverythingButThePassword) {
  Secret s = Secret::dsn(kDsn);
  EXPECT_EQ(s.masked(), "postgresql://app:***@db.example:5432/warehouse");
  EXPECT_EQ(fmt::format("{}", s), s.masked());
  EXPECT_EQ(streamed(s), s.masked());
  EXPECT_EQ(mask_dsn("postgres://u@h/db?sslmode=require&password=pw&application_name=x"),
            "postgres://u@h/db?sslmode=require&password=***&application_name=x");
  EXPECT_EQ(mask_dsn("postgresql://u:p@ss@h/db"),
            "postgresql://u:***@h/db");  // raw '@' in password
  EXPECT_EQ(mask_dsn("postgresql:///db?host=/run/pg&sslpassword=k"),
            "postgresql:///db?host=/run/pg&sslpassword=***");
  EXPECT_EQ(mask_dsn("postgresql://h/db"), "postgresql://h/db");
  EXPECT_EQ(mask_dsn("postgresql://h/db?pasword=typo"), "postgresql://h/db?pasword=***");
}

TEST(Secret, DsnKeywordFormMasksPasswordsAndUnknownKeys) {
  EXPECT_EQ(mask_dsn("host=db port=5432 dbname=w user=app password=pw"),
            "host=db port=5432 dbname=w user=app password=***");
  EXPECT_EQ(mask_dsn("host=db password='a b\\'c' dbname=w"), "host=db password=*** dbname=w");
  EXPECT_EQ(mask_dsn("host = db  password = pw"), "host=db password=***");
  EXPECT_EQ(mask_dsn("host=db pasword=typo sslpassword=k"), "host=db pasword=*** sslpassword=***");
  EXPECT_EQ(mask_dsn("application_name='my app' host=db"), "application_name='my app' host=db");
}

TEST(Secret, DsnThatParsesAsNeitherFormIsFullyMasked) {
  EXPECT_EQ(mask_dsn("just-a-password"), "***");
  EXPECT_EQ(mask_dsn("host=db password='unterminated"), "***");
  EXPECT_EQ(mask_dsn(""), "***");
}

// ---- no secret in any error message ----------------------------------------------------------

TEST(SecretErrors, ErrorInTheSameConnectionDoesNotPrintTheKey) {
  std::string message = config_error([] {
    (void)parse(
        "connections:\n  main:\n    environment: ENV-3\n    entity: Acme\n"
        "    api_key: s3cr3t-literal-key\n    calls_per_minute: 0\n    bogus: 1\n");
  });
  EXPECT_NE(message.find("test.yaml:6:23:"), std::string::npos) << message;
  EXPECT_EQ(message.find("s3cr3t-literal-key"), std::string::npos) << message;
  EXPECT_EQ(message.find(kApiKey), std::string::npos) << message;
}

TEST(SecretErrors, ExpandedKeyNeverAppears) {
  // Every kind of mistake around the key: none echoes it.
  const char* yamls[] = {
      "connections:\n  main:\n    entity: e\n    api_key: ${KEY}\n    api_key_file: /x\n",
      "connections:\n  main:\n    entity: e\n    api_key: ${KEY}\n    max_concurrent_requests: 9\n",
      "connections:\n  main:\n    entity: e\n    api_key: \"${KEY}\\nsecond-line\"\n"
      "    environment: ENV-3\n",
      "connections:\n  main:\n    entity: e\n    api_key: {value: s3cr3t-in-a-map}\n",
      "connections:\n  main:\n    entity: e\n    api_key: \"s3cr3t${broken\"\n",
      "destinations:\n  dw:\n    dsn: ${DSN}\n    schema: \"\"\n",
      "destinations:\n  dw:\n    dsn: [s3cr3t-in-a-list]\n",
  };
  for (const char* yaml : yamls) {
    SCOPED_TRACE(yaml);
    std::string message = config_error([&] { (void)parse(yaml); });
    EXPECT_FALSE(message.empty());
    EXPECT_EQ(message.find(kApiKey), std::string::npos) << message;
    EXPECT_EQ(message.find(kDbPassword), std::string::npos) << message;
    EXPECT_EQ(message.find("s3cr3t"), std::string::npos) << message;
  }
}

TEST(SecretErrors, SecretValuesHaveTheirOwnChecks) {
  EXPECT_PARSE_ERROR("connections:\n  main:\n    api_key: \"\"\n", "test.yaml:3:14: ",
                     "connections.main.api_key: expected a non-empty value, got an empty one");
  EXPECT_PARSE_ERROR("connections:\n  main:\n    api_key: \"a\\nb\"\n",
                     "test.yaml:3:14: ", "the value spans several lines");
  EXPECT_PARSE_ERROR("destinations:\n  dw:\n    dsn: ${NOPE}\n", "test.yaml:3:10: ",
                     "destinations.dw.dsn: environment variable NOPE is not set");
  EXPECT_PARSE_ERROR("connections:\n  main:\n    api_key: \"x${broken\"\n",
                     "test.yaml:3:14: ", "bad environment reference in this secret value");
}

TEST(SecretErrors, ParsedSecretsFormatMasked) {
  Config c = parse(
      "connections:\n  main:\n    environment: ENV-3\n    entity: e\n    api_key: ${KEY}\n"
      "destinations:\n  dw:\n    dsn: ${DSN}\n",
      test_env());
  EXPECT_EQ(fmt::format("{}", c.connections[0].api_key), "***");
  EXPECT_EQ(fmt::format("{}", c.destinations[0].dsn),
            "postgresql://app:***@db.example:5432/warehouse");
}

}  // namespace
}  // namespace replicator::config

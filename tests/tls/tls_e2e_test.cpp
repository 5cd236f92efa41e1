// The https path end to end, as against the real Actito: the real daemon talks TLS to socat,
// which terminates it in front of the simulator with a certificate from a throwaway CA made by
// openssl. Trust comes from the system store (here pointed at that CA with SSL_CERT_FILE), the
// server name is sent (SNI) and checked against the certificate.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/e2e/e2e_support.hpp"
#include "tests/e2e/world.hpp"

namespace replicator::e2e {
namespace {

// Runs a command through sh; throws with its output when it does not exit 0 (an ASSERT here
// would only leave this function, and the test would go on without its certificates).
void must_run(const std::string& command) {
  FILE* p = ::popen(("(" + command + ") 2>&1").c_str(), "r");
  if (!p) throw std::runtime_error("cannot run: " + command);
  std::string out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  const int status = ::pclose(p);
  if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0)) throw std::runtime_error(command + " failed:\n" + out);
}

// A throwaway CA and a server certificate for `names` (subjectAltName entries).
struct Pki {
  TempDir dir;
  std::string ca() const { return dir.file("ca.pem"); }
  std::string cert() const { return dir.file("server.pem"); }
  std::string key() const { return dir.file("server.key"); }

  explicit Pki(const std::string& names) {
    const std::string d = dir.path();
    must_run("cd " + d +
             " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key"
             " -out ca.pem -days 2 -subj '/CN=actito-replicator test CA'");
    write_file(dir.file("ext.cnf"), "subjectAltName=" + names +
                                        "\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n"
                                        "extendedKeyUsage=serverAuth\n");
    must_run("cd " + d +
             " && openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout server.key"
             " -out server.csr -subj '/CN=actito test server'"
             " && openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2"
             " -extfile ext.cnf -out server.pem");
  }
};

// socat terminating TLS on 127.0.0.1:port and forwarding to the simulator.
class TlsTerminator {
 public:
  TlsTerminator(const Pki& pki, std::uint16_t sim_port) : port_(free_port()) {
    // Its complaints about refused handshakes are expected here: keep them out of the test log.
    try {
      pid_ = spawn_program({"socat",
                            "OPENSSL-LISTEN:" + std::to_string(port_) + ",bind=127.0.0.1,reuseaddr,fork,cert=" +
                                pki.cert() + ",key=" + pki.key() + ",verify=0",
                            "TCP:127.0.0.1:" + std::to_string(sim_port)},
                           "/dev/null", "/dev/null");
    } catch (const std::exception& e) {
      throw std::runtime_error(std::string(e.what()) + " (scripts/bootstrap.sh installs socat)");
    }
    if (!wait_until([&] { return listening(); }, 10)) {
      throw std::runtime_error("socat does not listen on " + std::to_string(port_));
    }
  }
  ~TlsTerminator() {
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  std::uint16_t port() const { return port_; }

 private:
  bool listening() const {
    const std::string probe = "exec 3<>/dev/tcp/127.0.0.1/" + std::to_string(port_);
    return std::system(("bash -c '" + probe + "' 2>/dev/null").c_str()) == 0;
  }
  std::uint16_t port_;
  pid_t pid_ = -1;
};

// The daemon's CA store for the scope: SSL_CERT_FILE (OpenSSL's default verify file).
class TrustStore {
 public:
  explicit TrustStore(const std::string& ca_file) {
    if (const char* old = std::getenv("SSL_CERT_FILE")) old_ = old;
    ::setenv("SSL_CERT_FILE", ca_file.c_str(), 1);
  }
  ~TrustStore() {
    if (old_.empty()) ::unsetenv("SSL_CERT_FILE");
    else ::setenv("SSL_CERT_FILE", old_.c_str(), 1);
  }

 private:
  std::string old_;
};

// World's job file with the connection pointed at `base_url`.
std::string config_via(World& w, Simulator& sim, const std::string& base_url) {
  const std::string path = w.config("      - object: Customers\n      - object: Orders\n");
  edit_file(path, "base_url: " + sim.base_url(), "base_url: " + base_url);
  return path;
}

TEST(Tls, ReplicatesThroughAVerifiedConnection) {
  Simulator sim(sim_options(400, 300));
  sim.start();
  World w(sim);
  Pki pki("DNS:localhost");
  TlsTerminator tls(pki, sim.port());
  TrustStore trust(pki.ca());
  const std::string cfg = config_via(w, sim, "https://localhost:" + std::to_string(tls.port()));

  auto check = run_binary({"check", "-c", cfg});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  EXPECT_NE(check.out.find("token obtained"), std::string::npos) << check.out;
  auto once = run_binary({"once", "-c", cfg});
  ASSERT_EQ(once.exit_code, 0) << once.out << once.err;
  EXPECT_TRUE(same_rows(w.sim_profiles(), w.pg_rows("customers", "id")));
  EXPECT_TRUE(same_rows(w.sim_orders(), w.pg_rows("orders", "order_id")));
}

// `check` against `base_url` fails at once (a refused certificate is not a transient failure
// worth retrying), says `why`, and no request reaches the simulator.
void expect_refused(World& w, Simulator& sim, const std::string& base_url, const std::string& why) {
  const std::string cfg = config_via(w, sim, base_url);
  const auto t0 = std::chrono::steady_clock::now();
  auto check = run_binary({"check", "-c", cfg});
  EXPECT_EQ(check.exit_code, 1) << check.out << check.err;
  EXPECT_NE(check.out.find("TLS certificate of " + base_url + " not accepted (certificate verify failed): " + why),
            std::string::npos)
      << check.out << check.err;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3)) << "a refused certificate was retried";
  EXPECT_EQ(sim.stats().total_calls, 0) << "no request may pass an unverified connection";
}

TEST(Tls, AnUntrustedCertificateIsRefusedAndSaysWhy) {
  Simulator sim(sim_options(10, 10));
  sim.start();
  World w(sim);
  Pki pki("DNS:localhost");
  TlsTerminator tls(pki, sim.port());
  Pki other("DNS:localhost");  // the daemon trusts another CA only
  TrustStore trust(other.ca());
  expect_refused(w, sim, "https://localhost:" + std::to_string(tls.port()), "unable to get local issuer certificate");
}

TEST(Tls, ACertificateForAnotherNameIsRefused) {
  Simulator sim(sim_options(10, 10));
  sim.start();
  World w(sim);
  Pki pki("DNS:localhost");  // no IP address in the certificate
  TlsTerminator tls(pki, sim.port());
  TrustStore trust(pki.ca());
  expect_refused(w, sim, "https://127.0.0.1:" + std::to_string(tls.port()), "it is not issued for 127.0.0.1");
}

}  // namespace
}  // namespace replicator::e2e

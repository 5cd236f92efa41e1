// Error kinds shared by every layer: each exception says which action it calls for.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace replicator::model {

// What a failure means for the caller (house style rule 15).
enum class ErrorKind {
  kConfig,       // bad configuration or CLI input: exit code 2
  kAuth,         // credentials refused: fail the connection's streams, keep the daemon
  kRateLimited,  // throttled by the remote side: back off and retry
  kTransient,    // network, timeout, 5xx, serialization failure: retry with backoff
  kPermanent,    // bad request, data or type error: fail the stream, keep the daemon
  kCancelled,    // shutdown or stop requested
};

std::string_view to_string(ErrorKind kind) noexcept;

// The one exception type that crosses layers. `what()` is user-facing: it names what failed and
// where, and never contains a secret.
class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, std::string message) : std::runtime_error(std::move(message)), kind_(kind) {}
  ErrorKind kind() const noexcept { return kind_; }
  bool retryable() const noexcept {
    return kind_ == ErrorKind::kTransient || kind_ == ErrorKind::kRateLimited;
  }

 private:
  ErrorKind kind_;
};

[[noreturn]] inline void fail(ErrorKind kind, std::string message) {
  throw Error(kind, std::move(message));
}

}  // namespace replicator::model

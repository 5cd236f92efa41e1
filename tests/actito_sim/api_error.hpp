// The error a simulator route answers with: HTTP status plus the contract's error body (2.6).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace replicator::actito_sim {

// One entry of the optional `errors` array of the error body.
struct FieldError {
  std::string field;
  std::string message;
};

// Thrown by request handling code; the server turns it into the JSON error body of contract 2.6
// (contract A08). Immutable after construction; safe to copy between threads.
class ApiError : public std::exception {
 public:
  ApiError(int status, std::string code, std::string message, std::vector<FieldError> errors = {})
      : status_(status),
        code_(std::move(code)),
        message_(std::move(message)),
        errors_(std::move(errors)) {}

  int status() const noexcept { return status_; }
  // Finer reason such as "INVALID_SEARCH"; empty when the status says everything.
  const std::string& code() const noexcept { return code_; }
  const std::string& message() const noexcept { return message_; }
  const std::vector<FieldError>& errors() const noexcept { return errors_; }
  const char* what() const noexcept override { return message_.c_str(); }

 private:
  int status_;
  std::string code_;
  std::string message_;
  std::vector<FieldError> errors_;
};

// The `error` constant of the error body for an HTTP status, e.g. 429 -> "TOO_MANY_REQUESTS".
std::string_view error_constant(int status) noexcept;

// The standard reason phrase for the status line, e.g. 429 -> "Too Many Requests".
std::string_view reason_phrase(int status) noexcept;

// Renders the contract 2.6 error body.
std::string error_body(int status, std::string_view code, std::string_view message,
                       const std::vector<FieldError>& errors = {});

// Shorthands for the 400 family used all over the list machinery.
[[noreturn]] inline void bad_request(std::string code, std::string message,
                                     std::string field = {}) {
  std::vector<FieldError> errors;
  if (!field.empty()) errors.push_back({std::move(field), message});
  throw ApiError(400, std::move(code), std::move(message), std::move(errors));
}

}  // namespace replicator::actito_sim

#include "tests/actito_sim/api_error.hpp"

#include "tests/actito_sim/json_writer.hpp"

namespace replicator::actito_sim {

std::string_view error_constant(int status) noexcept {
  switch (status) {
    case 400:
      return "BAD_REQUEST";
    case 401:
      return "UNAUTHORIZED";
    case 403:
      return "FORBIDDEN";
    case 404:
      return "NOT_FOUND";
    case 405:
      return "METHOD_NOT_ALLOWED";
    case 406:
      return "NOT_ACCEPTABLE";
    case 409:
      return "CONFLICT";
    case 413:
      return "PAYLOAD_TOO_LARGE";
    case 414:
      return "URI_TOO_LONG";
    case 415:
      return "UNSUPPORTED_MEDIA_TYPE";
    case 429:
      return "TOO_MANY_REQUESTS";
    case 431:
      return "REQUEST_HEADER_FIELDS_TOO_LARGE";
    case 500:
      return "INTERNAL_SERVER_ERROR";
    case 501:
      return "NOT_IMPLEMENTED";
    case 502:
      return "BAD_GATEWAY";
    case 503:
      return "SERVICE_UNAVAILABLE";
    case 504:
      return "GATEWAY_TIMEOUT";
    default:
      return status >= 500 ? "INTERNAL_SERVER_ERROR" : "BAD_REQUEST";
  }
}

std::string_view reason_phrase(int status) noexcept {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 409:
      return "Conflict";
    case 413:
      return "Payload Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Unknown";
  }
}

std::string error_body(int status, std::string_view code, std::string_view message,
                       const std::vector<FieldError>& errors) {
  std::string out;
  JsonWriter w(out);
  w.begin_object();
  w.key("status");
  w.integer(status);
  w.key("error");
  w.string(error_constant(status));
  w.key("message");
  w.string(message);
  if (!code.empty()) {
    w.key("code");
    w.string(code);
  }
  if (!errors.empty()) {
    w.key("errors");
    w.begin_array();
    for (const auto& e : errors) {
      w.begin_object();
      w.key("field");
      w.string(e.field);
      w.key("message");
      w.string(e.message);
      w.end_object();
    }
    w.end_array();
  }
  w.end_object();
  return out;
}

}  // namespace replicator::actito_sim

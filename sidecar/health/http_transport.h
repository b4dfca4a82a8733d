// A minimal HTTP server interface, so that only one translation unit
// (cpprest_http_transport.cpp) includes cpprest's http_listener, which costs
// ~33 s and ~1.2 GB to compile.
//
// The handler runs on the transport's own threads, possibly several at once;
// it must be thread-safe and should not block.
#pragma once

#include <functional>
#include <memory>
#include <string>

namespace raftmeta::health {

struct HttpRequest {
  std::string method;  // "GET", "PUT", ...
  std::string path;    // decoded, without query, e.g. "/failpoints/apply-loop"
  std::string body;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  // Stops accepting and waits for the listener to close. Idempotent.
  virtual void stop() = 0;
};

// Listens on host:port (cpprestsdk). Returns null and sets *error when it
// cannot listen (e.g. the port is taken).
std::unique_ptr<HttpTransport> start_cpprest_transport(const std::string& host, int port,
                                                       HttpHandler handler, std::string* error);

}  // namespace raftmeta::health

// A minimal blocking HTTP/1.1 client for tests: one request per connection,
// with a hard deadline on connect, send and receive. A SIGSTOPped member
// accepts the connection and never answers, so the deadline is the point.
//
// Thread use: free functions, safe from any thread.
#pragma once

#include <chrono>
#include <string>

namespace raftmeta::e2e {

struct HttpResponse {
  int status = 0;  // 0 when no answer (refused, timed out, malformed)
  std::string body;
  std::string error;  // why status is 0
  bool answered() const { return status != 0; }
};

// `address` is "host:port" (IPv4 literal or name). `method` is GET or PUT.
HttpResponse http_request(const std::string& address, const std::string& method,
                          const std::string& path, const std::string& body,
                          std::chrono::milliseconds timeout);

inline HttpResponse http_get(const std::string& address, const std::string& path,
                             std::chrono::milliseconds timeout) {
  return http_request(address, "GET", path, "", timeout);
}

}  // namespace raftmeta::e2e

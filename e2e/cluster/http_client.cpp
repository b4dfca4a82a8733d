#include "e2e/cluster/http_client.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

namespace raftmeta::e2e {
namespace {

using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point deadline) {
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

// Waits until `fd` is ready for `events` or the deadline passes.
bool wait_ready(int fd, short events, Clock::time_point deadline) {
  pollfd p{fd, events, 0};
  for (;;) {
    const int ms = remaining_ms(deadline);
    if (ms == 0) return false;
    const int r = ::poll(&p, 1, ms);
    if (r > 0) return true;
    if (r == 0) return false;
    if (errno != EINTR) return false;
  }
}

class Socket {
 public:
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

// Decodes a chunked body; returns false if it is incomplete or malformed.
bool decode_chunked(std::string_view in, std::string* out) {
  out->clear();
  for (;;) {
    const std::size_t eol = in.find("\r\n");
    if (eol == std::string_view::npos) return false;
    const std::size_t size = std::strtoul(std::string(in.substr(0, eol)).c_str(), nullptr, 16);
    in.remove_prefix(eol + 2);
    if (size == 0) return true;
    if (in.size() < size + 2) return false;
    out->append(in.substr(0, size));
    in.remove_prefix(size + 2);
  }
}

std::string lower(std::string_view s) {
  std::string r(s);
  for (char& c : r) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return r;
}

}  // namespace

HttpResponse http_request(const std::string& address, const std::string& method,
                          const std::string& path, const std::string& body,
                          std::chrono::milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  HttpResponse response;
  const std::size_t colon = address.rfind(':');
  if (colon == std::string::npos) {
    response.error = "bad address " + address;
    return response;
  }
  const std::string host = address.substr(0, colon);
  const std::string port = address.substr(colon + 1);
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* resolved = nullptr;
  if (::getaddrinfo(host.c_str(), port.c_str(), &hints, &resolved) != 0 || !resolved) {
    response.error = "cannot resolve " + address;
    return response;
  }
  Socket sock(::socket(resolved->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  const int rc = sock.fd() < 0 ? -1 : ::connect(sock.fd(), resolved->ai_addr, resolved->ai_addrlen);
  ::freeaddrinfo(resolved);
  if (sock.fd() < 0 || (rc != 0 && errno != EINPROGRESS)) {
    response.error = std::string("connect: ") + std::strerror(errno);
    return response;
  }
  if (rc != 0) {
    if (!wait_ready(sock.fd(), POLLOUT, deadline)) {
      response.error = "connect timed out";
      return response;
    }
    int err = 0;
    socklen_t len = sizeof(err);
    ::getsockopt(sock.fd(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      response.error = std::string("connect: ") + std::strerror(err);
      return response;
    }
  }

  std::string request = method + " " + path + " HTTP/1.1\r\nHost: " + address +
                        "\r\nConnection: close\r\nContent-Length: " + std::to_string(body.size()) +
                        "\r\nContent-Type: text/plain\r\n\r\n" + body;
  std::string_view pending = request;
  while (!pending.empty()) {
    if (!wait_ready(sock.fd(), POLLOUT, deadline)) {
      response.error = "send timed out";
      return response;
    }
    const ssize_t n = ::send(sock.fd(), pending.data(), pending.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      response.error = std::string("send: ") + std::strerror(errno);
      return response;
    }
    pending.remove_prefix(static_cast<std::size_t>(n));
  }

  // Read until the body is complete (Content-Length or chunked) or EOF.
  std::string raw;
  char buffer[16384];
  for (;;) {
    const std::size_t header_end = raw.find("\r\n\r\n");
    if (header_end != std::string::npos) {
      const std::string headers = lower(std::string_view(raw).substr(0, header_end));
      const std::string_view rest = std::string_view(raw).substr(header_end + 4);
      const std::size_t cl = headers.find("\r\ncontent-length:");
      if (cl != std::string::npos) {
        const std::size_t length = std::strtoul(headers.c_str() + cl + 17, nullptr, 10);
        if (rest.size() >= length) {
          response.body = std::string(rest.substr(0, length));
          break;
        }
      } else if (headers.find("transfer-encoding: chunked") != std::string::npos) {
        if (decode_chunked(rest, &response.body)) break;
      }
    }
    if (!wait_ready(sock.fd(), POLLIN, deadline)) {
      response.error = "no answer before the deadline";
      return response;
    }
    const ssize_t n = ::recv(sock.fd(), buffer, sizeof(buffer), 0);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      response.error = std::string("recv: ") + std::strerror(errno);
      return response;
    }
    if (n == 0) {
      const std::size_t he = raw.find("\r\n\r\n");
      if (he == std::string::npos) {
        response.error = "connection closed before the headers";
        return response;
      }
      response.body = raw.substr(he + 4);  // close-delimited body
      break;
    }
    raw.append(buffer, static_cast<std::size_t>(n));
  }
  // "HTTP/1.1 200 OK"
  const std::size_t space = raw.find(' ');
  if (!raw.starts_with("HTTP/") || space == std::string::npos) {
    response.error = "malformed status line";
    response.body.clear();
    return response;
  }
  response.status = std::atoi(raw.c_str() + space + 1);
  if (response.status == 0) response.error = "malformed status code";
  return response;
}

}  // namespace raftmeta::e2e

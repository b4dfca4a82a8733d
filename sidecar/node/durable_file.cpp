#include "sidecar/node/durable_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "sidecar/storage/crc32c.h"

namespace raftmeta::node {
namespace {

constexpr const char* kCrcPrefix = "crc32c ";

std::string crc_line(const std::string& body) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%s%08x", kCrcPrefix, storage::crc32c(body));
  return buf;
}

std::string errno_text() { return std::strerror(errno); }

// Writes all of `data` to fd and syncs it.
bool write_all_and_sync(int fd, const std::string& data) {
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  return ::fsync(fd) == 0;
}

}  // namespace

bool write_durable_file(const std::string& path, const std::string& header,
                        const std::vector<std::string>& lines, std::string* error) {
  std::string body = header + "\n";
  for (const std::string& line : lines) body += line + "\n";
  const std::string content = body + crc_line(body) + "\n";
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    *error = "cannot create " + tmp + ": " + errno_text();
    return false;
  }
  const bool written = write_all_and_sync(fd, content);
  const std::string write_error = errno_text();
  ::close(fd);
  if (!written) {
    *error = "cannot write " + tmp + ": " + write_error;
    return false;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    *error = "cannot rename " + tmp + " to " + path + ": " + errno_text();
    return false;
  }
  const std::string dir = std::filesystem::path(path).parent_path().string();
  const int dir_fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0 || ::fsync(dir_fd) != 0) {
    *error = "cannot sync directory " + dir + ": " + errno_text();
    if (dir_fd >= 0) ::close(dir_fd);
    return false;
  }
  ::close(dir_fd);
  return true;
}

DurableReadResult read_durable_file(const std::string& path, const std::string& header,
                                    std::vector<std::string>* lines, std::string* error) {
  lines->clear();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec) && !ec) return DurableReadResult::kMissing;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = "cannot read " + path + ": " + errno_text();
    return DurableReadResult::kError;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) {
    *error = "cannot read " + path;
    return DurableReadResult::kError;
  }
  const std::string content = ss.str();
  // The checksum line is the last line; the body is everything before it.
  if (content.empty() || content.back() != '\n') {
    *error = path + " is truncated (no final newline); it was not written by this node";
    return DurableReadResult::kError;
  }
  const std::size_t last_start = content.rfind('\n', content.size() - 2);
  const std::size_t body_end = last_start == std::string::npos ? 0 : last_start + 1;
  const std::string body = content.substr(0, body_end);
  const std::string last = content.substr(body_end, content.size() - 1 - body_end);
  if (last != crc_line(body)) {
    *error = path + " fails its checksum (corrupt or edited by hand)";
    return DurableReadResult::kError;
  }
  std::istringstream body_in(body);
  std::string line;
  if (!std::getline(body_in, line) || line != header) {
    *error = path + " does not start with '" + header + "'";
    return DurableReadResult::kError;
  }
  while (std::getline(body_in, line)) lines->push_back(line);
  return DurableReadResult::kOk;
}

}  // namespace raftmeta::node

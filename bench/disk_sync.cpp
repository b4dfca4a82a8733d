#include "bench/disk_sync.h"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <vector>

namespace raftmeta::bench {

LatencySummary measure_fdatasync(const std::string& dir, int count, bool append) {
  const std::string path = dir + "/fdatasync-probe.bin";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return {};
  std::vector<char> block(4096, 'x');
  std::vector<double> latencies;
  latencies.reserve(static_cast<std::size_t>(count));
  if (!append) {
    for (int i = 0; i < count; ++i) {
      if (::write(fd, block.data(), block.size()) != static_cast<ssize_t>(block.size())) break;
    }
    ::fsync(fd);
  }
  off_t offset = 0;
  for (int i = 0; i < count; ++i) {
    const auto start = std::chrono::steady_clock::now();
    if (::pwrite(fd, block.data(), block.size(), offset) != static_cast<ssize_t>(block.size()) ||
        ::fdatasync(fd) != 0) {
      break;
    }
    offset += static_cast<off_t>(block.size());
    latencies.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
            .count());
  }
  ::close(fd);
  ::unlink(path.c_str());
  return summarize(latencies);
}

}  // namespace raftmeta::bench

#include <unistd.h>

#include <fstream>
#include <sstream>

#include "bench/bench_cluster.h"

namespace raftmeta::bench {

ProcessUsage process_usage(pid_t pid) {
  ProcessUsage usage;
  if (pid <= 0) return usage;
  const std::string dir = "/proc/" + std::to_string(pid);
  {
    std::ifstream stat(dir + "/stat");
    std::string line;
    if (std::getline(stat, line)) {
      // The command name (field 2) may hold spaces: fields after its ')'.
      const std::size_t close = line.rfind(')');
      if (close != std::string::npos) {
        std::istringstream rest(line.substr(close + 2));
        std::string field;
        double utime = 0;
        double stime = 0;
        // Fields 3..; utime is field 14, stime field 15.
        for (int i = 3; i <= 15 && rest >> field; ++i) {
          if (i == 14) utime = std::stod(field);
          if (i == 15) stime = std::stod(field);
        }
        usage.cpu_seconds = (utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
      }
    }
  }
  std::ifstream status(dir + "/status");
  std::string key;
  while (status >> key) {
    if (key == "VmRSS:") {
      double kb = 0;
      status >> kb;
      usage.rss_mb = kb / 1024.0;
      break;
    }
    std::string skip;
    std::getline(status, skip);
  }
  return usage;
}

}  // namespace raftmeta::bench

#include <unistd.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "bench/bench_cluster.h"

namespace raftmeta::bench {
namespace {

// User + system seconds from a /proc stat file (a process's or a thread's),
// and the name between its parentheses.
double stat_cpu_seconds(const std::string& path, std::string* name = nullptr) {
  std::ifstream stat(path);
  std::string line;
  if (!std::getline(stat, line)) return 0;
  // The command name (field 2) may hold spaces: fields after its ')'.
  const std::size_t open = line.find('(');
  const std::size_t close = line.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close < open) return 0;
  if (name != nullptr) *name = line.substr(open + 1, close - open - 1);
  std::istringstream rest(line.substr(close + 2));
  std::string field;
  double utime = 0;
  double stime = 0;
  // Fields 3..; utime is field 14, stime field 15.
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stod(field);
    if (i == 15) stime = std::stod(field);
  }
  return (utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// "peer-3" -> "peer-N"; other names unchanged.
std::string thread_group(const std::string& name) {
  const std::size_t dash = name.rfind('-');
  if (dash == std::string::npos || dash + 1 == name.size()) return name;
  for (std::size_t i = dash + 1; i < name.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(name[i]))) return name;
  }
  return name.substr(0, dash) + "-N";
}

}  // namespace

std::map<std::string, double> thread_cpu_seconds(pid_t pid) {
  std::map<std::string, double> out;
  if (pid <= 0) return out;
  std::error_code ec;
  for (const auto& task :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    std::string name;
    const double seconds = stat_cpu_seconds(task.path().string() + "/stat", &name);
    if (!name.empty()) out[thread_group(name)] += seconds;
  }
  return out;
}

ProcessUsage process_usage(pid_t pid) {
  ProcessUsage usage;
  if (pid <= 0) return usage;
  const std::string dir = "/proc/" + std::to_string(pid);
  usage.cpu_seconds = stat_cpu_seconds(dir + "/stat");
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

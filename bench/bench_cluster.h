// BenchCluster: what the benchmark needs from a 3-member cluster of either
// system on 127.0.0.1: start it, find the leader, SIGKILL and restart a
// member from its data, and the member's pid for resource figures.
//
// Thread use: one owner thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace raftmeta::bench {

class BenchCluster {
 public:
  virtual ~BenchCluster() = default;
  virtual std::string name() const = 0;
  // Starts every member as a new cluster and waits until a leader is known.
  virtual bool start(std::string* error) = 0;
  virtual std::vector<int> members() const = 0;
  virtual std::string client_address(int id) const = 0;
  // The leader a majority of the running members agree on, or nullopt.
  virtual std::optional<int> leader(std::chrono::milliseconds timeout) = 0;
  virtual void kill(int id) = 0;  // SIGKILL and reap
  // Restarts a killed member from its data directory and waits until it serves.
  virtual bool restart(int id, std::string* error) = 0;
  virtual pid_t pid(int id) const = 0;  // -1 when not running
  virtual std::string diagnostics() const = 0;
};

// Figures of one process from /proc (0 when it cannot be read).
struct ProcessUsage {
  double cpu_seconds = 0;  // user + system
  double rss_mb = 0;
};
ProcessUsage process_usage(pid_t pid);

// CPU seconds (user + system) of each thread of `pid` by thread name, the
// numbered ones merged ("peer-2" and "peer-3" count as "peer-N"). Threads
// that ended are missing (their time is in process_usage only).
std::map<std::string, double> thread_cpu_seconds(pid_t pid);

}  // namespace raftmeta::bench

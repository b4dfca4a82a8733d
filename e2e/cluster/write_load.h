// WriteLoad: a background client thread ("write-load") that creates topics
// one after another through a ClusterClient (retrying, same request id) and
// counts acknowledged writes, so that tests can say "writes continue" and
// wait for N more acknowledged writes with a deadline.
//
// Thread use: the owner calls everything; the counters are atomics.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace raftmeta::e2e {

class WriteLoad {
 public:
  // Writes go to `endpoints` of cluster `cluster_id`; topic names start with
  // `prefix`.
  WriteLoad(std::vector<std::string> endpoints, std::string cluster_id, std::string prefix);
  ~WriteLoad();  // stop()

  void stop();
  std::uint64_t acknowledged() const { return acknowledged_.load(); }
  std::uint64_t failed() const { return failed_.load(); }
  std::string last_error() const;
  // Names of the topics whose creation was acknowledged, in order.
  std::vector<std::string> acknowledged_names() const;

  // Waits until `more` writes beyond the count at the call are acknowledged.
  bool wait_for_more(std::uint64_t more, std::chrono::milliseconds timeout) const;

 private:
  void run();

  const std::vector<std::string> endpoints_;
  const std::string cluster_id_;
  const std::string prefix_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> acknowledged_{0};
  std::atomic<std::uint64_t> failed_{0};
  mutable std::mutex error_mu_;  // guards last_error_ and names_
  std::string last_error_;
  std::vector<std::string> names_;
  std::thread thread_;
};

}  // namespace raftmeta::e2e

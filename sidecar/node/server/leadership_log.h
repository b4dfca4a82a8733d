// LeadershipLog: a thread ("leadership-log") that reads the node's published
// status every `period` and logs what a person watching the log wants to
// know: "became leader of term 5", "following leader 3 (term 4)", "no leader
// known (term 7)", membership changes. It only loads the published status, so
// it never waits on the loops.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "sidecar/node/node.h"

namespace raftmeta::node::server {

// The line for a change from `before` to `after`; empty when nothing a person
// cares about changed. Pure (tested).
std::string describe_change(const NodeStatus* before, const NodeStatus& after);

class LeadershipLog {
 public:
  // `node` must outlive the LeadershipLog.
  LeadershipLog(const Node* node, std::chrono::milliseconds period);
  ~LeadershipLog();  // stops
  LeadershipLog(const LeadershipLog&) = delete;
  LeadershipLog& operator=(const LeadershipLog&) = delete;

 private:
  void run();

  const Node* const node_;
  const std::chrono::milliseconds period_;
  std::mutex mu_;  // guards stopping_
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace raftmeta::node::server

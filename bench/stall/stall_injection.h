// run_stall_injections: the detection half of the stall benchmark. For one
// failpoint ("apply-loop" or "raft-loop") on one kind of member (the leader
// or a follower), repeatedly: wait until the cluster is healthy (a leader,
// every /livez 200, writes acknowledged), PUT block, poll the member's
// /livez every `poll` from just before the PUT until the first 503, then PUT
// off and wait until its /livez is 200 again, the cluster has a leader and
// the member's applied index has reached the leader's commit index as it was
// when the recovery began (restarting the member if it does not recover).
//
// Thread use: runs on the calling thread; `load` runs on its own.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "e2e/cluster/process_cluster.h"
#include "e2e/cluster/write_load.h"

namespace raftmeta::bench::stall {

enum class TargetRole { kFollower, kLeader };
const char* target_role_name(TargetRole role);

struct InjectionPlan {
  std::string failpoint;  // "apply-loop" or "raft-loop"
  TargetRole role = TargetRole::kFollower;
  int injections = 20;
  std::chrono::milliseconds limit{2000};  // the stall limit that applies
  std::chrono::milliseconds poll{10};
  std::chrono::milliseconds detect_timeout{15000};   // after the PUT
  std::chrono::milliseconds recover_timeout{20000};  // per recovery step
};

struct InjectionResult {
  std::string failpoint;
  TargetRole role = TargetRole::kFollower;
  std::chrono::milliseconds limit{0};
  std::vector<double> detection_ms;  // PUT block (sent) -> first 503 (received)
  int earlier_than_limit = 0;        // detections below `limit`
  int missed = 0;                    // no 503 within detect_timeout
  int restarts = 0;                  // members restarted to recover
  std::vector<double> recovery_ms;   // PUT off -> healthy again
  std::string first_problem;         // the first failure, for the report
};

// Returns false only when the cluster could not be brought back to health
// (the result then holds the injections made so far).
bool run_stall_injections(e2e::ProcessCluster& cluster, const e2e::WriteLoad& load,
                          const InjectionPlan& plan, InjectionResult* result);

}  // namespace raftmeta::bench::stall

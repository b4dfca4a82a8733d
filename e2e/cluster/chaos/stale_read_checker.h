// Judges stale reads, which need not be linearizable but must still be true
// to the revision they report and must not go back in time:
//
//  1. Revision truth: a stale read that reports revision R must return the
//     state that the acknowledged writes with revision <= R produce for its
//     key (taken in revision order). It is judgeable only when every write on
//     the key invoked before the read completed has a definite outcome (an
//     unknown write has no known revision); otherwise it is counted as not
//     judgeable.
//  2. Monotonic per client: the reads one client makes from one member
//     process (same member, same process generation) never report a lower
//     revision than an earlier one. A restarted member may legitimately serve
//     an older state while it replays, so reads across generations are not
//     compared.
//
// Pure; safe from any thread.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "e2e/cluster/chaos/history.h"

namespace raftmeta::chaos {

struct StaleReadResult {
  std::size_t judged = 0;
  std::size_t not_judgeable = 0;
  std::vector<std::string> anomalies;  // one line each, naming the operations
  bool ok() const { return anomalies.empty(); }
};

StaleReadResult check_stale_reads(const std::vector<Operation>& history);

}  // namespace raftmeta::chaos

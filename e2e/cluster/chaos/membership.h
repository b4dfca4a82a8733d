// Membership change under load, the way an operator replaces a member that
// lost its disk (DESIGN.md, "Identity"): remove the old id through the Admin
// API, stop its process for good, start a new member with a never-used id
// and an empty data directory (--join), add it as a learner, and promote it
// once the leader accepts (it refuses while the learner has not caught up).
// Every Admin call goes through ctl::EndpointClient (leader hints, retries).
//
// Thread use: the caller's thread only; it must be the only user of the
// cluster meanwhile (the nemesis thread).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "e2e/cluster/process_cluster.h"

namespace raftmeta::chaos {

struct MemberReplacement {
  bool ok = false;
  std::uint64_t new_id = 0;
  std::string error;  // the step that failed and why
};

// Replaces `old_id` (not the leader: the caller picks a follower). `budget`
// bounds each step.
MemberReplacement replace_member(e2e::ProcessCluster* cluster, std::uint64_t old_id,
                                 std::chrono::milliseconds budget);

}  // namespace raftmeta::chaos

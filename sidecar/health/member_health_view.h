// MemberHealthView: what the node tells the health endpoints about its Raft
// membership (role, term, leader, ...), through a StatusProvider.
//
// CONTRACT for the StatusProvider the node supplies: it is called on HTTP
// threads, concurrently, at any time, including while the Raft loop or the
// apply loop is stuck. It must therefore be lock-free with respect to the
// loops: build the view from atomics or from an immutable snapshot the Raft
// loop publishes (e.g. an atomic shared_ptr<const MemberHealthView> it
// replaces every turn), never by calling into a loop, taking a loop's lock or
// waiting on a queue. It may throw; the handlers then report the error in the
// body. The view never decides /livez's status code; it decides /readyz's.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

namespace raftmeta::health {

struct MemberHealthView {
  std::uint64_t id = 0;
  std::string role = "unknown";  // "follower", "pre_candidate", "candidate", "leader", ...
  std::uint64_t term = 0;
  std::uint64_t leader = 0;  // 0 when no leader is known
  bool voter = false;        // false for learners and members not in the configuration
  std::uint64_t commit_index = 0;
  std::uint64_t applied_index = 0;
  // The leader's commit index as last heard from it (== commit_index on the
  // leader); 0 when unknown, in which case commit_index is used.
  std::uint64_t leader_commit = 0;
  std::uint64_t last_index = 0;
  std::uint64_t snapshot_index = 0;
  // Anything else for /status, merged into its top level (e.g. "followers":
  // [{"id", "match", "last_contact_ms", "replicating"}] on the leader).
  nlohmann::json extra = nlohmann::json::object();
};

using StatusProvider = std::function<MemberHealthView()>;

}  // namespace raftmeta::health

// Majority quorums: the commit index a majority has acknowledged and the
// outcome of an election. Pure functions over a voter set.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <vector>

#include "sidecar/raft/types.h"

namespace raftmeta::raft {

// Smallest number of voters that is a majority of n (n == 0: 0).
std::size_t majority(std::size_t voters);

// The largest value v such that a majority of `voters` has acked(id) >= v.
// With no voters it is 0. Used for the commit index (acked = match) and for
// the lease round (acked = newest heartbeat round acknowledged).
std::uint64_t majority_value(const std::vector<NodeId>& voters,
                             const std::function<std::uint64_t(NodeId)>& acked);

enum class VoteResult : std::uint8_t { kPending, kWon, kLost };

// Outcome of an election given the answers so far (id -> granted). Answers from
// ids that are not voters are not counted.
VoteResult tally_votes(const std::vector<NodeId>& voters, const std::map<NodeId, bool>& votes);

// True when a majority of voters satisfies `active`.
bool has_quorum(const std::vector<NodeId>& voters, const std::function<bool(NodeId)>& active);

}  // namespace raftmeta::raft

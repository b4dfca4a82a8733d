// Majority quorum arithmetic (see quorum.h).
#include "sidecar/raft/quorum.h"

#include <algorithm>

namespace raftmeta::raft {

std::size_t majority(std::size_t voters) { return voters == 0 ? 0 : voters / 2 + 1; }

std::uint64_t majority_value(const std::vector<NodeId>& voters,
                             const std::function<std::uint64_t(NodeId)>& acked) {
  if (voters.empty()) return 0;
  std::vector<std::uint64_t> values;
  values.reserve(voters.size());
  for (NodeId id : voters) values.push_back(acked(id));
  // Sorted descending, the value at position majority-1 is held by a majority.
  std::sort(values.begin(), values.end(), std::greater<>());
  return values[majority(voters.size()) - 1];
}

VoteResult tally_votes(const std::vector<NodeId>& voters, const std::map<NodeId, bool>& votes) {
  std::size_t granted = 0;
  std::size_t rejected = 0;
  for (NodeId id : voters) {
    auto it = votes.find(id);
    if (it == votes.end()) continue;
    (it->second ? granted : rejected) += 1;
  }
  const std::size_t need = majority(voters.size());
  if (need > 0 && granted >= need) return VoteResult::kWon;
  if (voters.size() - rejected < need || voters.empty()) return VoteResult::kLost;
  return VoteResult::kPending;
}

bool has_quorum(const std::vector<NodeId>& voters, const std::function<bool(NodeId)>& active) {
  std::size_t n = 0;
  for (NodeId id : voters) n += active(id) ? 1 : 0;
  return !voters.empty() && n >= majority(voters.size());
}

}  // namespace raftmeta::raft

// SimNetwork (see sim_network.h).
#include "sidecar/raft/sim/sim_network.h"

namespace raftmeta::raft::sim {

SimNetwork::SendResult SimNetwork::send(const Message& m, std::uint64_t now, bool faults,
                                        const FaultProfile& profile, SimRandom& rng) {
  if (is_cut(m.from, m.to)) return SendResult::kBlocked;
  if (faults && rng.chance(profile.drop_ppm)) return SendResult::kDropped;
  auto& q = queues_[m.to];
  const int copies = faults && rng.chance(profile.duplicate_ppm) ? 2 : 1;
  const std::uint64_t max_delay =
      faults ? profile.max_delay_units
             : std::min<std::uint64_t>(profile.max_delay_units, kTickUnits);
  for (int i = 0; i < copies; ++i) {
    q.push_back(InFlight{now + rng.uniform(profile.min_delay_units, max_delay), m});
  }
  return SendResult::kQueued;
}

std::vector<Message> SimNetwork::take_due(NodeId to, std::uint64_t now, SimRandom& rng) {
  std::vector<Message> out;
  const auto it = queues_.find(to);
  if (it == queues_.end()) return out;
  auto& q = it->second;
  std::size_t keep = 0;
  for (std::size_t i = 0; i < q.size(); ++i) {
    if (q[i].deliver_at <= now) {
      if (!is_cut(q[i].message.from, to)) out.push_back(std::move(q[i].message));
    } else {
      if (keep != i) q[keep] = std::move(q[i]);
      ++keep;
    }
  }
  q.resize(keep);
  rng.shuffle(out);
  return out;
}

std::string SimNetwork::describe_cuts() const {
  if (cut_.empty()) return "none";
  std::string out;
  for (const auto& [from, to] : cut_) {
    if (!out.empty()) out += ",";
    out += std::to_string(from) + "->" + std::to_string(to);
  }
  return out;
}

std::size_t SimNetwork::in_flight() const {
  std::size_t n = 0;
  for (const auto& [to, q] : queues_) n += q.size();
  return n;
}

}  // namespace raftmeta::raft::sim

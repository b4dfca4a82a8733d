// SimNetwork (see sim_network.h).
#include "sidecar/raft/sim/sim_network.h"

#include <algorithm>

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
    std::uint64_t due = now + rng.uniform(profile.min_delay_units, max_delay);
    if (!faults) {
      std::uint64_t& last = last_ordered_due_[{m.from, m.to}];
      due = std::max(due, last);
      last = due;
    }
    q.push_back(InFlight{due, m, next_seq_++, !faults});
  }
  return SendResult::kQueued;
}

std::vector<Message> SimNetwork::take_due(NodeId to, std::uint64_t now, SimRandom& rng) {
  std::vector<Message> out;
  const auto it = queues_.find(to);
  if (it == queues_.end()) return out;
  auto& q = it->second;
  std::vector<InFlight> due;
  std::size_t keep = 0;
  for (std::size_t i = 0; i < q.size(); ++i) {
    if (q[i].deliver_at <= now) {
      if (!is_cut(q[i].message.from, to)) due.push_back(std::move(q[i]));
    } else {
      if (keep != i) q[keep] = std::move(q[i]);
      ++keep;
    }
  }
  q.resize(keep);
  rng.shuffle(due);
  // Ordered messages of one sender go back into the places they took, in
  // the order they were sent.
  std::map<NodeId, std::vector<std::size_t>> places;
  for (std::size_t i = 0; i < due.size(); ++i) {
    if (due[i].ordered) places[due[i].message.from].push_back(i);
  }
  for (const auto& [from, at] : places) {
    std::vector<InFlight> items;
    for (const std::size_t i : at) items.push_back(std::move(due[i]));
    std::sort(items.begin(), items.end(),
              [](const InFlight& a, const InFlight& b) { return a.seq < b.seq; });
    for (std::size_t k = 0; k < at.size(); ++k) due[at[k]] = std::move(items[k]);
  }
  out.reserve(due.size());
  for (auto& d : due) out.push_back(std::move(d.message));
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

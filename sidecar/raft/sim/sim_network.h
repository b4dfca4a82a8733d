// SimNetwork: the simulated wire between RawNodes. It drops, duplicates and
// delays messages (random delays reorder them), and cuts directed links
// (symmetric, one-way and partial partitions). A link cut while a message is
// in flight loses the message.
//
// Thread safety: none; owned by one Simulation.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "sidecar/raft/message.h"
#include "sidecar/raft/sim/sim_options.h"
#include "sidecar/raft/sim/sim_random.h"

namespace raftmeta::raft::sim {

class SimNetwork {
 public:
  enum class SendResult { kQueued, kDropped, kBlocked };

  // Queues `m` for delivery after a random delay. With `faults` false (the
  // healed phase) nothing is dropped or duplicated.
  SendResult send(const Message& m, std::uint64_t now, bool faults, const FaultProfile& profile,
                  SimRandom& rng);
  // Messages for `to` due at `now`, in random order; messages on a link cut
  // meanwhile are dropped.
  std::vector<Message> take_due(NodeId to, std::uint64_t now, SimRandom& rng);
  // Drops everything queued for `to` (it crashed or left).
  void drop_all_to(NodeId to) { queues_.erase(to); }

  void cut(NodeId from, NodeId to) { cut_.insert({from, to}); }
  void heal_all() { cut_.clear(); }
  bool is_cut(NodeId from, NodeId to) const { return cut_.count({from, to}) != 0; }
  bool any_cut() const { return !cut_.empty(); }
  std::string describe_cuts() const;
  std::size_t in_flight() const;

 private:
  struct InFlight {
    std::uint64_t deliver_at = 0;
    Message message;
  };
  std::map<NodeId, std::vector<InFlight>> queues_;
  std::set<std::pair<NodeId, NodeId>> cut_;
};

}  // namespace raftmeta::raft::sim

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
  // healed phase) nothing is dropped or duplicated, and the messages of one
  // link arrive in the order they were sent, as on the node's gRPC streams
  // (during faults they may be reordered, as across reconnects).
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
    std::uint64_t seq = 0;  // send order
    bool ordered = false;   // sent while healed: FIFO on its link
  };
  std::map<NodeId, std::vector<InFlight>> queues_;
  // Per link (from, to): the latest delivery time of an ordered message.
  std::map<std::pair<NodeId, NodeId>, std::uint64_t> last_ordered_due_;
  std::uint64_t next_seq_ = 1;
  std::set<std::pair<NodeId, NodeId>> cut_;
};

}  // namespace raftmeta::raft::sim

// Simulation: one seeded run of a Raft cluster in one process.
//
// Each step advances the simulated clock by kStepUnits; then faults strike
// (partitions of every shape, crashes that lose unpersisted work, restarts,
// junk messages, leader transfers, membership changes, snapshots with
// compaction), clients write and read (ReadIndex and lease reads), and every
// live member ticks by its own drifting clock, receives its due messages and
// handles its Readies (synchronously, pausing while it persists, or
// asynchronously with a delayed writer and applier, chosen per member by the
// seed). SafetyChecker sees every event; the first violation ends the run.
// The last phase heals every fault and requires a leader and a committed
// proposal within bounds derived from the election timeout.
//
// The same options give the same run: all randomness comes from the seed and
// nothing iterates in address order.
//
// Thread safety: none; a Simulation is used by one thread.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sidecar/raft/sim/safety_checker.h"
#include "sidecar/raft/sim/sim_network.h"
#include "sidecar/raft/sim/sim_node.h"
#include "sidecar/raft/sim/sim_options.h"
#include "sidecar/raft/sim/sim_random.h"

namespace raftmeta::raft::sim {

struct SimStats {
  std::uint64_t steps = 0;
  std::uint64_t leaders = 0;
  std::uint64_t writes_acked = 0;
  std::uint64_t reads_read_index = 0;
  std::uint64_t reads_lease = 0;
  std::uint64_t crashes = 0;
  std::uint64_t partitions = 0;
  std::uint64_t conf_changes = 0;
  std::uint64_t snapshots = 0;
  Index max_commit = 0;
};

struct SimResult {
  bool ok = true;
  std::string violation;  // empty when ok
  std::uint64_t failed_step = 0;
  std::vector<std::string> trace_tail;  // the last events before the violation
  SimStats stats;
};

// The one-line command that replays a run.
std::string replay_command(const SimOptions& options);

class Simulation {
 public:
  explicit Simulation(SimOptions options);
  ~Simulation();
  Simulation(const Simulation&) = delete;
  Simulation& operator=(const Simulation&) = delete;

  SimResult run();

 private:
  struct PendingRead {
    bool lease = false;
    NodeId node = kNoNode;
    Index begin_watermark = 0;
    std::uint64_t deadline_step = 0;
    bool has_index = false;
    Index index = 0;
  };

  struct PendingConfCheck {
    NodeId leader = kNoNode;
    Index applied = 0;
    Index index = 0;
  };

  // Lifecycle of members.
  SimNode& add_node(NodeId id, bool bootstrap);
  void start(SimNode& n);
  void crash(SimNode& n);
  void shut_down(SimNode& n);

  // One member's turn and the Ready contract.
  void run_node(SimNode& n);
  void take_ready(SimNode& n);
  void persist(SimNode& n, const SimNode::Job& job);
  void apply(SimNode& n, const Ready& rd);
  void finish_sync(SimNode& n);
  void send(SimNode& n, const std::vector<Message>& messages);
  void observe(SimNode& n);

  // Faults and clients.
  void inject_faults();
  void start_partition();
  void inject_junk();
  void client_requests();
  void change_membership(SimNode& leader);
  void snapshot_and_compact(SimNode& n);
  void serve_reads();
  bool try_serve_lease(PendingRead& r);
  void heal();
  void check_liveness();
  std::string describe_members();

  std::vector<SimNode*> up_nodes();
  SimNode* pick_leader();
  SimNode* find(NodeId id);
  void trace(std::string line);
  std::string prefix(NodeId id) const;

  SimOptions options_;
  const FaultProfile& profile_;
  SimRandom rng_;
  SimNetwork net_;
  std::map<NodeId, std::unique_ptr<SimNode>> nodes_;
  std::unique_ptr<SafetyChecker> checker_;
  std::map<std::uint64_t, PendingRead> reads_;
  std::vector<PendingConfCheck>
      pending_conf_checks_;  // checked once the entry is in the leader's log
  std::deque<std::string> trace_;
  SimStats stats_;
  std::uint64_t step_ = 0;
  std::uint64_t now_ = 0;
  std::uint64_t max_append_bytes_ = 512;  // Config::max_size_per_msg of this run
  NodeId next_id_ = 1;
  std::uint64_t next_write_ = 1;
  std::uint64_t next_read_ = 1;
  bool healed_ = false;
  std::uint64_t heal_at_ = 0;
  std::uint64_t all_up_at_ = 0;  // 0 until every member is up after healing
  std::uint64_t leader_seen_at_ = 0;
  bool healed_write_acked_ = false;
  bool liveness_checked_ = false;
};

}  // namespace raftmeta::raft::sim

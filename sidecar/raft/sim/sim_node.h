// SimNode: one simulated member: its "disk" (a MemoryStorage written only per
// the Ready contract), its RawNode, its application state, and the work it has
// taken from the core but not finished (a paused synchronous Ready, or the
// asynchronous writer's and applier's queues). A crash throws away everything
// but `disk` and `checkpoint`.
//
// Thread safety: none; owned by one Simulation.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sidecar/raft/log_storage.h"
#include "sidecar/raft/raw_node.h"
#include "sidecar/raft/sim/kv_state_machine.h"
#include "sidecar/raft/sim/shadow_log.h"

namespace raftmeta::raft::sim {

struct SimNode {
  struct Job {
    Ready ready;
    std::uint64_t due_step = 0;
    // Term of the entry before ready.entries in the log when the Ready was
    // taken (unset if unknown): log matching counts the entries only once
    // they are durable, and the log may change before then.
    std::optional<Term> entries_prev_term;
  };
  struct OwnWrite {
    Term term = 0;
    std::uint64_t write_id = 0;
  };

  NodeId id = kNoNode;
  bool async = false;                   // accept/on_persisted/on_applied instead of advance
  std::uint64_t clock_ppm = 1'000'000;  // local clock rate, parts per million of nominal
  bool up = false;
  bool gone = false;             // removed from the cluster and shut down for good
  std::uint64_t down_since = 0;  // sim units
  std::uint64_t incarnation = 0;

  // Durable across crashes.
  MemoryStorage disk;
  std::optional<KvStateMachine> checkpoint;  // the application's own durable copy

  // Lost on a crash.
  std::unique_ptr<RawNode> raw;
  KvStateMachine state;
  ShadowLog log;
  Index observed_commit = 0;
  Term observed_leader_term = 0;
  bool conf_continuous = false;   // false right after a restart or snapshot restore
  std::uint64_t last_tick = 0;    // local ticks elapsed
  std::optional<Job> paused;      // synchronous: the Ready being persisted while paused
  std::deque<Job> persist_queue;  // asynchronous writer
  std::deque<Job> apply_queue;    // asynchronous applier
  std::uint64_t last_persist_due = 0;
  std::uint64_t last_apply_due = 0;
  std::map<std::uint64_t, std::uint64_t> round_local_time;  // heartbeat round -> local units
  std::vector<ReadState> read_states;                       // to serve once applied >= index
  std::vector<std::pair<NodeId, bool>> snapshot_reports;
  std::map<Index, OwnWrite> own_writes;  // proposals this member made (kept across crashes)
  Status status;                         // as of the last observation
  std::optional<SoftState> soft;

  std::uint64_t local_time(std::uint64_t now) const { return now * clock_ppm / 1'000'000; }
};

}  // namespace raftmeta::raft::sim

// What one simulated run does: its seed, size and fault mix, and the timing
// constants every check is derived from.
//
// Time: the simulator's clock counts "units"; a nominal tick is kTickUnits and
// one step advances the clock by kStepUnits. Each node ticks by its own clock,
// which runs at a fixed rate within kClockDriftPpm of the nominal one.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace raftmeta::raft::sim {

inline constexpr std::uint64_t kTickUnits = 1000;
inline constexpr std::uint64_t kStepUnits = 500;
inline constexpr int kElectionTick = 10;
inline constexpr int kHeartbeatTick = 1;
// Maximum clock rate deviation of a node from the nominal rate (±2 %).
inline constexpr std::uint64_t kClockDriftPpm = 20'000;
// The lease rule's clock-drift bound, in local units. It must cover one tick of
// granularity (a follower's election_elapsed starts between ticks) plus the
// drift of both clocks over an election timeout:
//   (E - D) / (1 - d) <= (E - tick) / (1 + d)  =>  D >= ~1353 units for d = 2 %.
inline constexpr std::uint64_t kLeaseDriftBoundUnits = 2 * kTickUnits;
inline constexpr std::uint64_t kElectionTimeoutUnits = kElectionTick * kTickUnits;
// A crashed node stays down at least this long: a restarted follower has
// forgotten its leader and would grant a vote at once, which no lease can
// survive (the same assumption etcd's lease reads make).
inline constexpr std::uint64_t kMinDowntimeUnits = 2 * kElectionTimeoutUnits + 2 * kTickUnits;
// Liveness after faults heal: within this many nominal ticks a leader exists
// and a proposal made then commits. Randomized timeouts lie in [E, 2E); the
// bound allows several split votes plus pre-vote rounds and persistence delays.
inline constexpr int kHealedLeaderBoundTicks = 12 * kElectionTick;
// The commit bound includes catching a lagging majority up: in runs with
// one-entry appends (Config::max_size_per_msg = 1) that can take about one
// round trip per entry for a hundred entries.
inline constexpr int kHealedCommitBoundTicks = 20 * kElectionTick;
// The healed phase must be long enough to observe both after the last crashed
// member is back (a run too short for it checks no liveness).
inline constexpr std::uint64_t kHealPhaseUnits =
    kMinDowntimeUnits +
    (kHealedLeaderBoundTicks + kHealedCommitBoundTicks + 2 * kElectionTick) * kTickUnits;
// A run in which membership changes never grows beyond this many members.
inline constexpr std::size_t kMaxMembers = 7;

// Per-step probabilities are in parts per million.
struct FaultProfile {
  std::string name = "mixed";
  std::uint32_t drop_ppm = 50'000;
  std::uint32_t duplicate_ppm = 30'000;
  std::uint64_t min_delay_units = 100;
  std::uint64_t max_delay_units = 1500;
  std::uint32_t partition_ppm = 4'000;        // start a new partition pattern
  std::uint32_t partition_heal_ppm = 10'000;  // heal the current pattern
  std::uint32_t crash_ppm = 2'000;            // crash one up node
  std::uint32_t restart_ppm = 20'000;         // restart a down node (after kMinDowntimeUnits)
  std::size_t max_down = 2;                   // nodes down at once
  std::uint32_t junk_ppm = 5'000;             // a malformed/unknown-sender message
  std::uint32_t transfer_ppm = 1'500;         // leader transfer
  std::uint32_t write_ppm = 300'000;
  std::uint32_t read_index_ppm = 150'000;
  std::uint32_t lease_read_ppm = 150'000;
  std::uint32_t conf_change_ppm = 0;          // part 2: membership changes
  std::uint32_t snapshot_ppm = 0;             // part 2: snapshot + compaction on one node
  std::uint32_t checkpoint_ppm = 20'000;      // application checkpoints its state
  std::uint32_t sync_stall_ppm = 100'000;     // synchronous node: a Ready's write is slow
  std::uint64_t max_sync_stall_steps = 4;     // ... and the node is paused that many steps
  std::uint64_t max_persist_delay_steps = 6;  // asynchronous node: writer delay
  std::uint64_t max_apply_delay_steps = 4;    // asynchronous node: apply delay
};

// Named profiles: "mixed" (part 1), "membership" (part 2: adds membership
// changes and snapshots), "partitions" (heavy partitions and crashes),
// "lease" (leader isolation with lease reads), "snapshots" (frequent
// compaction and lagging members). Returns false for an unknown name.
bool fault_profile_by_name(std::string_view name, FaultProfile* out);

// How the initial members get their first configuration:
//   kSnapshot: an index-0 snapshot carrying the configuration (the core's own
//              scenario tests do this);
//   kLog:      committed conf-change entries at term 1 (add learner + promote
//              for each member, as etcd bootstraps), so a member that joins
//              empty later can learn the configuration by replaying the log.
enum class Bootstrap { kSnapshot, kLog };
std::string_view to_string(Bootstrap b);
bool bootstrap_by_name(std::string_view name, Bootstrap* out);

struct SimOptions {
  std::uint64_t seed = 1;
  Bootstrap bootstrap = Bootstrap::kSnapshot;
  std::uint64_t steps = 2000;
  std::size_t nodes = 3;
  FaultProfile profile;
  std::size_t trace_tail = 40;  // trace lines printed with a violation
  bool verbose = false;         // also trace every message delivered and every Ready
};

}  // namespace raftmeta::raft::sim

// Stall rules: the pure judgement of liveness from a snapshot of the progress
// stamps (progress.h) and the configured limits.
//
// judge() has no clock, no threads and no state: the stall watchdog calls it
// every ~100 ms, and the HTTP handlers call it again at request time so that
// /livez reflects the atomics as they are now, not a verdict up to one watchdog
// period old. Both therefore agree by construction.
//
// Rules (a part is stalled when its silence is >= its limit):
//   - Before start-up is done nothing is stalled: a long log replay must not
//     make /livez fail (that is /startupz's business).
//   - Raft loop: now - last turn >= loop_stall_ms. While a storage write is in
//     progress the limit is max(loop_stall_ms, storage_stall_ms), since the
//     loop may legitimately wait on that write; storage has its own rule.
//   - Apply loop: only while entries wait (apply_queued_index > applied_index),
//     now - max(apply_progress_ns, apply_wait_started_ns) >= apply_stall_ms.
//   - Storage: a write has been in progress for >= storage_stall_ms.
// Silence is never measured from before start-up finished, and a stamp of 0
// ("never") with no start-up time gives nothing to measure, hence no stall.
#pragma once

#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "sidecar/health/progress.h"

namespace raftmeta::health {

enum class Part : int { kRaftLoop = 0, kApplyLoop = 1, kStorage = 2 };
inline constexpr std::array<Part, 3> kAllParts = {Part::kRaftLoop, Part::kApplyLoop,
                                                  Part::kStorage};
// "raft_loop", "apply_loop", "storage": used in JSON bodies and metric labels.
std::string_view part_name(Part part);

struct StallLimits {
  std::int64_t loop_stall_ms = 5000;
  std::int64_t apply_stall_ms = 10000;
  std::int64_t storage_stall_ms = 10000;
};

// A plain copy of ProgressStamps taken at one moment.
struct ProgressSnapshot {
  std::int64_t raft_loop_turn_ns = 0;
  std::uint64_t raft_loop_turns = 0;
  std::uint64_t apply_queued_index = 0;
  std::int64_t apply_wait_started_ns = 0;
  std::uint64_t applied_index = 0;
  std::int64_t apply_progress_ns = 0;
  std::int64_t storage_write_started_ns = 0;
  std::uint64_t storage_writes = 0;
  bool startup_done = false;
  std::int64_t startup_done_ns = 0;
};

// Lock-free; safe from any thread.
ProgressSnapshot snapshot(const ProgressStamps& stamps);

struct PartVerdict {
  bool stalled = false;
  // How long the part has not progressed; -1 when there is nothing to measure
  // (never stamped, or for apply: nothing waiting; for storage: no write).
  std::int64_t silent_ms = -1;
  // The limit it was judged against (for the Raft loop, possibly extended).
  std::int64_t limit_ms = 0;
};

struct HealthVerdict {
  bool startup_done = false;
  std::array<PartVerdict, 3> parts{};
  std::int64_t judged_at_ns = 0;

  bool live() const;
  const PartVerdict& part(Part p) const { return parts[static_cast<int>(p)]; }
  // "ok", "starting" or e.g. "apply_loop stalled for 10234 ms; storage ...".
  std::string summary() const;
  // {"live", "startup_done", "summary", "stalled": [{"part","stalled_for_ms",
  //  "limit_ms"}], "parts": {"raft_loop": {"stalled","silent_ms","limit_ms"}, ..}}
  nlohmann::json to_json() const;
};

HealthVerdict judge(const ProgressSnapshot& progress, std::int64_t now_ns,
                    const StallLimits& limits);

}  // namespace raftmeta::health

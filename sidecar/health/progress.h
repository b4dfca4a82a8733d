// Progress stamps: what the node's loops publish so that the stall watchdog
// and the health endpoints can judge liveness without calling into the loops.
//
// Every field is an atomic written by exactly one thread (named beside it) and
// read by any thread with relaxed/acquire loads. Times are monotonic
// nanoseconds (steady_clock::now().time_since_epoch()); 0 means "never".
// Nothing here takes a lock, so reading it can never wait on a stuck loop.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace raftmeta::health {

inline std::int64_t monotonic_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct ProgressStamps {
  // Raft loop thread: stamped at the start of every turn.
  std::atomic<std::int64_t> raft_loop_turn_ns{0};
  std::atomic<std::uint64_t> raft_loop_turns{0};

  // Raft loop thread: highest index handed to the apply loop (committed and
  // durable locally). Entries are waiting when this exceeds applied_index.
  std::atomic<std::uint64_t> apply_queued_index{0};
  // Apply thread: last applied index, and when it last moved (or when the
  // apply loop last found nothing to do).
  std::atomic<std::uint64_t> applied_index{0};
  std::atomic<std::int64_t> apply_progress_ns{0};

  // Storage writer (whichever thread persists): start time of the write in
  // progress, 0 when none; count of completed writes.
  std::atomic<std::int64_t> storage_write_started_ns{0};
  std::atomic<std::uint64_t> storage_writes{0};

  // Start-up: storage opened and the log replayed (set once).
  std::atomic<bool> startup_done{false};
};

}  // namespace raftmeta::health

// Progress stamps: what the node's loops publish so that the stall watchdog
// and the health endpoints can judge liveness without calling into the loops.
//
// Every field is an atomic written by exactly one thread (named beside it) and
// read by any thread with relaxed/acquire loads. Times are monotonic
// nanoseconds (steady_clock::now().time_since_epoch()); 0 means "never".
// Nothing here takes a lock, so reading it can never wait on a stuck loop.
//
// Writers should prefer the small note_*/begin_*/end_*/mark_* helpers below:
// they keep the stamps consistent with what judge() (stall_rules.h) expects.
// In particular the apply rule measures "no progress while entries wait" from
// the later of apply_progress_ns and apply_wait_started_ns, so an apply loop
// that sat idle for an hour is not reported stalled the instant work arrives.
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
  // Raft loop thread: when the current wait began, i.e. when
  // apply_queued_index last rose while the apply loop had caught up. Written
  // before apply_queued_index (release), so a reader that sees the new index
  // with acquire also sees this stamp.
  std::atomic<std::int64_t> apply_wait_started_ns{0};
  // Apply thread: last applied index, and when it last moved (or when the
  // apply loop last found nothing to do).
  std::atomic<std::uint64_t> applied_index{0};
  std::atomic<std::int64_t> apply_progress_ns{0};

  // Storage writer (whichever thread persists): start time of the write in
  // progress, 0 when none; count of completed writes.
  std::atomic<std::int64_t> storage_write_started_ns{0};
  std::atomic<std::uint64_t> storage_writes{0};

  // Start-up: storage opened and the log replayed (set once), and when. Loops
  // are not judged before start-up is done, and their silence is measured
  // from no earlier than startup_done_ns.
  std::atomic<bool> startup_done{false};
  std::atomic<std::int64_t> startup_done_ns{0};

  // Raft loop thread, at the start of every turn.
  void note_raft_turn(std::int64_t now_ns) {
    raft_loop_turn_ns.store(now_ns, std::memory_order_relaxed);
    raft_loop_turns.fetch_add(1, std::memory_order_release);
  }

  // Raft loop thread, after handing entries up to `index` to the apply loop.
  void note_apply_queued(std::uint64_t index, std::int64_t now_ns) {
    const std::uint64_t queued = apply_queued_index.load(std::memory_order_relaxed);
    if (index <= queued) return;
    // The apply loop cannot pass `queued`, so if it is there now a new wait
    // begins with this hand-over.
    if (applied_index.load(std::memory_order_acquire) >= queued) {
      apply_wait_started_ns.store(now_ns, std::memory_order_relaxed);
    }
    apply_queued_index.store(index, std::memory_order_release);
  }

  // Apply thread, after applying entries up to `index` (or when it finds
  // nothing to do, with the unchanged index).
  void note_applied(std::uint64_t index, std::int64_t now_ns) {
    apply_progress_ns.store(now_ns, std::memory_order_relaxed);
    applied_index.store(index, std::memory_order_release);
  }

  // Storage writer, around each durable write. Not reentrant: one write is in
  // progress at a time.
  void begin_storage_write(std::int64_t now_ns) {
    storage_write_started_ns.store(now_ns, std::memory_order_release);
  }
  void end_storage_write() {
    storage_write_started_ns.store(0, std::memory_order_release);
    storage_writes.fetch_add(1, std::memory_order_relaxed);
  }

  // Start-up code, once storage is open and the log replayed.
  void mark_startup_done(std::int64_t now_ns) {
    startup_done_ns.store(now_ns, std::memory_order_relaxed);
    startup_done.store(true, std::memory_order_release);
  }
};

}  // namespace raftmeta::health

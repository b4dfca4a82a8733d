// StallWatchdog: a thread ("stall-watchdog") that judges the progress stamps
// every period (~100 ms) and publishes the verdict, logs each stall when it
// begins and ends, and counts stalls detected per part.
//
// The verdict is published through a seqlock of atomics (PublishedVerdict):
// verdict() takes no lock and never waits on the watchdog (a reader that
// overlaps a publication simply reads again). libstdc++ 12's
// atomic<shared_ptr> is not used because ThreadSanitizer cannot see through
// its internal lock bit. The verdict is for consumers that act on stalls (the
// Raft loop, which steps a stalled leader aside); the HTTP handlers instead
// call judge() on the stamps at request time.
//
// Thread ownership: start()/stop() from one owner thread; check_once() from
// the watchdog thread (or from a test, with the thread not started);
// verdict() and stalls_detected() from any thread.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include "sidecar/health/metrics.h"
#include "sidecar/health/progress.h"
#include "sidecar/health/stall_rules.h"

namespace raftmeta::health {

class StallWatchdog {
 public:
  // `stamps` and `metrics` (may be null) must outlive the watchdog.
  StallWatchdog(const ProgressStamps& stamps, StallLimits limits, NodeMetrics* metrics,
                std::int64_t period_ms = 100);
  ~StallWatchdog();  // stops the thread
  StallWatchdog(const StallWatchdog&) = delete;
  StallWatchdog& operator=(const StallWatchdog&) = delete;

  void start();
  void stop();  // idempotent; returns within about one period

  // One judgement at `now_ns`: publishes the verdict, counts parts that became
  // stalled since the previous check, logs transitions. Returns the verdict.
  HealthVerdict check_once(std::int64_t now_ns);

  // The latest published verdict (a live "starting" verdict with
  // judged_at_ns == 0 before the first check).
  HealthVerdict verdict() const;
  std::uint64_t stalls_detected(Part part) const {
    return stalls_detected_[static_cast<int>(part)].load(std::memory_order_relaxed);
  }
  const StallLimits& limits() const { return limits_; }

 private:
  void run();

  const ProgressStamps& stamps_;
  const StallLimits limits_;
  NodeMetrics* const metrics_;
  const std::int64_t period_ms_;

  // Seqlock: odd while the watchdog thread writes; every field an atomic, all
  // accesses sequentially consistent (no fences, which TSan cannot model).
  struct PublishedPart {
    std::atomic<bool> stalled{false};
    std::atomic<std::int64_t> silent_ms{-1};
    std::atomic<std::int64_t> limit_ms{0};
  };
  std::atomic<std::uint64_t> seq_{0};
  std::atomic<bool> published_startup_done_{false};
  std::array<PublishedPart, 3> published_parts_{};
  std::atomic<std::int64_t> published_at_ns_{0};
  std::array<std::atomic<std::uint64_t>, 3> stalls_detected_{};
  // Previous check's stalled flags; owned by whichever thread runs check_once().
  std::array<bool, 3> was_stalled_{};

  std::mutex stop_mu_;  // guards stopping_ (for the condition's sake)
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace raftmeta::health

// StallWatchdog: a thread ("stall-watchdog") that judges the progress stamps
// every period (~100 ms) and publishes the verdict, logs each stall when it
// begins and ends, and counts stalls detected per part.
//
// The verdict is published as an immutable HealthVerdict behind an atomic
// shared_ptr: verdict() never waits on the watchdog. It is for consumers that
// act on stalls (the Raft loop, which steps a stalled leader aside); the HTTP
// handlers instead call judge() on the stamps at request time.
//
// Thread ownership: start()/stop() from one owner thread; check_once() from
// the watchdog thread (or from a test, with the thread not started);
// verdict() and stalls_detected() from any thread.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
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
  std::shared_ptr<const HealthVerdict> check_once(std::int64_t now_ns);

  // The latest published verdict (a live "starting" verdict before the first
  // check).
  std::shared_ptr<const HealthVerdict> verdict() const {
    return verdict_.load(std::memory_order_acquire);
  }
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

  std::atomic<std::shared_ptr<const HealthVerdict>> verdict_;
  std::array<std::atomic<std::uint64_t>, 3> stalls_detected_{};
  // Previous check's stalled flags; owned by whichever thread runs check_once().
  std::array<bool, 3> was_stalled_{};

  std::mutex stop_mu_;  // guards stopping_ (for the condition's sake)
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace raftmeta::health

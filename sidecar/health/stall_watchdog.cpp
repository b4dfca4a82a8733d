#include "sidecar/health/stall_watchdog.h"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <chrono>

namespace raftmeta::health {

StallWatchdog::StallWatchdog(const ProgressStamps& stamps, StallLimits limits, NodeMetrics* metrics,
                             std::int64_t period_ms)
    : stamps_(stamps), limits_(limits), metrics_(metrics), period_ms_(period_ms) {}

StallWatchdog::~StallWatchdog() { stop(); }

void StallWatchdog::start() {
  if (thread_.joinable()) return;
  {
    std::lock_guard lock(stop_mu_);
    stopping_ = false;
  }
  thread_ = std::thread([this] { run(); });
}

void StallWatchdog::stop() {
  {
    std::lock_guard lock(stop_mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void StallWatchdog::run() {
  pthread_setname_np(pthread_self(), "stall-watchdog");
  std::unique_lock lock(stop_mu_);
  while (!stopping_) {
    lock.unlock();
    check_once(monotonic_ns());
    lock.lock();
    stop_cv_.wait_for(lock, std::chrono::milliseconds(period_ms_), [this] { return stopping_; });
  }
}

HealthVerdict StallWatchdog::verdict() const {
  for (;;) {
    const std::uint64_t before = seq_.load();
    if (before % 2 != 0) {
      std::this_thread::yield();  // a publication is in progress
      continue;
    }
    HealthVerdict v;
    v.startup_done = published_startup_done_.load();
    for (std::size_t i = 0; i < v.parts.size(); ++i) {
      v.parts[i].stalled = published_parts_[i].stalled.load();
      v.parts[i].silent_ms = published_parts_[i].silent_ms.load();
      v.parts[i].limit_ms = published_parts_[i].limit_ms.load();
    }
    v.judged_at_ns = published_at_ns_.load();
    if (seq_.load() == before) return v;
  }
}

HealthVerdict StallWatchdog::check_once(std::int64_t now_ns) {
  const HealthVerdict verdict = judge(snapshot(stamps_), now_ns, limits_);
  for (Part p : kAllParts) {
    const int i = static_cast<int>(p);
    const PartVerdict& pv = verdict.part(p);
    if (pv.stalled && !was_stalled_[i]) {
      stalls_detected_[i].fetch_add(1, std::memory_order_relaxed);
      if (metrics_ != nullptr) {
        metrics_->stalls_detected_total[i].fetch_add(1, std::memory_order_relaxed);
      }
      spdlog::error("stall detected: {} has not progressed for {} ms (limit {} ms)", part_name(p),
                    pv.silent_ms, pv.limit_ms);
    } else if (!pv.stalled && was_stalled_[i]) {
      spdlog::warn("stall over: {} is progressing again", part_name(p));
    }
    was_stalled_[i] = pv.stalled;
  }
  // Publish (single writer: the thread running check_once).
  seq_.fetch_add(1);
  published_startup_done_.store(verdict.startup_done);
  for (std::size_t i = 0; i < verdict.parts.size(); ++i) {
    published_parts_[i].stalled.store(verdict.parts[i].stalled);
    published_parts_[i].silent_ms.store(verdict.parts[i].silent_ms);
    published_parts_[i].limit_ms.store(verdict.parts[i].limit_ms);
  }
  published_at_ns_.store(verdict.judged_at_ns);
  seq_.fetch_add(1);
  return verdict;
}

}  // namespace raftmeta::health

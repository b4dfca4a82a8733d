// WriteProbe: a steady stream of writes used to time recoveries. Every
// `interval` it sends one write to the next endpoint in turn (each endpoint
// has its own channel), each with `timeout`, without waiting for earlier
// ones; it records when every successful write started and completed.
// recovery_after(t) answers how long after `t` the first write that started
// after `t` was acknowledged.
//
// Thread use: its own thread "write-probe" polls the completion queue and
// sends; the owner calls the rest (the records are under a mutex).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bench/load_types.h"

namespace raftmeta::bench {

class WriteProbe {
 public:
  using Clock = std::chrono::steady_clock;

  WriteProbe(SystemDriver& driver, const std::vector<std::string>& endpoints,
             std::chrono::milliseconds interval, std::chrono::milliseconds timeout);
  ~WriteProbe();  // stop()

  void stop();
  std::uint64_t successes() const;
  // Waits up to `wait` for `count` successes beyond those seen so far.
  bool wait_successes(std::uint64_t count, std::chrono::milliseconds wait) const;
  // Milliseconds from `since` to the acknowledgement of the first write that
  // started at or after `since`; nullopt if none within `wait`.
  std::optional<double> recovery_after(Clock::time_point since,
                                       std::chrono::milliseconds wait) const;

 private:
  struct Pending;
  void run();

  SystemDriver& driver_;
  const std::chrono::milliseconds interval_;
  const std::chrono::milliseconds timeout_;
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
  grpc::CompletionQueue cq_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mu_;
  std::uint64_t successes_ = 0;                                         // guarded by mu_
  std::vector<std::pair<Clock::time_point, Clock::time_point>> acked_;  // guarded by mu_
  std::thread thread_;
};

}  // namespace raftmeta::bench

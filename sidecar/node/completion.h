// Completion: a one-shot answer that a loop thread delivers and a request
// handler waits for with a deadline.
//
// complete() may be called from any thread, any number of times: the first
// value wins and later ones are dropped (a late loop answer after the
// handler gave up is harmless). wait_until() never waits past its deadline.
// The internal mutex is a leaf: nothing else is called while it is held.
//
// PendingAnswer: the asynchronous form. It runs a callback exactly once,
// with the first answer a loop delivers or, if the request's deadline passes
// first, with the answer its DeadlineTimer entry makes. No thread waits.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>

#include "sidecar/node/deadline_timer.h"

namespace raftmeta::node {

template <typename T>
class Completion {
 public:
  // Returns true if this call delivered the value.
  bool complete(T value) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (value_) return false;
      value_ = std::move(value);
    }
    cv_.notify_all();
    return true;
  }

  // The value, or nullopt when `deadline` passed first.
  template <typename TimePoint>
  std::optional<T> wait_until(TimePoint deadline) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_until(lock, deadline, [&] { return value_.has_value(); });
    if (!value_) return std::nullopt;
    return *value_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<T> value_;
};

// A callback form of the same thing: the loops answer through callbacks so
// that local waiters and forwarded requests are handled alike.
template <typename T>
std::function<void(T)> completer(std::shared_ptr<Completion<T>> completion) {
  return [completion = std::move(completion)](T value) { completion->complete(std::move(value)); };
}

// Exactly-once delivery of an asynchronous answer. deliver() and expire()
// may race from any threads; the first runs `done` (on its own thread, with
// no lock held), every later call is a no-op. `on_deadline` makes the answer
// when the deadline wins; it runs on the deadline-timer thread (or the one
// shutting the timer down) and must be cheap.
template <typename T>
class PendingAnswer final : public DeadlineTimer::Entry {
 public:
  PendingAnswer(std::function<void(T)> done, std::function<T()> on_deadline, DeadlineTimer* timer)
      : done_(std::move(done)), on_deadline_(std::move(on_deadline)), timer_(timer) {}

  // Returns true if this call delivered the answer.
  bool deliver(T value) {
    if (answered_.exchange(true, std::memory_order_acq_rel)) return false;
    timer_->cancel(*this);
    run(std::move(value));
    return true;
  }

  void expire() override {
    if (answered_.exchange(true, std::memory_order_acq_rel)) return;
    run(on_deadline_());
  }

 private:
  // Only the winner gets here: it alone touches done_ and on_deadline_.
  void run(T value) {
    std::function<void(T)> done = std::move(done_);
    done_ = nullptr;
    on_deadline_ = nullptr;  // release what the callbacks captured now
    done(std::move(value));
  }

  std::atomic<bool> answered_{false};
  std::function<void(T)> done_;
  std::function<T()> on_deadline_;
  DeadlineTimer* const timer_;
};

}  // namespace raftmeta::node

// Completion: a one-shot answer that a loop thread delivers and a request
// handler waits for with a deadline.
//
// complete() may be called from any thread, any number of times: the first
// value wins and later ones are dropped (a late loop answer after the
// handler gave up is harmless). wait_until() never waits past its deadline.
// The internal mutex is a leaf: nothing else is called while it is held.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>

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

}  // namespace raftmeta::node

// BoundedInbox: the multi-producer, single-consumer queue in front of a loop.
//
// Producers (request handlers, transport threads, the apply thread) call
// try_push(), which never blocks: it refuses when the inbox is full or
// closed, and the producer answers its client with a retryable error (or,
// for peer messages, drops them: Raft retransmits). The consumer (the loop
// that owns the inbox) calls drain_until(), which waits at most until the
// given time. The mutex is a leaf lock held only to move items.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <vector>

namespace raftmeta::node {

template <typename T>
class BoundedInbox {
 public:
  explicit BoundedInbox(std::size_t capacity) : capacity_(capacity) {}

  bool try_push(T item) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (closed_ || items_.size() >= capacity_) return false;
      items_.push_back(std::move(item));
    }
    cv_.notify_one();
    return true;
  }

  // Moves every queued item to *out (appending). If none is queued, waits
  // until one arrives, the inbox is closed or `until` passes.
  template <typename TimePoint>
  void drain_until(std::vector<T>* out, TimePoint until) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_until(lock, until, [&] { return closed_ || kicked_ || !items_.empty(); });
    kicked_ = false;
    for (auto& item : items_) out->push_back(std::move(item));
    items_.clear();
  }

  // Wakes the consumer without an item. A wake that comes while the consumer
  // is not waiting is remembered: its next drain_until() returns at once.
  void wake() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      kicked_ = true;
    }
    cv_.notify_all();
  }

  // Refuses further pushes and returns what was still queued.
  std::vector<T> close() {
    std::vector<T> left;
    {
      std::lock_guard<std::mutex> lock(mu_);
      closed_ = true;
      for (auto& item : items_) left.push_back(std::move(item));
      items_.clear();
    }
    cv_.notify_all();
    return left;
  }

  std::size_t size() const {
    std::lock_guard<std::mutex> lock(mu_);
    return items_.size();
  }

 private:
  const std::size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<T> items_;
  bool closed_ = false;
  bool kicked_ = false;  // wake() since the last drain_until()
};

}  // namespace raftmeta::node

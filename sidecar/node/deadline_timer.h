// DeadlineTimer: answers asynchronous requests whose deadline passed before a
// loop answered them. One "deadline-timer" thread per Node.
//
// A request that is answered through a callback (Node::propose_async,
// Node::read_barrier_async) is scheduled here with its deadline; whoever
// answers first wins (PendingAnswer in completion.h) and the loser does
// nothing. The loop that answers in time cancels the entry, so entries live
// only as long as their request is in flight.
//
// Wake-ups: the timer thread sleeps until the earliest deadline, and at most
// kIdlePoll when nothing is scheduled; schedule() wakes it only when the new
// deadline is earlier than the thread's planned wake-up. Client deadlines
// are usually seconds away, so a request normally costs no wake-up at all.
//
// Threads: schedule() from request handler threads; cancel() from whichever
// thread answers (raft-loop, apply-loop, transport threads, the caller);
// Entry::expire() runs on the "deadline-timer" thread (or on the thread that
// calls expire_all()). The mutex is a leaf: it is held only to insert, erase
// or collect entries, never while an entry expires.
#pragma once

#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace raftmeta::node {

class DeadlineTimer {
 public:
  using Clock = std::chrono::steady_clock;
  // Longest the thread sleeps with nothing scheduled.
  static constexpr std::chrono::milliseconds kIdlePoll{1000};

  class Entry {
   public:
    virtual ~Entry() = default;
    // The deadline passed (or the timer was shut down) while scheduled.
    virtual void expire() = 0;

   private:
    friend class DeadlineTimer;
    // Guarded by the timer's mutex.
    bool scheduled_ = false;
    std::multimap<Clock::time_point, std::shared_ptr<Entry>>::iterator at_;
  };

  DeadlineTimer() {
    thread_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "deadline-timer");
      run();
    });
  }
  ~DeadlineTimer() {
    expire_all();
    thread_.join();
  }
  DeadlineTimer(const DeadlineTimer&) = delete;
  DeadlineTimer& operator=(const DeadlineTimer&) = delete;

  // Schedules `entry` to expire at `at`. False after expire_all(): the caller
  // answers the request itself.
  bool schedule(const std::shared_ptr<Entry>& entry, Clock::time_point at) {
    bool sooner;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopped_) return false;
      sooner = at < next_wake_;
      if (sooner) next_wake_ = at;
      entry->at_ = entries_.emplace(at, entry);
      entry->scheduled_ = true;
    }
    if (sooner) cv_.notify_one();
    return true;
  }

  // Unschedules `entry` (no-op if it expired or was never scheduled).
  void cancel(Entry& entry) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!entry.scheduled_) return;
    entry.scheduled_ = false;
    entries_.erase(entry.at_);  // may drop the last reference but one: the caller's
  }

  // Expires every scheduled entry now, on this thread, refuses later
  // schedule() calls and stops the timer thread. Idempotent.
  void expire_all() {
    std::vector<std::shared_ptr<Entry>> due;
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopped_ = true;
      due = take_through(Clock::time_point::max());
    }
    cv_.notify_all();
    for (auto& entry : due) entry->expire();
  }

  // Requests scheduled now (for tests and metrics).
  std::size_t size() const {
    std::lock_guard<std::mutex> lock(mu_);
    return entries_.size();
  }

 private:
  // REQUIRES: mu_ held.
  std::vector<std::shared_ptr<Entry>> take_through(Clock::time_point now) {
    std::vector<std::shared_ptr<Entry>> due;
    auto end = entries_.upper_bound(now);
    for (auto it = entries_.begin(); it != end; ++it) {
      it->second->scheduled_ = false;
      due.push_back(std::move(it->second));
    }
    entries_.erase(entries_.begin(), end);
    return due;
  }

  void run() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stopped_) {
      next_wake_ = Clock::now() + kIdlePoll;
      if (!entries_.empty()) next_wake_ = std::min(next_wake_, entries_.begin()->first);
      const Clock::time_point wake = next_wake_;
      cv_.wait_until(lock, wake, [&] { return stopped_ || next_wake_ < wake; });
      if (stopped_) return;
      std::vector<std::shared_ptr<Entry>> due = take_through(Clock::now());
      if (due.empty()) continue;
      lock.unlock();
      for (auto& entry : due) entry->expire();
      due.clear();
      lock.lock();
    }
  }

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::multimap<Clock::time_point, std::shared_ptr<Entry>> entries_;
  bool stopped_ = false;
  // When the thread will next look at entries_ (it is woken earlier only by
  // a schedule() with an earlier deadline).
  Clock::time_point next_wake_ = Clock::time_point::max();
  std::thread thread_;
};

}  // namespace raftmeta::node

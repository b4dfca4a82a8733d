#include "bench/write_probe.h"

#include <pthread.h>

#include <deque>

namespace raftmeta::bench {

struct WriteProbe::Pending {
  std::unique_ptr<RequestSlot> slot;
  std::size_t endpoint = 0;
  Clock::time_point started;
  bool busy = false;
};

WriteProbe::WriteProbe(SystemDriver& driver, const std::vector<std::string>& endpoints,
                       std::chrono::milliseconds interval, std::chrono::milliseconds timeout)
    : driver_(driver), interval_(interval), timeout_(timeout) {
  for (const auto& e : endpoints) channels_.push_back(make_channel(e));
  thread_ = std::thread([this] { run(); });
}

WriteProbe::~WriteProbe() { stop(); }

void WriteProbe::stop() {
  stopping_.store(true);
  if (thread_.joinable()) thread_.join();
}

void WriteProbe::run() {
  ::pthread_setname_np(::pthread_self(), "write-probe");
  // Slots are reused once their request completed, so that raftmeta sees a
  // bounded number of client ids; a slot index per endpoint keeps keys apart.
  std::deque<Pending> slots;
  std::vector<Pending*> idle;
  std::size_t next_endpoint = 0;
  std::size_t in_flight = 0;
  Clock::time_point next_send = Clock::now();
  for (;;) {
    const bool stopping = stopping_.load();
    if (stopping && in_flight == 0) break;
    if (!stopping && Clock::now() >= next_send) {
      Pending* p = nullptr;
      for (auto it = idle.begin(); it != idle.end(); ++it) {
        if ((*it)->endpoint == next_endpoint) {
          p = *it;
          idle.erase(it);
          break;
        }
      }
      if (p == nullptr) {
        slots.push_back(Pending{});
        p = &slots.back();
        p->endpoint = next_endpoint;
        p->slot = driver_.make_slot(Operation::kWrite, channels_[next_endpoint],
                                    1000 + static_cast<int>(slots.size()));
      }
      p->busy = true;
      p->started = Clock::now();
      p->slot->start(&cq_, std::chrono::system_clock::now() + timeout_, p);
      ++in_flight;
      next_endpoint = (next_endpoint + 1) % channels_.size();
      next_send += interval_;
      if (next_send < Clock::now()) next_send = Clock::now() + interval_;
    }
    void* tag = nullptr;
    bool ok = false;
    const auto wait_until = std::chrono::system_clock::now() + std::chrono::milliseconds(1);
    const auto r = cq_.AsyncNext(&tag, &ok, wait_until);
    if (r != grpc::CompletionQueue::GOT_EVENT) continue;
    auto* p = static_cast<Pending*>(tag);
    --in_flight;
    p->busy = false;
    if (ok && p->slot->status().ok()) {
      std::lock_guard lock(mu_);
      ++successes_;
      acked_.emplace_back(p->started, Clock::now());
    }
    idle.push_back(p);
  }
  cq_.Shutdown();
  void* tag = nullptr;
  bool ok = false;
  while (cq_.Next(&tag, &ok)) {
  }
}

std::uint64_t WriteProbe::successes() const {
  std::lock_guard lock(mu_);
  return successes_;
}

bool WriteProbe::wait_successes(std::uint64_t count, std::chrono::milliseconds wait) const {
  const std::uint64_t target = successes() + count;
  const Clock::time_point deadline = Clock::now() + wait;
  while (Clock::now() < deadline) {
    if (successes() >= target) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return successes() >= target;
}

std::optional<double> WriteProbe::recovery_after(Clock::time_point since,
                                                 std::chrono::milliseconds wait) const {
  const Clock::time_point deadline = Clock::now() + wait;
  for (;;) {
    {
      std::lock_guard lock(mu_);
      std::optional<Clock::time_point> first;
      for (const auto& [started, acked] : acked_) {
        if (started >= since && (!first || acked < *first)) first = acked;
      }
      if (first) return std::chrono::duration<double, std::milli>(*first - since).count();
    }
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace raftmeta::bench

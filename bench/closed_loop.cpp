#include "bench/closed_loop.h"

#include <vector>

namespace raftmeta::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Outstanding {
  std::unique_ptr<RequestSlot> slot;
  Clock::time_point started;
};

}  // namespace

LoadResult run_closed_loop(SystemDriver& driver, Operation op,
                           const std::shared_ptr<grpc::Channel>& channel,
                           const LoadOptions& options) {
  grpc::CompletionQueue cq;
  std::vector<Outstanding> slots(static_cast<std::size_t>(options.clients));
  for (int i = 0; i < options.clients; ++i) {
    slots[static_cast<std::size_t>(i)].slot = driver.make_slot(op, channel, i);
  }
  auto start = [&](Outstanding& o) {
    o.started = Clock::now();
    o.slot->start(&cq, std::chrono::system_clock::now() + options.request_timeout, &o);
  };

  const Clock::time_point begin = Clock::now();
  const Clock::time_point window_start = begin + options.warmup;
  const Clock::time_point window_end = window_start + options.duration;
  for (auto& o : slots) start(o);

  LoadResult result;
  std::vector<double> latencies;
  latencies.reserve(1 << 16);
  std::size_t in_flight = slots.size();
  while (in_flight > 0) {
    void* tag = nullptr;
    bool ok = false;
    if (!cq.Next(&tag, &ok)) break;
    auto* o = static_cast<Outstanding*>(tag);
    const Clock::time_point now = Clock::now();
    if (now >= window_start && now < window_end) {
      const grpc::Status& status = o->slot->status();
      if (ok && status.ok()) {
        ++result.ok;
        latencies.push_back(std::chrono::duration<double, std::milli>(now - o->started).count());
      } else {
        ++result.errors;
        if (result.first_error.empty()) {
          result.first_error =
              std::to_string(static_cast<int>(status.error_code())) + ": " + status.error_message();
        }
      }
    }
    if (now < window_end) {
      start(*o);
    } else {
      --in_flight;
    }
  }
  cq.Shutdown();
  void* tag = nullptr;
  bool ok = false;
  while (cq.Next(&tag, &ok)) {
  }
  result.seconds = std::chrono::duration<double>(options.duration).count();
  result.throughput = result.seconds > 0 ? static_cast<double>(result.ok) / result.seconds : 0;
  result.latency = summarize(latencies);
  return result;
}

}  // namespace raftmeta::bench

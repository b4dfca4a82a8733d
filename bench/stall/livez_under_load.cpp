#include "bench/stall/livez_under_load.h"

#include <algorithm>
#include <atomic>
#include <thread>

#include "bench/closed_loop.h"
#include "bench/load_types.h"

namespace raftmeta::bench::stall {
namespace {

using e2e::Clock;
using std::chrono::milliseconds;

// Long enough for any probe count this benchmark is run with; the writer is
// cut short (`stop`) when the prober is done.
constexpr milliseconds kWriterWarmup{1000};

}  // namespace

bool measure_livez_under_load(const e2e::ProcessCluster& cluster, RaftmetaDriver& driver,
                              const LivezLoadPlan& plan, LivezLoadResult* result) {
  const auto leader = cluster.wait_leader(milliseconds(20000));
  if (!leader) {
    result->first_error = "no leader";
    return false;
  }
  const auto channel = make_channel(cluster.client_address(*leader));

  // The writer runs for a fixed window (4 ms per planned probe; a probe
  // takes about 1 ms here) and cannot be cut short: probing starts after its
  // warm-up and stops when the window ends, so every probe saw the load.
  LoadOptions options;
  options.clients = plan.writers;
  options.warmup = kWriterWarmup;
  options.duration = milliseconds(std::max(10000, plan.requests * 4));
  LoadResult load;
  std::atomic<bool> writer_done{false};
  std::thread writer([&] {
    load = run_closed_loop(driver, Operation::kWrite, channel, options);
    writer_done = true;
  });
  std::this_thread::sleep_for(kWriterWarmup);

  const std::vector<std::uint64_t> ids = cluster.ids();
  result->response_ms.reserve(static_cast<std::size_t>(plan.requests));
  int sent = 0;
  for (; sent < plan.requests && !writer_done.load(); ++sent) {
    const std::uint64_t id = ids[static_cast<std::size_t>(sent) % ids.size()];
    const Clock::time_point t0 = Clock::now();
    const e2e::HttpResponse r =
        e2e::http_get(cluster.http_address(id), "/livez", plan.probe_timeout);
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    if (r.answered()) result->response_ms.push_back(ms);
    if (r.status != 200) {
      ++result->not_200;
      if (result->first_error.empty()) {
        result->first_error = "member " + std::to_string(id) + " /livez " +
                              std::to_string(r.status) + " " + r.error + r.body;
      }
    }
  }
  writer.join();
  result->writes_ok = load.ok;
  result->write_errors = load.errors;
  result->seconds = load.seconds;
  if (result->first_error.empty() && !load.first_error.empty()) {
    result->first_error = "writer: " + load.first_error;
  }
  result->sent = sent;
  return sent > 0;
}

}  // namespace raftmeta::bench::stall

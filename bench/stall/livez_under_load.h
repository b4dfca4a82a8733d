// measure_livez_under_load: the response-time half of the stall benchmark.
// Drives the leader with bench's closed-loop writer (CommitOffsets, `writers`
// outstanding on one channel) for as long as it takes one prober thread to
// send `requests` GET /livez, one at a time, round-robin over every member;
// each request opens its own connection, as a kubelet probe does.
//
// Thread use: the calling thread probes; one thread ("stall-bench-load")
// runs the writer and is joined before returning.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "bench/raftmeta_driver.h"
#include "e2e/cluster/process_cluster.h"

namespace raftmeta::bench::stall {

struct LivezLoadPlan {
  int requests = 10000;
  int writers = 64;
  std::chrono::milliseconds probe_timeout{1000};
};

struct LivezLoadResult {
  int sent = 0;                     // probes sent (fewer than planned if the window ended)
  std::vector<double> response_ms;  // of the answered probes
  int not_200 = 0;                  // answered with another code or not at all
  std::uint64_t writes_ok = 0;      // acknowledged by the writer meanwhile
  std::uint64_t write_errors = 0;
  double seconds = 0;  // the writer's measured window
  std::string first_error;
};

// `driver` must have been prepared (RaftmetaDriver::prepare) on this cluster.
bool measure_livez_under_load(const e2e::ProcessCluster& cluster, RaftmetaDriver& driver,
                              const LivezLoadPlan& plan, LivezLoadResult* result);

}  // namespace raftmeta::bench::stall

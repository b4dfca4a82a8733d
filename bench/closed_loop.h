// run_closed_loop: the benchmark's client. One channel, `clients` requests
// outstanding on one completion queue polled by the calling thread (the
// shape FACTS.md measured as the fastest gRPC C++ client here); each
// completion immediately starts that slot's next request. Requests that
// complete during the warm-up are not counted; after the measured window
// no new requests start and the outstanding ones are drained.
//
// Thread use: runs entirely on the calling thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "bench/latency_summary.h"
#include "bench/load_types.h"

namespace raftmeta::bench {

struct LoadOptions {
  int clients = 1;
  std::chrono::milliseconds warmup{500};
  std::chrono::milliseconds duration{3000};
  std::chrono::milliseconds request_timeout{5000};
};

struct LoadResult {
  std::uint64_t ok = 0;      // completed successfully inside the window
  std::uint64_t errors = 0;  // failed inside the window
  double seconds = 0;        // length of the window
  double throughput = 0;     // ok / seconds
  LatencySummary latency;    // of the successful requests in the window
  std::string first_error;   // "CODE: message" of the first failure, if any
};

LoadResult run_closed_loop(SystemDriver& driver, Operation op,
                           const std::shared_ptr<grpc::Channel>& channel,
                           const LoadOptions& options);

}  // namespace raftmeta::bench

// Distribution: min/p50/p90/p99/max of a sample of durations in
// milliseconds (nearest-rank percentiles), for the stall benchmark's tables.
#pragma once

#include <cstddef>
#include <vector>

namespace raftmeta::bench::stall {

struct Distribution {
  std::size_t count = 0;
  double min_ms = 0;
  double p50_ms = 0;
  double p90_ms = 0;
  double p99_ms = 0;
  double max_ms = 0;
};

// An empty sample gives count 0 and zeros.
Distribution distribution_of(std::vector<double> samples_ms);

}  // namespace raftmeta::bench::stall

// LatencySummary: percentiles of a set of request latencies.
#pragma once

#include <vector>

namespace raftmeta::bench {

struct LatencySummary {
  double p50_ms = 0;
  double p99_ms = 0;
  double p999_ms = 0;
  double max_ms = 0;
};

// Sorts `latencies_ms` in place; an empty set gives zeros.
LatencySummary summarize(std::vector<double>& latencies_ms);

// The median of `values` (the mean of the middle two for an even count;
// 0 when empty).
double median(std::vector<double> values);

}  // namespace raftmeta::bench

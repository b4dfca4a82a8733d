#include "bench/stall/distribution.h"

#include <algorithm>
#include <cmath>

namespace raftmeta::bench::stall {
namespace {

// Nearest rank: the smallest sample with at least q of the sample at or
// below it.
double nearest_rank(const std::vector<double>& sorted, double q) {
  const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

}  // namespace

Distribution distribution_of(std::vector<double> samples_ms) {
  Distribution d;
  d.count = samples_ms.size();
  if (samples_ms.empty()) return d;
  std::sort(samples_ms.begin(), samples_ms.end());
  d.min_ms = samples_ms.front();
  d.p50_ms = nearest_rank(samples_ms, 0.50);
  d.p90_ms = nearest_rank(samples_ms, 0.90);
  d.p99_ms = nearest_rank(samples_ms, 0.99);
  d.max_ms = samples_ms.back();
  return d;
}

}  // namespace raftmeta::bench::stall

#include "bench/latency_summary.h"

#include <algorithm>
#include <cmath>

namespace raftmeta::bench {
namespace {

// Nearest-rank percentile of a sorted, non-empty set.
double percentile(const std::vector<double>& sorted, double p) {
  const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * sorted.size()));
  return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

}  // namespace

LatencySummary summarize(std::vector<double>& latencies_ms) {
  LatencySummary s;
  if (latencies_ms.empty()) return s;
  std::sort(latencies_ms.begin(), latencies_ms.end());
  s.p50_ms = percentile(latencies_ms, 50);
  s.p99_ms = percentile(latencies_ms, 99);
  s.p999_ms = percentile(latencies_ms, 99.9);
  s.max_ms = latencies_ms.back();
  return s;
}

double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

}  // namespace raftmeta::bench

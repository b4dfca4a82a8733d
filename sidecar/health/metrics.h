// The node's metric set: plain atomics and fixed-bucket histograms that any
// thread updates without locks, and a renderer of the Prometheus text format.
//
// Writers: the Raft loop (term, is_leader, leader changes, elections, commit,
// proposals, turn durations), the storage writer (write durations), the apply
// thread (applied index), read handlers (read durations), the stall watchdog
// (stalls detected). Readers: the /metrics handler, from any thread. Every
// update is a relaxed atomic operation; a scrape sees each value as of some
// moment during the scrape (no cross-metric consistency is promised).
//
// This file depends on nothing but the standard library, so the sanitizer
// builds test it. metrics_prometheus.h (default build) serializes the same
// families with prometheus-cpp for the /metrics endpoint.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sidecar/health/stall_rules.h"

namespace raftmeta::health {

// A histogram with upper bounds fixed at construction. observe() is lock-free
// and safe from any number of threads.
class LatencyHistogram {
 public:
  // upper_bounds: strictly increasing, in seconds; +Inf is implicit.
  explicit LatencyHistogram(std::vector<double> upper_bounds);
  void observe(double seconds);

  struct Snapshot {
    std::vector<double> upper_bounds;       // without +Inf
    std::vector<std::uint64_t> cumulative;  // one per bound, then +Inf
    std::uint64_t count = 0;                // == cumulative.back()
    double sum = 0;
  };
  Snapshot snapshot() const;

 private:
  const std::vector<double> upper_bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;  // per bucket, not cumulative
  std::atomic<double> sum_{0};
};

// 100 µs .. 10 s, roughly x2.5 per step.
std::vector<double> default_latency_buckets();

enum class ProposalResult : int { kOk = 0, kDropped = 1, kFailed = 2 };
enum class ReadConsistency : int { kLinearizable = 0, kLease = 1, kStale = 2 };

struct NodeMetrics {
  std::atomic<std::uint64_t> term{0};
  std::atomic<bool> is_leader{false};
  std::atomic<std::uint64_t> leader_changes_total{0};
  std::atomic<std::uint64_t> elections_started_total{0};
  std::atomic<std::uint64_t> commit_index{0};
  std::atomic<std::uint64_t> applied_index{0};
  std::array<std::atomic<std::uint64_t>, 3> proposals_total{};        // by ProposalResult
  std::array<std::atomic<std::uint64_t>, 3> stalls_detected_total{};  // by Part

  LatencyHistogram raft_loop_turn_seconds{default_latency_buckets()};
  LatencyHistogram storage_write_seconds{default_latency_buckets()};
  std::array<LatencyHistogram, 3> read_seconds{
      // by ReadConsistency
      LatencyHistogram(default_latency_buckets()), LatencyHistogram(default_latency_buckets()),
      LatencyHistogram(default_latency_buckets())};

  void count_proposal(ProposalResult r) {
    proposals_total[static_cast<int>(r)].fetch_add(1, std::memory_order_relaxed);
  }
  void observe_read(ReadConsistency c, double seconds) {
    read_seconds[static_cast<int>(c)].observe(seconds);
  }
};

// A library-neutral picture of the metric families at one scrape.
struct MetricSample {
  std::vector<std::pair<std::string, std::string>> labels;
  double value = 0;                      // counter / gauge
  LatencyHistogram::Snapshot histogram;  // histogram
};
struct MetricFamilyData {
  enum class Type { kCounter, kGauge, kHistogram };
  std::string name;  // full name, e.g. raftmeta_term
  std::string help;
  Type type = Type::kGauge;
  std::vector<MetricSample> samples;
};

// All families, names prefixed "raftmeta_". The stalled{part} gauges come
// from `verdict` (judged at scrape time, like /livez); apply_lag is
// max(0, commit - applied).
std::vector<MetricFamilyData> collect_metric_families(const NodeMetrics& metrics,
                                                      const HealthVerdict& verdict);

// Prometheus text exposition format 0.0.4.
std::string render_prometheus_text(const std::vector<MetricFamilyData>& families);

}  // namespace raftmeta::health

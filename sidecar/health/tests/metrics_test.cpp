// Metrics: histogram bucketing, lock-free updates from many threads, and the
// text exposition parsed back (names, types, labels, values).
#include "sidecar/health/metrics.h"

#include <gtest/gtest.h>

#include <map>
#include <sstream>
#include <thread>

namespace raftmeta::health {
namespace {

// A minimal parser of the text format: TYPE lines and samples.
struct ParsedExposition {
  std::map<std::string, std::string> types;  // family -> type
  std::map<std::string, std::string> help;   // family -> help
  std::map<std::string, double> samples;     // "name{labels}" -> value
};

ParsedExposition parse_exposition(const std::string& text) {
  ParsedExposition out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (line.rfind("# TYPE ", 0) == 0) {
      std::istringstream l(line.substr(7));
      std::string name, type;
      l >> name >> type;
      EXPECT_EQ(out.types.count(name), 0u) << "duplicate TYPE for " << name;
      out.types[name] = type;
      continue;
    }
    if (line.rfind("# HELP ", 0) == 0) {
      const std::string rest = line.substr(7);
      const auto space = rest.find(' ');
      out.help[rest.substr(0, space)] = rest.substr(space + 1);
      continue;
    }
    EXPECT_NE(line[0], '#') << line;
    const auto space = line.rfind(' ');
    EXPECT_NE(space, std::string::npos) << line;
    const std::string value = line.substr(space + 1);
    out.samples[line.substr(0, space)] =
        value == "+Inf" ? std::numeric_limits<double>::infinity() : std::stod(value);
  }
  return out;
}

HealthVerdict apply_stalled_verdict() {
  ProgressSnapshot p;
  p.startup_done = true;
  p.startup_done_ns = 1;
  p.raft_loop_turn_ns = 20'000'000'000;
  p.apply_queued_index = 5;
  p.apply_wait_started_ns = 1;
  return judge(p, 20'000'000'000, StallLimits{});
}

TEST(LatencyHistogram, BucketsAreCumulativeWithLeSemantics) {
  LatencyHistogram h({0.001, 0.01, 0.1});
  h.observe(0.0005);
  h.observe(0.001);  // on the bound: counts in le="0.001"
  h.observe(0.05);
  h.observe(7);
  const auto s = h.snapshot();
  EXPECT_EQ(s.cumulative, (std::vector<std::uint64_t>{2, 2, 3, 4}));
  EXPECT_EQ(s.count, 4u);
  EXPECT_DOUBLE_EQ(s.sum, 0.0005 + 0.001 + 0.05 + 7);
}

TEST(LatencyHistogram, RejectsUnsortedBounds) {
  EXPECT_THROW(LatencyHistogram({0.1, 0.01}), std::invalid_argument);
  EXPECT_THROW(LatencyHistogram({0.1, 0.1}), std::invalid_argument);
}

TEST(LatencyHistogram, ConcurrentObservationsAreAllCounted) {
  LatencyHistogram h(default_latency_buckets());
  constexpr int kThreads = 4;
  constexpr int kEach = 20'000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&h, t] {
      for (int i = 0; i < kEach; ++i) h.observe(0.001 * (t + 1));
    });
  }
  // A concurrent reader sees monotonic cumulative counts.
  for (int i = 0; i < 100; ++i) {
    const auto s = h.snapshot();
    for (std::size_t b = 1; b < s.cumulative.size(); ++b) {
      ASSERT_LE(s.cumulative[b - 1], s.cumulative[b]);
    }
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(h.snapshot().count, static_cast<std::uint64_t>(kThreads * kEach));
}

TEST(Metrics, RendersEveryFamilyWithItsType) {
  NodeMetrics m;
  const auto text = render_prometheus_text(collect_metric_families(m, HealthVerdict{}));
  const ParsedExposition p = parse_exposition(text);
  const std::map<std::string, std::string> expected = {
      {"raftmeta_term", "gauge"},
      {"raftmeta_is_leader", "gauge"},
      {"raftmeta_leader_changes_total", "counter"},
      {"raftmeta_elections_started_total", "counter"},
      {"raftmeta_commit_index", "gauge"},
      {"raftmeta_applied_index", "gauge"},
      {"raftmeta_apply_lag", "gauge"},
      {"raftmeta_proposals_total", "counter"},
      {"raftmeta_raft_loop_turn_seconds", "histogram"},
      {"raftmeta_storage_write_seconds", "histogram"},
      {"raftmeta_read_seconds", "histogram"},
      {"raftmeta_stalled", "gauge"},
      {"raftmeta_stalls_detected_total", "counter"},
  };
  EXPECT_EQ(p.types, expected);
  for (const auto& [name, type] : expected) EXPECT_FALSE(p.help.at(name).empty()) << name;
}

TEST(Metrics, RendersValuesAndLabels) {
  NodeMetrics m;
  m.term = 7;
  m.is_leader = true;
  m.leader_changes_total = 2;
  m.elections_started_total = 3;
  m.commit_index = 120;
  m.applied_index = 100;
  m.count_proposal(ProposalResult::kOk);
  m.count_proposal(ProposalResult::kOk);
  m.count_proposal(ProposalResult::kDropped);
  m.raft_loop_turn_seconds.observe(0.0002);
  m.storage_write_seconds.observe(0.003);
  m.observe_read(ReadConsistency::kLease, 0.0004);
  m.stalls_detected_total[static_cast<int>(Part::kApplyLoop)] = 4;

  const ParsedExposition p =
      parse_exposition(render_prometheus_text(collect_metric_families(m, apply_stalled_verdict())));
  EXPECT_EQ(p.samples.at("raftmeta_term"), 7);
  EXPECT_EQ(p.samples.at("raftmeta_is_leader"), 1);
  EXPECT_EQ(p.samples.at("raftmeta_leader_changes_total"), 2);
  EXPECT_EQ(p.samples.at("raftmeta_elections_started_total"), 3);
  EXPECT_EQ(p.samples.at("raftmeta_commit_index"), 120);
  EXPECT_EQ(p.samples.at("raftmeta_applied_index"), 100);
  EXPECT_EQ(p.samples.at("raftmeta_apply_lag"), 20);
  EXPECT_EQ(p.samples.at("raftmeta_proposals_total{result=\"ok\"}"), 2);
  EXPECT_EQ(p.samples.at("raftmeta_proposals_total{result=\"dropped\"}"), 1);
  EXPECT_EQ(p.samples.at("raftmeta_proposals_total{result=\"failed\"}"), 0);
  EXPECT_EQ(p.samples.at("raftmeta_raft_loop_turn_seconds_bucket{le=\"0.0001\"}"), 0);
  EXPECT_EQ(p.samples.at("raftmeta_raft_loop_turn_seconds_bucket{le=\"0.00025\"}"), 1);
  EXPECT_EQ(p.samples.at("raftmeta_raft_loop_turn_seconds_bucket{le=\"+Inf\"}"), 1);
  EXPECT_EQ(p.samples.at("raftmeta_raft_loop_turn_seconds_count"), 1);
  EXPECT_DOUBLE_EQ(p.samples.at("raftmeta_raft_loop_turn_seconds_sum"), 0.0002);
  EXPECT_EQ(p.samples.at("raftmeta_storage_write_seconds_bucket{le=\"0.0025\"}"), 0);
  EXPECT_EQ(p.samples.at("raftmeta_storage_write_seconds_bucket{le=\"0.005\"}"), 1);
  EXPECT_EQ(p.samples.at("raftmeta_read_seconds_count{consistency=\"lease\"}"), 1);
  EXPECT_EQ(p.samples.at("raftmeta_read_seconds_count{consistency=\"linearizable\"}"), 0);
  EXPECT_EQ(p.samples.at("raftmeta_read_seconds_bucket{consistency=\"lease\",le=\"0.0005\"}"), 1);
  EXPECT_EQ(p.samples.at("raftmeta_stalled{part=\"apply_loop\"}"), 1);
  EXPECT_EQ(p.samples.at("raftmeta_stalled{part=\"raft_loop\"}"), 0);
  EXPECT_EQ(p.samples.at("raftmeta_stalled{part=\"storage\"}"), 0);
  EXPECT_EQ(p.samples.at("raftmeta_stalls_detected_total{part=\"apply_loop\"}"), 4);
}

TEST(Metrics, ApplyLagIsNeverNegative) {
  NodeMetrics m;
  m.commit_index = 5;
  m.applied_index = 9;  // written by different threads: may be seen out of order
  const ParsedExposition p =
      parse_exposition(render_prometheus_text(collect_metric_families(m, HealthVerdict{})));
  EXPECT_EQ(p.samples.at("raftmeta_apply_lag"), 0);
}

}  // namespace
}  // namespace raftmeta::health

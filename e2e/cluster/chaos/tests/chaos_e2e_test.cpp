// Chaos runs over real raftmeta-node processes, one per fault kind and one
// mixed (see README.md). Each asserts: the history is linearizable (which
// includes the final reads on every member, so an acknowledged write that
// was lost fails it), stale reads are true to their revision and monotonic,
// and the cluster recovered within its bound. It never asserts performance.
#include <gtest/gtest.h>

#include "e2e/cluster/chaos/chaos_run.h"

namespace raftmeta::chaos {
namespace {

using std::chrono::milliseconds;

// Length of the short runs and of the mixed run.
constexpr milliseconds kShortRun{15000};
constexpr milliseconds kMixedRun{40000};
constexpr milliseconds kAmnesiaRun{3000};
// Long enough for at least three partition shapes (gap 0.8-2 s, hold 1-4 s).
constexpr milliseconds kNetnsRun{20000};

void expect_safe_and_recovered(const ChaosRunResult& r) {
  ASSERT_TRUE(r.started) << r.setup_error;
  EXPECT_EQ(r.linearizability.verdict, Verdict::kLinearizable) << r.linearizability.summary();
  EXPECT_TRUE(r.stale.ok()) << r.totals();
  EXPECT_TRUE(r.recovery_problems.empty()) << r.totals() << r.diagnostics;
  // The run must have done something to be evidence of anything.
  EXPECT_GT(r.linearizability.checked_operations, 0u);
}

ChaosRunResult run(const std::string& name, std::vector<FaultKind> faults, milliseconds duration,
                   int port_base) {
  ChaosRunOptions o;
  o.name = name;
  o.faults = std::move(faults);
  o.duration = duration;
  o.port_base_hint = port_base;
  o.seed = static_cast<std::uint64_t>(::testing::UnitTest::GetInstance()->random_seed());
  return run_chaos(o);
}

TEST(ChaosE2e, Kill) {
  const auto r = run("kill", {FaultKind::kKill}, kShortRun, 24100);
  expect_safe_and_recovered(r);
  EXPECT_GT(r.faults.count("kill"), 0u) << r.totals();
}

TEST(ChaosE2e, Stop) {
  const auto r = run("stop", {FaultKind::kStop}, kShortRun, 24300);
  expect_safe_and_recovered(r);
  EXPECT_GT(r.faults.count("stop"), 0u) << r.totals();
}

TEST(ChaosE2e, Failpoints) {
  const auto r = run("failpoints", {FaultKind::kFailpoint}, kShortRun, 24500);
  expect_safe_and_recovered(r);
  EXPECT_FALSE(r.faults.empty()) << r.totals();
}

TEST(ChaosE2e, Partition) {
  const auto r = run("partition", {FaultKind::kPartition}, kShortRun, 24700);
  expect_safe_and_recovered(r);
  EXPECT_FALSE(r.faults.empty()) << r.totals();
}

// Real partitions in network namespaces: the leader isolated, a 2|1 split,
// one-way, a bridge, a member's client path cut (the shapes take turns).
TEST(ChaosE2e, NetnsPartition) {
  ChaosRunOptions o;
  o.name = "netns";
  o.faults = {FaultKind::kNetPartition};
  o.duration = kNetnsRun;
  o.port_base_hint = 25300;
  o.netns = true;
  o.seed = static_cast<std::uint64_t>(::testing::UnitTest::GetInstance()->random_seed());
  const auto r = run_chaos(o);
  if (!r.netns_unavailable.empty()) {
    GTEST_SKIP() << "network namespaces unavailable: " << r.netns_unavailable;
  }
  expect_safe_and_recovered(r);
  std::size_t shapes = 0;
  for (const auto& [kind, n] : r.faults) {
    if (kind.rfind("net-partition ", 0) == 0) ++shapes;
  }
  EXPECT_GE(shapes, 3u) << r.totals();  // the shapes take turns
}

// Followers replaced under load (remove, new id started with --join, add as
// learner, promote) while SIGKILLs and emulated partitions hit the cluster:
// the history stays linearizable, including the final reads on the new
// members.
TEST(ChaosE2e, Membership) {
  const auto r =
      run("membership", {FaultKind::kMembership, FaultKind::kKill, FaultKind::kPartition},
          kShortRun, 25400);
  expect_safe_and_recovered(r);
  EXPECT_GT(r.faults.count("member-replace"), 0u) << r.totals();
}

TEST(ChaosE2e, Mixed) {
  const auto r = run(
      "mixed", {FaultKind::kKill, FaultKind::kStop, FaultKind::kFailpoint, FaultKind::kPartition},
      kMixedRun, 24900);
  expect_safe_and_recovered(r);
  EXPECT_GE(r.faults.size(), 3u) << r.totals();  // kinds take turns
}

// The checker catches lost acknowledged writes end to end: the same pipeline
// (workload, recovery, final reads on every member, checker) over a cluster
// whose members all lost their data after acknowledging writes must report
// anomalies that name the operations involved.
TEST(ChaosE2e, CatchesLostAcknowledgedWrites) {
  ChaosRunOptions o;
  o.name = "amnesia";
  o.duration = kAmnesiaRun;
  o.port_base_hint = 25100;
  o.plant_total_amnesia = true;
  const auto r = run_chaos(o);
  ASSERT_TRUE(r.started) << r.setup_error;
  ASSERT_TRUE(r.recovery_problems.empty()) << r.totals() << r.diagnostics;
  EXPECT_EQ(r.linearizability.verdict, Verdict::kNotLinearizable) << r.totals();
  ASSERT_FALSE(r.linearizability.anomalies.empty());
  // The report names the final read that contradicts the acknowledged writes.
  EXPECT_NE(r.linearizability.anomalies[0].report.find("cannot place"), std::string::npos);
  EXPECT_NE(r.linearizability.anomalies[0].report.find("#"), std::string::npos);
}

}  // namespace
}  // namespace raftmeta::chaos

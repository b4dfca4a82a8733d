// raft_simulation_test: the seeded simulator at CI size (every fault kind, 3
// and 5 members, part-1 and part-2 profiles). Size via arguments:
//   raft_simulation_test --sim-runs=2000 --sim-steps=2000
// A failure prints each failing seed with its replay command.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>

#include "sidecar/raft/sim/sim_batch.h"

namespace raftmeta::raft::sim {
namespace {

std::uint64_t g_runs = 2000;
std::uint64_t g_steps = 2000;

TEST(RaftSimulation, SameSeedGivesTheSameRun) {
  BatchOptions batch;
  batch.steps = 600;
  for (std::uint64_t seed : {7, 8, 13}) {
    const SimOptions o = batch_run_options(batch, seed);
    const SimResult a = Simulation(o).run();
    const SimResult b = Simulation(o).run();
    EXPECT_EQ(a.ok, b.ok);
    EXPECT_EQ(a.violation, b.violation);
    EXPECT_EQ(a.stats.leaders, b.stats.leaders);
    EXPECT_EQ(a.stats.writes_acked, b.stats.writes_acked);
    EXPECT_EQ(a.stats.reads_lease, b.stats.reads_lease);
    EXPECT_EQ(a.stats.max_commit, b.stats.max_commit);
  }
}

// The CI batch: every run must keep every invariant and recover after healing.
TEST(RaftSimulation, SeededRunsKeepEveryInvariant) {
  BatchOptions batch;
  batch.first_seed = 1;
  batch.runs = g_runs;
  batch.steps = g_steps;
  batch.nodes = 0;        // 3 and 5 alternately
  batch.profile = "all";  // every profile, so every fault kind
  batch.stop_on_failure = false;
  BatchResult result;
  ASSERT_TRUE(run_batch(batch, &result, nullptr));
  EXPECT_EQ(result.runs, g_runs);
  for (const std::string& report : result.failure_reports) ADD_FAILURE() << report;
  std::cout << result.runs << " runs x " << g_steps << " steps: leaders " << result.totals.leaders
            << ", writes acked " << result.totals.writes_acked << ", ReadIndex reads "
            << result.totals.reads_read_index << ", lease reads " << result.totals.reads_lease
            << ", crashes " << result.totals.crashes << ", partitions " << result.totals.partitions
            << ", conf changes " << result.totals.conf_changes << ", snapshots "
            << result.totals.snapshots << "\n";
  // The batch exercised what it claims to (a simulator that does nothing passes nothing).
  EXPECT_GT(result.totals.writes_acked, 0u);
  EXPECT_GT(result.totals.reads_read_index, 0u);
  EXPECT_GT(result.totals.reads_lease, 0u);
  EXPECT_GT(result.totals.crashes, 0u);
  EXPECT_GT(result.totals.partitions, 0u);
  if (g_runs >= 10) {
    EXPECT_GT(result.totals.conf_changes, 0u);
    EXPECT_GT(result.totals.snapshots, 0u);
  }
}

}  // namespace
}  // namespace raftmeta::raft::sim

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--sim-runs=", 11) == 0) {
      raftmeta::raft::sim::g_runs = std::strtoull(argv[i] + 11, nullptr, 10);
    } else if (std::strncmp(argv[i], "--sim-steps=", 12) == 0) {
      raftmeta::raft::sim::g_steps = std::strtoull(argv[i] + 12, nullptr, 10);
    } else {
      std::cerr << "unknown argument " << argv[i] << "\n";
      return 2;
    }
  }
  return RUN_ALL_TESTS();
}

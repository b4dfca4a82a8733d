// raft_sim_runner: runs seeded Raft simulations from the command line.
//
//   raft_sim_runner --seed 123 --steps 2000 --nodes 5 --profile mixed   # replay one run
//   raft_sim_runner --seed 1 --runs 2000                                # the CI batch
//   raft_sim_runner --duration 3600                                     # soak
//   raft_sim_runner --runs 400 --profile lease --mutation-expect-failure
//
// Exit status: 0 when every run passed (or, with --mutation-expect-failure,
// when some run found a violation); 1 otherwise; 2 on bad arguments.
#include <CLI/CLI.hpp>
#include <chrono>
#include <iostream>

#include "sidecar/raft/sim/sim_batch.h"

int main(int argc, char** argv) {
  using namespace raftmeta::raft::sim;
  CLI::App app{"Seeded simulation of raftmeta's Raft core"};
  BatchOptions batch;
  bool expect_failure = false;
  app.add_option("--seed", batch.first_seed, "first seed (runs use seed, seed+1, ...)");
  app.add_option("--runs", batch.runs, "number of seeded runs");
  app.add_option("--steps", batch.steps, "steps per run");
  app.add_option("--nodes", batch.nodes, "initial members (0: 3 and 5 alternately)");
  app.add_option("--profile", batch.profile,
                 "fault profile: mixed, membership, partitions, lease, snapshots, or all (cycled)");
  app.add_option(
      "--bootstrap", batch.bootstrap,
      "initial configuration: snapshot (index-0 snapshot), log (conf-change entries), auto");
  app.add_option("--duration", batch.duration_seconds, "soak: run seeds for this many seconds");
  app.add_option("--trace-tail", batch.trace_tail, "events printed with a failure");
  app.add_flag("--verbose", batch.verbose,
               "trace every delivered message and Ready (use with --trace-tail)");
  app.add_flag("--mutation-expect-failure", expect_failure,
               "succeed only if some run reports an invariant violation (for planted bugs)");
  CLI11_PARSE(app, argc, argv);

  const auto started = std::chrono::steady_clock::now();
  BatchResult result;
  if (!run_batch(batch, &result, &std::cerr)) {
    std::cerr << "unknown profile '" << batch.profile << "' or bootstrap '" << batch.bootstrap
              << "'\n";
    return 2;
  }
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - started;
  std::cout << result.runs << " runs (" << batch.steps << " steps each) in " << elapsed.count()
            << " s: " << result.failures << " failed; leaders " << result.totals.leaders
            << ", writes acked " << result.totals.writes_acked << ", ReadIndex reads "
            << result.totals.reads_read_index << ", lease reads " << result.totals.reads_lease
            << ", crashes " << result.totals.crashes << ", partitions " << result.totals.partitions
            << ", conf changes " << result.totals.conf_changes << ", snapshots "
            << result.totals.snapshots << "\n";
  if (expect_failure) {
    if (result.failures > 0) {
      std::cout << "mutation caught after " << result.runs << " run(s)\n";
      return 0;
    }
    std::cout << "mutation NOT caught within " << result.runs << " run(s)\n";
    return 1;
  }
  return result.failures == 0 ? 0 : 1;
}

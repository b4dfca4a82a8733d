// SimBatch (see sim_batch.h). The wall clock is read only to stop a soak; it
// never influences a run.
#include "sidecar/raft/sim/sim_batch.h"

#include <chrono>
#include <ostream>

namespace raftmeta::raft::sim {

namespace {
const char* const kAllProfiles[] = {"mixed", "membership", "partitions", "lease", "snapshots"};
}

SimOptions batch_run_options(const BatchOptions& batch, std::uint64_t seed) {
  SimOptions o;
  o.seed = seed;
  o.steps = batch.steps;
  o.trace_tail = batch.trace_tail;
  o.verbose = batch.verbose;
  o.nodes = batch.nodes != 0 ? batch.nodes : (seed % 2 == 0 ? 3 : 5);
  const std::string name = batch.profile == "all" ? kAllProfiles[(seed / 2) % 5] : batch.profile;
  fault_profile_by_name(name, &o.profile);
  if (!bootstrap_by_name(batch.bootstrap, &o.bootstrap)) {
    o.bootstrap = (seed / 10) % 2 == 0 ? Bootstrap::kLog : Bootstrap::kSnapshot;
  }
  return o;
}

std::string failure_report(const SimOptions& options, const SimResult& result) {
  std::string out = "SIMULATION FAILED: seed " + std::to_string(options.seed) + " at step " +
                    std::to_string(result.failed_step) + "\n  replay: " + replay_command(options) +
                    "\n  violated: " + result.violation + "\n  last events:\n";
  for (const std::string& line : result.trace_tail) out += "    " + line + "\n";
  return out;
}

bool run_batch(const BatchOptions& batch, BatchResult* out, std::ostream* progress) {
  FaultProfile probe;
  if (batch.profile != "all" && !fault_profile_by_name(batch.profile, &probe)) return false;
  Bootstrap bootstrap;
  if (batch.bootstrap != "auto" && !bootstrap_by_name(batch.bootstrap, &bootstrap)) return false;
  const auto started = std::chrono::steady_clock::now();
  for (std::uint64_t i = 0;; ++i) {
    if (batch.duration_seconds > 0) {
      const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - started;
      if (elapsed.count() >= batch.duration_seconds) break;
    } else if (i >= batch.runs) {
      break;
    }
    const SimOptions options = batch_run_options(batch, batch.first_seed + i);
    Simulation sim(options);
    const SimResult r = sim.run();
    ++out->runs;
    out->totals.leaders += r.stats.leaders;
    out->totals.writes_acked += r.stats.writes_acked;
    out->totals.reads_read_index += r.stats.reads_read_index;
    out->totals.reads_lease += r.stats.reads_lease;
    out->totals.crashes += r.stats.crashes;
    out->totals.partitions += r.stats.partitions;
    out->totals.conf_changes += r.stats.conf_changes;
    out->totals.snapshots += r.stats.snapshots;
    if (!r.ok) {
      ++out->failures;
      out->failure_reports.push_back(failure_report(options, r));
      if (progress) *progress << out->failure_reports.back() << std::flush;
      if (batch.stop_on_failure) break;
    }
  }
  return true;
}

}  // namespace raftmeta::raft::sim

// SimBatch: runs many seeded simulations (the CI size, a soak for a duration,
// or a mutation hunt) and reports the first failure with its replay command.
//
// Thread safety: none; used by one thread.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "sidecar/raft/sim/simulation.h"

namespace raftmeta::raft::sim {

struct BatchOptions {
  std::uint64_t first_seed = 1;
  std::uint64_t runs = 1;
  std::uint64_t steps = 2000;
  std::size_t nodes = 0;        // 0: 3 and 5 alternately by seed
  std::string profile = "all";  // a profile name, or "all": cycled by seed
  // "snapshot", "log", or "auto": each in turn, by seed.
  std::string bootstrap = "auto";
  double duration_seconds = 0;  // > 0: keep going until this much wall time has passed
  bool stop_on_failure = true;
  std::size_t trace_tail = 40;
  bool verbose = false;
};

struct BatchResult {
  std::uint64_t runs = 0;
  std::uint64_t failures = 0;
  std::vector<std::string> failure_reports;  // one per failure: seed, replay, violation, trace tail
  SimStats totals;
};

// The options of run number `seed` in a batch.
SimOptions batch_run_options(const BatchOptions& batch, std::uint64_t seed);
// Formats a failed run for people: seed, replay command, violation, trace tail.
std::string failure_report(const SimOptions& options, const SimResult& result);
// Returns false if `batch.profile` or `batch.bootstrap` names nothing known.
bool run_batch(const BatchOptions& batch, BatchResult* out, std::ostream* progress);

}  // namespace raftmeta::raft::sim

// Linearizability checker for chaos histories: Wing and Gong's search with
// Lowe's memoization (the algorithm Porcupine uses), run separately for each
// key, which is sound because every operation touches one key and
// linearizability is compositional (P-compositionality).
//
// For each key the search walks the history's call and return events in time
// order, tries to linearize a pending call at the model state reached so far,
// and backtracks when it meets the return of an operation it has not placed.
// (linearized set, model state) pairs already explored are cached, so every
// configuration is explored once. Calls and returns with equal stamps count as
// concurrent (calls first), which can only make the checker more permissive.
//
// Operations with an unknown outcome return "at infinity": they stay open to
// the end and may be placed anywhere after their call, or not take effect.
// Stale reads (ReadLevel::kStale) are not judged here: they are not required
// to be linearizable (see stale_read_checker.h); they are counted as skipped.
//
// A search that exhausts its budget answers kBudgetExhausted, which callers
// must treat as a failure: the checker never passes by default.
//
// Pure; safe from any thread (no shared state).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "e2e/cluster/chaos/history.h"

namespace raftmeta::chaos {

enum class Verdict { kLinearizable, kNotLinearizable, kBudgetExhausted };
const char* to_string(Verdict verdict);

struct CheckOptions {
  std::chrono::milliseconds time_budget{120000};  // over every key
  std::uint64_t step_budget = 200'000'000;        // search steps over every key
  // Judge a write's definite rejection (ALREADY_EXISTS on create, NOT_FOUND
  // on delete) against the model. When false such writes are left out (they
  // had no effect, so leaving them out only weakens the check) and counted as
  // skipped. raftmeta-node currently validates a write against the state of
  // the member that receives it, which may lag: a create can be refused with
  // ALREADY_EXISTS after a linearizable read saw the topic deleted (found by
  // the soak; see README.md). Until that is fixed the CI runs pass false.
  bool judge_write_rejections = true;
};

struct KeyVerdict {
  std::string key;
  Verdict verdict = Verdict::kLinearizable;
  std::size_t operations = 0;
  // For kNotLinearizable: the operations involved (the longest linearized
  // prefix found, the operation that could not be placed after it, and the
  // operations pending at that point), one per line.
  std::string report;
};

struct CheckResult {
  Verdict verdict = Verdict::kLinearizable;  // the worst over every key
  std::size_t checked_operations = 0;
  std::size_t keys = 0;
  std::size_t skipped_stale_reads = 0;
  std::size_t skipped_write_rejections = 0;
  std::uint64_t steps = 0;
  std::vector<KeyVerdict> anomalies;  // every key whose verdict is not kLinearizable
  std::string summary() const;        // one line, then each anomaly's report
};

CheckResult check_linearizability(const std::vector<Operation>& history,
                                  const CheckOptions& options = {});

}  // namespace raftmeta::chaos

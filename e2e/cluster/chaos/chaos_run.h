// One chaos run from start to verdict: start a cluster of real raftmeta-node
// processes (retrying set-up on a fresh cluster if it fails), run the
// workload while the nemesis injects faults, heal every fault, wait for the
// cluster to recover, read every key from every member, and check the
// history. Used by the ctest cases and by the soak driver.
//
// The run FAILS only on safety (a history that is not linearizable, a stale
// read that lies about its revision or goes back in time, an acknowledged
// write missing from the final reads — that shows up as a non-linearizable
// final read), on a checker that could not decide within its budget, and on
// recovery beyond a generous bound. Throughput and latency never fail it.
//
// Thread use: one caller thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "e2e/cluster/chaos/linearizability_checker.h"
#include "e2e/cluster/chaos/nemesis.h"
#include "e2e/cluster/chaos/stale_read_checker.h"
#include "e2e/cluster/chaos/workload.h"

namespace raftmeta::chaos {

struct ChaosRunOptions {
  std::string name = "chaos";
  std::vector<FaultKind> faults;
  std::chrono::milliseconds duration{15000};  // workload time under faults
  int members = 3;
  int clients = 4;
  int port_base_hint = 24000;
  std::uint64_t seed = 1;
  NemesisOptions nemesis;  // kinds and seed are filled from the fields above
  // Environment of every member (planted-bug runs).
  std::map<std::string, std::string> member_env;
  bool verbose = true;  // print totals to stdout
  // See CheckOptions::judge_write_rejections. On everywhere since a 30-minute
  // strict soak confirmed the fix of stale write validation (README.md); the
  // soak's --lenient turns it off.
  bool judge_write_rejections = true;
  // A planted fault that proves the checker end to end: after the workload
  // stopped, every member is killed, its data directory wiped, and the
  // cluster bootstrapped again empty, so every acknowledged write is lost.
  // The run must then report anomalies naming those writes.
  bool plant_total_amnesia = false;
  // Run every member in its own network namespace (netns.h), so
  // FaultKind::kNetPartition makes real partitions. When namespaces cannot
  // be created the run does not start and ChaosRunResult::netns_unavailable
  // says why.
  bool netns = false;
  // The node binary (empty: raftmeta-node; planted-bug runs set
  // raftmeta-node-planted).
  std::string node_binary;
};

struct ChaosRunResult {
  bool started = false;           // a cluster came up and the workload set up
  std::string netns_unavailable;  // options.netns and no namespaces: why
  std::string setup_error;
  WorkloadTotals workload;
  CheckResult linearizability;
  StaleReadResult stale;
  std::map<std::string, std::uint64_t> faults;
  std::vector<std::string> recovery_problems;
  std::chrono::milliseconds recovery_time{0};
  std::chrono::milliseconds recovery_bound{0};
  std::string diagnostics;  // member logs and /status when something failed

  bool safe() const { return linearizability.verdict == Verdict::kLinearizable && stale.ok(); }
  bool passed() const { return started && safe() && recovery_problems.empty(); }
  std::string totals() const;  // the report printed at the end of a run
};

ChaosRunResult run_chaos(const ChaosRunOptions& options);

// Bound on recovery after the last fault healed: a restarted member's
// start-up wait, then elections (10 election timeouts, several rounds with
// PreVote and randomized timers), plus the harness slack and kRecoverySlack.
std::chrono::milliseconds recovery_bound(const e2e::ClusterOptions& cluster);
inline constexpr std::chrono::milliseconds kRecoverySlack{15000};

}  // namespace raftmeta::chaos

#include "bench/recovery_suite.h"

#include <algorithm>
#include <iostream>
#include <thread>

#include "bench/latency_summary.h"
#include "bench/write_probe.h"

namespace raftmeta::bench {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// How long a recovery may take before a repetition counts as failed.
constexpr milliseconds kRecoveryLimit{30000};
// Acknowledged probe writes required before a disruption (a warm cluster).
constexpr std::uint64_t kWarmWrites = 20;

std::vector<std::string> endpoints(BenchCluster& cluster) {
  std::vector<std::string> out;
  for (int id : cluster.members()) out.push_back(cluster.client_address(id));
  return out;
}

nlohmann::json summary(const std::vector<double>& reps, int failed) {
  return {{"reps_ms", reps},
          {"median_ms", median(reps)},
          {"max_ms", reps.empty() ? 0.0 : *std::max_element(reps.begin(), reps.end())},
          {"failed", failed}};
}

}  // namespace

bool run_failover(const BenchSettings& settings, SystemUnderTest sut, nlohmann::json* out,
                  std::string* error) {
  BenchCluster& cluster = *sut.cluster;
  std::vector<double> reps;
  std::vector<double> elections;
  int failed = 0;
  for (int rep = 0; rep < settings.failover_reps; ++rep) {
    const auto leader = cluster.leader(milliseconds(20000));
    if (!leader) {
      *error = cluster.name() + ": no leader before failover\n" + cluster.diagnostics();
      return false;
    }
    WriteProbe probe(*sut.driver, endpoints(cluster), settings.probe_interval,
                     settings.probe_timeout);
    if (!probe.wait_successes(kWarmWrites, milliseconds(20000))) {
      *error = cluster.name() + ": writes do not succeed before failover\n" + cluster.diagnostics();
      return false;
    }
    const Clock::time_point killed_at = Clock::now();
    cluster.kill(*leader);
    // The new leader as the survivors' status reports it (polled every 50 ms):
    // separates the election from what the write path adds after it.
    std::optional<double> elected;
    if (cluster.leader(kRecoveryLimit)) {
      elected = std::chrono::duration<double, std::milli>(Clock::now() - killed_at).count();
    }
    const auto recovered = probe.recovery_after(killed_at, kRecoveryLimit);
    probe.stop();
    if (recovered) {
      reps.push_back(*recovered);
    } else {
      ++failed;
    }
    if (elected) elections.push_back(*elected);
    std::cerr << "  " << cluster.name() << " failover " << rep + 1 << ": leader " << *leader
              << " killed, new leader seen after "
              << (elected ? std::to_string(static_cast<long>(*elected)) + " ms" : "never")
              << ", writes back after "
              << (recovered ? std::to_string(static_cast<long>(*recovered)) + " ms" : "never")
              << "\n";
    if (!cluster.restart(*leader, error)) return false;
    if (!cluster.leader(milliseconds(20000))) {
      *error = cluster.name() + ": no leader after restart\n" + cluster.diagnostics();
      return false;
    }
    // Let the restarted member catch up before the next disruption.
    std::this_thread::sleep_for(milliseconds(1000));
  }
  *out = summary(reps, failed);
  (*out)["election_ms"] = settings.election_ms;
  (*out)["leader_seen_ms"] = elections;
  (*out)["leader_seen_median_ms"] = median(elections);
  return true;
}

bool run_stall_recovery(const BenchSettings& settings, RaftmetaCluster& cluster,
                        SystemDriver& driver, nlohmann::json* out, std::string* error) {
  std::vector<double> reps;
  std::vector<double> livez;
  int failed = 0;
  for (int rep = 0; rep < settings.stall_reps; ++rep) {
    const auto leader = cluster.leader(milliseconds(20000));
    if (!leader) {
      *error = "raftmeta: no leader before the stall\n" + cluster.diagnostics();
      return false;
    }
    WriteProbe probe(driver, endpoints(cluster), settings.probe_interval, settings.probe_timeout);
    if (!probe.wait_successes(kWarmWrites, milliseconds(20000))) {
      *error = "raftmeta: writes do not succeed before the stall\n" + cluster.diagnostics();
      return false;
    }
    const Clock::time_point blocked_at = Clock::now();
    if (!cluster.set_failpoint(*leader, "apply-loop", "block")) {
      *error = "raftmeta: cannot set the apply-loop failpoint (--enable-failpoints?)";
      return false;
    }
    // /livez of the stalled leader: polled here while the probe writes.
    std::optional<double> livez_ms;
    const Clock::time_point livez_deadline =
        blocked_at + milliseconds(settings.apply_stall_ms) + kRecoveryLimit;
    while (Clock::now() < livez_deadline) {
      if (cluster.livez(*leader, milliseconds(500)) == 503) {
        livez_ms = std::chrono::duration<double, std::milli>(Clock::now() - blocked_at).count();
        break;
      }
      std::this_thread::sleep_for(milliseconds(20));
    }
    const auto recovered =
        probe.recovery_after(blocked_at, milliseconds(settings.apply_stall_ms) + kRecoveryLimit);
    probe.stop();
    if (recovered) {
      reps.push_back(*recovered);
    } else {
      ++failed;
    }
    if (livez_ms) livez.push_back(*livez_ms);
    std::cerr << "  raftmeta apply stall " << rep + 1 << ": leader " << *leader
              << " blocked, writes back after "
              << (recovered ? std::to_string(static_cast<long>(*recovered)) + " ms" : "never")
              << ", /livez 503 after "
              << (livez_ms ? std::to_string(static_cast<long>(*livez_ms)) + " ms" : "never")
              << "\n";
    if (!cluster.set_failpoint(*leader, "apply-loop", "off")) {
      *error = "raftmeta: cannot clear the apply-loop failpoint\n" + cluster.diagnostics();
      return false;
    }
    const Clock::time_point live_deadline = Clock::now() + kRecoveryLimit;
    while (cluster.livez(*leader, milliseconds(500)) != 200) {
      if (Clock::now() >= live_deadline) {
        *error = "raftmeta: the unblocked member did not become live\n" + cluster.diagnostics();
        return false;
      }
      std::this_thread::sleep_for(milliseconds(50));
    }
    if (!cluster.leader(milliseconds(20000))) {
      *error = "raftmeta: no leader after the stall\n" + cluster.diagnostics();
      return false;
    }
    std::this_thread::sleep_for(milliseconds(1000));
  }
  *out = summary(reps, failed);
  (*out)["livez_fail_ms"] = livez;
  (*out)["livez_fail_median_ms"] = median(livez);
  (*out)["apply_stall_ms"] = settings.apply_stall_ms;
  return true;
}

}  // namespace raftmeta::bench

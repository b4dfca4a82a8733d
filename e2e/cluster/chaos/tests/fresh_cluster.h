// Set-up for the chaos tests that build their own cluster: a new cluster on
// fresh processes and data, retried a few times (moving the port base), so a
// member that failed to start on a loaded machine does not fail the test —
// the same policy as run_chaos (chaos_run.cpp). What the test then asserts is
// unaffected.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "e2e/cluster/process_cluster.h"

namespace raftmeta::chaos {

inline constexpr int kFreshClusterAttempts = 3;

// Started (every /startupz passed) with an agreed leader, or nullptr with
// every attempt's error and diagnostics in *errors.
inline std::unique_ptr<e2e::ProcessCluster> start_fresh_cluster(e2e::ClusterOptions options,
                                                                std::string* errors) {
  const int base = options.port_base_hint;
  const auto leader_wait = std::chrono::milliseconds(10000) +
                           std::chrono::milliseconds(4 * options.election_ms) + e2e::kSlack;
  for (int attempt = 0; attempt < kFreshClusterAttempts; ++attempt) {
    options.port_base_hint = base + attempt * 37;
    auto cluster = std::make_unique<e2e::ProcessCluster>(options);
    std::string error;
    if (cluster->start_all(&error) && cluster->wait_leader(leader_wait)) return cluster;
    *errors +=
        "attempt " + std::to_string(attempt + 1) + ": " + error + "\n" + cluster->diagnostics(10);
  }
  return nullptr;
}

}  // namespace raftmeta::chaos

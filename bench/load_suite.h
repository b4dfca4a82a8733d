// run_load_suite: the throughput/latency rows. For each row and round it runs
// the same closed-loop client against raftmeta and then etcd (their leaders,
// found anew before each run), so both see the same machine state; each
// figure is the median over the rounds. Writes also record the CPU seconds
// all three members of the system spent per 1,000 acknowledged writes.
//
// Thread use: the calling thread (the clients run on it).
#pragma once

#include <nlohmann/json.hpp>

#include "bench/bench_cluster.h"
#include "bench/bench_settings.h"
#include "bench/load_types.h"

namespace raftmeta::bench {

struct SystemUnderTest {
  BenchCluster* cluster;
  SystemDriver* driver;
};

// Returns {"rows": [...]} (see docs/performance.md for the fields); false
// with *error when a cluster lost its leader for good.
bool run_load_suite(const BenchSettings& settings, SystemUnderTest raftmeta, SystemUnderTest etcd,
                    nlohmann::json* out, std::string* error);

}  // namespace raftmeta::bench

// The recovery measurements, each repeated and reported as every
// repetition plus median and max:
// - run_failover: with a WriteProbe writing to every member, SIGKILL the
//   leader and time until a write that started after the kill is
//   acknowledged (and, on the side, until the survivors report a new
//   leader); then restart the killed member from its data and wait
//   for a leader all agree on before the next repetition.
// - run_stall_recovery (raftmeta only): block the leader's apply-loop
//   failpoint and time until writes succeed again (on the new leader the
//   stalled one hands over to) and until its /livez fails; then unblock.
//
// Thread use: the calling thread (plus the probe's own thread).
#pragma once

#include <nlohmann/json.hpp>

#include "bench/bench_settings.h"
#include "bench/load_suite.h"
#include "bench/raftmeta_cluster.h"

namespace raftmeta::bench {

bool run_failover(const BenchSettings& settings, SystemUnderTest sut, nlohmann::json* out,
                  std::string* error);

bool run_stall_recovery(const BenchSettings& settings, RaftmetaCluster& cluster,
                        SystemDriver& driver, nlohmann::json* out, std::string* error);

}  // namespace raftmeta::bench

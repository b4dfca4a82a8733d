// measure_fdatasync: the raw durability cost of the disk the clusters use:
// `count` appends of 4 KiB, each followed by fdatasync, in a scratch file in
// `dir` (removed afterwards). It is the floor under any fsync-per-commit
// write latency.
#pragma once

#include <string>

#include "bench/latency_summary.h"

namespace raftmeta::bench {

// Latencies of pwrite + fdatasync; zeros when the file cannot be written.
LatencySummary measure_fdatasync(const std::string& dir, int count);

}  // namespace raftmeta::bench

// measure_fdatasync: the raw durability cost of the disk the clusters use:
// `count` writes of 4 KiB, each followed by fdatasync, in a scratch file in
// `dir` (removed afterwards). It is the floor under any fsync-per-commit
// write latency. `append` grows the file with every write (fdatasync must
// then also commit the new size to the file system's journal); otherwise
// the writes go over a file written and synced beforehand, as into etcd's
// preallocated WAL segments or SQLite's reused WAL file.
#pragma once

#include <string>

#include "bench/latency_summary.h"

namespace raftmeta::bench {

// Latencies of pwrite + fdatasync; zeros when the file cannot be written.
LatencySummary measure_fdatasync(const std::string& dir, int count, bool append);

}  // namespace raftmeta::bench

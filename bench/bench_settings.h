// BenchSettings: everything one benchmark run is parameterised by (the
// raftmeta-bench command line), with the full run's defaults.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace raftmeta::bench {

struct BenchSettings {
  std::string etcd_binary = "/usr/bin/etcd";
  std::string work_dir;  // clusters' data and logs; $TMPDIR when empty
  std::size_t value_size = 256;
  int rounds = 3;  // each throughput figure is the median of this many rounds
  std::chrono::milliseconds warmup{500};
  std::chrono::milliseconds round{3000};
  std::vector<int> write_clients = {1, 16, 64, 256};
  std::vector<int> read_clients = {1, 64};
  int failover_reps = 15;  // timeouts are random in [1, 2) x election: a median needs a dozen
  int stall_reps = 3;
  int apply_stall_ms = 10000;  // raftmeta-node --apply-stall-ms (its default)
  int heartbeat_ms = 100;      // both systems
  int election_ms = 1000;      // both systems
  int fdatasync_count = 2000;
  std::chrono::milliseconds probe_interval{5};
  std::chrono::milliseconds probe_timeout{1000};
};

}  // namespace raftmeta::bench

// Named fault profiles (see sim_options.h).
#include "sidecar/raft/sim/sim_options.h"

namespace raftmeta::raft::sim {

bool fault_profile_by_name(std::string_view name, FaultProfile* out) {
  FaultProfile p;
  p.name = std::string(name);
  if (name == "mixed") {
    // The defaults: every part-1 fault kind at a moderate rate.
  } else if (name == "membership") {
    p.conf_change_ppm = 15'000;
    p.snapshot_ppm = 10'000;
  } else if (name == "partitions") {
    p.partition_ppm = 15'000;
    p.partition_heal_ppm = 8'000;
    p.crash_ppm = 6'000;
    p.restart_ppm = 40'000;
    p.drop_ppm = 100'000;
    p.max_down = 2;
  } else if (name == "lease") {
    p.partition_ppm = 12'000;
    p.partition_heal_ppm = 6'000;
    p.crash_ppm = 1'000;
    p.lease_read_ppm = 600'000;
    p.write_ppm = 500'000;
    p.sync_stall_ppm = 50'000;
  } else if (name == "snapshots") {
    p.conf_change_ppm = 8'000;
    p.snapshot_ppm = 60'000;
    p.partition_ppm = 8'000;
    p.crash_ppm = 4'000;
    p.write_ppm = 500'000;
  } else {
    return false;
  }
  *out = p;
  return true;
}

std::string_view to_string(Bootstrap b) { return b == Bootstrap::kSnapshot ? "snapshot" : "log"; }

bool bootstrap_by_name(std::string_view name, Bootstrap* out) {
  if (name == "snapshot") {
    *out = Bootstrap::kSnapshot;
  } else if (name == "log") {
    *out = Bootstrap::kLog;
  } else {
    return false;
  }
  return true;
}

}  // namespace raftmeta::raft::sim

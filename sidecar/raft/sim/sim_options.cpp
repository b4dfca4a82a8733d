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
    p.max_sync_stall_steps = 1;
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

}  // namespace raftmeta::raft::sim

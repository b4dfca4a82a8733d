// The stall benchmark's Markdown report: the settings, one row per injection
// kind (detection time min/p50/p90/p99/max, the same minus the limit,
// detections earlier than the limit, misses, restarts, recovery p50/max),
// and the /livez response time under write load, with the targets
// (detection p99 within limit + 1 s, /livez p99 under 10 ms) checked.
#pragma once

#include <string>
#include <vector>

#include "bench/stall/livez_under_load.h"
#include "bench/stall/stall_injection.h"

namespace raftmeta::bench::stall {

struct StallBenchSettings {
  int injections = 20;
  int loop_stall_ms = 2000;
  int apply_stall_ms = 2000;
  int storage_stall_ms = 2000;
  int heartbeat_ms = 100;
  int election_ms = 1000;
  int poll_ms = 10;
  int load_writers = 1;  // sequential writers (WriteLoad) during injections
  int livez_requests = 10000;
  int livez_writers = 64;
};

struct StallBenchReport {
  std::string started_utc;
  std::string command;
  StallBenchSettings settings;
  std::vector<InjectionResult> injections;
  bool livez_measured = false;
  LivezLoadResult livez;
  double total_seconds = 0;
};

// The whole report (a "# " title, settings, the tables, notes).
std::string render_report(const StallBenchReport& report);
// The section appended to docs/performance.md: "## Stall detection", a line
// naming the results file, and the two tables.
std::string render_performance_section(const StallBenchReport& report,
                                       const std::string& results_file);

}  // namespace raftmeta::bench::stall

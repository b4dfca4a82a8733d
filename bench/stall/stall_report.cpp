#include "bench/stall/stall_report.h"

#include <cstdio>
#include <sstream>

#include "bench/stall/distribution.h"

namespace raftmeta::bench::stall {
namespace {

constexpr double kDetectionSlackTargetMs = 1000;  // issue 8: p99 within limit + 1 s
constexpr double kLivezP99TargetMs = 10;          // issue 8: /livez p99 under 10 ms

std::string fmt(double v, int decimals = 0) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string injection_tables(const StallBenchReport& r) {
  std::ostringstream o;
  o << "Time from `PUT /failpoints/<point>` (block) being sent to the first 503 from that "
       "member's `/livez` (polled every "
    << r.settings.poll_ms << " ms), in ms:\n\n"
    << "| failpoint | member | limit | n | min | p50 | p90 | p99 | max | p99 − limit | "
       "target (p99 ≤ limit + 1 s) |\n"
    << "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n";
  for (const InjectionResult& inj : r.injections) {
    const Distribution d = distribution_of(inj.detection_ms);
    const double limit = static_cast<double>(inj.limit.count());
    const bool met = d.count > 0 && inj.missed == 0 && d.p99_ms <= limit + kDetectionSlackTargetMs;
    o << "| `" << inj.failpoint << "` | " << target_role_name(inj.role) << " | " << fmt(limit)
      << " | " << d.count << " | " << fmt(d.min_ms) << " | " << fmt(d.p50_ms) << " | "
      << fmt(d.p90_ms) << " | " << fmt(d.p99_ms) << " | " << fmt(d.max_ms) << " | "
      << fmt(d.p99_ms - limit) << " | " << (met ? "met" : "**not met**") << " |\n";
  }
  o << "\nDetection minus the limit (ms; negative = before the limit, measured from the PUT, "
       "which is sent slightly after the loop's last progress stamp), misses, restarts and "
       "recovery (`PUT off` to: `/livez` 200, a leader, the member's applied index at the "
       "leader's commit index, writes acknowledged):\n\n"
    << "| failpoint | member | min | p50 | p90 | p99 | max | earlier than limit | no 503 | "
       "restarts | recovery p50 | recovery max |\n"
    << "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const InjectionResult& inj : r.injections) {
    std::vector<double> over;
    for (double ms : inj.detection_ms) over.push_back(ms - static_cast<double>(inj.limit.count()));
    const Distribution d = distribution_of(over);
    const Distribution rec = distribution_of(inj.recovery_ms);
    o << "| `" << inj.failpoint << "` | " << target_role_name(inj.role) << " | " << fmt(d.min_ms)
      << " | " << fmt(d.p50_ms) << " | " << fmt(d.p90_ms) << " | " << fmt(d.p99_ms) << " | "
      << fmt(d.max_ms) << " | " << inj.earlier_than_limit << " | " << inj.missed << " | "
      << inj.restarts << " | " << fmt(rec.p50_ms) << " | " << fmt(rec.max_ms) << " |\n";
  }
  for (const InjectionResult& inj : r.injections) {
    if (!inj.first_problem.empty()) {
      o << "\n`" << inj.failpoint << "` on the " << target_role_name(inj.role)
        << ", first problem: " << inj.first_problem << "\n";
    }
  }
  return o.str();
}

std::string livez_table(const StallBenchReport& r) {
  std::ostringstream o;
  if (!r.livez_measured) {
    o << "`/livez` under write load: not measured"
      << (r.livez.first_error.empty() ? "" : " (" + r.livez.first_error + ")") << ".\n";
    return o.str();
  }
  const Distribution d = distribution_of(r.livez.response_ms);
  const double write_rate =
      r.livez.seconds > 0 ? static_cast<double>(r.livez.writes_ok) / r.livez.seconds : 0;
  o << "`/livez` response time (ms; one connection per request, round-robin over the 3 "
       "members) while the leader takes CommitOffsets writes with "
    << r.settings.livez_writers << " outstanding (" << fmt(write_rate) << " writes/s acknowledged, "
    << r.livez.write_errors << " failed):\n\n"
    << "| probes | answered | not 200 | min | p50 | p90 | p99 | max | target (p99 < 10 ms) |\n"
    << "|---:|---:|---:|---:|---:|---:|---:|---:|---|\n"
    << "| " << r.livez.sent << " | " << d.count << " | " << r.livez.not_200 << " | "
    << fmt(d.min_ms, 2) << " | " << fmt(d.p50_ms, 2) << " | " << fmt(d.p90_ms, 2) << " | "
    << fmt(d.p99_ms, 2) << " | " << fmt(d.max_ms, 2) << " | "
    << (d.count > 0 && d.p99_ms < kLivezP99TargetMs ? "met" : "**not met**") << " |\n";
  if (!r.livez.first_error.empty()) o << "\nFirst problem: " << r.livez.first_error << "\n";
  return o.str();
}

std::string settings_line(const StallBenchReport& r) {
  const StallBenchSettings& s = r.settings;
  std::ostringstream o;
  o << "3 `raftmeta-node` members on 127.0.0.1, `--heartbeat-ms " << s.heartbeat_ms
    << " --election-ms " << s.election_ms << " --loop-stall-ms " << s.loop_stall_ms
    << " --apply-stall-ms " << s.apply_stall_ms << " --storage-stall-ms " << s.storage_stall_ms
    << "`; " << s.injections << " injections per row, " << s.load_writers
    << " sequential topic-creating writer(s) through every member during the injections.";
  return o.str();
}

}  // namespace

std::string render_report(const StallBenchReport& r) {
  std::ostringstream o;
  o << "# raftmeta stall detection benchmark (" << r.started_utc << ")\n\n"
    << "Command: `" << r.command << "`\n\n"
    << settings_line(r) << " Total run time " << fmt(r.total_seconds) << " s.\n\n"
    << "## Detection\n\n"
    << injection_tables(r) << "\n## /livez under write load\n\n"
    << livez_table(r);
  return o.str();
}

std::string render_performance_section(const StallBenchReport& r, const std::string& results_file) {
  std::ostringstream o;
  o << "\n## Stall detection\n\n"
    << "Run at " << r.started_utc << " (`" << results_file << "`; the command: `" << r.command
    << "`). " << settings_line(r) << "\n\n"
    << injection_tables(r) << "\n"
    << livez_table(r);
  return o.str();
}

}  // namespace raftmeta::bench::stall

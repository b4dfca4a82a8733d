// raftmeta-stall-bench: how fast a stalled raftmeta-node member says so on
// /livez, and how fast /livez answers under write load (issue 8's
// benchmark). Starts its own 3-member cluster on 127.0.0.1 through the e2e
// process harness, injects `apply-loop` / `raft-loop` blocks on a follower
// and on the leader (stall_injection.h), then times /livez under 64
// outstanding writes (livez_under_load.h), and writes a Markdown report
// (stall_report.h); with --performance-doc it also appends the tables to
// that file under "## Stall detection".
#include <CLI/CLI.hpp>
#include <chrono>
#include <ctime>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>

#include "bench/load_types.h"
#include "bench/raftmeta_driver.h"
#include "bench/stall/livez_under_load.h"
#include "bench/stall/stall_injection.h"
#include "bench/stall/stall_report.h"
#include "e2e/cluster/process_cluster.h"
#include "e2e/cluster/write_load.h"

namespace {

using raftmeta::bench::stall::InjectionPlan;
using raftmeta::bench::stall::InjectionResult;
using raftmeta::bench::stall::StallBenchReport;
using raftmeta::bench::stall::TargetRole;
using std::chrono::milliseconds;

constexpr std::size_t kValueSize = 256;  // CommitOffsets metadata, as raftmeta-bench

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
  return buf;
}

std::string command_line(int argc, char** argv) {
  std::string out = "raftmeta-stall-bench";
  for (int i = 1; i < argc; ++i) out += std::string(" ") + argv[i];
  return out;
}

bool write_file(const std::string& path, const std::string& text, bool append) {
  std::ofstream f(path, append ? std::ios::app : std::ios::trunc);
  f << text;
  return static_cast<bool>(f);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"raftmeta stall detection benchmark (issue 8)"};
  StallBenchReport report;
  auto& s = report.settings;
  std::string out = "stall-bench.md";
  std::string performance_doc;
  std::string results_name;
  std::string points = "all";
  int port_base = 24000;
  app.add_option("--injections", s.injections, "injections per failpoint and member kind")
      ->capture_default_str();
  app.add_option("--loop-stall-ms", s.loop_stall_ms, "raftmeta-node --loop-stall-ms")
      ->capture_default_str();
  app.add_option("--apply-stall-ms", s.apply_stall_ms, "raftmeta-node --apply-stall-ms")
      ->capture_default_str();
  app.add_option("--storage-stall-ms", s.storage_stall_ms, "raftmeta-node --storage-stall-ms")
      ->capture_default_str();
  app.add_option("--heartbeat-ms", s.heartbeat_ms, "raftmeta-node --heartbeat-ms")
      ->capture_default_str();
  app.add_option("--election-ms", s.election_ms, "raftmeta-node --election-ms")
      ->capture_default_str();
  app.add_option("--poll-ms", s.poll_ms, "/livez polling interval while waiting for the 503")
      ->capture_default_str();
  app.add_option("--load-writers", s.load_writers, "sequential writers during the injections")
      ->capture_default_str();
  app.add_option("--livez-requests", s.livez_requests, "/livez probes under write load (0: skip)")
      ->capture_default_str();
  app.add_option("--livez-writers", s.livez_writers, "outstanding writes while probing /livez")
      ->capture_default_str();
  app.add_option("--points", points,
                 "all | one-each (apply-loop on a follower, raft-loop on the leader)")
      ->check(CLI::IsMember({"all", "one-each"}))
      ->capture_default_str();
  app.add_option("--port-base", port_base, "first port to try for the members")
      ->capture_default_str();
  app.add_option("--out", out, "Markdown report")->capture_default_str();
  app.add_option("--performance-doc", performance_doc,
                 "append the tables to this file (docs/performance.md) under ## Stall detection");
  app.add_option("--results-name", results_name,
                 "how the appended section names the report (default: --out)");
  CLI11_PARSE(app, argc, argv);
  if (s.injections < 1 || s.poll_ms < 1 || s.load_writers < 1) {
    std::cerr << "--injections, --poll-ms and --load-writers must be positive\n";
    return 2;
  }
  report.started_utc = utc_now();
  report.command = command_line(argc, argv);
  const auto started = std::chrono::steady_clock::now();

  raftmeta::e2e::ClusterOptions options;
  options.cluster_id = "stall-bench";
  options.port_base_hint = port_base;
  options.heartbeat_ms = s.heartbeat_ms;
  options.election_ms = s.election_ms;
  options.loop_stall_ms = s.loop_stall_ms;
  options.apply_stall_ms = s.apply_stall_ms;
  options.storage_stall_ms = s.storage_stall_ms;
  options.log_level = "warn";
  raftmeta::e2e::ProcessCluster cluster(options);
  std::string error;
  if (!cluster.start_all(&error) || !cluster.wait_leader(milliseconds(30000))) {
    std::cerr << "cluster did not start: " << error << "\n" << cluster.diagnostics();
    return 1;
  }
  std::vector<std::string> endpoints;
  for (std::uint64_t id : cluster.ids()) endpoints.push_back(cluster.client_address(id));
  // Broker 1 (with an hour-long session, so that it is not fenced while
  // topics are created), topic "bench" and the offset the writes overwrite.
  raftmeta::bench::RaftmetaDriver driver(options.cluster_id, kValueSize);
  {
    const auto leader = cluster.wait_leader(milliseconds(30000));
    const grpc::Status st =
        leader ? driver.prepare(raftmeta::bench::make_channel(cluster.client_address(*leader)))
               : grpc::Status(grpc::StatusCode::UNAVAILABLE, "no leader");
    if (!st.ok()) {
      std::cerr << "preparing the cluster: " << st.error_message() << "\n";
      return 1;
    }
  }

  struct Point {
    const char* failpoint;
    TargetRole role;
    int limit_ms;
  };
  std::vector<Point> plan_points = {
      {"apply-loop", TargetRole::kFollower, s.apply_stall_ms},
      {"apply-loop", TargetRole::kLeader, s.apply_stall_ms},
      {"raft-loop", TargetRole::kFollower, s.loop_stall_ms},
      {"raft-loop", TargetRole::kLeader, s.loop_stall_ms},
  };
  if (points == "one-each") plan_points = {plan_points[0], plan_points[3]};

  bool healthy = true;
  {
    std::vector<std::unique_ptr<raftmeta::e2e::WriteLoad>> loads;
    for (int i = 0; i < s.load_writers; ++i) {
      loads.push_back(std::make_unique<raftmeta::e2e::WriteLoad>(
          endpoints, options.cluster_id, "stall-" + std::to_string(i) + "-"));
    }
    for (const Point& p : plan_points) {
      if (!healthy) break;
      InjectionPlan plan;
      plan.failpoint = p.failpoint;
      plan.role = p.role;
      plan.injections = s.injections;
      plan.limit = milliseconds(p.limit_ms);
      plan.poll = milliseconds(s.poll_ms);
      plan.detect_timeout = milliseconds(p.limit_ms) + milliseconds(10000);
      plan.recover_timeout = milliseconds(10 * s.election_ms) + milliseconds(20000);
      InjectionResult result;
      healthy =
          raftmeta::bench::stall::run_stall_injections(cluster, *loads.front(), plan, &result);
      report.injections.push_back(std::move(result));
    }
  }

  if (healthy && s.livez_requests > 0) {
    raftmeta::bench::stall::LivezLoadPlan plan;
    plan.requests = s.livez_requests;
    plan.writers = s.livez_writers;
    report.livez_measured =
        raftmeta::bench::stall::measure_livez_under_load(cluster, driver, plan, &report.livez);
  }
  report.total_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  const std::string text = raftmeta::bench::stall::render_report(report);
  std::cout << text;
  if (!write_file(out, text, false)) {
    std::cerr << "cannot write " << out << "\n";
    return 1;
  }
  if (!performance_doc.empty()) {
    const std::string section = raftmeta::bench::stall::render_performance_section(
        report, results_name.empty() ? out : results_name);
    if (!write_file(performance_doc, section, true)) {
      std::cerr << "cannot append to " << performance_doc << "\n";
      return 1;
    }
  }
  if (!healthy) {
    std::cerr << cluster.diagnostics();
    return 1;
  }
  return 0;
}

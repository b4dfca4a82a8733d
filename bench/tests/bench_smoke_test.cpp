// bench_smoke: runs raftmeta-bench end to end with tiny settings (short
// rounds, a few clients, one failover per system, one apply-loop stall with
// a short stall limit) and checks the harness produced sane results: every
// row has throughput for both systems, failovers and the stall were
// measured, resource figures were read, and the Markdown table was written.
// It checks that the benchmark works, not the performance targets.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "e2e/cluster/child_process.h"

namespace raftmeta::bench {
namespace {

constexpr char kEtcd[] = "/usr/bin/etcd";
// The whole run is about 40 s on an idle 2-core machine; the bound is the
// test's one tolerance for a loaded one.
constexpr std::chrono::seconds kRunLimit{130};

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(BenchSmoke, BothSystemsMeasuredEndToEnd) {
  if (::access(kEtcd, X_OK) != 0) {
    GTEST_SKIP() << kEtcd << " is missing: apt-get install etcd-server (scripts/setup.sh)";
  }
  std::string dir = (std::filesystem::temp_directory_path() / "bench-smoke-XXXXXX").string();
  ASSERT_NE(::mkdtemp(dir.data()), nullptr);
  const std::string json_path = dir + "/results.json";
  const std::string md_path = dir + "/results.md";
  const std::string log_path = dir + "/bench.log";

  e2e::ChildProcess bench;
  std::string error;
  ASSERT_TRUE(
      bench.spawn({RAFTMETA_BENCH_BINARY, "--work-dir=" + dir, "--out-json=" + json_path,
                   "--out-md=" + md_path, "--rounds=1", "--warmup-ms=200", "--round-ms=600",
                   "--write-clients=1,16", "--read-clients=4", "--failover-reps=1",
                   "--stall-reps=1", "--apply-stall-ms=2000", "--fdatasync-count=100",
                   "--dataset-topics=50", "--dataset-partitions=4", "--dataset-offsets=1500"},
                  {}, log_path, &error))
      << error;
  const auto status = bench.wait_exit(kRunLimit);
  if (!status) bench.kill_and_reap();
  ASSERT_TRUE(status.has_value()) << "raftmeta-bench did not finish\n" << read_file(log_path);
  ASSERT_EQ(*status, 0) << read_file(log_path);

  const nlohmann::json r = nlohmann::json::parse(read_file(json_path), nullptr, false);
  ASSERT_FALSE(r.is_discarded()) << "results are not JSON";
  EXPECT_GT(r["environment"]["fdatasync"]["p50_ms"].get<double>(), 0);
  // Writes at 1 and 16 clients, then three read rows at 4 clients.
  ASSERT_EQ(r["rows"].size(), 5u) << r.dump(2);
  for (const auto& row : r["rows"]) {
    for (const char* sys : {"raftmeta", "etcd"}) {
      const auto& f = row[sys];
      EXPECT_GT(f["throughput"].get<double>(), 0) << sys << " " << row.dump();
      EXPECT_GT(f["p50_ms"].get<double>(), 0) << sys << " " << row.dump();
      EXPECT_GE(f["p99_ms"].get<double>(), f["p50_ms"].get<double>()) << sys << " " << row.dump();
    }
    EXPECT_GT(row["ratio"].get<double>(), 0);
  }
  for (const char* sys : {"raftmeta", "etcd"}) {
    const auto& f = r["failover"][sys];
    ASSERT_EQ(f["reps_ms"].size(), 1u) << sys << " failover not measured: " << f.dump();
    EXPECT_GT(f["median_ms"].get<double>(), 0) << sys;
    EXPECT_EQ(f["failed"].get<int>(), 0) << sys;
    EXPECT_GT(r["resources"][sys]["max_rss_mb"].get<double>(), 0) << sys;
    EXPECT_GT(r["resources"][sys]["cpu_s_per_1000_writes"]["16"].get<double>(), 0) << sys;
  }
  // raftmeta's CPU by thread is reported (which threads used a measurable
  // share in so short a run varies; clock ticks are 10 ms).
  const auto& threads = r["resources"]["raftmeta"]["cpu_s_per_1000_writes_by_thread"]["16"];
  ASSERT_TRUE(threads.is_object()) << r["resources"].dump();
  double threads_sum = 0;
  for (const auto& [_, v] : threads.items()) threads_sum += v.get<double>();
  EXPECT_GT(threads_sum, 0) << threads.dump();
  const auto& dataset = r["resources"]["raftmeta"]["dataset"];
  EXPECT_EQ(dataset["topics"].get<int>(), 50) << dataset.dump();
  EXPECT_GT(dataset["max_rss_mb"].get<double>(), 0) << dataset.dump();
  const auto& stall = r["stall"]["raftmeta"];
  ASSERT_EQ(stall["reps_ms"].size(), 1u) << stall.dump();
  // Writes cannot come back before the leader noticed its own stall (2000 ms,
  // less the age of its last apply when the failpoint was set).
  EXPECT_GE(stall["median_ms"].get<double>(), 1500.0) << stall.dump();
  const std::string md = read_file(md_path);
  EXPECT_NE(md.find("| write | 16 |"), std::string::npos) << md;
  EXPECT_NE(md.find("leader SIGKILL"), std::string::npos) << md;
  EXPECT_NE(md.find("raftmeta CPU seconds per 1,000 writes by thread"), std::string::npos) << md;

  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace
}  // namespace raftmeta::bench

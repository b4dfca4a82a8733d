// raftmeta-bench: raftmeta and etcd side by side on this machine. It starts
// a 3-member cluster of each on 127.0.0.1 (same Raft timers, both fsync on
// every commit), measures the disk's raw fdatasync latency, runs the same
// closed-loop gRPC client load against each leader (writes, linearizable,
// lease and stale reads), times leader failover for both and apply-loop
// stall recovery for raftmeta, records RSS and CPU per 1,000 writes, and
// writes the results as JSON and as a Markdown table. Progress goes to
// stderr. Exit code 0 when every measurement ran, 1 otherwise.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "bench/bench_settings.h"
#include "bench/closed_loop.h"
#include "bench/dataset_load.h"
#include "bench/disk_sync.h"
#include "bench/etcd_cluster.h"
#include "bench/etcd_driver.h"
#include "bench/load_suite.h"
#include "bench/raftmeta_cluster.h"
#include "bench/raftmeta_driver.h"
#include "bench/recovery_suite.h"
#include "bench/report.h"
#include "bench/trivial_service.h"

namespace raftmeta::bench {
namespace {

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

std::string command_output(const std::string& command) {
  std::string out;
  if (FILE* p = ::popen(command.c_str(), "r")) {
    char buf[256];
    if (std::fgets(buf, sizeof(buf), p) != nullptr) out = buf;
    ::pclose(p);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

nlohmann::json resources(BenchCluster& cluster, const nlohmann::json& rows) {
  nlohmann::json j;
  double max_rss = 0;
  for (int id : cluster.members())
    max_rss = std::max(max_rss, process_usage(cluster.pid(id)).rss_mb);
  const auto leader = cluster.leader(std::chrono::milliseconds(10000));
  j["leader_rss_mb"] = leader ? process_usage(cluster.pid(*leader)).rss_mb : 0.0;
  j["max_rss_mb"] = max_rss;
  nlohmann::json cpu = nlohmann::json::object();
  nlohmann::json by_thread = nlohmann::json::object();
  for (const auto& row : rows) {
    if (row["workload"] != "write") continue;
    const std::string clients = std::to_string(row["clients"].get<int>());
    cpu[clients] = row[cluster.name()].value("cpu_s_per_1000", 0.0);
    if (row[cluster.name()].contains("cpu_s_per_1000_by_thread")) {
      by_thread[clients] = row[cluster.name()]["cpu_s_per_1000_by_thread"];
    }
  }
  j["cpu_s_per_1000_writes"] = cpu;
  j["cpu_s_per_1000_writes_by_thread"] = by_thread;
  return j;
}

int run(const BenchSettings& settings, const DatasetSize& dataset, const std::string& out_json,
        const std::string& out_md) {
  if (!settings.work_dir.empty()) {
    std::filesystem::create_directories(settings.work_dir);
    ::setenv("TMPDIR", settings.work_dir.c_str(), 1);  // ProcessCluster's data root
  }
  const std::string work_dir = std::filesystem::temp_directory_path().string();
  nlohmann::json results;
  results["settings"] = {{"value_size", settings.value_size},
                         {"rounds", settings.rounds},
                         {"warmup_ms", settings.warmup.count()},
                         {"round_ms", settings.round.count()},
                         {"write_clients", settings.write_clients},
                         {"read_clients", settings.read_clients},
                         {"failover_reps", settings.failover_reps},
                         {"stall_reps", settings.stall_reps},
                         {"apply_stall_ms", settings.apply_stall_ms},
                         {"heartbeat_ms", settings.heartbeat_ms},
                         {"election_ms", settings.election_ms},
                         {"probe_interval_ms", settings.probe_interval.count()}};

  std::cerr << "fdatasync latency of " << work_dir << "\n";
  const LatencySummary in_place = measure_fdatasync(work_dir, settings.fdatasync_count, false);
  const LatencySummary append = measure_fdatasync(work_dir, settings.fdatasync_count, true);
  results["environment"] = {
      {"date", utc_now()},
      {"cores", std::thread::hardware_concurrency()},
      {"etcd_version", command_output(settings.etcd_binary + " --version 2>/dev/null")},
      {"work_dir", work_dir},
      {"fdatasync",
       {{"p50_ms", in_place.p50_ms},
        {"p99_ms", in_place.p99_ms},
        {"append_p50_ms", append.p50_ms},
        {"append_p99_ms", append.p99_ms},
        {"count", settings.fdatasync_count}}}};

  RaftmetaClusterOptions ro;
  ro.heartbeat_ms = settings.heartbeat_ms;
  ro.election_ms = settings.election_ms;
  ro.apply_stall_ms = settings.apply_stall_ms;
  RaftmetaCluster raftmeta_cluster(ro);
  EtcdClusterOptions eo;
  eo.binary = settings.etcd_binary;
  eo.root = work_dir;
  eo.heartbeat_ms = settings.heartbeat_ms;
  eo.election_ms = settings.election_ms;
  EtcdCluster etcd_cluster(eo);

  std::string error;
  std::cerr << "starting 3 raftmeta-node members and 3 etcd members\n";
  if (!raftmeta_cluster.start(&error) || !etcd_cluster.start(&error)) {
    std::cerr << "raftmeta-bench: " << error << "\n";
    return 1;
  }
  RaftmetaDriver raftmeta_driver(ro.cluster_id, settings.value_size);
  EtcdDriver etcd_driver(settings.value_size);
  for (auto [cluster, driver] :
       {std::pair<BenchCluster*, SystemDriver*>{&raftmeta_cluster, &raftmeta_driver},
        std::pair<BenchCluster*, SystemDriver*>{&etcd_cluster, &etcd_driver}}) {
    const auto leader = cluster->leader(std::chrono::milliseconds(15000));
    const grpc::Status s = leader ? driver->prepare(make_channel(cluster->client_address(*leader)))
                                  : grpc::Status(grpc::StatusCode::UNAVAILABLE, "no leader");
    if (!s.ok()) {
      std::cerr << "raftmeta-bench: preparing " << cluster->name() << ": " << s.error_message()
                << "\n"
                << cluster->diagnostics();
      return 1;
    }
  }

  const SystemUnderTest r{&raftmeta_cluster, &raftmeta_driver};
  const SystemUnderTest e{&etcd_cluster, &etcd_driver};
  if (!run_load_suite(settings, r, e, &results, &error)) {
    std::cerr << "raftmeta-bench: " << error << "\n";
    return 1;
  }
  results["resources"]["raftmeta"] = resources(raftmeta_cluster, results["rows"]);
  results["resources"]["etcd"] = resources(etcd_cluster, results["rows"]);
  std::cerr << "gRPC ceiling\n";
  // The gRPC ceiling at every client count of the run, measured after the
  // load rows (the clusters idle meanwhile).
  {
    TrivialServer server;
    TrivialDriver driver(settings.value_size);
    std::vector<int> counts = settings.write_clients;
    counts.insert(counts.end(), settings.read_clients.begin(), settings.read_clients.end());
    std::sort(counts.begin(), counts.end());
    counts.erase(std::unique(counts.begin(), counts.end()), counts.end());
    nlohmann::json ceiling = nlohmann::json::array();
    for (int clients : counts) {
      std::vector<double> tput, p50, p99;
      for (int round = 0; round < settings.rounds; ++round) {
        LoadOptions o;
        o.clients = clients;
        o.warmup = settings.warmup;
        o.duration = settings.round;
        LoadResult l =
            run_closed_loop(driver, Operation::kWrite, make_channel(server.address()), o);
        tput.push_back(l.throughput);
        p50.push_back(l.latency.p50_ms);
        p99.push_back(l.latency.p99_ms);
      }
      std::cerr << "  grpc ceiling c=" << clients << ": " << static_cast<long>(median(tput))
                << "/s\n";
      ceiling.push_back({{"clients", clients},
                         {"throughput", median(tput)},
                         {"p50_ms", median(p50)},
                         {"p99_ms", median(p99)}});
    }
    results["grpc_ceiling"] = ceiling;
  }

  std::cerr << "failover (leader SIGKILL)\n";
  for (const SystemUnderTest& sut : {r, e}) {
    nlohmann::json f;
    if (!run_failover(settings, sut, &f, &error)) {
      std::cerr << "raftmeta-bench: " << error << "\n";
      return 1;
    }
    results["failover"][sut.cluster->name()] = f;
  }
  if (settings.stall_reps > 0) {
    std::cerr << "stall recovery (raftmeta apply-loop blocked on the leader)\n";
    nlohmann::json st;
    if (!run_stall_recovery(settings, raftmeta_cluster, raftmeta_driver, &st, &error)) {
      std::cerr << "raftmeta-bench: " << error << "\n";
      return 1;
    }
    results["stall"]["raftmeta"] = st;
  }

  if (dataset.topics > 0) {
    std::cerr << "resource use with a data set: " << dataset.topics << " topics x "
              << dataset.partitions << " partitions, " << dataset.offsets
              << " committed offsets (raftmeta)\n";
    const auto leader = raftmeta_cluster.leader(std::chrono::milliseconds(20000));
    const auto started = std::chrono::steady_clock::now();
    if (!leader || !load_dataset(make_channel(raftmeta_cluster.client_address(*leader)),
                                 ro.cluster_id, dataset, &error)) {
      std::cerr << "raftmeta-bench: loading the data set: " << (leader ? error : "no leader")
                << "\n"
                << raftmeta_cluster.diagnostics();
      return 1;
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    // Let every member apply the tail before reading RSS.
    std::this_thread::sleep_for(std::chrono::seconds(2));
    std::vector<double> rss;
    for (int id : raftmeta_cluster.members()) {
      rss.push_back(process_usage(raftmeta_cluster.pid(id)).rss_mb);
    }
    results["resources"]["raftmeta"]["dataset"] = {
        {"topics", dataset.topics},   {"partitions", dataset.partitions},
        {"offsets", dataset.offsets}, {"load_seconds", seconds},
        {"member_rss_mb", rss},       {"max_rss_mb", *std::max_element(rss.begin(), rss.end())}};
    std::cerr << "  loaded in " << static_cast<long>(seconds) << " s; largest member RSS "
              << *std::max_element(rss.begin(), rss.end()) << " MB\n";
  }

  if (!out_json.empty()) {
    std::ofstream(out_json) << results.dump(2) << "\n";
    // Plot data beside it: <stem>-throughput.dat, <stem>-latency.dat.
    std::filesystem::path stem(out_json);
    stem.replace_extension();
    std::ofstream(stem.string() + "-throughput.dat") << throughput_plot_data(results);
    std::ofstream(stem.string() + "-latency.dat") << latency_plot_data(results);
  }
  const std::string md = render_markdown(results);
  if (!out_md.empty()) {
    std::ofstream(out_md) << md;
  } else {
    std::cout << md;
  }
  return 0;
}

}  // namespace
}  // namespace raftmeta::bench

int main(int argc, char** argv) {
  raftmeta::bench::BenchSettings s;
  std::string out_json;
  std::string out_md;
  int warmup_ms = static_cast<int>(s.warmup.count());
  int round_ms = static_cast<int>(s.round.count());
  int probe_interval_ms = static_cast<int>(s.probe_interval.count());
  CLI::App app{"raftmeta-bench: raftmeta and etcd side by side (throughput, latency, failover)"};
  app.add_option("--etcd-binary", s.etcd_binary, "etcd 3.4 server binary")->capture_default_str();
  app.add_option("--work-dir", s.work_dir,
                 "where the clusters keep data and logs (default $TMPDIR)");
  app.add_option("--out-json", out_json, "write the results as JSON here");
  app.add_option("--out-md", out_md, "write the Markdown table here (default: stdout)");
  app.add_option("--value-size", s.value_size, "bytes per written value")->capture_default_str();
  app.add_option("--rounds", s.rounds, "rounds per figure (median)")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  app.add_option("--warmup-ms", warmup_ms, "warm-up before each measured round")
      ->capture_default_str();
  app.add_option("--round-ms", round_ms, "measured length of each round")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  app.add_option("--write-clients", s.write_clients, "outstanding writers per write row")
      ->capture_default_str()
      ->delimiter(',')
      ->check(CLI::Range(1, 100000));
  app.add_option("--read-clients", s.read_clients, "outstanding readers per read row")
      ->capture_default_str()
      ->delimiter(',')
      ->check(CLI::Range(1, 100000));
  app.add_option("--failover-reps", s.failover_reps, "leader SIGKILLs per system")
      ->capture_default_str();
  app.add_option("--stall-reps", s.stall_reps, "apply-loop stalls of the raftmeta leader (0: skip)")
      ->capture_default_str();
  app.add_option("--apply-stall-ms", s.apply_stall_ms, "raftmeta-node --apply-stall-ms")
      ->capture_default_str();
  app.add_option("--heartbeat-ms", s.heartbeat_ms, "heartbeat interval of both systems")
      ->capture_default_str();
  app.add_option("--election-ms", s.election_ms, "election timeout of both systems")
      ->capture_default_str();
  app.add_option("--fdatasync-count", s.fdatasync_count, "fdatasync samples of the disk")
      ->capture_default_str();
  app.add_option("--probe-interval-ms", probe_interval_ms,
                 "one recovery-probe write per this many ms")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  raftmeta::bench::DatasetSize dataset;
  app.add_option("--dataset-topics", dataset.topics,
                 "topics of the resource data set loaded into raftmeta at the end (0: skip)")
      ->capture_default_str();
  app.add_option("--dataset-partitions", dataset.partitions, "partitions per data-set topic")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  app.add_option("--dataset-offsets", dataset.offsets, "committed offsets of the data set")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  s.warmup = std::chrono::milliseconds(warmup_ms);
  s.round = std::chrono::milliseconds(round_ms);
  s.probe_interval = std::chrono::milliseconds(probe_interval_ms);
  if (s.write_clients.empty() || s.read_clients.empty()) {
    std::cerr << "raftmeta-bench: --write-clients and --read-clients need at least one value\n";
    return 2;
  }
  return raftmeta::bench::run(s, dataset, out_json, out_md);
}

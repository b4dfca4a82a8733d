#include "bench/load_suite.h"

#include <iostream>
#include <map>
#include <vector>

#include "bench/closed_loop.h"
#include "bench/latency_summary.h"

namespace raftmeta::bench {
namespace {

double cpu_seconds(BenchCluster& cluster) {
  double total = 0;
  for (int id : cluster.members()) total += process_usage(cluster.pid(id)).cpu_seconds;
  return total;
}

// CPU seconds of all members by thread name (see thread_cpu_seconds).
std::map<std::string, double> cpu_by_thread(BenchCluster& cluster) {
  std::map<std::string, double> total;
  for (int id : cluster.members()) {
    for (const auto& [name, seconds] : thread_cpu_seconds(cluster.pid(id))) total[name] += seconds;
  }
  return total;
}

struct RoundFigures {
  LoadResult load;
  double cpu_per_1000 = 0;
  std::map<std::string, double> cpu_per_1000_by_thread;
};

bool run_one(const BenchSettings& settings, SystemUnderTest sut, Operation op, int clients,
             RoundFigures* out, std::string* error) {
  const auto leader = sut.cluster->leader(std::chrono::milliseconds(15000));
  if (!leader) {
    *error = sut.cluster->name() + ": no leader\n" + sut.cluster->diagnostics();
    return false;
  }
  auto channel = make_channel(sut.cluster->client_address(*leader));
  LoadOptions options;
  options.clients = clients;
  options.warmup = settings.warmup;
  options.duration = settings.round;
  // The CPU window includes the warm-up and drain; so does the count.
  const double cpu_before = cpu_seconds(*sut.cluster);
  const auto threads_before = cpu_by_thread(*sut.cluster);
  out->load = run_closed_loop(*sut.driver, op, channel, options);
  const double cpu_after = cpu_seconds(*sut.cluster);
  const auto threads_after = cpu_by_thread(*sut.cluster);
  const double seconds_total =
      std::chrono::duration<double>(settings.warmup + settings.round).count();
  // Scale the window's count up to the whole run the CPU was measured over.
  const double writes_total = out->load.throughput * seconds_total;
  out->cpu_per_1000 = writes_total > 0 ? (cpu_after - cpu_before) / writes_total * 1000.0 : 0;
  for (const auto& [name, after] : threads_after) {
    const auto before = threads_before.find(name);
    const double used = after - (before == threads_before.end() ? 0.0 : before->second);
    if (writes_total > 0 && used > 0)
      out->cpu_per_1000_by_thread[name] = used / writes_total * 1000.0;
  }
  std::cerr << "  " << sut.cluster->name() << " " << operation_name(op) << " c=" << clients << ": "
            << static_cast<long>(out->load.throughput) << "/s p50 " << out->load.latency.p50_ms
            << " ms p99 " << out->load.latency.p99_ms << " ms"
            << (out->load.errors ? " errors " + std::to_string(out->load.errors) + " (" +
                                       out->load.first_error + ")"
                                 : "")
            << "\n";
  return true;
}

nlohmann::json median_of(const std::vector<RoundFigures>& rounds, const std::string& request,
                         bool with_cpu) {
  std::vector<double> tput, p50, p99, p999, cpu;
  std::uint64_t errors = 0;
  std::string first_error;
  for (const auto& r : rounds) {
    tput.push_back(r.load.throughput);
    p50.push_back(r.load.latency.p50_ms);
    p99.push_back(r.load.latency.p99_ms);
    p999.push_back(r.load.latency.p999_ms);
    cpu.push_back(r.cpu_per_1000);
    errors += r.load.errors;
    if (first_error.empty()) first_error = r.load.first_error;
  }
  nlohmann::json j = {{"request", request},      {"throughput", median(tput)},
                      {"p50_ms", median(p50)},   {"p99_ms", median(p99)},
                      {"p999_ms", median(p999)}, {"throughput_rounds", tput},
                      {"errors", errors}};
  if (!first_error.empty()) j["first_error"] = first_error;
  if (with_cpu) {
    j["cpu_s_per_1000"] = median(cpu);
    // Per thread name, the median over the rounds (a round where a thread
    // used no measurable time counts as 0).
    std::map<std::string, std::vector<double>> by_thread;
    for (const auto& r : rounds) {
      for (const auto& [name, _] : r.cpu_per_1000_by_thread) by_thread[name];
    }
    for (auto& [name, values] : by_thread) {
      for (const auto& r : rounds) {
        const auto it = r.cpu_per_1000_by_thread.find(name);
        values.push_back(it == r.cpu_per_1000_by_thread.end() ? 0.0 : it->second);
      }
    }
    nlohmann::json threads = nlohmann::json::object();
    for (const auto& [name, values] : by_thread) threads[name] = median(values);
    j["cpu_s_per_1000_by_thread"] = std::move(threads);
  }
  return j;
}

struct RowSpec {
  std::string workload;
  Operation raftmeta_op;
  std::string raftmeta_request;
  Operation etcd_op;
  std::string etcd_request;
  std::vector<int> clients;
};

}  // namespace

bool run_load_suite(const BenchSettings& settings, SystemUnderTest raftmeta, SystemUnderTest etcd,
                    nlohmann::json* out, std::string* error) {
  const std::vector<RowSpec> specs = {
      {"write", Operation::kWrite, "CommitOffsets (1 offset, 256 B metadata)", Operation::kWrite,
       "Put (256 B value)", settings.write_clients},
      {"read linearizable", Operation::kReadLinearizable, "FetchOffsets linearizable (ReadIndex)",
       Operation::kReadLinearizable, "Range linearizable", settings.read_clients},
      {"read lease", Operation::kReadLease, "FetchOffsets lease", Operation::kReadLinearizable,
       "Range linearizable", settings.read_clients},
      {"read stale", Operation::kReadStale, "FetchOffsets stale", Operation::kReadStale,
       "Range serializable", settings.read_clients},
  };
  nlohmann::json rows = nlohmann::json::array();
  for (const RowSpec& spec : specs) {
    for (int clients : spec.clients) {
      std::cerr << spec.workload << ", " << clients << " clients\n";
      std::vector<RoundFigures> r_rounds, e_rounds;
      for (int round = 0; round < settings.rounds; ++round) {
        RoundFigures r, e;
        if (!run_one(settings, raftmeta, spec.raftmeta_op, clients, &r, error)) return false;
        if (!run_one(settings, etcd, spec.etcd_op, clients, &e, error)) return false;
        r_rounds.push_back(r);
        e_rounds.push_back(e);
      }
      const bool write = spec.raftmeta_op == Operation::kWrite;
      nlohmann::json row = {{"workload", spec.workload},
                            {"clients", clients},
                            {"raftmeta", median_of(r_rounds, spec.raftmeta_request, write)},
                            {"etcd", median_of(e_rounds, spec.etcd_request, write)}};
      const double et = row["etcd"]["throughput"].get<double>();
      row["ratio"] = et > 0 ? row["raftmeta"]["throughput"].get<double>() / et : 0.0;
      rows.push_back(std::move(row));
    }
  }
  (*out)["rows"] = std::move(rows);
  return true;
}

}  // namespace raftmeta::bench

#include "bench/report.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <sstream>
#include <vector>

namespace raftmeta::bench {
namespace {

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", digits, v);
  return buf;
}

double num(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : 0.0;
}

std::string ms_list(const nlohmann::json& reps) {
  std::string out;
  for (const auto& v : reps) {
    if (!out.empty()) out += ", ";
    out += fixed(v.get<double>(), 0);
  }
  return out;
}

// raftmeta's CPU per 1,000 writes by thread name over the 3 members, one
// column per write row: where the time goes (the thread names are the
// node's: raft-loop, apply-loop, storage-writer, peer-N senders, gRPC's).
std::string thread_cpu_table(const nlohmann::json& raftmeta, const std::vector<int>& clients) {
  if (!raftmeta.contains("cpu_s_per_1000_writes_by_thread") || clients.empty()) return "";
  const auto& by = raftmeta["cpu_s_per_1000_writes_by_thread"];
  std::map<std::string, double> total;  // thread -> sum over the columns (for the order)
  for (const int n : clients) {
    const std::string key = std::to_string(n);
    if (!by.contains(key)) continue;
    for (const auto& [name, v] : by[key].items()) total[name] += v.get<double>();
  }
  std::vector<std::pair<double, std::string>> order;
  for (const auto& [name, sum] : total) order.emplace_back(-sum, name);
  std::sort(order.begin(), order.end());
  std::ostringstream md;
  md << "\n| raftmeta CPU seconds per 1,000 writes by thread (3 members) |";
  for (const int n : clients) md << " " << n << " clients |";
  md << "\n|---|";
  for (std::size_t i = 0; i < clients.size(); ++i) md << "---:|";
  md << "\n";
  for (const auto& [_, name] : order) {
    md << "| " << name << " |";
    for (const int n : clients) {
      const std::string key = std::to_string(n);
      const double v = by.contains(key) ? by[key].value(name, 0.0) : 0.0;
      md << " " << fixed(v, 3) << " |";
    }
    md << "\n";
  }
  return md.str();
}

}  // namespace

std::string render_markdown(const nlohmann::json& r) {
  std::ostringstream md;
  const auto& env = r["environment"];
  md << "# raftmeta vs etcd: " << env.value("date", "") << "\n\n";
  md << "Machine: " << env.value("cores", 0) << " cores; " << env.value("etcd_version", "?")
     << "; pwrite 4 KiB + fdatasync on the data disk: in place p50 "
     << fixed(num(env["fdatasync"], "p50_ms"), 3) << " ms, p99 "
     << fixed(num(env["fdatasync"], "p99_ms"), 3) << " ms; appending p50 "
     << fixed(num(env["fdatasync"], "append_p50_ms"), 3) << " ms, p99 "
     << fixed(num(env["fdatasync"], "append_p99_ms"), 3) << " ms.\n";
  const auto& s = r["settings"];
  md << "Settings: 3 members each on 127.0.0.1, heartbeat " << s.value("heartbeat_ms", 0)
     << " ms, election " << s.value("election_ms", 0) << " ms, values " << s.value("value_size", 0)
     << " B, median of " << s.value("rounds", 0) << " rounds of " << s.value("round_ms", 0)
     << " ms (after " << s.value("warmup_ms", 0)
     << " ms warm-up), one async gRPC client (one channel, N outstanding) against the leader.\n\n";

  md << "| workload | clients | raftmeta req/s | p50 ms | p99 ms | p99.9 ms | etcd req/s | p50 ms "
        "| p99 ms | p99.9 ms | raftmeta/etcd |\n";
  md << "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const auto& row : r["rows"]) {
    const auto& a = row["raftmeta"];
    const auto& b = row["etcd"];
    md << "| " << row.value("workload", "") << " | " << row.value("clients", 0) << " | "
       << fixed(num(a, "throughput"), 0) << " | " << fixed(num(a, "p50_ms"), 2) << " | "
       << fixed(num(a, "p99_ms"), 2) << " | " << fixed(num(a, "p999_ms"), 2) << " | "
       << fixed(num(b, "throughput"), 0) << " | " << fixed(num(b, "p50_ms"), 2) << " | "
       << fixed(num(b, "p99_ms"), 2) << " | " << fixed(num(b, "p999_ms"), 2) << " | "
       << fixed(num(row, "ratio"), 2) << "× |\n";
  }
  if (r.contains("grpc_ceiling")) {
    md << "\ngRPC ceiling (a unary service doing no work, same client, in this process):";
    for (const auto& c : r["grpc_ceiling"]) {
      md << " " << c.value("clients", 0) << " clients " << fixed(num(c, "throughput"), 0)
         << "/s (p50 " << fixed(num(c, "p50_ms"), 2) << " ms, p99 " << fixed(num(c, "p99_ms"), 2)
         << " ms);";
    }
    md << "\n";
  }
  md << "\nRequests: ";
  bool first = true;
  for (const auto& row : r["rows"]) {
    if (row.value("clients", 0) != r["rows"][0].value("clients", 0) && !first) continue;
    md << (first ? "" : "; ") << row.value("workload", "") << " = raftmeta "
       << row["raftmeta"].value("request", "") << " vs etcd " << row["etcd"].value("request", "");
    first = false;
  }
  md << ".\n";
  std::uint64_t errors = 0;
  for (const auto& row : r["rows"]) {
    errors += row["raftmeta"].value("errors", std::uint64_t{0}) +
              row["etcd"].value("errors", std::uint64_t{0});
  }
  md << "Failed requests inside the measured windows: " << errors << ".\n\n";

  md << "| recovery | system | median ms | max ms | repetitions (ms) | failed |\n";
  md << "|---|---|---:|---:|---|---:|\n";
  for (const char* sys : {"raftmeta", "etcd"}) {
    if (!r["failover"].contains(sys)) continue;
    const auto& f = r["failover"][sys];
    md << "| leader SIGKILL → writes succeed | " << sys << " | " << fixed(num(f, "median_ms"), 0)
       << " | " << fixed(num(f, "max_ms"), 0) << " | " << ms_list(f["reps_ms"]) << " | "
       << f.value("failed", 0) << " |\n";
    if (f.contains("leader_seen_ms")) {
      md << "| leader SIGKILL → survivors report a new leader | " << sys << " | "
         << fixed(num(f, "leader_seen_median_ms"), 0) << " | | " << ms_list(f["leader_seen_ms"])
         << " | |\n";
    }
  }
  if (r.contains("stall") && r["stall"].contains("raftmeta")) {
    const auto& st = r["stall"]["raftmeta"];
    md << "| leader apply-loop blocked → writes succeed (--apply-stall-ms="
       << st.value("apply_stall_ms", 0) << ") | raftmeta | " << fixed(num(st, "median_ms"), 0)
       << " | " << fixed(num(st, "max_ms"), 0) << " | " << ms_list(st["reps_ms"]) << " | "
       << st.value("failed", 0) << " |\n";
    md << "| leader apply-loop blocked → its /livez 503 | raftmeta | "
       << fixed(num(st, "livez_fail_median_ms"), 0) << " | | " << ms_list(st["livez_fail_ms"])
       << " | |\n";
  }
  md << "\n| resources | raftmeta | etcd |\n|---|---:|---:|\n";
  const auto& res = r["resources"];
  auto both = [&](const char* label, const char* key, int digits) {
    md << "| " << label << " | " << fixed(num(res["raftmeta"], key), digits) << " | "
       << fixed(num(res["etcd"], key), digits) << " |\n";
  };
  both("leader RSS after the load runs (MB)", "leader_rss_mb", 1);
  both("largest member RSS (MB)", "max_rss_mb", 1);
  if (res["raftmeta"].contains("dataset")) {
    const auto& d = res["raftmeta"]["dataset"];
    md << "| largest member RSS holding " << d.value("topics", 0) << " topics × "
       << d.value("partitions", 0) << " partitions and " << d.value("offsets", 0)
       << " committed offsets (MB; loaded in " << fixed(num(d, "load_seconds"), 1) << " s) | "
       << fixed(num(d, "max_rss_mb"), 1) << " | not measured |\n";
  }
  std::vector<int> cpu_clients;  // numeric order (JSON keys sort as text)
  for (const auto& [clients, _] : res["raftmeta"]["cpu_s_per_1000_writes"].items()) {
    cpu_clients.push_back(std::stoi(clients));
  }
  std::sort(cpu_clients.begin(), cpu_clients.end());
  for (const int n : cpu_clients) {
    const std::string clients = std::to_string(n);
    md << "| CPU seconds of the 3 members per 1,000 writes, " << clients << " clients | "
       << fixed(num(res["raftmeta"]["cpu_s_per_1000_writes"], clients.c_str()), 3) << " | "
       << fixed(num(res["etcd"]["cpu_s_per_1000_writes"], clients.c_str()), 3) << " |\n";
  }
  md << thread_cpu_table(res["raftmeta"], cpu_clients);
  return md.str();
}

std::string throughput_plot_data(const nlohmann::json& r) {
  std::ostringstream out;
  out << "# clients raftmeta etcd grpc-ceiling (writes/s)\n";
  for (const auto& row : r["rows"]) {
    if (row.value("workload", "") != "write") continue;
    const int clients = row.value("clients", 0);
    double ceiling = 0;
    if (r.contains("grpc_ceiling")) {
      for (const auto& c : r["grpc_ceiling"]) {
        if (c.value("clients", -1) == clients) ceiling = num(c, "throughput");
      }
    }
    out << clients << " " << fixed(num(row["raftmeta"], "throughput"), 1) << " "
        << fixed(num(row["etcd"], "throughput"), 1) << " " << fixed(ceiling, 1) << "\n";
  }
  return out.str();
}

std::string latency_plot_data(const nlohmann::json& r) {
  std::ostringstream out;
  out << "# label raftmeta-p50 raftmeta-p99 raftmeta-p99.9 etcd-p50 etcd-p99 etcd-p99.9 (ms)\n";
  for (const auto& row : r["rows"]) {
    std::string label = row.value("workload", "") + "-" + std::to_string(row.value("clients", 0));
    for (char& ch : label) {
      if (ch == ' ') ch = '-';
    }
    out << "\"" << label << "\"";
    for (const char* sys : {"raftmeta", "etcd"}) {
      for (const char* p : {"p50_ms", "p99_ms", "p999_ms"})
        out << " " << fixed(num(row[sys], p), 3);
    }
    out << "\n";
  }
  return out.str();
}

}  // namespace raftmeta::bench

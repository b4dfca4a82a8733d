#include "e2e/cluster/chaos/chaos_run.h"

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <thread>

namespace raftmeta::chaos {

using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

namespace {

// First formation of a cluster: processes start, storage opens, then the
// first election (a few election timeouts with PreVote) on a loaded machine.
constexpr milliseconds kStartupWait{10000};
constexpr int kSetupAttempts = 3;
constexpr milliseconds kWorkloadSetupBudget{30000};
// Between set-up attempts (a binary being relinked, ports still in TIME_WAIT).
constexpr milliseconds kSetupRetryPause{3000};

// Sets the members' environment in this process (children inherit it) and
// restores it afterwards.
class ScopedEnv {
 public:
  explicit ScopedEnv(const std::map<std::string, std::string>& env) {
    for (const auto& [k, v] : env) {
      const char* old = std::getenv(k.c_str());
      saved_.emplace_back(k, old == nullptr ? std::nullopt : std::optional<std::string>(old));
      ::setenv(k.c_str(), v.c_str(), 1);
    }
  }
  ~ScopedEnv() {
    for (const auto& [k, v] : saved_) {
      if (v) {
        ::setenv(k.c_str(), v->c_str(), 1);
      } else {
        ::unsetenv(k.c_str());
      }
    }
  }

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

// Every member answers /status with the same commit and applied index, and
// the agreed leader's log holds nothing beyond that index.
bool converged(const e2e::ProcessCluster& cluster, std::uint64_t leader, std::string* why) {
  std::optional<std::uint64_t> index;
  for (std::uint64_t id : cluster.ids()) {
    const e2e::MemberView v = cluster.view(id, milliseconds(500));
    if (!v.answered) {
      *why = "member " + std::to_string(id) + " does not answer /status";
      return false;
    }
    if (v.commit != v.applied || (index && *index != v.applied)) {
      *why = "member " + std::to_string(id) + " commit " + std::to_string(v.commit) + " applied " +
             std::to_string(v.applied);
      return false;
    }
    index = v.applied;
    if (id == leader && v.raw.value("last_index", std::uint64_t{0}) != v.commit) {
      *why = "leader's log goes beyond its commit index";
      return false;
    }
  }
  return true;
}

}  // namespace

milliseconds recovery_bound(const e2e::ClusterOptions& cluster) {
  return kStartupWait + milliseconds(10 * cluster.election_ms) + e2e::kSlack + kRecoverySlack;
}

std::string ChaosRunResult::totals() const {
  std::ostringstream out;
  out << "==== chaos totals ====\n";
  if (!started) out << "set-up failed: " << setup_error << "\n";
  out << workload.to_string();
  out << "checked operations: " << linearizability.checked_operations << " on "
      << linearizability.keys << " keys; stale reads judged " << stale.judged << ", not judgeable "
      << stale.not_judgeable << "\n";
  out << "faults injected:";
  std::uint64_t total_faults = 0;
  for (const auto& [kind, n] : faults) {
    out << " " << kind << "=" << n;
    total_faults += n;
  }
  out << " (total " << total_faults << ")\n";
  out << "anomalies: " << linearizability.anomalies.size() + stale.anomalies.size() << "\n";
  out << linearizability.summary();
  for (const std::string& a : stale.anomalies) out << "stale read anomaly: " << a << "\n";
  out << "recovery: " << recovery_time.count() << " ms (bound " << recovery_bound.count()
      << " ms), problems: " << recovery_problems.size() << "\n";
  for (const std::string& p : recovery_problems) out << "  " << p << "\n";
  out << "verdict: " << (passed() ? "PASS" : "FAIL") << "\n";
  return out.str();
}

ChaosRunResult run_chaos(const ChaosRunOptions& options) {
  ChaosRunResult result;
  ScopedEnv env(options.member_env);
  e2e::ClusterOptions co;
  co.members = options.members;
  co.cluster_id = "chaos-" + options.name;
  co.enable_failpoints = true;
  co.binary = options.node_binary;
  result.recovery_bound = recovery_bound(co);
  // Declared before the cluster: destroyed after its members are gone.
  std::unique_ptr<NetnsNetwork> network;
  if (options.netns) {
    std::string error;
    network = NetnsNetwork::create(options.members, &error);
    if (!network) {
      result.netns_unavailable = error;
      result.setup_error = "network namespaces unavailable: " + error;
      if (options.verbose) std::cout << result.totals() << std::flush;
      return result;
    }
    co.member_host = [net = network.get()](std::uint64_t id) { return net->host(id); };
    co.command_prefix = [net = network.get()](std::uint64_t id) { return net->command_prefix(id); };
  }
  const milliseconds leader_wait = kStartupWait + milliseconds(4 * co.election_ms) + e2e::kSlack;

  MemberGenerations generations;
  std::unique_ptr<e2e::ProcessCluster> cluster;
  std::unique_ptr<Workload> workload;
  const auto origin = SteadyClock::now();
  for (int attempt = 0; attempt < kSetupAttempts && !result.started; ++attempt) {
    workload.reset();
    cluster.reset();
    if (attempt > 0) std::this_thread::sleep_for(kSetupRetryPause);
    co.port_base_hint = options.port_base_hint + attempt * 37;
    cluster = std::make_unique<e2e::ProcessCluster>(co);
    std::string error;
    if (!cluster->start_all(&error)) {
      result.setup_error = "attempt " + std::to_string(attempt + 1) + ": start: " + error;
      cluster->keep();
      continue;
    }
    if (!cluster->wait_leader(leader_wait)) {
      result.setup_error = "attempt " + std::to_string(attempt + 1) + ": no leader within " +
                           std::to_string(leader_wait.count()) + " ms\n" + cluster->diagnostics(20);
      continue;
    }
    WorkloadOptions wo;
    wo.cluster_id = co.cluster_id;
    for (std::uint64_t id : cluster->ids()) {
      wo.endpoints[static_cast<int>(id)] = cluster->client_address(id);
    }
    wo.clients = options.clients;
    wo.seed = options.seed;
    wo.run_name = options.name;
    workload = std::make_unique<Workload>(wo, origin, &generations);
    if (!workload->setup(kWorkloadSetupBudget, &error)) {
      result.setup_error = "attempt " + std::to_string(attempt + 1) +
                           ": workload set-up: " + error + "\n" + cluster->diagnostics(20);
      continue;
    }
    result.started = true;
  }
  if (!result.started) {
    if (options.verbose) std::cout << result.totals() << std::flush;
    return result;
  }

  NemesisOptions no = options.nemesis;
  no.kinds = options.faults;
  no.seed = options.seed;
  no.network = network.get();
  Nemesis nemesis(cluster.get(), no, &generations);
  workload->start();
  if (!no.kinds.empty()) nemesis.start();
  std::this_thread::sleep_for(options.duration);
  nemesis.stop_and_heal();
  workload->stop();
  result.faults = nemesis.totals();
  result.recovery_problems = nemesis.problems();

  if (options.plant_total_amnesia) {
    for (std::uint64_t id : cluster->ids()) cluster->kill(id);
    for (std::uint64_t id : cluster->ids()) {
      std::error_code ec;
      std::filesystem::remove_all(cluster->data_dir(id), ec);
      std::string error;
      if (!cluster->start(id, true, false, &error)) {
        result.recovery_problems.push_back("amnesia restart of member " + std::to_string(id) +
                                           " failed: " + error);
      }
    }
  }

  // Recovery: an agreed leader and every member applied to the same index.
  const auto healed = SteadyClock::now();
  const auto deadline = healed + result.recovery_bound;
  std::string why = "no agreed leader";
  bool recovered = false;
  while (!recovered && SteadyClock::now() < deadline) {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - SteadyClock::now());
    const auto leader = cluster->wait_leader(std::max(left, milliseconds(1)));
    if (!leader) break;
    recovered = e2e::ProcessCluster::wait_until(
        [&] { return converged(*cluster, *leader, &why); },
        std::min(milliseconds(3000), std::chrono::duration_cast<milliseconds>(
                                         deadline - SteadyClock::now() + milliseconds(1))),
        milliseconds(100));
  }
  result.recovery_time = std::chrono::duration_cast<milliseconds>(SteadyClock::now() - healed);
  if (!recovered) {
    result.recovery_problems.push_back(
        "not recovered within " + std::to_string(result.recovery_bound.count()) + " ms: " + why);
  } else {
    for (std::uint64_t id : cluster->ids()) {
      std::string error;
      if (!workload->final_reads(static_cast<int>(id), cluster->client_address(id),
                                 milliseconds(10000), &error)) {
        result.recovery_problems.push_back(error);
      }
    }
  }

  const std::vector<Operation> history = workload->history();
  result.workload = workload->totals();
  CheckOptions check;
  check.judge_write_rejections = options.judge_write_rejections;
  result.linearizability = check_linearizability(history, check);
  result.stale = check_stale_reads(history);
  if (!result.passed()) {
    result.diagnostics = cluster->diagnostics(30);
    cluster->keep();
  }
  if (options.verbose) {
    std::cout << "==== chaos run " << options.name << " (" << options.duration.count()
              << " ms of faults) ====\n"
              << result.totals() << std::flush;
  }
  return result;
}

}  // namespace raftmeta::chaos

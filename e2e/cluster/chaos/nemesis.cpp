#include "e2e/cluster/chaos/nemesis.h"

#include <algorithm>
#include <random>

#include "e2e/cluster/chaos/membership.h"

namespace raftmeta::chaos {

using std::chrono::milliseconds;

namespace {

constexpr const char* kFailpoints[] = {"raft-loop", "apply-loop", "persist", "peer-send"};
// Start-up of a restarted member: storage open and log replayed.
constexpr milliseconds kRestartWait{10000};
// Each Admin step of a membership change (remove, add learner, promote: the
// last waits for the learner to catch up).
constexpr milliseconds kMembershipStepBudget{20000};
// The harness hands out member ids 1..9 (ProcessCluster).
constexpr std::uint64_t kMaxMemberId = 9;

}  // namespace

const char* to_string(FaultKind kind) {
  switch (kind) {
    case FaultKind::kKill:
      return "kill";
    case FaultKind::kStop:
      return "stop";
    case FaultKind::kFailpoint:
      return "failpoint";
    case FaultKind::kPartition:
      return "partition";
    case FaultKind::kNetPartition:
      return "net-partition";
    case FaultKind::kMembership:
      return "membership";
  }
  return "?";
}

Nemesis::Nemesis(e2e::ProcessCluster* cluster, NemesisOptions options,
                 MemberGenerations* generations)
    : cluster_(cluster),
      options_(std::move(options)),
      generations_(generations),
      rng_state_(options_.seed) {}

void Nemesis::start() {
  {
    std::lock_guard lock(mu_);
    stopping_ = false;
  }
  thread_ = std::thread([this] {
    run();
    heal_all();
    std::unique_lock lock(mu_);
    healed_ = true;
    cv_.notify_all();
    // Members this thread restarted die with it (PR_SET_PDEATHSIG follows the
    // thread that forked them), so it lives until the Nemesis is destroyed.
    cv_.wait(lock, [&] { return exit_; });
  });
}

void Nemesis::stop_and_heal() {
  std::unique_lock lock(mu_);
  if (!thread_.joinable()) return;
  stopping_ = true;
  cv_.notify_all();
  cv_.wait(lock, [&] { return healed_; });
}

Nemesis::~Nemesis() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    exit_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool Nemesis::pause(milliseconds d) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, d, [&] { return stopping_; });
  return !stopping_;
}

std::uint64_t Nemesis::pick_target() {
  std::mt19937_64 rng(rng_state_++);
  const auto ids = cluster_->ids();
  if (rng() % 2 == 0) {
    for (std::uint64_t id : ids) {
      if (cluster_->view(id, milliseconds(300)).role == "leader") return id;
    }
  }
  return ids[rng() % ids.size()];
}

void Nemesis::restart(std::uint64_t id) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    std::string error;
    if (cluster_->start(id, false, false, &error) &&
        cluster_->wait_startup(id, kRestartWait + e2e::kSlack)) {
      return;
    }
    cluster_->kill(id);
    if (attempt == 2) {
      problems_.push_back("member " + std::to_string(id) + " did not restart: " + error);
    }
  }
}

void Nemesis::run() {
  std::mt19937_64 rng(options_.seed);
  auto between = [&](milliseconds lo, milliseconds hi) {
    const auto span = static_cast<std::uint64_t>((hi - lo).count()) + 1;
    return lo + milliseconds(static_cast<std::int64_t>(rng() % span));
  };
  // Kinds take turns (from a random first one), so a mixed run of a few
  // faults still covers every kind.
  std::size_t turn = rng() % options_.kinds.size();
  net_shape_ = rng() % 5;  // partition shapes take turns from a random one too
  while (pause(between(options_.min_gap, options_.max_gap))) {
    const FaultKind kind = options_.kinds[turn++ % options_.kinds.size()];
    const std::uint64_t target = pick_target();
    const milliseconds hold = between(options_.min_hold, options_.max_hold);
    switch (kind) {
      case FaultKind::kKill:
        generations_->bump(static_cast<int>(target));
        cluster_->kill(target);
        ++totals_["kill"];
        pause(hold);
        restart(target);
        break;
      case FaultKind::kStop:
        cluster_->stop(target);
        ++totals_["stop"];
        pause(hold);
        cluster_->cont(target);
        break;
      case FaultKind::kFailpoint: {
        const std::string point = kFailpoints[rng() % std::size(kFailpoints)];
        if (!cluster_->set_failpoint(target, point, "block")) {
          problems_.push_back("could not set failpoint " + point + " on member " +
                              std::to_string(target));
          break;
        }
        ++totals_["failpoint " + point];
        pause(hold);
        switch_off(target, point);
        break;
      }
      case FaultKind::kPartition:
        if (!cluster_->set_failpoint(target, "peer-send", "error")) {
          problems_.push_back("could not isolate member " + std::to_string(target));
          break;
        }
        ++totals_["partition (peer-send error)"];
        pause(hold);
        switch_off(target, "peer-send");
        break;
      case FaultKind::kMembership: {
        const std::uint64_t leader = leader_or(0);
        std::vector<std::uint64_t> followers;
        for (std::uint64_t id : cluster_->ids()) {
          if (id != leader) followers.push_back(id);
        }
        if (followers.empty() || cluster_->next_new_id() > kMaxMemberId) break;
        const std::uint64_t old_id = followers[rng() % followers.size()];
        const MemberReplacement r = replace_member(cluster_, old_id, kMembershipStepBudget);
        ++totals_["member-replace"];
        if (!r.ok)
          problems_.push_back("replacing member " + std::to_string(old_id) + ": " + r.error);
        break;
      }
      case FaultKind::kNetPartition: {
        if (options_.network == nullptr) {
          problems_.push_back("net-partition needs network namespaces (NemesisOptions::network)");
          break;
        }
        const std::string shape = partition_network(leader_or(target), &rng);
        if (shape.empty()) break;
        ++totals_["net-partition " + shape];
        pause(hold);
        heal_network();
        break;
      }
    }
  }
}

std::uint64_t Nemesis::leader_or(std::uint64_t fallback) {
  for (std::uint64_t id : cluster_->ids()) {
    if (cluster_->view(id, milliseconds(300)).role == "leader") return id;
  }
  return fallback;
}

std::string Nemesis::partition_network(std::uint64_t leader, std::mt19937_64* rng) {
  NetnsNetwork* net = options_.network;
  std::vector<std::uint64_t> ids = cluster_->ids();
  std::vector<std::uint64_t> followers;
  for (std::uint64_t id : ids) {
    if (id != leader) followers.push_back(id);
  }
  std::string error;
  std::string shape;
  bool ok = false;
  switch (net_shape_++ % 5) {
    case 0:
      shape = "isolate-leader";
      ok = net->isolate(leader, &error);
      break;
    case 1: {
      std::shuffle(ids.begin(), ids.end(), *rng);
      const std::size_t minority = (ids.size() - 1) / 2;
      std::vector<std::uint64_t> small(ids.begin(), ids.begin() + static_cast<long>(minority));
      std::vector<std::uint64_t> large(ids.begin() + static_cast<long>(minority), ids.end());
      shape = "split-" + std::to_string(large.size()) + "|" + std::to_string(small.size());
      ok = net->split({large, small}, &error);
      break;
    }
    case 2:
      shape = "one-way-from-leader";
      ok = net->one_way_out(leader, &error);
      break;
    case 3:
      shape = "bridge";
      ok = !followers.empty() &&
           net->split({{leader}, {followers[(*rng)() % followers.size()]}}, &error);
      break;
    case 4:
      shape = "cut-clients";
      ok = net->cut_clients(ids[(*rng)() % ids.size()], &error);
      break;
  }
  if (!ok) {
    problems_.push_back("could not make partition " + shape + ": " + error);
    heal_network();
    return "";
  }
  return shape;
}

void Nemesis::heal_network() {
  if (options_.network == nullptr) return;
  std::string error;
  for (int attempt = 0; attempt < 5; ++attempt) {
    if (options_.network->heal(&error)) return;
  }
  problems_.push_back("could not heal the network: " + error);
}

void Nemesis::switch_off(std::uint64_t id, const std::string& point) {
  for (int attempt = 0; attempt < 5; ++attempt) {
    if (cluster_->set_failpoint(id, point, "off")) return;
  }
  problems_.push_back("could not switch failpoint " + point + " off on member " +
                      std::to_string(id));
}

void Nemesis::heal_all() {
  heal_network();
  for (std::uint64_t id : cluster_->ids()) {
    if (!cluster_->running(id)) {
      restart(id);
      continue;
    }
    cluster_->cont(id);
    for (const char* point : kFailpoints) switch_off(id, point);
  }
}

}  // namespace raftmeta::chaos

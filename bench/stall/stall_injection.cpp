#include "bench/stall/stall_injection.h"

#include <algorithm>
#include <iostream>
#include <optional>
#include <thread>

namespace raftmeta::bench::stall {
namespace {

using e2e::Clock;
using e2e::ProcessCluster;
using std::chrono::milliseconds;

double ms_since(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

void note_problem(InjectionResult* result, const std::string& problem) {
  std::cerr << "stall-bench: " << result->failpoint << " on " << target_role_name(result->role)
            << ": " << problem << "\n";
  if (result->first_problem.empty()) result->first_problem = problem;
}

bool all_live(const ProcessCluster& cluster) {
  for (std::uint64_t id : cluster.ids()) {
    if (cluster.livez(id, milliseconds(500)) != 200) return false;
  }
  return true;
}

// A leader, every member live, the member's applied index at the leader's
// commit index of the moment this is called, and writes flowing.
// On failure, *why names the condition that was not reached.
bool wait_healthy(const ProcessCluster& cluster, const e2e::WriteLoad& load, std::uint64_t member,
                  milliseconds timeout, std::string* why) {
  const Clock::time_point deadline = Clock::now() + timeout;
  auto left = [&] {
    return std::max(milliseconds(1),
                    std::chrono::duration_cast<milliseconds>(deadline - Clock::now()));
  };
  const auto leader = cluster.wait_leader(left());
  if (!leader) {
    *why = "no leader";
    return false;
  }
  const e2e::MemberView lv = cluster.view(*leader);
  if (!lv.answered) {
    *why = "leader " + std::to_string(*leader) + " /status did not answer";
    return false;
  }
  const std::uint64_t target = lv.commit;
  if (!ProcessCluster::wait_until(
          [&] {
            const e2e::MemberView v = cluster.view(member, milliseconds(500));
            return v.answered && v.applied >= target;
          },
          left())) {
    *why = "member " + std::to_string(member) + " applied did not reach " + std::to_string(target);
    return false;
  }
  if (!ProcessCluster::wait_until([&] { return all_live(cluster); }, left())) {
    *why = "not every /livez 200";
    return false;
  }
  if (!load.wait_for_more(3, left())) {
    *why = "writes not acknowledged (acknowledged " + std::to_string(load.acknowledged()) +
           ", failed " + std::to_string(load.failed()) + ", last error: " + load.last_error() + ")";
    return false;
  }
  return true;
}

std::optional<std::uint64_t> pick_target(const ProcessCluster& cluster, TargetRole role,
                                         milliseconds timeout) {
  const auto leader = cluster.wait_leader(timeout);
  if (!leader) return std::nullopt;
  if (role == TargetRole::kLeader) return leader;
  for (std::uint64_t id : cluster.ids()) {
    if (id != *leader) return id;
  }
  return std::nullopt;
}

// Polls /livez of `id` every `poll` until it answers 503; the time the
// answer arrived, or nullopt at the deadline.
std::optional<Clock::time_point> first_503(const ProcessCluster& cluster, std::uint64_t id,
                                           milliseconds poll, Clock::time_point deadline) {
  while (Clock::now() < deadline) {
    const Clock::time_point sent = Clock::now();
    const int code = cluster.livez(id, milliseconds(500));
    const Clock::time_point got = Clock::now();
    if (code == 503) return got;
    const Clock::time_point next = sent + poll;
    if (next > got) std::this_thread::sleep_until(next);
  }
  return std::nullopt;
}

// Clears the failpoint and waits for health; restarts the member (from its
// data) when it does not come back by itself.
bool recover(ProcessCluster& cluster, const e2e::WriteLoad& load, std::uint64_t id,
             const InjectionPlan& plan, InjectionResult* result) {
  const Clock::time_point off_at = Clock::now();
  const bool cleared = cluster.set_failpoint(id, plan.failpoint, "off");
  std::string why = "PUT off failed";
  if (cleared && wait_healthy(cluster, load, id, plan.recover_timeout, &why)) {
    result->recovery_ms.push_back(ms_since(off_at, Clock::now()));
    return true;
  }
  note_problem(result, "member " + std::to_string(id) + " did not recover after off (" + why +
                           "); restarting it");
  ++result->restarts;
  cluster.kill(id);
  std::string error;
  if (!cluster.start(id, /*bootstrap=*/false, /*join=*/false, &error) ||
      !cluster.wait_startup(id, plan.recover_timeout)) {
    note_problem(result, "restart of member " + std::to_string(id) + " failed: " + error);
    return false;
  }
  if (!wait_healthy(cluster, load, id, plan.recover_timeout, &why)) {
    note_problem(result,
                 "cluster not healthy after restarting member " + std::to_string(id) + ": " + why);
    return false;
  }
  result->recovery_ms.push_back(ms_since(off_at, Clock::now()));
  return true;
}

}  // namespace

const char* target_role_name(TargetRole role) {
  return role == TargetRole::kLeader ? "leader" : "follower";
}

bool run_stall_injections(ProcessCluster& cluster, const e2e::WriteLoad& load,
                          const InjectionPlan& plan, InjectionResult* result) {
  result->failpoint = plan.failpoint;
  result->role = plan.role;
  result->limit = plan.limit;
  for (int i = 0; i < plan.injections; ++i) {
    const auto target = pick_target(cluster, plan.role, plan.recover_timeout);
    if (!target) {
      note_problem(result, "no leader before injection " + std::to_string(i));
      return false;
    }
    std::string why;
    if (!wait_healthy(cluster, load, *target, plan.recover_timeout, &why)) {
      note_problem(result,
                   "cluster not healthy before injection " + std::to_string(i) + ": " + why);
      return false;
    }
    const Clock::time_point put_at = Clock::now();
    if (!cluster.set_failpoint(*target, plan.failpoint, "block")) {
      note_problem(result, "PUT block failed on member " + std::to_string(*target));
      return false;
    }
    const auto failed_at = first_503(cluster, *target, plan.poll, put_at + plan.detect_timeout);
    if (failed_at) {
      const double ms = ms_since(put_at, *failed_at);
      result->detection_ms.push_back(ms);
      if (ms < static_cast<double>(plan.limit.count())) ++result->earlier_than_limit;
      std::cerr << "stall-bench: " << plan.failpoint << " on " << target_role_name(plan.role)
                << " (member " << *target << ") #" << i + 1 << ": 503 after " << ms << " ms\n";
    } else {
      ++result->missed;
      note_problem(result, "no 503 within " + std::to_string(plan.detect_timeout.count()) +
                               " ms (member " + std::to_string(*target) + ")");
    }
    if (!recover(cluster, load, *target, plan, result)) return false;
  }
  return true;
}

}  // namespace raftmeta::bench::stall

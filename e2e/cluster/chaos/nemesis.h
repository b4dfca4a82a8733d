// The nemesis: injects one fault at a time into a ProcessCluster and always
// heals it before the next one.
//
//   kill        SIGKILL a member (the leader half of the time), keep it down
//               for the hold time, restart it from its data directory.
//   stop        SIGSTOP a member for the hold time, then SIGCONT.
//   failpoint   set one of raft-loop, apply-loop, persist, peer-send to
//               `block` on a member for the hold time, then `off`.
//   partition   cut a member off from its peers for the hold time: emulated
//               with the `peer-send` failpoint set to `error` on that member
//               (its outgoing Raft messages are dropped, so it can neither
//               lead nor vote; it still receives).
//   net-partition
//               a real partition in network namespaces (needs
//               NemesisOptions::network; see netns.h), shapes taking turns:
//               the leader isolated; a majority/minority split (2|1 of 3,
//               3|2 of 5); one-way (the leader can send to no peer but still
//               receives); a bridge (the leader cut from one follower only,
//               both still reach the third); the client path of one member
//               cut (its peers still reach it).
////   membership  a follower replaced under load (membership.h): removed
//               through the Admin API, a new member with a never-used id
//               started empty with --join, added as a learner, promoted.
//               Skipped once the harness's ids (1..9) are used up.
//
// Thread use: start() runs a private thread that is the only user of the
// cluster until stop_and_heal() returns; the owner must not touch the cluster
// in between. totals()/problems() after stop_and_heal(). The thread stays
// alive (idle) until the Nemesis is destroyed, because members it restarted
// are killed when the thread that forked them exits (PR_SET_PDEATHSIG):
// destroy the Nemesis only when the run is over.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "e2e/cluster/chaos/netns.h"
#include "e2e/cluster/chaos/workload.h"
#include "e2e/cluster/process_cluster.h"

namespace raftmeta::chaos {

enum class FaultKind { kKill, kStop, kFailpoint, kPartition, kNetPartition, kMembership };
const char* to_string(FaultKind kind);

struct NemesisOptions {
  std::vector<FaultKind> kinds;  // take turns, starting from a random one
  std::chrono::milliseconds min_gap{800};
  std::chrono::milliseconds max_gap{2000};
  std::chrono::milliseconds min_hold{1000};
  std::chrono::milliseconds max_hold{4000};
  std::uint64_t seed = 1;
  // Required for kNetPartition: the namespaces the members run in. Owned by
  // the caller; used only by the nemesis thread while it runs.
  NetnsNetwork* network = nullptr;
};

class Nemesis {
 public:
  Nemesis(e2e::ProcessCluster* cluster, NemesisOptions options, MemberGenerations* generations);
  ~Nemesis();  // ends the thread (and with it the members it restarted)
  Nemesis(const Nemesis&) = delete;
  Nemesis& operator=(const Nemesis&) = delete;

  void start();
  // Ends the current fault early, heals it, then makes sure every member is
  // running, continued and has every failpoint off.
  void stop_and_heal();

  // Faults injected by kind ("kill", "failpoint raft-loop", ...).
  const std::map<std::string, std::uint64_t>& totals() const { return totals_; }
  // Heal steps that did not work (a member that did not restart, ...).
  const std::vector<std::string>& problems() const { return problems_; }

 private:
  void run();
  // Waits up to `d` or until stopping; false when stopping.
  bool pause(std::chrono::milliseconds d);
  std::uint64_t pick_target();
  std::uint64_t leader_or(std::uint64_t fallback);
  void restart(std::uint64_t id);
  void switch_off(std::uint64_t id, const std::string& point);
  // Applies the next net-partition shape; its name ("" when it failed).
  std::string partition_network(std::uint64_t leader, std::mt19937_64* rng);
  void heal_network();
  void heal_all();

  e2e::ProcessCluster* const cluster_;
  const NemesisOptions options_;
  MemberGenerations* const generations_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
  bool healed_ = false;    // guarded by mu_
  bool exit_ = false;      // guarded by mu_
  std::thread thread_;
  std::uint64_t rng_state_;
  std::uint64_t net_shape_ = 0;                  // nemesis thread
  std::map<std::string, std::uint64_t> totals_;  // nemesis thread, then owner
  std::vector<std::string> problems_;            // nemesis thread, then owner
};

}  // namespace raftmeta::chaos

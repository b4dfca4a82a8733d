// TestCluster: N raftmeta nodes in one process on an InMemoryNetwork, each
// with its own data directory, for the runtime's tests.
//
// Time bounds come from the configured timers plus kSlack, scaled under the
// sanitizers (and generous: CI runs on 2 loaded cores).
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "sidecar/health/failpoints.h"
#include "sidecar/health/progress.h"
#include "sidecar/node/inmem_transport.h"
#include "sidecar/node/node.h"
#include "sidecar/node/tests/kv_applier.h"

namespace raftmeta::node::testing {

#if defined(RAFTMETA_SANITIZER_THREAD) || defined(RAFTMETA_SANITIZER_ADDRESS)
inline constexpr int kSanitizerScale = 4;
#else
inline constexpr int kSanitizerScale = 1;
#endif
// The one tolerance every timed wait in these tests adds to what the
// configured timers imply.
inline constexpr std::chrono::milliseconds kSlack{3000 * kSanitizerScale};

inline constexpr int kHeartbeatMs = 100;
inline constexpr int kElectionMs = 1000;
// A leader exists within a few randomized election rounds.
inline const std::chrono::milliseconds kElectionBound{10 * kElectionMs + kSlack.count()};

inline Deadline after(std::chrono::milliseconds d) { return Clock::now() + d; }

inline std::string make_temp_dir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "raftmeta-node-XXXXXX").string();
  char* made = mkdtemp(pattern.data());
  if (made == nullptr) throw std::runtime_error("mkdtemp failed");
  return made;
}

class TestCluster {
 public:
  using ApplierFactory = std::function<std::shared_ptr<Applier>()>;

  // Members use KvApplier unless `factory` makes another state machine (then
  // kv() must not be used; applier() gives it).
  explicit TestCluster(int voters, std::uint64_t snapshot_entries = 10000,
                       ApplierFactory factory = nullptr)
      : network_(std::make_shared<InMemoryNetwork>()),
        root_(make_temp_dir()),
        snapshot_entries_(snapshot_entries),
        factory_(std::move(factory)) {
    for (int i = 1; i <= voters; ++i) initial_[i] = address(i);
  }
  ~TestCluster() {
    // Release any thread a failed test left blocked at a failpoint.
    for (auto& [id, m] : members_) {
      if (!m.failpoints) continue;
      for (auto name : {health::kFailpointRaftLoop, health::kFailpointApplyLoop,
                        health::kFailpointPersist, health::kFailpointPeerSend}) {
        m.failpoints->set(name, health::FailpointAction{});
      }
    }
    for (auto& [id, m] : members_) m.node.reset();
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }

  static std::string address(raft::NodeId id) { return "peer-" + std::to_string(id); }

  NodeOptions options(raft::NodeId id, bool join) const {
    NodeOptions o;
    o.id = id;
    o.cluster_id = "test-cluster";
    o.data_dir = root_ + "/member-" + std::to_string(id);
    o.peer_address = address(id);
    o.client_address = "client-" + std::to_string(id);
    if (!join) o.initial_members = initial_;
    o.join = join;
    o.heartbeat_ms = kHeartbeatMs;
    o.election_ms = kElectionMs;
    o.snapshot_entries = snapshot_entries_;
    o.compaction_margin = 10;
    o.shutdown_timeout_ms = 5000;
    o.fence_interval_ms = 100;
    o.apply_stall_ms = apply_stall_ms_;
    if (leader_command_) o.leader_command = leader_command_(id);
    if (restamp_forwarded_) o.restamp_forwarded = restamp_forwarded_(id);
    return o;
  }

  // Gives each member started from now on a restamp_forwarded hook made by
  // `make`.
  void set_restamp_forwarded(
      std::function<std::function<bool(std::string*, std::int64_t)>(raft::NodeId)> make) {
    restamp_forwarded_ = std::move(make);
  }

  // Gives each member started from now on a leader duty made by `make`.
  void set_leader_command(
      std::function<std::function<std::string(std::int64_t)>(raft::NodeId)> make) {
    leader_command_ = std::move(make);
  }

  void start_all() {
    for (const auto& [id, address] : initial_) start(id);
  }

  // Starts (or restarts from its data directory) member `id`.
  void start(raft::NodeId id, bool join = false) {
    Member& m = members_[id];
    m.node.reset();
    if (factory_) {
      m.applier = factory_();
      m.kv = nullptr;
    } else {
      m.kv = std::make_shared<KvApplier>();
      m.applier = m.kv;
    }
    m.transport = std::make_unique<InMemoryTransport>(network_, address(id));
    m.progress = std::make_unique<health::ProgressStamps>();
    m.failpoints = std::make_unique<health::FailpointRegistry>(/*enabled=*/true);
    NodeHealth health;
    health.progress = m.progress.get();
    health.failpoints = m.failpoints.get();
    std::string error;
    m.node = Node::start(options(id, join), m.applier, m.transport.get(), health, &error);
    ASSERT_NE(m.node, nullptr) << "member " << id << ": " << error;
  }

  void stop(raft::NodeId id) {
    Member& m = members_[id];
    if (m.node) m.node->shutdown(after(std::chrono::milliseconds(5000)));
    m.node.reset();
  }

  bool running(raft::NodeId id) const {
    auto it = members_.find(id);
    return it != members_.end() && it->second.node != nullptr;
  }
  Node& node(raft::NodeId id) { return *members_.at(id).node; }
  KvApplier& kv(raft::NodeId id) { return *members_.at(id).kv; }
  std::shared_ptr<Applier> applier(raft::NodeId id) { return members_.at(id).applier; }
  const health::ProgressStamps& progress(raft::NodeId id) { return *members_.at(id).progress; }
  // Each member has its own enabled registry (one process per member in
  // production).
  health::FailpointRegistry& failpoints(raft::NodeId id) { return *members_.at(id).failpoints; }
  // Limits for members started from now on.
  void set_apply_stall_ms(int ms) { apply_stall_ms_ = ms; }
  InMemoryNetwork& network() { return *network_; }
  std::vector<raft::NodeId> ids() const {
    std::vector<raft::NodeId> out;
    for (const auto& [id, m] : members_) {
      if (m.node) out.push_back(id);
    }
    return out;
  }

  // The member of `among` (default: all running) that every member of
  // `among` agrees is leader, once one is; kNoNode at the deadline.
  raft::NodeId wait_for_leader(std::chrono::milliseconds bound = kElectionBound,
                               std::vector<raft::NodeId> among = {}) {
    if (among.empty()) among = ids();
    const Deadline deadline = after(bound);
    while (Clock::now() < deadline) {
      raft::NodeId leader = raft::kNoNode;
      bool agreed = true;
      for (raft::NodeId id : among) {
        auto s = node(id).status();
        if (s->leader_id == raft::kNoNode || (leader != raft::kNoNode && s->leader_id != leader)) {
          agreed = false;
          break;
        }
        leader = s->leader_id;
      }
      const bool inside = std::find(among.begin(), among.end(), leader) != among.end();
      if (agreed && inside && node(leader).status()->role == raft::Role::kLeader) {
        return leader;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return raft::kNoNode;
  }

  // Writes through `via`, retrying retryable answers until the bound.
  ProposeReply write(raft::NodeId via, const std::string& command,
                     std::chrono::milliseconds bound = kElectionBound) {
    const Deadline deadline = after(bound);
    ProposeReply reply;
    while (Clock::now() < deadline) {
      reply =
          node(via).propose(command, std::min(deadline, after(std::chrono::milliseconds(2000))));
      if (reply.status.ok()) return reply;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return reply;
  }

  // Waits until member `id` has applied at least `index`.
  bool wait_applied(raft::NodeId id, raft::Index index,
                    std::chrono::milliseconds bound = kElectionBound) {
    const Deadline deadline = after(bound);
    while (Clock::now() < deadline) {
      if (node(id).status()->applied >= index) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

 private:
  struct Member {
    std::shared_ptr<KvApplier> kv;
    std::shared_ptr<Applier> applier;
    std::unique_ptr<InMemoryTransport> transport;
    std::unique_ptr<health::ProgressStamps> progress;
    std::unique_ptr<health::FailpointRegistry> failpoints;
    std::unique_ptr<Node> node;
  };
  std::shared_ptr<InMemoryNetwork> network_;
  std::string root_;
  std::uint64_t snapshot_entries_;
  ApplierFactory factory_;
  int apply_stall_ms_ = 10000;
  std::function<std::function<std::string(std::int64_t)>(raft::NodeId)> leader_command_;
  std::function<std::function<bool(std::string*, std::int64_t)>(raft::NodeId)> restamp_forwarded_;
  std::map<raft::NodeId, std::string> initial_;
  std::map<raft::NodeId, Member> members_;
};

}  // namespace raftmeta::node::testing

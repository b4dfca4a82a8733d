// Three (and more) in-process members on the in-memory transport: writes,
// reads at every level, forwarding, restarts from the data directory,
// partitions, membership changes and InstallSnapshot.
#include <gtest/gtest.h>

#include "sidecar/node/tests/test_cluster.h"

namespace raftmeta::node::testing {
namespace {

using std::chrono::milliseconds;

std::string set(const std::string& key, const std::string& value) {
  return "set " + key + " " + value;
}

raft::NodeId a_follower(TestCluster& c, raft::NodeId leader) {
  for (raft::NodeId id : c.ids()) {
    if (id != leader) return id;
  }
  return raft::kNoNode;
}

TEST(NodeInMemory, WritesThroughAnyMemberReachEveryMember) {
  TestCluster c(3);
  c.start_all();
  const raft::NodeId leader = c.wait_for_leader();
  ASSERT_NE(leader, raft::kNoNode);
  raft::Index last = 0;
  for (int i = 0; i < 30; ++i) {
    const raft::NodeId via = static_cast<raft::NodeId>(1 + i % 3);  // followers forward
    ProposeReply r = c.write(via, set("k" + std::to_string(i), "v" + std::to_string(i)));
    ASSERT_TRUE(r.status.ok()) << r.status.message;
    EXPECT_EQ(r.outcome.code, 0);
    EXPECT_EQ(r.outcome.response, "ok " + std::to_string(r.index));
    EXPECT_GT(r.index, last);
    last = r.index;
  }
  for (raft::NodeId id : c.ids()) {
    ASSERT_TRUE(c.wait_applied(id, last)) << "member " << id;
    EXPECT_EQ(c.kv(id).current()->data.at("k29"), "v29");
    EXPECT_EQ(c.kv(id).current()->data.size(), 30u);
  }
}

TEST(NodeInMemory, ForwardedWritesAreRestampedByTheMemberThatProposesThem) {
  TestCluster c(3);
  // Each member marks the commands it receives forwarded with its own id
  // (raftmeta-node stamps its wall clock there).
  c.set_restamp_forwarded([](raft::NodeId self) {
    return [self](std::string* command, std::int64_t now_ms) {
      EXPECT_GT(now_ms, 0);
      *command += "@" + std::to_string(self);
      return true;
    };
  });
  c.start_all();
  const raft::NodeId leader = c.wait_for_leader();
  ASSERT_NE(leader, raft::kNoNode);
  const raft::NodeId follower = a_follower(c, leader);
  ProposeReply via_follower = c.write(follower, set("forwarded", "v"));
  ASSERT_TRUE(via_follower.status.ok()) << via_follower.status.message;
  ProposeReply direct = c.write(leader, set("direct", "v"));
  ASSERT_TRUE(direct.status.ok()) << direct.status.message;
  for (raft::NodeId id : c.ids()) {
    ASSERT_TRUE(c.wait_applied(id, direct.index)) << "member " << id;
    const auto state = c.kv(id).current();
    EXPECT_EQ(state->data.at("forwarded"), "v@" + std::to_string(leader)) << "member " << id;
    EXPECT_EQ(state->data.at("direct"), "v") << "member " << id;
  }
}

TEST(NodeInMemory, CommandFailingAtApplyAnswersItsErrorAndAdvancesRevision) {
  TestCluster c(3);
  c.start_all();
  const raft::NodeId leader = c.wait_for_leader();
  ASSERT_NE(leader, raft::kNoNode);
  ProposeReply bad = c.write(leader, "fail on purpose");
  ASSERT_TRUE(bad.status.ok()) << bad.status.message;
  EXPECT_EQ(bad.outcome.code, 9);
  ProposeReply good = c.write(leader, set("a", "1"));
  ASSERT_TRUE(good.status.ok());
  EXPECT_EQ(good.index, bad.index + 1);
}

TEST(NodeInMemory, ReadsAtEveryLevel) {
  TestCluster c(3);
  c.start_all();
  const raft::NodeId leader = c.wait_for_leader();
  ASSERT_NE(leader, raft::kNoNode);
  const raft::NodeId follower = a_follower(c, leader);
  ProposeReply w = c.write(leader, set("x", "42"));
  ASSERT_TRUE(w.status.ok());

  // Linearizable on a follower: after the barrier the write is visible.
  ReadBarrierReply lin;
  for (int attempt = 0; attempt < 50 && !(lin = c.node(follower).read_barrier(
                                              Consistency::kLinearizable, after(kSlack)))
                                             .status.ok();
       ++attempt) {
  }
  ASSERT_TRUE(lin.status.ok()) << lin.status.message;
  EXPECT_GE(lin.revision, w.index);
  EXPECT_EQ(c.kv(follower).current()->data.at("x"), "42");

  // Lease on the leader (once a heartbeat round was acknowledged).
  ReadBarrierReply lease;
  const Deadline until = after(kElectionBound);
  while (Clock::now() < until &&
         !(lease = c.node(leader).read_barrier(Consistency::kLease, after(kSlack))).status.ok()) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  ASSERT_TRUE(lease.status.ok()) << lease.status.message;
  EXPECT_GE(lease.revision, w.index);

  // Lease on a follower: refused, pointing at the leader it knows.
  ReadBarrierReply refused = c.node(follower).read_barrier(Consistency::kLease, after(kSlack));
  EXPECT_EQ(refused.status.code, kUnavailable);
  EXPECT_NE(refused.status.leader_id, raft::kNoNode);
  EXPECT_NE(refused.status.leader_id, follower);
  EXPECT_EQ(refused.status.leader_client_address,
            "client-" + std::to_string(refused.status.leader_id));

  // Stale anywhere, with the revision it reflects.
  ASSERT_TRUE(c.wait_applied(follower, w.index));
  ReadBarrierReply stale = c.node(follower).read_barrier(Consistency::kStale, after(kSlack));
  ASSERT_TRUE(stale.status.ok());
  EXPECT_GE(stale.revision, w.index);
  EXPECT_LE(stale.revision, c.kv(follower).current()->revision);
}

TEST(NodeInMemory, LeaderStopAndRestartFromDataDir) {
  TestCluster c(3);
  c.start_all();
  const raft::NodeId old_leader = c.wait_for_leader();
  ASSERT_NE(old_leader, raft::kNoNode);
  ASSERT_TRUE(c.write(old_leader, set("before", "1")).status.ok());
  c.stop(old_leader);

  const raft::NodeId new_leader = c.wait_for_leader();
  ASSERT_NE(new_leader, raft::kNoNode);
  EXPECT_NE(new_leader, old_leader);
  ProposeReply after_write = c.write(new_leader, set("after", "2"));
  ASSERT_TRUE(after_write.status.ok());

  c.start(old_leader);  // from its data directory
  ASSERT_TRUE(c.wait_applied(old_leader, after_write.index));
  EXPECT_EQ(c.kv(old_leader).current()->data.at("before"), "1");
  EXPECT_EQ(c.kv(old_leader).current()->data.at("after"), "2");
}

TEST(NodeInMemory, PartitionedLeaderIsReplacedAndCatchesUpAfterHeal) {
  TestCluster c(3);
  c.start_all();
  const raft::NodeId old_leader = c.wait_for_leader();
  ASSERT_NE(old_leader, raft::kNoNode);
  ASSERT_TRUE(c.write(old_leader, set("a", "1")).status.ok());

  c.network().isolate(old_leader);
  std::vector<raft::NodeId> others;
  for (raft::NodeId id : c.ids()) {
    if (id != old_leader) others.push_back(id);
  }
  const raft::NodeId new_leader = c.wait_for_leader(kElectionBound, others);
  ASSERT_NE(new_leader, raft::kNoNode);
  EXPECT_NE(new_leader, old_leader);
  // The isolated old leader cannot commit: its answer comes by the deadline
  // and is not a success.
  const Deadline deadline = after(milliseconds(1500));
  ProposeReply lost = c.node(old_leader).propose(set("lost", "x"), deadline);
  EXPECT_FALSE(lost.status.ok());
  EXPECT_LE(Clock::now(), deadline + kSlack);

  ProposeReply w = c.write(new_leader, set("b", "2"));
  ASSERT_TRUE(w.status.ok());
  c.network().heal();
  ASSERT_TRUE(c.wait_applied(old_leader, w.index));
  EXPECT_EQ(c.kv(old_leader).current()->data.at("b"), "2");
  EXPECT_EQ(c.kv(old_leader).current()->data.count("lost"), 0u);
}

// Starts `c`, writes k0..k199 through its leader and waits until the leader
// compacted its log, so that a new member can only catch up by snapshot.
void write_until_compacted(TestCluster& c, raft::NodeId* leader, raft::Index* last) {
  c.start_all();
  *leader = c.wait_for_leader();
  ASSERT_NE(*leader, raft::kNoNode);
  for (int i = 0; i < 200; ++i) {
    ProposeReply r = c.write(*leader, set("k" + std::to_string(i), std::to_string(i)));
    ASSERT_TRUE(r.status.ok()) << r.status.message;
    *last = r.index;
  }
  const Deadline until = after(kElectionBound);
  while (Clock::now() < until && c.node(*leader).status()->snapshot_index == 0) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  ASSERT_GT(c.node(*leader).status()->snapshot_index, 0u);
}

TEST(NodeInMemory, LearnerCatchesUpThroughInstallSnapshotThenPromoteAndRemove) {
  TestCluster c(3, /*snapshot_entries=*/50);
  raft::NodeId leader = raft::kNoNode;
  raft::Index last = 0;
  ASSERT_NO_FATAL_FAILURE(write_until_compacted(c, &leader, &last));

  c.start(4, /*join=*/true);
  AdminReply added = c.node(leader).add_learner(4, TestCluster::address(4), after(kElectionBound));
  ASSERT_TRUE(added.status.ok()) << added.status.message;
  ASSERT_TRUE(c.wait_applied(4, last));
  EXPECT_EQ(c.kv(4).current()->data.at("k199"), "199");
  EXPECT_GT(c.node(4).status()->snapshot_index, 0u);

  AdminReply promoted;
  const Deadline promote_until = after(kElectionBound);
  do {
    promoted = c.node(leader).promote(4, after(kSlack));
  } while (!promoted.status.ok() && Clock::now() < promote_until &&
           (std::this_thread::sleep_for(milliseconds(50)), true));
  ASSERT_TRUE(promoted.status.ok()) << promoted.status.message;

  AdminReply removed = c.node(leader).remove(4, after(kElectionBound));
  ASSERT_TRUE(removed.status.ok()) << removed.status.message;
  ProposeReply w = c.write(leader, set("after-remove", "1"));
  ASSERT_TRUE(w.status.ok());
}

// A snapshot lost after the transport took it (the receiver's inbox was
// full) must not leave the follower waiting for ever: the leader sends it
// again when no answer came for 10 election timeouts (raft_loop.cpp,
// kSnapshotAnswerElections).
TEST(NodeInMemory, ASnapshotLostAfterItWasSentIsSentAgain) {
  TestCluster c(3, /*snapshot_entries=*/50);
  raft::NodeId leader = raft::kNoNode;
  raft::Index last = 0;
  ASSERT_NO_FATAL_FAILURE(write_until_compacted(c, &leader, &last));

  c.network().drop_snapshots(1);
  c.start(4, /*join=*/true);
  AdminReply added = c.node(leader).add_learner(4, TestCluster::address(4), after(kElectionBound));
  ASSERT_TRUE(added.status.ok()) << added.status.message;
  constexpr std::chrono::milliseconds kAnswerWait{10 * kElectionMs};
  ASSERT_TRUE(c.wait_applied(4, last, kAnswerWait + kElectionBound))
      << "the learner never caught up after its first snapshot was lost";
  EXPECT_EQ(c.network().snapshots_dropped(), 1u);  // so the one it restored was sent again
  EXPECT_EQ(c.kv(4).current()->data.at("k199"), "199");
}

TEST(NodeInMemory, PromoteIsRefusedForAMemberThatIsNotALearner) {
  TestCluster c(3);
  c.start_all();
  const raft::NodeId leader = c.wait_for_leader();
  ASSERT_NE(leader, raft::kNoNode);
  AdminReply r = c.node(leader).promote(leader, after(kSlack));
  EXPECT_EQ(r.status.code, kFailedPrecondition);
  AdminReply unknown = c.node(leader).promote(99, after(kSlack));
  EXPECT_EQ(unknown.status.code, kNotFound);
}

TEST(NodeInMemory, ShutdownOfTheLeaderTransfersLeadership) {
  TestCluster c(3);
  c.start_all();
  const raft::NodeId leader = c.wait_for_leader();
  ASSERT_NE(leader, raft::kNoNode);
  ASSERT_TRUE(c.write(leader, set("a", "1")).status.ok());
  const raft::Term term = c.node(leader).status()->term;
  c.stop(leader);
  // Someone else leads (by transfer: the shutdown waits for it).
  const raft::NodeId next = c.wait_for_leader();
  ASSERT_NE(next, raft::kNoNode);
  EXPECT_NE(next, leader);
  EXPECT_GT(c.node(next).status()->term, term);
}

TEST(NodeInMemory, StartRefusesMissingBootstrapAndWrongCluster) {
  TestCluster c(3);
  auto kv = std::make_shared<KvApplier>();
  auto network = std::make_shared<InMemoryNetwork>();
  InMemoryTransport transport(network, "peer-1");
  NodeHealth health;
  health::ProgressStamps progress;
  health.progress = &progress;
  std::string error;
  NodeOptions o = c.options(1, /*join=*/false);
  o.initial_members.clear();
  EXPECT_EQ(Node::start(o, kv, &transport, health, &error), nullptr);
  EXPECT_NE(error.find("--initial-members"), std::string::npos) << error;

  c.start(1);
  c.stop(1);
  NodeOptions other = c.options(1, false);
  other.cluster_id = "another-cluster";
  error.clear();
  EXPECT_EQ(Node::start(other, std::make_shared<KvApplier>(), &transport, health, &error), nullptr);
  EXPECT_FALSE(error.empty());
}

}  // namespace
}  // namespace raftmeta::node::testing

namespace raftmeta::node::testing {
namespace {

using std::chrono::milliseconds;

TEST(NodeInMemory, LeaderDutyCommandIsProposedAndAppliedWhileLeading) {
  // The duty returns a command naming the member that proposed it: the
  // leader's gets proposed and applied without any client.
  TestCluster c(3);
  c.set_leader_command([](raft::NodeId id) {
    return [id](std::int64_t) { return "set duty-by-" + std::to_string(id) + " done"; };
  });
  c.start_all();
  const raft::NodeId leader = c.wait_for_leader();
  ASSERT_NE(leader, raft::kNoNode);
  const Deadline until = after(kElectionBound);
  const std::string key = "duty-by-" + std::to_string(leader);
  while (Clock::now() < until && c.kv(leader).current()->data.count(key) == 0) {
    std::this_thread::sleep_for(milliseconds(20));
  }
  ASSERT_EQ(c.kv(leader).current()->data.count(key), 1u);
}

}  // namespace
}  // namespace raftmeta::node::testing

namespace raftmeta::node::testing {
namespace {

// The original freeze on a leader, in process: its apply loop blocks. Its
// Raft loop keeps turning, sees the apply loop stalled for apply_stall_ms,
// stops serving lease reads and hands leadership to a caught-up follower, so
// writes recover on the new leader without a restart.
TEST(NodeInMemory, LeaderWithStalledApplyLoopStepsAside) {
  constexpr int kApplyStallMs = 1000;
  TestCluster c(3);
  c.set_apply_stall_ms(kApplyStallMs);
  c.start_all();
  const raft::NodeId stalled = c.wait_for_leader();
  ASSERT_NE(stalled, raft::kNoNode);
  ASSERT_TRUE(c.write(stalled, "set before stall").status.ok());

  ASSERT_EQ(c.failpoints(stalled).set(health::kFailpointApplyLoop, "block"), "");
  // A write the stalled leader commits but cannot apply: it answers by its
  // deadline (no success), and leaves committed entries waiting.
  ProposeReply stuck = c.node(stalled).propose("set during stall", after(milliseconds(500)));
  EXPECT_FALSE(stuck.status.ok());

  std::vector<raft::NodeId> others;
  for (raft::NodeId id : c.ids()) {
    if (id != stalled) others.push_back(id);
  }
  const raft::NodeId next = c.wait_for_leader(milliseconds(kApplyStallMs) + kElectionBound, others);
  ASSERT_NE(next, raft::kNoNode);
  EXPECT_NE(next, stalled);
  EXPECT_FALSE(
      c.node(stalled).read_barrier(Consistency::kLease, after(milliseconds(200))).status.ok());
  ProposeReply recovered = c.write(next, "set after stall");
  ASSERT_TRUE(recovered.status.ok()) << recovered.status.message;

  ASSERT_EQ(c.failpoints(stalled).set(health::kFailpointApplyLoop, "off"), "");
  ASSERT_TRUE(c.wait_applied(stalled, recovered.index));
  EXPECT_EQ(c.kv(stalled).current()->data.at("after"), "stall");
}

}  // namespace
}  // namespace raftmeta::node::testing

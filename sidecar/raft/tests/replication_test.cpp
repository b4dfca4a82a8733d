// Log replication (Raft §5.3), commitment (§5.4.2), leader completeness and
// state-machine safety, as transcripts.
#include <gtest/gtest.h>

#include "sidecar/raft/tests/scenario_net.h"

namespace raftmeta::raft::test {
namespace {

constexpr int kElection = 10;

Net elected(std::size_t n, NodeId leader = 1, std::function<void(Config&)> tweak = {}) {
  Net net(n, std::move(tweak));
  net.campaign(leader);
  net.deliver_all();
  return net;
}

TEST(Replication, LeaderAppendsANoOpOnElectionAndCommitsIt) {
  Net net = elected(3);
  const Status s = net.status(1);
  EXPECT_EQ(s.last_index, 1u);
  EXPECT_EQ(s.commit, 1u);
  EXPECT_TRUE(s.committed_in_term);
  ASSERT_EQ(net.app(1).applied.size(), 1u);
  EXPECT_EQ(net.app(1).applied[0].term, 1u);
  EXPECT_TRUE(net.app(1).applied[0].data.empty());
}

TEST(Replication, ProposalCommitsOnMajorityAndIsAppliedEverywhere) {
  Net net = elected(3);
  net.isolate(3);
  const auto r = net.propose(1, "a");
  ASSERT_EQ(r.status, ProposeStatus::kOk);
  EXPECT_EQ(r.term, 1u);
  net.deliver_all();
  EXPECT_EQ(net.status(1).commit, r.index);  // 1 and 2 are a majority
  net.heal();
  net.tick_all(2);
  for (NodeId id : {1u, 2u, 3u}) {
    EXPECT_EQ(net.app(id).data(), std::vector<std::string>{"a"}) << "node " << id;
  }
}

TEST(Replication, NothingCommitsWithoutMajority) {
  Net net = elected(3);
  net.isolate(1);
  const auto r = net.propose(1, "lonely");
  net.deliver_all();
  EXPECT_LT(net.status(1).commit, r.index);
  EXPECT_TRUE(net.app(1).data().empty());
}

TEST(Replication, ConflictingUncommittedSuffixIsReplacedByNewLeadersLog) {
  Net net = elected(3);
  net.isolate(1);
  net.propose(1, "lost-1");
  net.propose(1, "lost-2");
  net.deliver_all();
  net.tick_all(3 * kElection);  // 2 or 3 takes over; 1 steps down (CheckQuorum)
  const NodeId leader = net.leader();
  ASSERT_NE(leader, 1u);
  net.propose(leader, "kept");
  net.deliver_all();
  net.heal();
  net.tick_all(3 * kElection);
  for (NodeId id : {1u, 2u, 3u}) {
    EXPECT_EQ(net.app(id).data(), std::vector<std::string>{"kept"}) << "node " << id;
    EXPECT_EQ(net.stored_log(id), net.stored_log(leader)) << "log matching, node " << id;
  }
}

TEST(Replication, FastBacktrackingSkipsAConflictingTermInFewRoundTrips) {
  Net net = elected(3);
  net.isolate(1);
  for (int i = 0; i < 50; ++i) net.propose(1, "stale" + std::to_string(i));
  net.deliver_all();
  net.tick_all(3 * kElection);
  const NodeId leader = net.leader();
  ASSERT_NE(leader, 1u);
  for (int i = 0; i < 50; ++i) net.propose(leader, "new" + std::to_string(i));
  net.deliver_all();
  net.delivered().clear();
  net.heal();
  net.tick_all(3 * kElection);
  int rejects = 0;
  for (const Message& m : net.delivered()) {
    if (m.type == MessageType::kAppendResponse && m.from == 1 && m.reject) ++rejects;
  }
  EXPECT_LE(rejects, 3) << "one probe per conflicting term, not per entry";
  EXPECT_EQ(net.stored_log(1), net.stored_log(leader));
}

TEST(Replication, FollowerRejectsAppendWhoseLogDoesNotMatchWithHint) {
  Net net = elected(3);
  net.propose(1, "a");
  net.deliver_all();
  Message app = msg(MessageType::kAppend, 1, 2, 1);
  app.index = 10;  // beyond 2's log
  app.log_term = 1;
  app.entries.push_back(Entry{1, 11, EntryType::kNormal, "x"});
  net.clear_queue();
  EXPECT_TRUE(net.node(2).step(app));
  net.process(2);
  ASSERT_EQ(net.queue().size(), 1u);
  const Message& r = net.queue().front();
  EXPECT_EQ(r.type, MessageType::kAppendResponse);
  EXPECT_TRUE(r.reject);
  EXPECT_EQ(r.reject_hint, net.status(2).last_index);
  EXPECT_EQ(net.status(2).last_index, 2u);
}

// Raft §5.4.2 (Figure 8): a leader never commits an entry of an earlier term
// by counting replicas; it commits it only together with one of its own.
TEST(Replication, CommitsOnlyCurrentTermEntriesByCounting) {
  MemoryStorage disk;
  Snapshot boot;
  boot.meta.conf.voters = {1, 2, 3};
  disk.apply_snapshot(boot);
  disk.append({Entry{1, 1, EntryType::kNormal, "old1"}, Entry{1, 2, EntryType::kNormal, "old2"}});
  disk.set_hard_state(HardState{1, kNoNode, 0});
  Config cfg = default_config(1);
  cfg.pre_vote = false;
  std::string error;
  auto node = RawNode::create(cfg, &disk, &error);
  ASSERT_TRUE(node) << error;
  node->campaign();
  auto vote = msg(MessageType::kVoteResponse, 2, 1, 2);
  node->step(vote);
  ASSERT_EQ(node->status().role, Role::kLeader);
  ASSERT_EQ(node->status().last_index, 3u);  // the no-op of term 2
  Ready rd = node->ready();
  disk.append(rd.entries);
  node->advance(rd);
  auto ack = msg(MessageType::kAppendResponse, 2, 1, 2);
  ack.index = 2;  // 2 has the term-1 entries, not yet the no-op
  node->step(ack);
  EXPECT_EQ(node->status().commit, 0u) << "entries of term 1 are not committed by counting";
  ack.index = 3;
  node->step(ack);
  EXPECT_EQ(node->status().commit, 3u) << "the own-term entry commits them all";
}

TEST(Replication, CommitIndexNeverGoesBackwards) {
  Net net = elected(3);
  for (int i = 0; i < 5; ++i) net.propose(1, "v" + std::to_string(i));
  net.deliver_all();
  const Index commit = net.status(2).commit;
  ASSERT_GE(commit, 6u);
  Message hb = msg(MessageType::kHeartbeat, 1, 2, 1);
  hb.commit = 2;
  net.node(2).step(hb);
  Message app = msg(MessageType::kAppend, 1, 2, 1);
  app.index = 3;
  app.log_term = 1;
  app.commit = 1;
  net.node(2).step(app);
  EXPECT_EQ(net.status(2).commit, commit);
  // And across leader changes with partitions.
  std::map<NodeId, Index> last_commit;
  for (int round = 0; round < 6; ++round) {
    net.isolate(static_cast<NodeId>(round % 3 + 1));
    for (int t = 0; t < 3 * kElection; ++t) {
      net.tick_all(1);
      if (NodeId l = net.leader(); l != kNoNode && t % 5 == 0) net.propose(l, "p");
      for (NodeId id : {1u, 2u, 3u}) {
        const Index c = net.status(id).commit;
        EXPECT_GE(c, last_commit[id]) << "node " << id;
        last_commit[id] = c;
      }
    }
    net.heal();
  }
}

TEST(Replication, NewLeaderHoldsEveryCommittedEntry) {
  Net net = elected(5);
  for (int i = 0; i < 10; ++i) net.propose(1, "c" + std::to_string(i));
  net.deliver_all();
  const Index committed = net.status(1).commit;
  net.crash(1);
  net.tick_all(4 * kElection);
  const NodeId leader = net.leader();
  ASSERT_NE(leader, kNoNode);
  EXPECT_GE(net.status(leader).last_index, committed);
  net.tick_all(2);
  std::vector<std::string> expected;
  for (int i = 0; i < 10; ++i) expected.push_back("c" + std::to_string(i));
  EXPECT_EQ(net.app(leader).data(), expected);
}

TEST(Replication, EveryMemberAppliesTheSameSequence) {
  Net net = elected(5);
  for (int i = 0; i < 30; ++i) {
    if (i == 10) net.isolate(2);
    if (i == 20) net.heal();
    net.propose(net.leader(), "s" + std::to_string(i));
    net.deliver_all();
  }
  net.tick_all(3);
  for (NodeId id = 2; id <= 5; ++id) EXPECT_EQ(net.app(id).data(), net.app(1).data());
  EXPECT_EQ(net.app(1).data().size(), 30u);
}

TEST(Replication, CrashedFollowerRestartsFromStorageAndCatchesUp) {
  Net net = elected(3);
  net.propose(1, "before");
  net.deliver_all();
  net.crash(3);
  net.propose(1, "during");
  net.deliver_all();
  net.restart(3);
  net.tick_all(3);
  EXPECT_EQ(net.app(3).data(), (std::vector<std::string>{"before", "during"}));
}

}  // namespace
}  // namespace raftmeta::raft::test

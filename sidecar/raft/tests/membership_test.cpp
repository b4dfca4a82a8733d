// Learners, promotion, removal (incl. the leader and in a two-voter cluster),
// one change at a time, ids never reused, and etcd-io/raft #456.
#include <gtest/gtest.h>

#include "sidecar/raft/tests/scenario_net.h"

namespace raftmeta::raft::test {
namespace {

constexpr int kElection = 10;

Net elected(std::size_t n, NodeId leader = 1) {
  Net net(n);
  net.campaign(leader);
  net.deliver_all();
  return net;
}

TEST(Membership, AddedLearnerReceivesTheLogButDoesNotCountOrCampaign) {
  Net net = elected(3);
  net.propose(1, "before");
  net.deliver_all();
  net.add_empty(4);
  ASSERT_EQ(net.propose_conf(1, ConfChangeType::kAddLearner, 4).status, ProposeStatus::kOk);
  net.tick_all(3);
  EXPECT_EQ(net.status(1).conf.learners, std::vector<NodeId>{4});
  EXPECT_EQ(net.status(4).role, Role::kLearner);
  EXPECT_EQ(net.app(4).data(), std::vector<std::string>{"before"});
  // The quorum is still 2 of {1,2,3}: cut the learner and one voter.
  net.isolate(4);
  net.isolate(3);
  const auto r = net.propose(1, "after");
  net.deliver_all();
  EXPECT_GE(net.status(1).commit, r.index);
  net.tick(4, 5 * kElection);
  EXPECT_EQ(net.status(4).role, Role::kLearner);
}

TEST(Membership, PromotedLearnerBecomesAVoterEverywhere) {
  Net net = elected(3);
  net.add_empty(4);
  net.propose_conf(1, ConfChangeType::kAddLearner, 4);
  net.tick_all(3);
  ASSERT_EQ(net.propose_conf(1, ConfChangeType::kPromote, 4).status, ProposeStatus::kOk);
  net.tick_all(3);
  for (NodeId id : {1u, 2u, 3u, 4u}) {
    EXPECT_EQ(net.status(id).conf.voters, (std::vector<NodeId>{1, 2, 3, 4})) << "node " << id;
  }
  EXPECT_EQ(net.status(4).role, Role::kFollower);
  // Now a majority is 3 of 4.
  net.isolate(3);
  net.isolate(4);
  const auto r = net.propose(1, "needs-three");
  net.deliver_all();
  EXPECT_LT(net.status(1).commit, r.index);
}

TEST(Membership, AtMostOneChangePending) {
  Net net = elected(3);
  net.add_empty(4);
  net.add_empty(5);
  net.isolate(2);
  net.isolate(3);  // nothing commits
  ASSERT_EQ(net.propose_conf(1, ConfChangeType::kAddLearner, 4).status, ProposeStatus::kOk);
  const auto second = net.propose_conf(1, ConfChangeType::kAddLearner, 5);
  EXPECT_EQ(second.status, ProposeStatus::kConfPending);
  EXPECT_FALSE(second.reason.empty());
  EXPECT_TRUE(net.status(1).conf_change_pending);
  net.heal();
  net.tick_all(3);
  EXPECT_EQ(net.propose_conf(1, ConfChangeType::kAddLearner, 5).status, ProposeStatus::kOk);
}

TEST(Membership, ConfChangeTakesEffectWhenAppliedNotWhenAppended) {
  Net net = elected(3);
  net.add_empty(4);
  net.cut_one_way(2, 1);
  net.cut_one_way(3, 1);  // followers append, the leader never hears: nothing commits
  net.propose_conf(1, ConfChangeType::kAddLearner, 4);
  net.deliver_all();
  EXPECT_EQ(net.status(2).last_index, 2u);
  EXPECT_TRUE(net.status(2).conf.learners.empty());
  EXPECT_TRUE(net.status(1).conf.learners.empty());
}

TEST(Membership, RemovedIdIsRefusedForever) {
  Net net = elected(3);
  ASSERT_EQ(net.propose_conf(1, ConfChangeType::kRemove, 3).status, ProposeStatus::kOk);
  net.tick_all(3);
  EXPECT_EQ(net.status(1).conf.removed, std::vector<NodeId>{3});
  const auto again = net.propose_conf(1, ConfChangeType::kAddLearner, 3);
  EXPECT_EQ(again.status, ProposeStatus::kInvalid);
  Message hb = msg(MessageType::kVote, 3, 1, 99);
  EXPECT_FALSE(net.node(1).step(hb));
  EXPECT_FALSE(net.node(2).step(msg(MessageType::kAppend, 3, 2, 99)));
  EXPECT_EQ(net.status(2).term, 1u);
}

TEST(Membership, RemovedLeaderStepsDownAndTheRestElectANewOne) {
  Net net = elected(3);
  ASSERT_EQ(net.propose_conf(1, ConfChangeType::kRemove, 1).status, ProposeStatus::kOk);
  net.deliver_all();
  EXPECT_NE(net.status(1).role, Role::kLeader);
  EXPECT_EQ(net.status(1).conf.voters, (std::vector<NodeId>{2, 3}));
  net.tick_all(4 * kElection);
  const NodeId leader = net.leader();
  ASSERT_TRUE(leader == 2 || leader == 3) << leader;
  const auto r = net.propose(leader, "without-1");
  net.tick_all(2);
  EXPECT_GE(net.status(leader).commit, r.index);
  EXPECT_NE(net.status(1).role, Role::kLeader);
}

TEST(Membership, RemovalOfTheFollowerInATwoVoterCluster) {
  Net net = elected(2);
  ASSERT_EQ(net.propose_conf(1, ConfChangeType::kRemove, 2).status, ProposeStatus::kOk);
  net.deliver_all();
  EXPECT_EQ(net.status(1).conf.voters, std::vector<NodeId>{1});
  net.isolate(2);
  const auto r = net.propose(1, "alone");
  net.deliver_all();
  EXPECT_EQ(net.status(1).commit, r.index);
}

TEST(Membership, RemovalOfTheLeaderInATwoVoterCluster) {
  Net net = elected(2);
  ASSERT_EQ(net.propose_conf(1, ConfChangeType::kRemove, 1).status, ProposeStatus::kOk);
  net.deliver_all();
  net.tick_all(4 * kElection);
  EXPECT_EQ(net.leader(), 2u);
  EXPECT_EQ(net.status(2).conf.voters, std::vector<NodeId>{2});
  const auto r = net.propose(2, "survivor");
  net.deliver_all();
  EXPECT_EQ(net.status(2).commit, r.index);
}

// The removed leader shuts down once it applies its removal; the survivor
// must know the removal committed by then, or it would wait forever for the
// removed member's vote.
TEST(Membership, LeavingLeaderHoldsItsRemovalUntilTheSurvivorKnowsItCommitted) {
  Net net = elected(2);
  net.drop(MessageType::kHeartbeat);
  const auto r = net.propose_conf(1, ConfChangeType::kRemove, 1);
  ASSERT_EQ(r.status, ProposeStatus::kOk);
  while (net.status(1).commit < r.index && !net.queue().empty()) net.deliver_one();
  net.clear_queue();  // 2 does not hear that the removal committed
  ASSERT_GE(net.status(1).commit, r.index);
  ASSERT_LT(net.status(2).commit, r.index);
  EXPECT_LT(net.status(1).applied, r.index) << "held back";
  EXPECT_EQ(net.status(1).role, Role::kLeader);
  net.allow(MessageType::kHeartbeat);
  net.tick_all(2);  // a heartbeat round tells 2, then 1 applies and steps down
  EXPECT_GE(net.status(2).commit, r.index);
  EXPECT_GE(net.status(1).applied, r.index);
  EXPECT_NE(net.status(1).role, Role::kLeader);
  net.crash(1);  // the removed member shuts down
  net.tick_all(5 * kElection);
  EXPECT_EQ(net.leader(), 2u);
  EXPECT_EQ(net.status(2).conf.voters, std::vector<NodeId>{2});
}

// The leaving leader loses leadership while it still holds back its removal:
// it may campaign again under the configuration that includes it (the #456
// rule does not count its own held-back removal), so the survivor never waits
// forever.
TEST(Membership, LeavingLeaderThatLostLeadershipDoesNotDeadlockTheSurvivor) {
  Net net = elected(2);
  net.drop(MessageType::kHeartbeat);
  const auto r = net.propose_conf(1, ConfChangeType::kRemove, 1);
  while (net.status(1).commit < r.index && !net.queue().empty()) net.deliver_one();
  net.clear_queue();
  net.isolate(1);
  net.tick(1, 2 * kElection);  // CheckQuorum: 1 steps down, removal still held
  ASSERT_NE(net.status(1).role, Role::kLeader);
  ASSERT_LT(net.status(1).applied, r.index);
  net.clear_queue();  // nothing 1 sent while cut off arrives later
  ASSERT_LT(net.status(2).commit, r.index);
  net.heal();
  net.tick_all(8 * kElection);
  EXPECT_GE(net.status(1).applied, r.index);
  EXPECT_EQ(net.leader(), 2u);
  EXPECT_EQ(net.status(2).conf.voters, std::vector<NodeId>{2});
  const auto w = net.propose(2, "survivor");
  net.deliver_all();
  EXPECT_EQ(net.status(2).commit, w.index);
}

// Simulator seed 39 (snapshots profile): a leader holds back its own removal
// until both remaining voters acknowledged it, but one of them (3) stopped
// following it and refuses the removed id. The other (1) still answers its
// heartbeats; those must not hold back 1's election timeout, or 1 refuses
// 3's campaigns forever while the removed leader can commit nothing.
TEST(Membership, RemovedLeaderThatCannotLeaveDoesNotHoldBackTheRemainingVoters) {
  Net net = elected(3, 2);
  net.drop(MessageType::kHeartbeat);
  const auto r = net.propose_conf(2, ConfChangeType::kRemove, 2);
  ASSERT_EQ(r.status, ProposeStatus::kOk);
  net.deliver_all();
  ASSERT_EQ(net.status(1).conf.voters, (std::vector<NodeId>{1, 3}));
  ASSERT_EQ(net.status(3).conf.voters, (std::vector<NodeId>{1, 3}));
  ASSERT_LT(net.status(2).applied, r.index) << "2 holds back its removal";
  ASSERT_EQ(net.status(2).role, Role::kLeader);
  net.isolate(3);
  net.tick(3, 2 * kElection);  // 3 stops following 2 and refuses it from now on
  ASSERT_EQ(net.status(3).leader, kNoNode);
  net.clear_queue();
  net.heal();
  net.allow(MessageType::kHeartbeat);
  net.tick_all(8 * kElection);
  const NodeId leader = net.leader();
  ASSERT_TRUE(leader == 1 || leader == 3) << leader;
  const auto w = net.propose(leader, "without-2");
  ASSERT_EQ(w.status, ProposeStatus::kOk);
  net.deliver_all();
  EXPECT_GE(net.status(1).commit, w.index);
  EXPECT_GE(net.status(3).commit, w.index);
}

// etcd-io/raft #456: a member with a committed but unapplied configuration
// change must not campaign under the old configuration.
TEST(Membership, NoCampaignWhileACommittedConfChangeIsUnapplied) {
  Net net = elected(3);
  net.add_empty(4);
  net.set_manual(2, true);
  net.propose_conf(1, ConfChangeType::kAddLearner, 4);
  net.deliver_all();
  // Node 2 persists and learns the commit, but its application lags.
  std::vector<Ready> unapplied;
  for (int i = 0; i < 10 && (net.node(2).has_ready() || !net.queue().empty()); ++i) {
    while (net.node(2).has_ready()) {
      Ready rd = net.node(2).ready();
      net.storage(2).append(rd.entries);
      if (rd.hard_state) net.storage(2).set_hard_state(*rd.hard_state);
      net.send(rd.messages);
      net.send(rd.persisted_messages);
      net.node(2).accept(rd);
      if (!rd.entries.empty()) {
        net.node(2).on_persisted(rd.entries.back().index, rd.entries.back().term);
      }
      unapplied.push_back(rd);
    }
    net.deliver_all();
    net.tick_all(1);
  }
  const Status s = net.status(2);
  ASSERT_GE(s.commit, 2u);
  ASSERT_LT(s.applied, 2u);
  ASSERT_TRUE(s.conf_change_pending);
  const Term term = s.term;
  net.node(2).campaign();
  EXPECT_EQ(net.status(2).term, term);
  EXPECT_EQ(net.status(2).role, Role::kFollower);
  // Once applied, it may campaign again.
  for (const Ready& rd : unapplied) {
    if (!rd.committed_entries.empty()) net.node(2).on_applied(rd.committed_entries.back().index);
  }
  EXPECT_EQ(net.status(2).conf.learners, std::vector<NodeId>{4});
  net.isolate(2);
  net.node(2).campaign();
  EXPECT_EQ(net.status(2).role, Role::kPreCandidate);
}

TEST(Membership, InvalidChangesAreRefusedWithAReason) {
  Net net = elected(3);
  const auto promote_voter = net.propose_conf(1, ConfChangeType::kPromote, 2);
  EXPECT_EQ(promote_voter.status, ProposeStatus::kInvalid);
  EXPECT_FALSE(promote_voter.reason.empty());
  EXPECT_EQ(net.propose_conf(1, ConfChangeType::kRemove, 9).status, ProposeStatus::kInvalid);
  EXPECT_EQ(net.propose_conf(2, ConfChangeType::kAddLearner, 9).status, ProposeStatus::kNotLeader);
}

}  // namespace
}  // namespace raftmeta::raft::test

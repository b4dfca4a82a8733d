// ReadIndex (Raft thesis §6.4) and the lease rounds of raw_node.h.
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

TEST(ReadIndex, LeaderAnswersOnlyAfterAQuorumAcknowledgesARound) {
  Net net = elected(3);
  net.propose(1, "w");
  net.deliver_all();
  net.read_index(1, "r1");
  EXPECT_TRUE(net.app(1).read_states.empty()) << "no answer before a heartbeat round";
  net.deliver_all();
  ASSERT_EQ(net.app(1).read_states.size(), 1u);
  EXPECT_EQ(net.app(1).read_states[0].context, "r1");
  EXPECT_EQ(net.app(1).read_states[0].index, net.status(1).commit);
}

TEST(ReadIndex, ReadsArrivingTogetherShareOneRound) {
  Net net = elected(3);
  net.node(1).read_index("a");
  net.node(1).read_index("b");
  net.process(1);
  int heartbeats = 0;
  for (const Message& m : net.queue()) heartbeats += m.type == MessageType::kHeartbeat ? 1 : 0;
  EXPECT_EQ(heartbeats, 2);  // one round, to two followers
  net.deliver_all();
  EXPECT_EQ(net.app(1).read_states.size(), 2u);
}

TEST(ReadIndex, NewLeaderWaitsForItsFirstCommitBeforeAnswering) {
  Net net(3);
  net.drop(MessageType::kAppend);
  net.campaign(1);
  net.deliver_all();
  ASSERT_EQ(net.leader(), 1u);
  ASSERT_FALSE(net.status(1).committed_in_term);
  net.read_index(1, "early");
  net.tick_all(2);  // heartbeat rounds are acknowledged, but nothing committed
  EXPECT_TRUE(net.app(1).read_states.empty());
  net.allow(MessageType::kAppend);
  net.tick_all(2);
  ASSERT_EQ(net.app(1).read_states.size(), 1u);
  EXPECT_GE(net.app(1).read_states[0].index, 1u);  // covers the no-op of its term
}

TEST(ReadIndex, FollowerAsksTheLeaderAndGetsItsIndex) {
  Net net = elected(3);
  net.propose(1, "w1");
  net.propose(1, "w2");
  net.deliver_all();
  net.read_index(2, "f");
  net.deliver_all();
  ASSERT_EQ(net.app(2).read_states.size(), 1u);
  EXPECT_EQ(net.app(2).read_states[0].context, "f");
  EXPECT_EQ(net.app(2).read_states[0].index, net.status(1).commit);
}

TEST(ReadIndex, FollowerWithoutLeaderFailsTheRead) {
  Net net(3);
  net.read_index(2, "nobody");
  ASSERT_EQ(net.app(2).read_failures.size(), 1u);
  EXPECT_EQ(net.app(2).read_failures[0].context, "nobody");
  EXPECT_EQ(net.app(2).read_failures[0].leader_hint, kNoNode);
}

TEST(ReadIndex, DeposedLeaderNeverServesAStaleRead) {
  Net net = elected(3);
  net.isolate(1);
  net.read_index(1, "stale?");  // asked of the old leader, now cut off
  net.tick_all(3 * kElection);  // 2 or 3 takes over; 1 steps down (CheckQuorum)
  const NodeId leader = net.leader();
  ASSERT_NE(leader, 1u);
  net.propose(leader, "newer");
  net.deliver_all();
  EXPECT_TRUE(net.app(1).read_states.empty());
  ASSERT_EQ(net.app(1).read_failures.size(), 1u);
  EXPECT_EQ(net.app(1).read_failures[0].context, "stale?");
  net.heal();
  net.tick_all(3);
  EXPECT_TRUE(net.app(1).read_states.empty()) << "never served later either";
}

TEST(ReadIndex, RefusedWhileATransferIsInFlight) {
  Net net = elected(3);
  net.cut_one_way(1, 3);
  ASSERT_TRUE(net.transfer(1, 3));
  net.read_index(1, "during-transfer");
  ASSERT_EQ(net.app(1).read_failures.size(), 1u);
}

TEST(ReadIndex, SingleVoterAnswersImmediately) {
  Net net(1);
  net.campaign(1);
  net.deliver_all();
  net.read_index(1, "solo");
  ASSERT_EQ(net.app(1).read_states.size(), 1u);
  EXPECT_EQ(net.app(1).read_states[0].index, net.status(1).commit);
}

TEST(LeaseRound, AdvancesOnlyWhenAQuorumAcknowledgesTheRound) {
  Net net = elected(5);
  net.tick_all(1);
  const std::uint64_t before = net.status(1).lease_round;
  EXPECT_GT(before, 0u);
  net.cut(1, 3);
  net.cut(1, 4);
  net.cut(1, 5);
  net.tick_all(3);  // rounds acknowledged by node 2 only: 2 of 5
  EXPECT_EQ(net.status(1).lease_round, before);
  net.heal();
  net.tick_all(1);
  EXPECT_GT(net.status(1).lease_round, before);
}

TEST(LeaseRound, ReadyReportsTheRoundItStarted) {
  Net net = elected(3);
  net.set_manual(1, true);
  net.node(1).tick();  // heartbeat_tick = 1: a round starts
  Ready rd = net.node(1).ready();
  EXPECT_NE(rd.heartbeat_round, 0u);
  int heartbeats = 0;
  for (const Message& m : rd.messages) heartbeats += m.type == MessageType::kHeartbeat ? 1 : 0;
  EXPECT_EQ(heartbeats, 2);
  net.node(1).advance(rd);
  net.send(rd.messages);
  net.set_manual(1, false);
  net.deliver_all();
  EXPECT_GE(net.status(1).lease_round, rd.heartbeat_round);
}

TEST(LeaseRound, IsZeroForANewTermUntilAcknowledged) {
  Net net = elected(3);
  net.tick_all(2);
  ASSERT_GT(net.status(1).lease_round, 0u);
  net.isolate(1);
  net.tick_all(3 * kElection);
  const NodeId leader = net.leader();
  ASSERT_NE(leader, 1u);
  EXPECT_EQ(net.status(1).lease_round, 0u);
  net.heal();
  net.tick_all(1);
  EXPECT_GT(net.status(leader).lease_round, 0u);
}

TEST(LeaseRound, OfferedOnlyWithCheckQuorum) {
  Net net(3, [](Config& c) { c.check_quorum = false; });
  net.campaign(1);
  net.deliver_all();
  net.tick_all(2);
  EXPECT_EQ(net.status(1).lease_round, 0u);
}

}  // namespace
}  // namespace raftmeta::raft::test

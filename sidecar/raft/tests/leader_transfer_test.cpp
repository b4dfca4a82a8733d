// Leader transfer with kTimeoutNow (Raft thesis §3.10).
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

TEST(LeaderTransfer, ToAnUpToDateFollowerMakesItLeaderDespiteCheckQuorum) {
  Net net = elected(3);
  net.propose(1, "a");
  net.deliver_all();
  ASSERT_TRUE(net.transfer(1, 2));
  net.deliver_all();
  EXPECT_EQ(net.leader(), 2u);
  EXPECT_EQ(net.status(1).role, Role::kFollower);
  EXPECT_EQ(net.status(1).leader, 2u);
  EXPECT_EQ(net.status(2).term, 2u);
}

TEST(LeaderTransfer, ToALaggingFollowerCatchesItUpFirst) {
  Net net = elected(3);
  net.isolate(3);
  for (int i = 0; i < 5; ++i) net.propose(1, "x" + std::to_string(i));
  net.deliver_all();
  net.heal();
  ASSERT_TRUE(net.transfer(1, 3));
  net.deliver_all();
  net.tick_all(2);
  EXPECT_EQ(net.leader(), 3u);
  EXPECT_EQ(net.app(3).data().size(), 5u);
}

TEST(LeaderTransfer, ToTheMostCaughtUpVoterWhenNoTargetIsGiven) {
  Net net = elected(3);
  net.isolate(3);
  net.propose(1, "x");
  net.deliver_all();
  net.heal();
  ASSERT_TRUE(net.transfer(1, kNoNode));
  net.deliver_all();
  EXPECT_EQ(net.leader(), 2u);
}

TEST(LeaderTransfer, RefusedWhileOneIsInFlight) {
  Net net = elected(3);
  net.cut_one_way(1, 2);
  ASSERT_TRUE(net.transfer(1, 2));
  std::string reason;
  EXPECT_FALSE(net.transfer(1, 3, &reason));
  EXPECT_NE(reason.find("in flight"), std::string::npos) << reason;
  EXPECT_EQ(net.status(1).lead_transferee, 2u);
}

TEST(LeaderTransfer, ProposalsAreRefusedDuringATransfer) {
  Net net = elected(3);
  net.cut_one_way(1, 2);
  ASSERT_TRUE(net.transfer(1, 2));
  const auto r = net.propose(1, "blocked");
  EXPECT_EQ(r.status, ProposeStatus::kTransferring);
  const auto c = net.node(1).propose_conf_change({ConfChangeType::kAddLearner, 9, ""});
  EXPECT_EQ(c.status, ProposeStatus::kTransferring);
}

TEST(LeaderTransfer, AbortedAfterAnElectionTimeout) {
  Net net = elected(3);
  net.isolate(2);
  ASSERT_TRUE(net.transfer(1, 2));
  net.tick(1, kElection);
  EXPECT_EQ(net.status(1).lead_transferee, kNoNode);
  EXPECT_EQ(net.status(1).role, Role::kLeader);  // 3 keeps the quorum
  EXPECT_EQ(net.propose(1, "again").status, ProposeStatus::kOk);
}

TEST(LeaderTransfer, RefusedForNonVotersSelfAndOnFollowers) {
  Net net({1, 2, 3}, {4});
  net.campaign(1);
  net.deliver_all();
  std::string reason;
  EXPECT_FALSE(net.transfer(1, 4, &reason));  // a learner
  EXPECT_FALSE(net.transfer(1, 1, &reason));
  EXPECT_FALSE(net.transfer(1, 9, &reason));
  EXPECT_FALSE(net.transfer(2, 3, &reason));  // not the leader
  EXPECT_EQ(reason, "not the leader");
}

TEST(LeaderTransfer, FollowerMayAskTheLeaderToTransferToItself) {
  Net net = elected(3);
  ASSERT_TRUE(net.transfer(3, 3));
  net.deliver_all();
  EXPECT_EQ(net.leader(), 3u);
}

}  // namespace
}  // namespace raftmeta::raft::test

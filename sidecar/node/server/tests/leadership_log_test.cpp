#include "sidecar/node/server/leadership_log.h"

#include <gtest/gtest.h>

namespace raftmeta::node::server {
namespace {

NodeStatus follower_of(raft::NodeId leader, raft::Term term) {
  NodeStatus s;
  s.id = 2;
  s.role = raft::Role::kFollower;
  s.term = term;
  s.leader_id = leader;
  s.members = {{.id = 1}, {.id = 2}, {.id = 3}};
  return s;
}

TEST(LeadershipLog, FollowingALeader) {
  NodeStatus s = follower_of(3, 4);
  s.leader_client_address = "h3:7401";
  EXPECT_EQ(describe_change(nullptr, s), "following leader 3 (term 4), clients go to h3:7401");
}

TEST(LeadershipLog, BecomingLeader) {
  const NodeStatus before = follower_of(3, 4);
  NodeStatus after = follower_of(2, 5);
  after.role = raft::Role::kLeader;
  EXPECT_EQ(describe_change(&before, after), "became leader of term 5");
}

TEST(LeadershipLog, LosingTheLeader) {
  const NodeStatus before = follower_of(3, 4);
  NodeStatus after = follower_of(raft::kNoNode, 5);
  after.role = raft::Role::kPreCandidate;
  EXPECT_EQ(describe_change(&before, after),
            "no leader known: campaigning as pre_candidate (term 5)");
}

TEST(LeadershipLog, NothingNewSaysNothing) {
  const NodeStatus s = follower_of(3, 4);
  NodeStatus again = s;
  again.commit = 100;
  again.applied = 99;
  EXPECT_EQ(describe_change(&s, again), "");
}

TEST(LeadershipLog, MembershipChange) {
  const NodeStatus before = follower_of(3, 4);
  NodeStatus after = before;
  after.members.push_back({.id = 4, .voter = false});
  EXPECT_EQ(describe_change(&before, after), "members are now 1, 2, 3, 4 (learner)");
}

TEST(LeadershipLog, SteppingAside) {
  NodeStatus before = follower_of(2, 4);
  before.role = raft::Role::kLeader;
  NodeStatus after = before;
  after.stepping_aside = true;
  EXPECT_NE(describe_change(&before, after).find("stepping aside"), std::string::npos);
}

}  // namespace
}  // namespace raftmeta::node::server

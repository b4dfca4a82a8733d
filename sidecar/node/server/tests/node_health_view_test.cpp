#include "sidecar/node/server/node_health_view.h"

#include <gtest/gtest.h>

namespace raftmeta::node::server {
namespace {

TEST(NodeHealthView, LeaderViewCarriesFollowerProgress) {
  NodeStatus s;
  s.id = 1;
  s.cluster_id = "c";
  s.role = raft::Role::kLeader;
  s.term = 7;
  s.leader_id = 1;
  s.commit = 40;
  s.applied = 39;
  s.last_index = 41;
  s.snapshot_index = 10;
  const std::int64_t now = 10'000'000'000;
  s.members = {{.id = 1, .voter = true},
               {.id = 2,
                .voter = true,
                .match = 41,
                .progress_state = "replicate",
                .last_contact_ns = now - 250'000'000},
               {.id = 3, .voter = false, .match = 0, .progress_state = "probe"}};
  const health::MemberHealthView v = health_view_of(s, now);
  EXPECT_EQ(v.id, 1u);
  EXPECT_EQ(v.role, "leader");
  EXPECT_EQ(v.term, 7u);
  EXPECT_EQ(v.leader, 1u);
  EXPECT_TRUE(v.voter);
  EXPECT_EQ(v.commit_index, 40u);
  EXPECT_EQ(v.applied_index, 39u);
  EXPECT_EQ(v.last_index, 41u);
  EXPECT_EQ(v.snapshot_index, 10u);
  ASSERT_TRUE(v.extra.contains("followers"));
  const auto& followers = v.extra["followers"];
  ASSERT_EQ(followers.size(), 2u);
  EXPECT_EQ(followers[0]["id"], 2);
  EXPECT_EQ(followers[0]["match"], 41);
  EXPECT_EQ(followers[0]["replicating"], true);
  EXPECT_EQ(followers[0]["last_contact_ms"], 250);
  EXPECT_EQ(followers[1]["last_contact_ms"], -1) << "never heard from";
  EXPECT_EQ(followers[1]["voter"], false);
}

TEST(NodeHealthView, LearnerIsNotAVoter) {
  NodeStatus s;
  s.id = 4;
  s.role = raft::Role::kLearner;
  s.members = {{.id = 1}, {.id = 4, .voter = false}};
  const health::MemberHealthView v = health_view_of(s, 1);
  EXPECT_FALSE(v.voter);
  EXPECT_EQ(v.role, "learner");
  EXPECT_FALSE(v.extra.contains("followers"));
}

TEST(NodeHealthView, ProviderSaysStartingBeforeTheNodeExists) {
  std::atomic<Node*> none{nullptr};
  const health::MemberHealthView v = status_provider_for(&none, 5)();
  EXPECT_EQ(v.id, 5u);
  EXPECT_EQ(v.role, "starting");
  EXPECT_FALSE(v.voter);
}

}  // namespace
}  // namespace raftmeta::node::server

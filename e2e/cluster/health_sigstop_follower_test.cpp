// Issue 8, case 4: a follower is SIGSTOPped for longer than the election
// timeout, then continued. It rejoins (catches up, follows the same leader)
// and the leader and term are unchanged: PreVote keeps the returning member
// from disrupting the cluster.
#include "e2e/cluster/health_test_support.h"

namespace raftmeta::e2e {
namespace {

class SigstopFollowerTest : public HealthClusterTest {};

TEST_F(SigstopFollowerTest, StoppedFollowerRejoinsWithoutChangingLeaderOrTerm) {
  ClusterOptions options;
  options.port_base_hint = 22300;
  options.cluster_id = "e2e-sigstop-follower";
  start_cluster(options);
  const auto leader = cluster_->wait_leader(election_bound());
  ASSERT_TRUE(leader);
  const std::uint64_t follower = others(*leader).front();
  const MemberView before = cluster_->view(*leader);
  ASSERT_EQ(before.role, "leader");

  start_load(others(follower));
  ASSERT_TRUE(load_->wait_for_more(10, kSlack + milliseconds(5000))) << load_->last_error();
  cluster_->stop(follower);
  // Three election timeouts: long enough that a member without PreVote
  // would have campaigned with a higher term.
  const milliseconds stopped_for(3 * options.election_ms);
  const auto resume_at = Clock::now() + stopped_for;
  while (Clock::now() < resume_at) {
    ASSERT_TRUE(load_->wait_for_more(1, kSlack)) << "writes stalled without the follower";
  }
  cluster_->cont(follower);

  const MemberView leader_now = cluster_->view(*leader);
  ASSERT_TRUE(ProcessCluster::wait_until(
      [&] {
        const MemberView v = cluster_->view(follower, milliseconds(500));
        return v.answered && v.leader_id == *leader && v.applied >= leader_now.commit;
      },
      election_bound()))
      << "the continued follower did not rejoin and catch up";
  load_->stop();
  const MemberView after = cluster_->view(*leader);
  EXPECT_EQ(after.role, "leader");
  EXPECT_EQ(after.term, before.term) << "the term changed: the follower disrupted the cluster";
  const auto still = cluster_->wait_leader(kSlack);
  ASSERT_TRUE(still);
  EXPECT_EQ(*still, *leader);
  EXPECT_EQ(cluster_->view(follower).term, before.term);
  EXPECT_EQ(load_->failed(), 0u) << load_->last_error();
}

}  // namespace
}  // namespace raftmeta::e2e

// Issue 8, case 5 — quorum loss must not cause a restart storm: two of three
// members are SIGSTOPped. The remaining member's /livez stays 200 the whole
// time (it is not broken; restarting it cannot create a leader) while its
// /readyz turns 503 (no leader). When the others continue, a leader returns
// and /readyz is 200 again.
#include "e2e/cluster/health_test_support.h"

namespace raftmeta::e2e {
namespace {

class QuorumLossTest : public HealthClusterTest {};

TEST_F(QuorumLossTest, LonelyMemberStaysLiveButNotReady) {
  ClusterOptions options;
  options.port_base_hint = 22400;
  options.cluster_id = "e2e-quorum-loss";
  start_cluster(options);
  const auto leader = cluster_->wait_leader(election_bound());
  ASSERT_TRUE(leader);
  // The leader is the one left alone: it must step down (CheckQuorum) and
  // still be live.
  const std::uint64_t alone = *leader;
  ASSERT_TRUE(ProcessCluster::wait_until([&] { return cluster_->readyz(alone) == 200; }, kSlack));
  for (std::uint64_t id : others(alone)) cluster_->stop(id);

  // Longer than every stall limit, polled throughout.
  const int longest_limit =
      std::max({options.loop_stall_ms, options.apply_stall_ms, options.storage_stall_ms});
  const auto until = Clock::now() + milliseconds(2 * longest_limit + options.election_ms);
  bool became_unready = false;
  int polls = 0;
  while (Clock::now() < until) {
    const int live = cluster_->livez(alone, milliseconds(2000));
    ASSERT_EQ(live, 200) << "/livez failed during quorum loss after " << polls << " polls";
    if (cluster_->readyz(alone, milliseconds(2000)) == 503) became_unready = true;
    ++polls;
    std::this_thread::sleep_for(milliseconds(50));
  }
  EXPECT_TRUE(became_unready) << "/readyz stayed 200 without a quorum";
  EXPECT_EQ(cluster_->readyz(alone), 503);
  EXPECT_NE(cluster_->view(alone).role, "leader") << "a leader without a quorum did not step down";

  for (std::uint64_t id : others(alone)) cluster_->cont(id);
  ASSERT_TRUE(cluster_->wait_leader(election_bound())) << "no leader after the members returned";
  EXPECT_TRUE(
      ProcessCluster::wait_until([&] { return cluster_->readyz(alone) == 200; }, election_bound()))
      << "/readyz did not recover";
}

}  // namespace
}  // namespace raftmeta::e2e

// Issue 8, case 1 — the original freeze: the apply loop of a follower is
// blocked while writes continue. Its /livez turns 503 naming the apply loop,
// not before --apply-stall-ms and within it plus the slack; its /status still
// answers; the other two keep committing and stay live; once the failpoint is
// cleared it catches up and /livez is 200 again.
#include "e2e/cluster/health_test_support.h"

namespace raftmeta::e2e {
namespace {

constexpr int kApplyStallMs = 2000;

class ApplyStallFollowerTest : public HealthClusterTest {};

TEST_F(ApplyStallFollowerTest, FollowerApplyFreezeFailsLivezOnlyThere) {
  ClusterOptions options;
  options.port_base_hint = 22000;
  options.cluster_id = "e2e-apply-stall-follower";
  options.apply_stall_ms = kApplyStallMs;
  start_cluster(options);
  const auto leader = cluster_->wait_leader(election_bound());
  ASSERT_TRUE(leader);
  const std::uint64_t follower = others(*leader).front();
  const std::uint64_t healthy_follower = others(*leader).back();

  start_load({*leader, healthy_follower});
  ASSERT_TRUE(load_->wait_for_more(20, kSlack + milliseconds(5000))) << load_->last_error();

  const Clock::time_point blocked_at = Clock::now();
  ASSERT_TRUE(cluster_->set_failpoint(follower, "apply-loop", "block"));
  const ProgressAge before = progress_age(follower, "apply_loop", "last_progress_age_ms");
  ASSERT_GE(before.age_ms, 0);

  std::string body;
  const auto failed_at = wait_livez(follower, 503, milliseconds(kApplyStallMs) + kSlack, &body);
  ASSERT_TRUE(failed_at) << "/livez of the frozen follower did not turn 503";
  // Not too early: the stall began when the apply loop last progressed.
  const Clock::time_point earliest =
      before.sent - milliseconds(before.age_ms) + milliseconds(kApplyStallMs);
  EXPECT_GE(ms_between(earliest, *failed_at), -5)
      << "503 came " << ms_between(*failed_at, earliest) << " ms before the apply stall limit";
  EXPECT_LE(ms_between(blocked_at, *failed_at), kApplyStallMs + kSlack.count());
  const auto parts = stalled_parts(body);
  EXPECT_NE(std::find(parts.begin(), parts.end(), "apply_loop"), parts.end()) << body;
  std::cerr << "apply stall of member " << follower << " detected "
            << ms_between(blocked_at, *failed_at) << " ms after blocking\n";

  // It still answers /status, and the others commit and stay live.
  EXPECT_TRUE(cluster_->view(follower).answered);
  ASSERT_TRUE(load_->wait_for_more(20, kSlack + milliseconds(5000))) << load_->last_error();
  EXPECT_EQ(cluster_->livez(*leader), 200);
  EXPECT_EQ(cluster_->livez(healthy_follower), 200);
  EXPECT_EQ(cluster_->livez(follower), 503);

  // Cleared: it catches up and is live again.
  ASSERT_TRUE(cluster_->set_failpoint(follower, "apply-loop", "off"));
  ASSERT_TRUE(wait_livez(follower, 200, kSlack)) << "/livez did not recover";
  const MemberView leader_view = cluster_->view(*leader);
  ASSERT_TRUE(leader_view.answered);
  EXPECT_TRUE(ProcessCluster::wait_until(
      [&] { return cluster_->view(follower).applied >= leader_view.commit; }, kSlack))
      << "the follower did not catch up to " << leader_view.commit;
  load_->stop();
  EXPECT_EQ(load_->failed(), 0u) << load_->last_error();
}

}  // namespace
}  // namespace raftmeta::e2e

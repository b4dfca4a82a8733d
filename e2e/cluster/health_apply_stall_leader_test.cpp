// Issue 8, case 2 — the original freeze on the leader: its apply loop is
// blocked while writes continue. It transfers leadership (its Raft loop
// still turns), writes recover on the new leader, and its own /livez turns
// 503 naming the apply loop, not before --apply-stall-ms and within it plus
// the slack.
#include "e2e/cluster/health_test_support.h"

namespace raftmeta::e2e {
namespace {

constexpr int kApplyStallMs = 2000;

class ApplyStallLeaderTest : public HealthClusterTest {};

TEST_F(ApplyStallLeaderTest, LeaderWithFrozenApplyStepsAsideAndFailsLivez) {
  ClusterOptions options;
  options.port_base_hint = 22100;
  options.cluster_id = "e2e-apply-stall-leader";
  options.apply_stall_ms = kApplyStallMs;
  start_cluster(options);
  const auto leader = cluster_->wait_leader(election_bound());
  ASSERT_TRUE(leader);
  const MemberView before_view = cluster_->view(*leader);

  start_load(cluster_->ids());
  ASSERT_TRUE(load_->wait_for_more(20, kSlack + milliseconds(5000))) << load_->last_error();

  const Clock::time_point blocked_at = Clock::now();
  ASSERT_TRUE(cluster_->set_failpoint(*leader, "apply-loop", "block"));
  const ProgressAge before = progress_age(*leader, "apply_loop", "last_progress_age_ms");
  ASSERT_GE(before.age_ms, 0);

  std::string body;
  const auto failed_at = wait_livez(*leader, 503, milliseconds(kApplyStallMs) + kSlack, &body);
  ASSERT_TRUE(failed_at) << "/livez of the frozen leader did not turn 503";
  const Clock::time_point earliest =
      before.sent - milliseconds(before.age_ms) + milliseconds(kApplyStallMs);
  EXPECT_GE(ms_between(earliest, *failed_at), -5)
      << "503 came " << ms_between(*failed_at, earliest) << " ms before the apply stall limit";
  EXPECT_LE(ms_between(blocked_at, *failed_at), kApplyStallMs + kSlack.count());
  const auto parts = stalled_parts(body);
  EXPECT_NE(std::find(parts.begin(), parts.end(), "apply_loop"), parts.end()) << body;

  // Leadership moves to one of the others (one transfer, no restart).
  const auto new_leader = cluster_->wait_leader(election_bound(), others(*leader));
  ASSERT_TRUE(new_leader) << "leadership did not move away from the frozen leader";
  EXPECT_NE(*new_leader, *leader);
  const MemberView new_view = cluster_->view(*new_leader);
  EXPECT_GT(new_view.term, before_view.term);
  std::cerr << "leader " << *leader << " stepped aside to " << *new_leader << "; stall seen after "
            << ms_between(blocked_at, *failed_at) << " ms\n";

  // Writes recover on the new leader.
  ASSERT_TRUE(load_->wait_for_more(20, election_bound())) << load_->last_error();
  EXPECT_EQ(cluster_->livez(*new_leader), 200);
  EXPECT_EQ(cluster_->livez(*leader), 503);

  ASSERT_TRUE(cluster_->set_failpoint(*leader, "apply-loop", "off"));
  ASSERT_TRUE(wait_livez(*leader, 200, kSlack)) << "/livez did not recover";
  load_->stop();
}

}  // namespace
}  // namespace raftmeta::e2e

// Issue 8, case 3: the Raft loop of the leader is blocked. Its /livez turns
// 503 naming the Raft loop, not before --loop-stall-ms and within it plus the
// slack; the other two elect a new leader and keep committing.
#include "e2e/cluster/health_test_support.h"

namespace raftmeta::e2e {
namespace {

constexpr int kLoopStallMs = 1500;

class RaftLoopStallTest : public HealthClusterTest {};

TEST_F(RaftLoopStallTest, BlockedLeaderLoopFailsLivezAndOthersElect) {
  ClusterOptions options;
  options.port_base_hint = 22200;
  options.cluster_id = "e2e-raft-loop-stall";
  options.loop_stall_ms = kLoopStallMs;
  start_cluster(options);
  const auto leader = cluster_->wait_leader(election_bound());
  ASSERT_TRUE(leader);
  const std::vector<std::uint64_t> rest = others(*leader);
  start_load(rest);
  ASSERT_TRUE(load_->wait_for_more(10, kSlack + milliseconds(5000))) << load_->last_error();

  const Clock::time_point blocked_at = Clock::now();
  ASSERT_TRUE(cluster_->set_failpoint(*leader, "raft-loop", "block"));
  const ProgressAge before = progress_age(*leader, "raft_loop", "last_turn_age_ms");
  ASSERT_GE(before.age_ms, 0);

  std::string body;
  const auto failed_at = wait_livez(*leader, 503, milliseconds(kLoopStallMs) + kSlack, &body);
  ASSERT_TRUE(failed_at) << "/livez of the leader with a blocked Raft loop did not turn 503";
  const Clock::time_point earliest =
      before.sent - milliseconds(before.age_ms) + milliseconds(kLoopStallMs);
  EXPECT_GE(ms_between(earliest, *failed_at), -5)
      << "503 came " << ms_between(*failed_at, earliest) << " ms before the loop stall limit";
  EXPECT_LE(ms_between(blocked_at, *failed_at), kLoopStallMs + kSlack.count());
  const auto parts = stalled_parts(body);
  EXPECT_NE(std::find(parts.begin(), parts.end(), "raft_loop"), parts.end()) << body;
  std::cerr << "raft loop stall of member " << *leader << " detected "
            << ms_between(blocked_at, *failed_at) << " ms after blocking\n";

  const auto new_leader = cluster_->wait_leader(election_bound(), rest);
  ASSERT_TRUE(new_leader) << "the other two did not elect a new leader";
  EXPECT_NE(*new_leader, *leader);
  ASSERT_TRUE(load_->wait_for_more(20, election_bound())) << load_->last_error();
  for (std::uint64_t id : rest) EXPECT_EQ(cluster_->livez(id), 200) << "member " << id;

  ASSERT_TRUE(cluster_->set_failpoint(*leader, "raft-loop", "off"));
  ASSERT_TRUE(wait_livez(*leader, 200, kSlack)) << "/livez did not recover";
  load_->stop();
}

}  // namespace
}  // namespace raftmeta::e2e

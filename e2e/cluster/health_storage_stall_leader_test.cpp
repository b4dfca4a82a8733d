// Issue 8: a leader whose storage hangs steps aside. Its disk stops answering
// (`persist` blocked) while writes continue: its Raft loop keeps turning
// (persistence runs on the storage-writer thread), it transfers leadership to
// a caught-up follower, writes recover on the new leader after one transfer
// (no restart), and its own /livez turns 503 naming storage, not before
// --storage-stall-ms and within it plus the slack. Once the disk answers
// again it catches up and is live.
#include "e2e/cluster/health_test_support.h"

namespace raftmeta::e2e {
namespace {

constexpr int kStorageStallMs = 2000;

class StorageStallLeaderTest : public HealthClusterTest {};

TEST_F(StorageStallLeaderTest, LeaderWithHangingDiskStepsAsideAndFailsLivez) {
  ClusterOptions options;
  options.port_base_hint = 22700;
  options.cluster_id = "e2e-storage-stall-leader";
  options.storage_stall_ms = kStorageStallMs;
  start_cluster(options);
  const auto leader = cluster_->wait_leader(election_bound());
  ASSERT_TRUE(leader);
  const MemberView before_view = cluster_->view(*leader);

  start_load(cluster_->ids());
  ASSERT_TRUE(load_->wait_for_more(20, kSlack + milliseconds(5000))) << load_->last_error();

  const Clock::time_point blocked_at = Clock::now();
  ASSERT_TRUE(cluster_->set_failpoint(*leader, "persist", "block"));

  std::string body;
  const auto failed_at = wait_livez(*leader, 503, milliseconds(kStorageStallMs) + kSlack, &body);
  ASSERT_TRUE(failed_at) << "/livez of the leader with a hanging disk did not turn 503";
  // The first write that blocks starts at or after blocked_at.
  EXPECT_GE(ms_between(blocked_at, *failed_at), kStorageStallMs - 5)
      << "storage stall reported before its limit";
  EXPECT_LE(ms_between(blocked_at, *failed_at), kStorageStallMs + kSlack.count());
  const auto parts = stalled_parts(body);
  EXPECT_NE(std::find(parts.begin(), parts.end(), "storage"), parts.end()) << body;
  // Only the disk hangs: the Raft loop is not reported stalled.
  EXPECT_EQ(std::find(parts.begin(), parts.end(), "raft_loop"), parts.end()) << body;

  // Leadership moves to one of the others (its Raft loop still turns).
  const auto new_leader = cluster_->wait_leader(election_bound(), others(*leader));
  ASSERT_TRUE(new_leader) << "leadership did not move away from the leader with a hanging disk";
  EXPECT_NE(*new_leader, *leader);
  EXPECT_GT(cluster_->view(*new_leader).term, before_view.term);
  // The old leader follows the new one while its disk still hangs: its Raft
  // loop turns (a leader frozen on its disk would still claim to lead).
  const auto follows_deadline = Clock::now() + election_bound();
  MemberView old_view = cluster_->view(*leader);
  while (Clock::now() < follows_deadline &&
         !(old_view.role == "follower" && old_view.leader_id == *new_leader)) {
    std::this_thread::sleep_for(milliseconds(20));
    old_view = cluster_->view(*leader);
  }
  EXPECT_EQ(old_view.role, "follower") << old_view.raw.dump();
  EXPECT_EQ(old_view.leader_id, *new_leader) << old_view.raw.dump();
  std::cerr << "leader " << *leader << " stepped aside to " << *new_leader
            << "; storage stall seen after " << ms_between(blocked_at, *failed_at) << " ms\n";

  // Writes recover on the new leader.
  ASSERT_TRUE(load_->wait_for_more(20, election_bound())) << load_->last_error();
  EXPECT_EQ(cluster_->livez(*new_leader), 200);
  EXPECT_EQ(cluster_->livez(*leader), 503);

  ASSERT_TRUE(cluster_->set_failpoint(*leader, "persist", "off"));
  ASSERT_TRUE(wait_livez(*leader, 200, kSlack)) << "/livez did not recover";
  ASSERT_TRUE(load_->wait_for_more(20, election_bound())) << load_->last_error();
  load_->stop();
}

}  // namespace
}  // namespace raftmeta::e2e

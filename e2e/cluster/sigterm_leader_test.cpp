// Issue 7: SIGTERM on the leader. Leadership moves before the process exits
// (a transfer, not an election after its death), writes continue on the new
// leader, and the process exits 0 within --shutdown-timeout-ms.
//
// The election timeout is long here on purpose: after a leader dies, no
// follower campaigns before one election timeout has passed, so a new leader
// seen well within it can only come from the transfer.
#include "e2e/cluster/health_test_support.h"

namespace raftmeta::e2e {
namespace {

constexpr int kElectionMs = 5000;
constexpr int kShutdownTimeoutMs = 5000;

class SigtermLeaderTest : public HealthClusterTest {};

TEST_F(SigtermLeaderTest, LeaderHandsOverThenExitsCleanly) {
  ClusterOptions options;
  options.port_base_hint = 22700;
  options.cluster_id = "e2e-sigterm-leader";
  options.heartbeat_ms = 100;
  options.election_ms = kElectionMs;
  options.loop_stall_ms = 3000;
  options.apply_stall_ms = 5000;
  options.storage_stall_ms = 5000;
  options.shutdown_timeout_ms = kShutdownTimeoutMs;
  start_cluster(options);
  const auto leader = cluster_->wait_leader(election_bound());
  ASSERT_TRUE(leader);
  const MemberView before = cluster_->view(*leader);
  const std::vector<std::uint64_t> rest = others(*leader);
  start_load(cluster_->ids());
  ASSERT_TRUE(load_->wait_for_more(20, kSlack + milliseconds(5000))) << load_->last_error();

  const Clock::time_point term_sent = Clock::now();
  ASSERT_TRUE(cluster_->http(*leader, "GET", "/status").answered());
  ProcessCluster& cluster = *cluster_;
  // Send SIGTERM, then watch the others for a leader of a newer term.
  std::optional<int> exit_status;
  std::optional<Clock::time_point> new_leader_seen;
  std::uint64_t new_leader = 0;
  std::thread terminator(
      [&] { exit_status = cluster.terminate(*leader, milliseconds(kShutdownTimeoutMs) + kSlack); });
  const auto deadline = term_sent + milliseconds(kShutdownTimeoutMs) + kSlack;
  while (Clock::now() < deadline && !new_leader_seen) {
    for (std::uint64_t id : rest) {
      const MemberView v = cluster.view(id, milliseconds(500));
      if (v.answered && v.role == "leader" && v.term > before.term) {
        new_leader_seen = Clock::now();
        new_leader = id;
        break;
      }
    }
    std::this_thread::sleep_for(milliseconds(10));
  }
  terminator.join();

  ASSERT_TRUE(new_leader_seen) << "no new leader after SIGTERM on leader " << *leader;
  EXPECT_LT(ms_between(term_sent, *new_leader_seen), kElectionMs / 2)
      << "the new leader came too late to be a handover (an election after the exit?)";
  ASSERT_TRUE(exit_status) << "the leader did not exit within --shutdown-timeout-ms + slack";
  EXPECT_EQ(*exit_status, 0) << "unclean shutdown";
  std::cerr << "member " << new_leader << " led " << ms_between(term_sent, *new_leader_seen)
            << " ms after SIGTERM to " << *leader << "\n";

  // Writes continue on the new leader.
  ASSERT_TRUE(load_->wait_for_more(20, kSlack + milliseconds(5000))) << load_->last_error();
  load_->stop();
  const auto still = cluster.wait_leader(kSlack, rest);
  ASSERT_TRUE(still);
  EXPECT_EQ(*still, new_leader);
}

}  // namespace
}  // namespace raftmeta::e2e

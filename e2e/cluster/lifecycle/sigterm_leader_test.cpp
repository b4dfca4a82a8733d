// Acceptance (issue 7): SIGTERM on the leader moves leadership before the
// process exits, writes continue on the new leader, and the process exits
// with code 0 within --shutdown-timeout-ms.
//
// "Before exit" is shown with a long election timeout: without a transfer,
// the remaining members could elect a leader only after an election timeout
// (kElectionMs) had passed since they last heard from the old leader; with
// one, a leader among them is known when the old one has exited.
#include "e2e/cluster/lifecycle/lifecycle_support.h"

namespace raftmeta::e2e::lifecycle {
namespace {

constexpr int kElectionMs = 8000;
constexpr int kShutdownTimeoutMs = 5000;

class SigtermLeaderTest : public LifecycleTest {};

TEST_F(SigtermLeaderTest, LeaderTransfersBeforeExitingCleanlyAndWritesContinue) {
  ClusterOptions options = short_timers(23500);
  options.election_ms = kElectionMs;
  options.shutdown_timeout_ms = kShutdownTimeoutMs;
  ASSERT_NO_FATAL_FAILURE(start_cluster(options));
  writer_ = std::make_unique<AckedWriter>(endpoints(), options.cluster_id, "term-");
  ASSERT_TRUE(writer_->wait_for_more(30, election_bound())) << writer_->last_error();

  const auto leader = cluster_->wait_leader(election_bound());
  ASSERT_TRUE(leader);
  std::vector<std::uint64_t> others;
  for (std::uint64_t id : {1, 2, 3}) {
    if (id != *leader) others.push_back(id);
  }
  const std::uint64_t old_term = cluster_->view(*leader).term;

  const auto sent = Clock::now();
  const std::optional<int> code =
      cluster_->terminate(*leader, milliseconds(kShutdownTimeoutMs) + kSlack);
  const auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - sent);
  ASSERT_TRUE(code) << "the leader did not exit within the shutdown timeout";
  EXPECT_EQ(*code, 0);
  EXPECT_LE(took, milliseconds(kShutdownTimeoutMs) + kSlack);
  std::cout << "leader " << *leader << " exited with " << *code << " after " << took.count()
            << " ms\n";

  // A leader among the others before an election timeout could have passed
  // since the old leader's last heartbeat (which was after `sent`): handed
  // over, not elected after a timeout.
  const auto next = cluster_->wait_leader(milliseconds(kElectionMs / 2), others);
  ASSERT_TRUE(next) << "no leader among the others after the old leader exited";
  EXPECT_LT(Clock::now(), sent + milliseconds(kElectionMs))
      << "the new leader was found only after an election timeout";
  std::ifstream in(cluster_->log_path(*leader));
  std::stringstream log;
  log << in.rdbuf();
  EXPECT_EQ(log.str().find("still the leader at shutdown"), std::string::npos) << log.str();
  EXPECT_NE(log.str().find("stopped cleanly"), std::string::npos) << log.str();
  EXPECT_GT(cluster_->view(*next).term, old_term);

  ASSERT_TRUE(writer_->wait_for_more(30, election_bound())) << writer_->last_error();
  writer_->stop();
  expect_all_acked_readable(writer_->acked_names(), others);
}

}  // namespace
}  // namespace raftmeta::e2e::lifecycle

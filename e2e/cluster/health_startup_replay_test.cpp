// Issue 8, case 7: a long replay at start. A member with a real log (thousands
// of entries) restarts and its start-up takes at least kReplayDelayMs (the
// `startup-replay` failpoint, set through RAFTMETA_FAILPOINTS, stands in for a
// log too large to replay quickly). Meanwhile /startupz is 503 and /livez is
// never 503; then /startupz is 200 and the member catches up.
#include "e2e/cluster/health_test_support.h"

namespace raftmeta::e2e {
namespace {

constexpr int kTopics = 3000;
constexpr int kWriters = 8;
constexpr int kReplayDelayMs = 3000;

class StartupReplayTest : public HealthClusterTest {};

TEST_F(StartupReplayTest, StartupzWaitsForReplayWhileLivezStaysUp) {
  ClusterOptions options;
  options.port_base_hint = 22600;
  options.cluster_id = "e2e-startup-replay";
  options.snapshot_entries = 1'000'000;  // keep the whole log: replay reads it all
  options.loop_stall_ms = 1000;          // shorter than the replay: it must not count
  start_cluster(options);
  const auto leader = cluster_->wait_leader(election_bound());
  ASSERT_TRUE(leader);
  const std::uint64_t restarted = others(*leader).front();

  std::atomic<int> failures{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      ClusterClient client(endpoints(), options.cluster_id);
      for (int i = w; i < kTopics; i += kWriters) {
        if (!client.create_topic("replay-" + std::to_string(i), 1).ok()) failures.fetch_add(1);
      }
    });
  }
  for (auto& t : writers) t.join();
  ASSERT_EQ(failures.load(), 0);

  cluster_->kill(restarted);
  std::string error;
  const Clock::time_point spawned = Clock::now();
  ASSERT_TRUE(cluster_->start(
      restarted, false, false, &error,
      {{"RAFTMETA_FAILPOINTS", "startup-replay=sleep(" + std::to_string(kReplayDelayMs) + ")"}}))
      << error;

  int startupz_503 = 0;
  int livez_answers = 0;
  std::optional<Clock::time_point> started_at;
  const auto deadline = spawned + milliseconds(kReplayDelayMs + 10000) + kSlack;
  while (Clock::now() < deadline) {
    const HttpResponse live = cluster_->http(restarted, "GET", "/livez", "", milliseconds(1000));
    if (live.answered()) {
      ++livez_answers;
      ASSERT_EQ(live.status, 200) << "/livez failed during start-up: " << live.body;
    }
    const HttpResponse startup =
        cluster_->http(restarted, "GET", "/startupz", "", milliseconds(1000));
    if (startup.status == 503) ++startupz_503;
    if (startup.status == 200) {
      started_at = Clock::now();
      break;
    }
    std::this_thread::sleep_for(milliseconds(20));
  }
  ASSERT_TRUE(started_at) << "/startupz never turned 200";
  EXPECT_GT(startupz_503, 0) << "/startupz was never 503 during start-up";
  EXPECT_GT(livez_answers, 0);
  EXPECT_GE(ms_between(spawned, *started_at), kReplayDelayMs)
      << "/startupz was 200 before start-up could have finished";
  std::cerr << "start-up took " << ms_between(spawned, *started_at) << " ms (" << startupz_503
            << " polls saw /startupz 503, " << livez_answers << " /livez answers all 200)\n";

  // After start-up it stays live and catches up.
  const MemberView leader_view = cluster_->view(*leader);
  EXPECT_TRUE(ProcessCluster::wait_until(
      [&] { return cluster_->view(restarted).applied >= leader_view.commit; }, election_bound()))
      << "the restarted member did not catch up to " << leader_view.commit;
  EXPECT_EQ(cluster_->livez(restarted), 200);
}

}  // namespace
}  // namespace raftmeta::e2e

// Issue 7: a learner added after 20,000 entries, with a small
// --snapshot-entries, catches up through InstallSnapshot (the leader's log no
// longer holds the early entries), then is promoted through raftmetactl.
#include <fstream>

#include "e2e/cluster/health_test_support.h"

namespace raftmeta::e2e {
namespace {

namespace v1 = ::raftmeta::v1;

constexpr int kEntries = 20000;
constexpr int kWriters = 16;
constexpr std::uint64_t kSnapshotEntries = 1000;
constexpr std::uint64_t kLearner = 4;

class LearnerSnapshotTest : public HealthClusterTest {};

TEST_F(LearnerSnapshotTest, LateLearnerCatchesUpThroughInstallSnapshot) {
  ClusterOptions options;
  options.port_base_hint = 23000;
  options.cluster_id = "e2e-learner-snapshot";
  options.snapshot_entries = kSnapshotEntries;
  start_cluster(options);

  std::atomic<int> failures{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      ClusterClient client(endpoints(), options.cluster_id);
      for (int i = w; i < kEntries; i += kWriters) {
        if (!client.create_topic("t" + std::to_string(i), 1).ok()) failures.fetch_add(1);
      }
    });
  }
  for (auto& t : writers) t.join();
  ASSERT_EQ(failures.load(), 0);

  const auto leader = cluster_->wait_leader(election_bound());
  ASSERT_TRUE(leader);
  const MemberView before = cluster_->view(*leader);
  ASSERT_GT(before.raw.value("snapshot_index", 0u), 2u * kSnapshotEntries)
      << "the leader has not compacted its log: the test would prove nothing";

  // Add the learner (raftmetactl), start it with --join, and let it catch up.
  const std::string log = cluster_->root() + "/ctl-add.out";
  ChildProcess ctl;
  std::string error;
  ASSERT_TRUE(
      ctl.spawn({ctl_binary(), "--endpoints", cluster_->client_endpoints(), "member", "add", "--id",
                 std::to_string(kLearner), "--peer-address", cluster_->peer_address(kLearner)},
                {}, log, &error))
      << error;
  ASSERT_EQ(ctl.wait_exit(milliseconds(30000) + kSlack).value_or(-1), 0);
  const Clock::time_point added = Clock::now();
  ASSERT_TRUE(cluster_->start(kLearner, false, /*join=*/true, &error)) << error;
  ASSERT_TRUE(cluster_->wait_startup(kLearner, milliseconds(10000) + kSlack));
  const MemberView target = cluster_->view(*leader);
  ASSERT_TRUE(ProcessCluster::wait_until(
      [&] {
        const MemberView v = cluster_->view(kLearner, milliseconds(500));
        return v.answered && v.applied >= target.commit;
      },
      milliseconds(60000) + kSlack))
      << "the learner did not catch up to " << target.commit;
  std::cerr << "learner caught up to " << target.commit << " in " << ms_between(added, Clock::now())
            << " ms\n";
  const MemberView learner = cluster_->view(kLearner);
  EXPECT_GT(learner.raw.value("snapshot_index", 0u), 2u)
      << "the learner holds no snapshot: it cannot have skipped the compacted entries";
  EXPECT_EQ(learner.raw.value("voter", true), false);

  // Its own state is complete (stale read from it).
  v1::ListTopicsResponse listed;
  const grpc::Status s =
      ClusterClient::list_topics_at(cluster_->client_address(kLearner), options.cluster_id,
                                    v1::CONSISTENCY_STALE, &listed, milliseconds(10000) + kSlack);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(listed.topics_size(), kEntries);
}

}  // namespace
}  // namespace raftmeta::e2e

// Acceptance (issue 7), documented behaviour: a member whose data directory
// was wiped, started again with its OLD id and --initial-members, must not
// bootstrap a second cluster: it exits non-zero with a clear message (or its
// peers refuse it and it never takes part in the cluster under its old id).
//
// NOT IN THE BUILD (see CMakeLists.txt): the node bootstraps a fresh log
// ("member N bootstrapped cluster ...") and rejoins under its old id with its
// vote and log forgotten.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "e2e/cluster/lifecycle/lifecycle_support.h"

namespace raftmeta::e2e::lifecycle {
namespace {

class WipedMemberBootstrapTest : public LifecycleTest {};

TEST_F(WipedMemberBootstrapTest, OldIdWithInitialMembersRefusesToBootstrapASecondCluster) {
  ClusterOptions options = short_timers(23400);
  ASSERT_NO_FATAL_FAILURE(start_cluster(options));
  ClusterClient client(endpoints(), options.cluster_id);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(client.create_topic("pre-" + std::to_string(i), 1).ok());
  const auto leader = cluster_->wait_leader(election_bound());
  ASSERT_TRUE(leader);
  const std::uint64_t wiped = *leader == 3 ? 2 : 3;
  cluster_->kill(wiped);
  std::filesystem::remove_all(cluster_->data_dir(wiped));

  std::string error;
  ASSERT_TRUE(cluster_->start(wiped, /*bootstrap=*/true, false, &error)) << error;
  // Either it exits non-zero ...
  const bool exited =
      ProcessCluster::wait_until([&] { return !cluster_->running(wiped); }, election_bound());
  std::ifstream in(cluster_->log_path(wiped));
  std::stringstream log;
  log << in.rdbuf();
  EXPECT_EQ(log.str().find("bootstrapped cluster"), std::string::npos)
      << "the wiped member bootstrapped a new log under its old id:\n"
      << log.str();
  if (exited) return;
  // ... or it never becomes a working member under its old id.
  EXPECT_LT(cluster_->view(wiped).applied, cluster_->view(*leader).commit / 2)
      << "the wiped member rejoined under its old id";
}

}  // namespace
}  // namespace raftmeta::e2e::lifecycle

// Acceptance (issue 7): a member whose data directory was wiped must never
// take part under its old id with its vote and log forgotten.
//
//  * Started again with its OLD id and --initial-members, it refuses to
//    bootstrap a second cluster: it exits non-zero with a clear message, and
//    writes no Raft state (its directory holds no log afterwards).
//  * Started with its old id and --join, its peers refuse its traffic (its
//    incarnation changed): it never catches up, and the refusal is logged on
//    both sides.
//  * What must keep working: a fresh cluster whose members start seconds
//    apart (the first two already elected a leader) bootstraps normally.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "e2e/cluster/lifecycle/lifecycle_support.h"

namespace raftmeta::e2e::lifecycle {
namespace {

class WipedMemberBootstrapTest : public LifecycleTest {
 protected:
  // What the member logged since its last start by the harness.
  std::string log_of_last_start(std::uint64_t id) const {
    std::ifstream in(cluster_->log_path(id));
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string log = ss.str();
    const std::size_t last = log.rfind("==== harness: start #");
    return last == std::string::npos ? log : log.substr(last);
  }
  std::string log_of(std::uint64_t id) const {
    std::ifstream in(cluster_->log_path(id));
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  // A member that is neither the leader nor `other`.
  static std::uint64_t follower_other_than(std::uint64_t leader) { return leader == 3 ? 2 : 3; }
  // The scenario needs a member the cluster KNOWS: wait until `observer` has
  // recorded `member`'s incarnation (a member that started last may not have
  // been heard from yet when the first writes commit on the other two).
  void wait_known_by(std::uint64_t observer, std::uint64_t member) const {
    const std::string heard = "member " + std::to_string(observer) + " first heard from member " +
                              std::to_string(member) + " ";
    ASSERT_TRUE(ProcessCluster::wait_until(
        [&] { return log_of(observer).find(heard) != std::string::npos; }, election_bound()))
        << "member " << observer << " never heard from member " << member << ":\n"
        << log_of(observer);
  }
};

TEST_F(WipedMemberBootstrapTest, OldIdWithInitialMembersRefusesToBootstrapASecondCluster) {
  ClusterOptions options = short_timers(23400);
  ASSERT_NO_FATAL_FAILURE(start_cluster(options));
  ClusterClient client(endpoints(), options.cluster_id);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(client.create_topic("pre-" + std::to_string(i), 1).ok());
  const auto leader = cluster_->wait_leader(election_bound());
  ASSERT_TRUE(leader);
  const std::uint64_t wiped = follower_other_than(*leader);
  ASSERT_NO_FATAL_FAILURE(wait_known_by(*leader, wiped));
  cluster_->kill(wiped);
  std::filesystem::remove_all(cluster_->data_dir(wiped));

  std::string error;
  ASSERT_TRUE(cluster_->start(wiped, /*bootstrap=*/true, false, &error)) << error;
  // The probe waits at most a few seconds for the peers; then it exits.
  const bool exited =
      ProcessCluster::wait_until([&] { return !cluster_->running(wiped); }, election_bound());
  const std::string log = log_of_last_start(wiped);
  ASSERT_TRUE(exited) << "the wiped member is still running:\n" << log;
  // It was reaped: terminate() sends nothing and returns its exit status.
  const std::optional<int> exit_code = cluster_->terminate(wiped, milliseconds(0));
  ASSERT_TRUE(exit_code.has_value());
  EXPECT_NE(*exit_code, 0) << log;
  EXPECT_EQ(log.find("bootstrapped cluster"), std::string::npos)
      << "the wiped member bootstrapped a new log under its old id:\n"
      << log;
  EXPECT_NE(log.find("refusing to bootstrap a new cluster"), std::string::npos) << log;
  EXPECT_NE(log.find("add this node back as a new member"), std::string::npos) << log;
  // Nothing was written that a later, correct start would trip over.
  EXPECT_FALSE(
      std::filesystem::exists(std::filesystem::path(cluster_->data_dir(wiped)) / "raft.db"));
  EXPECT_FALSE(
      std::filesystem::exists(std::filesystem::path(cluster_->data_dir(wiped)) / "incarnation"));

  // The cluster is unharmed: it still takes writes with the two others.
  ClusterClient after(endpoints({1, 2, 3}), options.cluster_id);
  EXPECT_TRUE(ProcessCluster::wait_until([&] { return after.create_topic("post", 1).ok(); },
                                         election_bound()));
}

TEST_F(WipedMemberBootstrapTest, OldIdWithJoinIsRefusedByItsPeersAndNeverCatchesUp) {
  ClusterOptions options = short_timers(23600);
  ASSERT_NO_FATAL_FAILURE(start_cluster(options));
  ClusterClient client(endpoints(), options.cluster_id);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(client.create_topic("pre-" + std::to_string(i), 1).ok());
  const auto leader = cluster_->wait_leader(election_bound());
  ASSERT_TRUE(leader);
  const std::uint64_t wiped = follower_other_than(*leader);
  ASSERT_NO_FATAL_FAILURE(wait_known_by(*leader, wiped));
  cluster_->kill(wiped);
  std::filesystem::remove_all(cluster_->data_dir(wiped));

  std::string error;
  ASSERT_TRUE(cluster_->start(wiped, /*bootstrap=*/false, /*join=*/true, &error)) << error;
  ASSERT_TRUE(cluster_->wait_startup(wiped, election_bound()));
  // The others keep working and the leader keeps sending to the old id, but
  // every answer from the wiped member is refused: the leader's log says why
  // and the wiped member's log shows it was refused.
  const std::uint64_t other = 6 - *leader - wiped;
  ClusterClient survivors(endpoints({*leader, other}), options.cluster_id);
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(survivors.create_topic("post-" + std::to_string(i), 1).ok());
  }
  ASSERT_TRUE(ProcessCluster::wait_until(
      [&] {
        return log_of(*leader).find("data directory was replaced") != std::string::npos &&
               log_of_last_start(wiped).find("refuses our peer traffic") != std::string::npos;
      },
      election_bound()))
      << "leader log:\n"
      << log_of(*leader) << "\nwiped member log:\n"
      << log_of_last_start(wiped);
  EXPECT_NE(log_of(*leader).find("remove member " + std::to_string(wiped)), std::string::npos);
  // It never applied the cluster's data: its answers never reached the
  // leader, so the leader never learned where to send it entries.
  const MemberView view = cluster_->view(wiped);
  ASSERT_TRUE(view.answered);
  const MemberView leader_view = cluster_->view(*leader);
  EXPECT_LE(view.applied, 1u) << "the wiped member caught up under its old id (leader commit "
                              << leader_view.commit << ")";
  EXPECT_GE(leader_view.commit, 40u);
}

TEST_F(WipedMemberBootstrapTest, FreshMembersStartedSecondsApartBootstrapOneCluster) {
  ClusterOptions options = short_timers(23700);
  cluster_ = std::make_unique<ProcessCluster>(options);
  std::string error;
  // Members 1 and 2 first; they elect a leader and take writes.
  ASSERT_TRUE(cluster_->start(1, /*bootstrap=*/true, false, &error)) << error;
  ASSERT_TRUE(cluster_->wait_startup(1, election_bound()));
  ASSERT_TRUE(cluster_->start(2, /*bootstrap=*/true, false, &error)) << error;
  ASSERT_TRUE(cluster_->wait_startup(2, election_bound()));
  const auto leader = cluster_->wait_leader(election_bound(), {1, 2});
  ASSERT_TRUE(leader) << "members 1 and 2 elected no leader";
  const CtlResult r = ctl_until_ok(
      {1, 2},
      {"broker", "register", "--id", "1", "--host", "broker-1", "--session-timeout-ms", "3600000"},
      election_bound());
  ASSERT_TRUE(r.ok()) << r.output;
  ClusterClient client(endpoints({1, 2}), options.cluster_id);
  for (int i = 0; i < 10; ++i)
    ASSERT_TRUE(client.create_topic("early-" + std::to_string(i), 1).ok());

  // Member 3 starts for the first time, seconds later: it bootstraps too
  // (nobody has heard from it) and catches up.
  ASSERT_TRUE(cluster_->start(3, /*bootstrap=*/true, false, &error)) << error;
  ASSERT_TRUE(cluster_->wait_startup(3, election_bound())) << log_of(3);
  EXPECT_NE(log_of(3).find("bootstrapped cluster"), std::string::npos) << log_of(3);
  const std::uint64_t target = cluster_->view(*leader).commit;
  std::uint64_t applied = 0;
  EXPECT_TRUE(ProcessCluster::wait_until(
      [&] {
        applied = cluster_->view(3).applied;
        return applied >= target;
      },
      election_bound()))
      << "member 3 applied " << applied << " of " << target << "\n"
      << log_of(3);
  EXPECT_EQ(log_of(3).find("refuses our peer traffic"), std::string::npos) << log_of(3);
}

}  // namespace
}  // namespace raftmeta::e2e::lifecycle

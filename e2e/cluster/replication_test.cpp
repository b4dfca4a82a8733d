// Issue 6's multi-process acceptance: 3 raftmeta-node processes; 1,000 topics
// created through gRPC (and a sample through raftmetactl); every topic read
// back from every member at every consistency level; SIGKILL of the leader;
// a new leader and continued writes; the killed member, restarted with its
// data, catches up.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "e2e/cluster/cluster_client.h"
#include "e2e/cluster/process_cluster.h"

namespace raftmeta::e2e {
namespace {

namespace v1 = ::raftmeta::v1;

constexpr int kTopics = 1000;
constexpr int kWriterThreads = 8;
constexpr int kCtlTopics = 5;
constexpr int kTopicsAfterFailover = 100;

// Runs raftmetactl with `args`; returns its exit status and output.
struct CtlRun {
  int status = -1;
  std::string output;
};

CtlRun run_ctl(const ProcessCluster& cluster, std::vector<std::string> args) {
  std::vector<std::string> argv = {ctl_binary(), "--endpoints", cluster.client_endpoints(),
                                   "--cluster-id", cluster.options().cluster_id};
  argv.insert(argv.end(), args.begin(), args.end());
  static int runs = 0;
  const std::string log = cluster.root() + "/ctl-" + std::to_string(++runs) + ".out";
  ChildProcess child;
  std::string error;
  CtlRun run;
  if (!child.spawn(argv, {}, log, &error)) {
    run.output = error;
    return run;
  }
  run.status = child.wait_exit(std::chrono::milliseconds(30000) + kSlack).value_or(-1);
  std::ifstream in(log);
  run.output.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return run;
}

class ReplicationTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (HasFailure() && cluster_) {
      std::cerr << cluster_->diagnostics();
      cluster_->keep();
    }
  }

  std::unique_ptr<ProcessCluster> cluster_;
};

// Every topic in `expected` is listed by `member` at `level` (no retries to
// other members: this member answers).
void expect_member_has(const ProcessCluster& cluster, std::uint64_t member, v1::Consistency level,
                       const std::set<std::string>& expected) {
  v1::ListTopicsResponse listed;
  grpc::Status s;
  // A leader's lease can lapse for a moment on a loaded machine (it then
  // answers UNAVAILABLE until the next quorum round): retry that only.
  ProcessCluster::wait_until(
      [&] {
        listed.Clear();
        s = ClusterClient::list_topics_at(cluster.client_address(member),
                                          cluster.options().cluster_id, level, &listed,
                                          std::chrono::milliseconds(10000) + kSlack);
        return s.error_code() != grpc::StatusCode::UNAVAILABLE;
      },
      kSlack, milliseconds(50));
  ASSERT_TRUE(s.ok()) << "member " << member << " " << v1::Consistency_Name(level) << ": "
                      << s.error_message();
  std::set<std::string> names;
  for (const auto& t : listed.topics()) names.insert(t.name());
  EXPECT_EQ(names.size(), expected.size())
      << "member " << member << " at " << v1::Consistency_Name(level);
  for (const auto& name : expected) {
    if (!names.contains(name)) {
      ADD_FAILURE() << "member " << member << " at " << v1::Consistency_Name(level)
                    << " lacks topic " << name;
      return;
    }
  }
  EXPECT_GT(listed.revision(), 0u);
}

TEST_F(ReplicationTest, ThousandTopicsSurviveLeaderKillAndRestart) {
  ClusterOptions options;
  options.port_base_hint = 21000;
  options.cluster_id = "e2e-replication";
  cluster_ = std::make_unique<ProcessCluster>(options);
  ProcessCluster& cluster = *cluster_;
  std::string error;
  ASSERT_TRUE(cluster.start_all(&error)) << error;
  const milliseconds election_bound = milliseconds(10 * options.election_ms) + kSlack;
  const auto first_leader = cluster.wait_leader(election_bound);
  ASSERT_TRUE(first_leader) << "no leader elected";

  const std::vector<std::string> endpoints = {cluster.client_address(1), cluster.client_address(2),
                                              cluster.client_address(3)};
  ClusterClient admin(endpoints, options.cluster_id);
  ASSERT_TRUE(admin.register_broker(1).ok());

  // 1,000 topics through gRPC from several client threads.
  std::set<std::string> expected;
  for (int i = 0; i < kTopics; ++i) expected.insert("topic-" + std::to_string(i));
  std::atomic<int> failures{0};
  std::string first_failure;
  std::mutex failure_mu;
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriterThreads; ++w) {
    writers.emplace_back([&, w] {
      ClusterClient client(endpoints, options.cluster_id);
      for (int i = w; i < kTopics; i += kWriterThreads) {
        const grpc::Status s = client.create_topic("topic-" + std::to_string(i), 1);
        if (!s.ok()) {
          failures.fetch_add(1);
          std::lock_guard lock(failure_mu);
          if (first_failure.empty()) first_failure = s.error_message();
        }
      }
    });
  }
  for (auto& t : writers) t.join();
  ASSERT_EQ(failures.load(), 0) << first_failure;

  // A sample through raftmetactl, as people and scripts use it.
  for (int i = 0; i < kCtlTopics; ++i) {
    const std::string name = "ctl-topic-" + std::to_string(i);
    const CtlRun run = run_ctl(cluster, {"topic", "create", name, "--partitions", "2"});
    ASSERT_EQ(run.status, 0) << run.output;
    EXPECT_NE(run.output.find("created topic " + name), std::string::npos) << run.output;
    expected.insert(name);
  }
  const CtlRun listed = run_ctl(cluster, {"-o", "json", "topic", "list"});
  ASSERT_EQ(listed.status, 0) << listed.output;
  const auto json = nlohmann::json::parse(listed.output, nullptr, false);
  ASSERT_FALSE(json.is_discarded()) << listed.output;
  EXPECT_EQ(json["topics"].size(), expected.size());

  // Every member, every level. Linearizable first, so the stale read that
  // follows on the same member has applied at least that far.
  for (std::uint64_t member : {1u, 2u, 3u}) {
    expect_member_has(cluster, member, v1::CONSISTENCY_LINEARIZABLE, expected);
    expect_member_has(cluster, member, v1::CONSISTENCY_STALE, expected);
  }
  // Lease reads: served by the leader, refused by followers with a hint.
  const auto leader = cluster.wait_leader(election_bound);
  ASSERT_TRUE(leader);
  expect_member_has(cluster, *leader, v1::CONSISTENCY_LEASE, expected);
  for (std::uint64_t member : {1u, 2u, 3u}) {
    if (member == *leader) continue;
    v1::ListTopicsResponse r;
    const grpc::Status s =
        ClusterClient::list_topics_at(cluster.client_address(member), options.cluster_id,
                                      v1::CONSISTENCY_LEASE, &r, milliseconds(5000));
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE)
        << "a follower must not serve lease reads";
  }
  // And through the retrying client (follows the hint to the leader).
  v1::ListTopicsResponse through_client;
  ASSERT_TRUE(admin.list_topics(v1::CONSISTENCY_LEASE, &through_client).ok());
  EXPECT_EQ(static_cast<std::size_t>(through_client.topics_size()), expected.size());

  // SIGKILL the leader: the other two elect a new one and keep committing.
  const std::uint64_t killed = *leader;
  cluster.kill(killed);
  std::vector<std::uint64_t> survivors;
  for (std::uint64_t id : {1u, 2u, 3u}) {
    if (id != killed) survivors.push_back(id);
  }
  const auto new_leader = cluster.wait_leader(election_bound, survivors);
  ASSERT_TRUE(new_leader) << "no new leader after killing " << killed;
  EXPECT_NE(*new_leader, killed);

  std::vector<std::string> live_endpoints;
  for (std::uint64_t id : survivors) live_endpoints.push_back(cluster.client_address(id));
  ClusterClient after(live_endpoints, options.cluster_id);
  for (int i = 0; i < kTopicsAfterFailover; ++i) {
    const std::string name = "after-failover-" + std::to_string(i);
    const grpc::Status s = after.create_topic(name, 1);
    ASSERT_TRUE(s.ok()) << name << ": " << s.error_message();
    expected.insert(name);
  }

  // The killed member restarts from its data and catches up.
  ASSERT_TRUE(cluster.start(killed, /*bootstrap=*/false, /*join=*/false, &error)) << error;
  ASSERT_TRUE(cluster.wait_startup(killed, milliseconds(10000) + kSlack))
      << "member " << killed << " did not restart";
  v1::GetStatusResponse leader_status;
  ASSERT_TRUE(after.status(&leader_status).ok());
  const std::uint64_t target = leader_status.commit_index();
  ASSERT_TRUE(ProcessCluster::wait_until(
      [&] {
        const MemberView v = cluster.view(killed, milliseconds(500));
        return v.answered && v.applied >= target;
      },
      election_bound + milliseconds(10000)))
      << "member " << killed << " did not catch up to " << target;
  expect_member_has(cluster, killed, v1::CONSISTENCY_STALE, expected);
  expect_member_has(cluster, killed, v1::CONSISTENCY_LINEARIZABLE, expected);
}

}  // namespace
}  // namespace raftmeta::e2e

// Issue 7: grow 3 -> 5 and shrink 5 -> 3 through raftmetactl while a client
// writes; the leader is among the members removed; no acknowledged write is
// lost.
#include <fstream>

#include "e2e/cluster/health_test_support.h"

namespace raftmeta::e2e {
namespace {

namespace v1 = ::raftmeta::v1;

struct CtlResult {
  int status = -1;
  std::string output;
};

class MembershipTest : public HealthClusterTest {
 protected:
  CtlResult ctl(std::vector<std::string> args) {
    std::vector<std::string> argv = {ctl_binary(), "--endpoints", cluster_->client_endpoints(),
                                     "--cluster-id", cluster_->options().cluster_id};
    argv.insert(argv.end(), args.begin(), args.end());
    const std::string log = cluster_->root() + "/ctl-" + std::to_string(++ctl_runs_) + ".out";
    ChildProcess child;
    std::string error;
    CtlResult r;
    if (!child.spawn(argv, {}, log, &error)) {
      r.output = error;
      return r;
    }
    r.status = child.wait_exit(milliseconds(30000) + kSlack).value_or(-1);
    std::ifstream in(log);
    r.output.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    return r;
  }

  // Retries `args` until raftmetactl exits 0 (e.g. promote is refused until
  // the learner caught up).
  CtlResult ctl_until_ok(std::vector<std::string> args, milliseconds timeout) {
    CtlResult r;
    ProcessCluster::wait_until(
        [&] {
          r = ctl(args);
          return r.status == 0;
        },
        timeout, milliseconds(200));
    return r;
  }

  int ctl_runs_ = 0;
};

TEST_F(MembershipTest, GrowToFiveAndShrinkToThreeWhileWriting) {
  ClusterOptions options;
  options.port_base_hint = 22900;
  options.cluster_id = "e2e-membership";
  start_cluster(options);
  start_load({1, 2, 3, 4, 5});
  ASSERT_TRUE(load_->wait_for_more(20, kSlack + milliseconds(5000))) << load_->last_error();

  for (std::uint64_t id : {4u, 5u}) {
    const CtlResult added = ctl({"member", "add", "--id", std::to_string(id), "--peer-address",
                                 cluster_->peer_address(id)});
    ASSERT_EQ(added.status, 0) << added.output;
    std::string error;
    ASSERT_TRUE(cluster_->start(id, /*bootstrap=*/false, /*join=*/true, &error)) << error;
    ASSERT_TRUE(cluster_->wait_startup(id, milliseconds(10000) + kSlack));
    const CtlResult promoted =
        ctl_until_ok({"member", "promote", "--id", std::to_string(id)}, election_bound());
    ASSERT_EQ(promoted.status, 0) << promoted.output;
    ASSERT_TRUE(load_->wait_for_more(5, election_bound())) << load_->last_error();
  }
  const CtlResult five = ctl({"-o", "json", "member", "list"});
  ASSERT_EQ(five.status, 0) << five.output;
  const auto five_json = nlohmann::json::parse(five.output, nullptr, false);
  ASSERT_FALSE(five_json.is_discarded()) << five.output;
  EXPECT_EQ(five_json["members"].size(), 5u) << five.output;

  // Shrink: the leader first, then one more of the original members.
  const auto leader = cluster_->wait_leader(election_bound());
  ASSERT_TRUE(leader);
  std::vector<std::uint64_t> removed = {*leader};
  for (std::uint64_t id : {1u, 2u, 3u}) {
    if (id != *leader) {
      removed.push_back(id);
      break;
    }
  }
  for (std::uint64_t id : removed) {
    const CtlResult r =
        ctl_until_ok({"member", "remove", "--id", std::to_string(id)}, election_bound());
    ASSERT_EQ(r.status, 0) << r.output;
    ASSERT_TRUE(load_->wait_for_more(5, election_bound())) << load_->last_error();
  }
  for (std::uint64_t id : removed) cluster_->terminate(id, milliseconds(5000) + kSlack);
  std::vector<std::uint64_t> remaining;
  for (std::uint64_t id : {1u, 2u, 3u, 4u, 5u}) {
    if (std::find(removed.begin(), removed.end(), id) == removed.end()) remaining.push_back(id);
  }
  const auto new_leader = cluster_->wait_leader(election_bound(), remaining);
  ASSERT_TRUE(new_leader);
  ASSERT_TRUE(load_->wait_for_more(20, election_bound())) << load_->last_error();
  load_->stop();

  const CtlResult three = ctl({"-o", "json", "member", "list"});
  ASSERT_EQ(three.status, 0) << three.output;
  const auto three_json = nlohmann::json::parse(three.output, nullptr, false);
  ASSERT_FALSE(three_json.is_discarded()) << three.output;
  EXPECT_EQ(three_json["members"].size(), 3u) << three.output;

  // No acknowledged write lost.
  ClusterClient reader(endpoints(remaining), options.cluster_id);
  v1::ListTopicsResponse listed;
  ASSERT_TRUE(reader.list_topics(v1::CONSISTENCY_LINEARIZABLE, &listed).ok());
  std::set<std::string> present;
  for (const auto& t : listed.topics()) present.insert(t.name());
  const auto acknowledged = load_->acknowledged_names();
  EXPECT_GT(acknowledged.size(), 50u);
  for (const auto& name : acknowledged) {
    ASSERT_TRUE(present.contains(name)) << "acknowledged topic " << name << " was lost";
  }
}

}  // namespace
}  // namespace raftmeta::e2e

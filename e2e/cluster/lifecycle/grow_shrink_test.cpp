// Acceptance (issue 7): grow a cluster 3 -> 5 and shrink it 5 -> 3 through
// raftmetactl while a client writes; the leader is among the removed; no
// acknowledged write is lost; removed ids are refused when added again.
#include <nlohmann/json.hpp>

#include "e2e/cluster/lifecycle/lifecycle_support.h"

namespace raftmeta::e2e::lifecycle {
namespace {

// Members as `raftmetactl member list -o json` reports them: id -> kind.
std::map<std::uint64_t, std::string> parse_members(const std::string& output) {
  std::map<std::uint64_t, std::string> out;
  const auto start = output.find('{');
  if (start == std::string::npos) return out;
  const auto j = nlohmann::json::parse(output.substr(start), nullptr, false);
  if (j.is_discarded() || !j.contains("members")) return out;
  for (const auto& m : j["members"]) {
    out[std::stoull(m.value("id", "0"))] = m.value("kind", "");
  }
  return out;
}

class GrowShrinkTest : public LifecycleTest {
 protected:
  std::map<std::uint64_t, std::string> members(const std::vector<std::uint64_t>& ask) {
    const CtlResult r = ctl_until_ok(ask, {"-o", "json", "member", "list"}, election_bound());
    EXPECT_TRUE(r.ok()) << r.output;
    return parse_members(r.output);
  }

  // Adds `id` as a learner through raftmetactl, starts it with --join, waits
  // until it has applied what the leader had committed, and promotes it.
  void grow_by(std::uint64_t id, const std::vector<std::uint64_t>& voters) {
    const CtlResult add = ctl_until_ok(
        voters,
        {"member", "add", "--id", std::to_string(id), "--peer-address", cluster_->peer_address(id)},
        election_bound());
    ASSERT_TRUE(add.ok()) << "member add " << id << ": " << add.output;
    std::string error;
    ASSERT_TRUE(cluster_->start(id, false, true, &error)) << error;
    ASSERT_TRUE(cluster_->wait_startup(id, milliseconds(10000) + kSlack));
    const auto leader = cluster_->wait_leader(election_bound(), voters);
    ASSERT_TRUE(leader);
    const std::uint64_t target = cluster_->view(*leader).commit;
    ASSERT_GT(target, 0u);
    ASSERT_TRUE(ProcessCluster::wait_until([&] { return cluster_->view(id).applied >= target; },
                                           election_bound()))
        << "learner " << id << " did not catch up to " << target;
    EXPECT_EQ(members(voters)[id], "MEMBER_KIND_LEARNER");
    const CtlResult promote =
        ctl_until_ok(voters, {"member", "promote", "--id", std::to_string(id)}, election_bound());
    ASSERT_TRUE(promote.ok()) << "member promote " << id << ": " << promote.output;
  }
};

TEST_F(GrowShrinkTest, GrowToFiveShrinkToThreeWhileWritingRemovingTheLeader) {
  ClusterOptions options = short_timers(23000);
  ASSERT_NO_FATAL_FAILURE(start_cluster(options));
  // The writer knows every address the cluster will ever have.
  writer_ = std::make_unique<AckedWriter>(endpoints({1, 2, 3, 4, 5}), options.cluster_id, "gs-");
  const milliseconds progress_bound = election_bound() * 2;
  ASSERT_TRUE(writer_->wait_for_more(20, progress_bound)) << writer_->last_error();

  // Grow 3 -> 5.
  ASSERT_NO_FATAL_FAILURE(grow_by(4, {1, 2, 3}));
  ASSERT_TRUE(writer_->wait_for_more(20, progress_bound)) << writer_->last_error();
  ASSERT_NO_FATAL_FAILURE(grow_by(5, {1, 2, 3, 4}));
  ASSERT_TRUE(writer_->wait_for_more(20, progress_bound)) << writer_->last_error();
  const std::vector<std::uint64_t> five = {1, 2, 3, 4, 5};
  {
    const auto m = members(five);
    ASSERT_EQ(m.size(), 5u);
    for (const auto& [id, kind] : m) EXPECT_EQ(kind, "MEMBER_KIND_VOTER") << "member " << id;
  }

  // Shrink 5 -> 3: first a follower among the original members, then the
  // leader itself.
  const auto leader = cluster_->wait_leader(election_bound(), five);
  ASSERT_TRUE(leader);
  std::uint64_t follower = 0;
  for (std::uint64_t id : {1, 2, 3}) {
    if (id != *leader) {
      follower = id;
      break;
    }
  }
  const std::vector<std::uint64_t> removed = {follower, *leader};
  std::vector<std::uint64_t> remaining;
  for (std::uint64_t id : five) {
    if (id != follower && id != *leader) remaining.push_back(id);
  }
  for (std::uint64_t id : removed) {
    std::vector<std::uint64_t> ask;
    for (std::uint64_t m : five) {
      if (m != follower || id == follower) ask.push_back(m);
    }
    const CtlResult r =
        ctl_until_ok(ask, {"member", "remove", "--id", std::to_string(id)}, election_bound());
    ASSERT_TRUE(r.ok()) << "member remove " << id << ": " << r.output;
    ASSERT_TRUE(writer_->wait_for_more(20, progress_bound))
        << "writes stopped after removing " << id << ": " << writer_->last_error();
  }
  const auto new_leader = cluster_->wait_leader(election_bound(), remaining);
  ASSERT_TRUE(new_leader) << "no leader among the remaining members";
  EXPECT_NE(*new_leader, *leader);
  for (std::uint64_t id : removed) cluster_->kill(id);
  ASSERT_TRUE(writer_->wait_for_more(20, progress_bound)) << writer_->last_error();
  {
    const auto m = members(remaining);
    ASSERT_EQ(m.size(), 3u);
    for (std::uint64_t id : remaining) EXPECT_EQ(m.at(id), "MEMBER_KIND_VOTER") << id;
  }

  // No acknowledged write lost, on any remaining member.
  writer_->stop();
  ASSERT_GT(writer_->acked_names().size(), 100u);
  expect_all_acked_readable(writer_->acked_names(), remaining);

  // Removed ids are never reused.
  for (std::uint64_t id : removed) {
    const CtlResult r = ctl(remaining, {"member", "add", "--id", std::to_string(id),
                                        "--peer-address", cluster_->peer_address(id)});
    EXPECT_NE(r.exit_code, 0) << "re-adding removed member " << id << " was accepted: " << r.output;
    EXPECT_NE(r.output.find("never reused"), std::string::npos) << r.output;
  }
  EXPECT_EQ(members(remaining).size(), 3u);
}

}  // namespace
}  // namespace raftmeta::e2e::lifecycle

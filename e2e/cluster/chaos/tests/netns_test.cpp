// NetnsNetwork over real raftmeta-node processes: a partition made with
// blackhole routes really cuts members apart (an isolated leader is replaced
// by the others), the test process still reaches every member, healing
// restores one agreed leader, and nothing is left behind afterwards.
// Skips (printing why) where namespaces cannot be created.
#include "e2e/cluster/chaos/netns.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <string>

#include "e2e/cluster/chaos/tests/fresh_cluster.h"
#include "e2e/cluster/process_cluster.h"

namespace raftmeta::chaos {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds kStartupWait{10000};

bool namespace_exists(const std::string& name) {
  FILE* pipe = ::popen("ip netns list 2>/dev/null", "r");
  if (pipe == nullptr) return false;
  std::string out;
  char buffer[4096];
  std::size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) out.append(buffer, n);
  ::pclose(pipe);
  return out.find(name + " ") != std::string::npos || out.find(name + "\n") != std::string::npos;
}

TEST(NetnsNetwork, IsolatedLeaderIsReplacedAndClientsStillReachIt) {
  std::string error;
  std::unique_ptr<NetnsNetwork> net = NetnsNetwork::create(3, &error);
  if (!net) GTEST_SKIP() << "network namespaces unavailable: " << error;
  const std::string ns1 = net->namespace_name(1);
  ASSERT_TRUE(namespace_exists(ns1));
  {
    e2e::ClusterOptions co;
    co.cluster_id = "netns-unit";
    co.port_base_hint = 25900;
    co.member_host = [n = net.get()](std::uint64_t id) { return n->host(id); };
    co.command_prefix = [n = net.get()](std::uint64_t id) { return n->command_prefix(id); };
    const auto owned = start_fresh_cluster(co, &error);
    ASSERT_TRUE(owned) << error;
    e2e::ProcessCluster& cluster = *owned;
    EXPECT_EQ(cluster.client_address(2).rfind(net->host(2) + ":", 0), 0u);
    const milliseconds leader_wait = kStartupWait + milliseconds(4 * co.election_ms) + e2e::kSlack;
    const auto leader = cluster.wait_leader(leader_wait);
    ASSERT_TRUE(leader) << cluster.diagnostics();

    ASSERT_TRUE(net->isolate(*leader, &error)) << error;
    ASSERT_TRUE(net->routes_match(&error)) << error;
    std::vector<std::uint64_t> others;
    for (std::uint64_t id : cluster.ids()) {
      if (id != *leader) others.push_back(id);
    }
    const auto successor = cluster.wait_leader(leader_wait, others);
    ASSERT_TRUE(successor) << cluster.diagnostics();
    EXPECT_NE(*successor, *leader);
    // The client path is not part of the partition: the test still reaches it.
    EXPECT_TRUE(cluster.view(*leader).answered);

    ASSERT_TRUE(net->heal(&error)) << error;
    ASSERT_TRUE(net->routes_match(&error)) << error;
    EXPECT_TRUE(net->describe().empty());
    // Healed: all three agree on one leader again.
    const auto agreed = cluster.wait_leader(leader_wait);
    ASSERT_TRUE(agreed) << cluster.diagnostics();
    EXPECT_TRUE(cluster.wait_until(
        [&] {
          for (std::uint64_t id : cluster.ids()) {
            if (cluster.view(id).leader_id != *agreed) return false;
          }
          return true;
        },
        leader_wait))
        << cluster.diagnostics();
  }
  net.reset();
  EXPECT_FALSE(namespace_exists(ns1));
}

}  // namespace
}  // namespace raftmeta::chaos

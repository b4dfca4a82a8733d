// Flow control: appends and bytes in flight per peer, message size, the
// uncommitted-bytes limit, and not-leader answers.
#include <gtest/gtest.h>

#include "sidecar/raft/tests/scenario_net.h"

namespace raftmeta::raft::test {
namespace {

// Appends carrying entries from `from` to `to` among `messages` (the queue or
// the delivered ones).
template <typename Messages>
int appends_with_entries(const Messages& messages, NodeId from, NodeId to) {
  int n = 0;
  for (const Message& m : messages) {
    if (m.type == MessageType::kAppend && m.from == from && m.to == to && !m.entries.empty()) ++n;
  }
  return n;
}

TEST(FlowControl, MaxInflightMsgsBoundsAppendsInFlight) {
  Net net(3, [](Config& c) { c.max_inflight_msgs = 2; });
  net.campaign(1);
  net.deliver_all();  // followers are in replicate state now
  for (int i = 0; i < 10; ++i) net.propose(1, "e" + std::to_string(i));
  EXPECT_EQ(appends_with_entries(net.queue(), 1, 2), 2);
  net.deliver_all();  // acknowledgements free the window
  EXPECT_EQ(net.app(2).data().size(), 10u);
}

TEST(FlowControl, MaxInflightBytesBoundsBytesInFlight) {
  Net net(3, [](Config& c) { c.max_inflight_bytes = 1000; });
  net.campaign(1);
  net.deliver_all();
  for (int i = 0; i < 6; ++i) net.propose(1, std::string(600, 'b'));
  EXPECT_EQ(appends_with_entries(net.queue(), 1, 2), 2);  // 600 + 600 >= 1000
  net.deliver_all();
  EXPECT_EQ(net.app(2).data().size(), 6u);
}

TEST(FlowControl, MaxSizePerMsgSplitsCatchUpAppends) {
  Net net(3, [](Config& c) { c.max_size_per_msg = 1000; });
  net.campaign(1);
  net.deliver_all();
  net.isolate(3);
  for (int i = 0; i < 10; ++i) net.propose(1, std::string(300, 's'));
  net.deliver_all();
  net.delivered().clear();
  net.heal();
  net.tick_all(3);
  int appends = 0;
  for (const Message& m : net.delivered()) {
    if (m.type != MessageType::kAppend || m.to != 3 || m.entries.empty()) continue;
    ++appends;
    std::uint64_t bytes = 0;
    for (const Entry& e : m.entries) bytes += e.data.size();
    EXPECT_TRUE(bytes <= 1000 || m.entries.size() == 1) << bytes;
  }
  EXPECT_GE(appends, 4);
  EXPECT_EQ(net.app(3).data().size(), 10u);
}

TEST(FlowControl, UncommittedBytesOverTheLimitAreDropped) {
  Net net(3, [](Config& c) { c.max_uncommitted_bytes = 1000; });
  net.campaign(1);
  net.deliver_all();
  net.isolate(1);
  EXPECT_EQ(net.propose(1, std::string(600, 'u')).status, ProposeStatus::kOk);
  const auto dropped = net.propose(1, std::string(600, 'u'));
  EXPECT_EQ(dropped.status, ProposeStatus::kDropped);
  EXPECT_EQ(dropped.leader_hint, 1u);
  net.heal();
  net.tick_all(2);  // the first one commits
  EXPECT_EQ(net.propose(1, std::string(600, 'u')).status, ProposeStatus::kOk);
}

TEST(FlowControl, ProposalOnAFollowerSaysWhoLeads) {
  Net net(3);
  EXPECT_EQ(net.propose(2, "x").leader_hint, kNoNode);
  net.campaign(1);
  net.deliver_all();
  const auto r = net.propose(2, "x");
  EXPECT_EQ(r.status, ProposeStatus::kNotLeader);
  EXPECT_EQ(r.leader_hint, 1u);
}

// `n` reads on `leader`, each delivered with everything it causes: n
// heartbeat rounds (contexts tag0, tag1, ...).
void read_rounds(Net& net, NodeId leader, int n, const std::string& tag) {
  for (int i = 0; i < n; ++i) {
    net.read_index(leader, tag + std::to_string(i));
    net.deliver_all();
  }
}

// Reads start heartbeat rounds as often as once per loop turn. A member whose
// appends go unanswered (its answers wait for its disk; heartbeat answers do
// not) must not get the same entries again for every round it answers: a
// soak saw a leader build 2.5 GB of repeated probes for one member in one
// turn. Resends follow heartbeat ticks, once per tick.
TEST(FlowControl, ReadRoundsDoNotMultiplyProbesToAMemberWhoseAppendsGoUnanswered) {
  Net net(3, [](Config& c) { c.max_size_per_msg = 1000; });
  net.campaign(1);
  net.deliver_all();
  net.isolate(3);
  for (int i = 0; i < 20; ++i) net.propose(1, std::string(300, 'p'));
  net.deliver_all();
  // A new leader starts member 3 in probe state; its first probe is lost.
  ASSERT_TRUE(net.transfer(1, 2));
  net.deliver_all();
  ASSERT_EQ(net.leader(), 2u);
  net.heal();
  net.drop(MessageType::kAppendResponse);
  net.delivered().clear();
  read_rounds(net, 2, 50, "r");
  int heartbeat_answers = 0;
  for (const Message& m : net.delivered()) {
    if (m.type == MessageType::kHeartbeatResponse && m.from == 3) ++heartbeat_answers;
  }
  EXPECT_GE(heartbeat_answers, 50);
  EXPECT_EQ(appends_with_entries(net.delivered(), 2, 3), 0);  // no tick yet: no resend

  // One heartbeat tick lets exactly one resend through, however many rounds
  // member 3 answers after it.
  net.delivered().clear();
  net.tick(2);  // heartbeat_tick is 1 in the scenario config: one tick round
  read_rounds(net, 2, 20, "s");
  EXPECT_EQ(appends_with_entries(net.delivered(), 2, 3), 1);

  net.heal();  // answers flow again: member 3 catches up
  net.tick_all(20);
  EXPECT_EQ(net.app(3).data().size(), 20u);
}

// In replicate state an answered heartbeat frees one slot of a full window (an
// append may have been lost); read rounds must not turn that into one extra
// append per round, which would make the window meaningless.
TEST(FlowControl, ReadRoundsDoNotOpenAFullWindow) {
  Net net(3, [](Config& c) { c.max_inflight_msgs = 2; });
  net.campaign(1);
  net.deliver_all();
  net.drop(MessageType::kAppendResponse);  // every append stays in flight
  net.delivered().clear();
  for (int i = 0; i < 30; ++i) {
    net.propose(1, "w" + std::to_string(i));
    net.read_index(1, "r" + std::to_string(i));
    net.deliver_all();
  }
  EXPECT_EQ(appends_with_entries(net.delivered(), 1, 2), 2);  // the window, nothing more
  net.heal();
  net.tick_all(40);
  EXPECT_EQ(net.app(2).data().size(), 30u);
}

TEST(FlowControl, LostAppendsInAFullWindowAreRecoveredByHeartbeats) {
  Net net(3, [](Config& c) { c.max_inflight_msgs = 2; });
  net.campaign(1);
  net.deliver_all();
  net.cut_one_way(1, 2);
  for (int i = 0; i < 6; ++i) net.propose(1, "l" + std::to_string(i));
  net.deliver_all();  // appends to 2 are lost
  net.heal();
  net.tick_all(10);
  EXPECT_EQ(net.app(2).data().size(), 6u);
}

}  // namespace
}  // namespace raftmeta::raft::test

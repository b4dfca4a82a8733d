// Bad input never crashes the core and never breaks an invariant.
#include <gtest/gtest.h>

#include <random>

#include "sidecar/raft/tests/scenario_net.h"

namespace raftmeta::raft::test {
namespace {

Net elected(std::size_t n, NodeId leader = 1) {
  Net net(n);
  net.campaign(leader);
  net.deliver_all();
  return net;
}

TEST(BadInput, MessagesWithWrongAddressesOrNoTermAreIgnored) {
  Net net = elected(3);
  const Status before = net.status(2);
  Message wrong_to = msg(MessageType::kHeartbeat, 1, 3, 5);
  EXPECT_FALSE(net.node(2).step(wrong_to));
  EXPECT_FALSE(net.node(2).step(msg(MessageType::kHeartbeat, 2, 2, 5)));        // from itself
  EXPECT_FALSE(net.node(2).step(msg(MessageType::kHeartbeat, kNoNode, 2, 5)));  // from nobody
  EXPECT_FALSE(net.node(2).step(msg(MessageType::kAppend, 1, 2, 0)));           // no term
  Message bad_type = msg(MessageType::kHeartbeat, 1, 2, 5);
  bad_type.type = static_cast<MessageType>(200);
  EXPECT_FALSE(net.node(2).step(bad_type));
  EXPECT_EQ(net.status(2).term, before.term);
  EXPECT_EQ(net.status(2).commit, before.commit);
}

TEST(BadInput, MessagesFromThePastAreIgnored) {
  Net net = elected(3);
  net.isolate(1);
  net.tick_all(40);
  const NodeId leader = net.leader();
  ASSERT_NE(leader, 1u);
  const Status before = net.status(3 == leader ? 2 : 3);
  const NodeId follower = before.id;
  Message old_append = msg(MessageType::kAppend, 1, follower, 1);
  old_append.index = before.last_index;
  old_append.log_term = 1;
  old_append.entries.push_back(Entry{1, before.last_index + 1, EntryType::kNormal, "old"});
  old_append.commit = before.last_index + 1;
  EXPECT_FALSE(net.node(follower).step(old_append));
  EXPECT_EQ(net.status(follower).last_index, before.last_index);
  EXPECT_EQ(net.status(follower).leader, leader);
}

TEST(BadInput, MalformedAppendsAreIgnored) {
  Net net = elected(3);
  const Status before = net.status(2);
  Message gap = msg(MessageType::kAppend, 1, 2, 1);
  gap.index = 1;
  gap.log_term = 1;
  gap.entries = {Entry{1, 2, EntryType::kNormal, "a"}, Entry{1, 4, EntryType::kNormal, "b"}};
  EXPECT_FALSE(net.node(2).step(gap));
  Message future_term = msg(MessageType::kAppend, 1, 2, 1);
  future_term.index = 1;
  future_term.log_term = 1;
  future_term.entries = {Entry{7, 2, EntryType::kNormal, "a"}};
  EXPECT_FALSE(net.node(2).step(future_term));
  Message overflow = msg(MessageType::kAppend, 1, 2, 1);
  overflow.index = ~Index{0};
  overflow.entries = {Entry{1, 0, EntryType::kNormal, "a"}};
  EXPECT_FALSE(net.node(2).step(overflow));
  Message no_snapshot = msg(MessageType::kSnapshot, 1, 2, 1);
  EXPECT_FALSE(net.node(2).step(no_snapshot));
  EXPECT_EQ(net.status(2).last_index, before.last_index);
}

TEST(BadInput, AppendResponseForAnIndexBeyondTheLeadersLogIsIgnored) {
  Net net = elected(3);
  Message ack = msg(MessageType::kAppendResponse, 2, 1, 1);
  ack.index = 1000;
  net.node(1).step(ack);
  for (const PeerProgress& p : net.status(1).progress) EXPECT_LE(p.match, net.status(1).last_index);
  EXPECT_LE(net.status(1).commit, net.status(1).last_index);
}

TEST(BadInput, ResponsesFromUnknownIdsAreIgnored) {
  Net net = elected(3);
  Message ack = msg(MessageType::kAppendResponse, 77, 1, 1);
  ack.index = 1;
  EXPECT_FALSE(net.node(1).step(ack));
  EXPECT_FALSE(net.node(1).step(msg(MessageType::kHeartbeatResponse, 77, 1, 1)));
  EXPECT_FALSE(net.node(1).step(msg(MessageType::kReadIndex, 77, 1, 1)));
  EXPECT_EQ(net.status(1).progress.size(), 2u);
}

// Garbage from unknown ids, stale garbage from members, and replays of real
// messages (duplicated and reordered), interleaved with normal traffic: no
// crash, at most one leader per term, commit never moves back, and every
// member applies the same sequence. (A forged current-term message claiming
// to come from a member is Byzantine and out of scope.)
TEST(BadInput, RandomMessagesNeverBreakInvariants) {
  Net net = elected(3);
  std::mt19937_64 rng(12345);
  auto pick = [&](std::uint64_t n) { return rng() % n; };
  std::map<NodeId, Index> last_commit;
  std::map<Term, NodeId> leader_of_term;
  std::vector<Message> seen;
  for (int i = 0; i < 3000; ++i) {
    for (std::size_t k = seen.size() < 500 ? 0 : 500; k < net.delivered().size(); ++k) {
      if (seen.size() < 500) seen.push_back(net.delivered()[k]);
    }
    net.delivered().clear();
    Message m;
    const auto kind = pick(3);
    if (kind == 0 && !seen.empty()) {
      m = seen[pick(seen.size())];  // a replay from the past
    } else {
      m.type = static_cast<MessageType>(pick(14));
      m.to = 1 + pick(3);
      const Term receiver_term = net.status(m.to).term;
      if (kind == 1) {
        m.from = 7 + pick(3);  // never a member
        const bool leader_like =
            m.type == MessageType::kAppend || m.type == MessageType::kHeartbeat ||
            m.type == MessageType::kSnapshot || m.type == MessageType::kTimeoutNow;
        m.term =
            leader_like ? (receiver_term == 0 ? 0 : pick(receiver_term)) : pick(receiver_term + 3);
      } else {
        m.from = 1 + pick(3);  // a member, but from an older term
        m.term = pick(receiver_term + 1);
        if (m.term == receiver_term && m.term > 0) --m.term;
      }
      m.log_term = pick(4);
      m.index = pick(40);
      m.commit = pick(40);
      m.reject = pick(2) == 0;
      m.reject_hint = pick(40);
      m.reject_hint_term = pick(4);
      if (pick(3) == 0) m.context = std::string(pick(10), 'c');
      const std::size_t n = pick(3);
      for (std::size_t k = 0; k < n; ++k) {
        m.entries.push_back(Entry{m.log_term + pick(2), m.index + 1 + k, EntryType::kNormal, "g"});
      }
      if (m.type == MessageType::kSnapshot && pick(2) == 0) {
        m.snapshot = Snapshot{SnapshotMeta{pick(50), pick(3), ConfState{{1, 2, 3}, {}, {}}}, ""};
      }
    }
    if (m.to == m.from || m.to < 1 || m.to > 3) continue;
    net.node(m.to).step(m);
    net.process(m.to);
    if (i % 7 == 0) net.tick_all(1);
    if (i % 11 == 0 && net.leader() != kNoNode) net.propose(net.leader(), "p" + std::to_string(i));
    net.deliver_all();
    for (NodeId id : {1u, 2u, 3u}) {
      const Status s = net.status(id);
      EXPECT_GE(s.commit, last_commit[id]);
      last_commit[id] = s.commit;
      EXPECT_LE(s.commit, s.last_index);
      if (s.role == Role::kLeader) {
        auto [it, fresh] = leader_of_term.emplace(s.term, id);
        EXPECT_EQ(it->second, id) << "two leaders in term " << s.term;
      }
    }
    if (HasFailure()) break;
  }
  net.tick_all(30);
  EXPECT_NE(net.leader(), kNoNode);
  const auto a1 = net.app(1).applied;
  for (NodeId id : {2u, 3u}) {
    const auto& other = net.app(id).applied;
    const std::size_t common = std::min(a1.size(), other.size());
    for (std::size_t k = 0; k < common; ++k) {
      ASSERT_EQ(a1[k], other[k]) << "node " << id << " applied a different entry at " << k;
    }
  }
  EXPECT_GT(a1.size(), 100u);
}

}  // namespace
}  // namespace raftmeta::raft::test

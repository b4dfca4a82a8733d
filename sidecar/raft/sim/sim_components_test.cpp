// raft_sim_components_test: the simulator's own parts, and that each of its
// checks can fail (a checker that never fails proves nothing).
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "sidecar/raft/sim/kv_state_machine.h"
#include "sidecar/raft/sim/safety_checker.h"
#include "sidecar/raft/sim/sim_network.h"

namespace raftmeta::raft::sim {
namespace {

Entry write_entry(Index index, Term term, std::uint64_t id) {
  return Entry{term, index, EntryType::kNormal,
               encode_write({id, static_cast<std::uint32_t>(id % 8)})};
}

ConfState three_voters() {
  ConfState c;
  c.voters = {1, 2, 3};
  return c;
}

TEST(KvStateMachine, SnapshotRestoresTheSameStateAndDigest) {
  KvStateMachine a;
  ASSERT_TRUE(a.apply(write_entry(1, 1, 1)));
  ASSERT_TRUE(a.apply(Entry{1, 2, EntryType::kNormal, ""}));
  ASSERT_TRUE(a.apply(write_entry(3, 2, 9)));
  KvStateMachine b;
  ASSERT_TRUE(b.restore(a.serialize()));
  EXPECT_EQ(b.applied(), 3u);
  EXPECT_EQ(b.digest(), a.digest());
  EXPECT_EQ(b.value(1), 9u);
  EXPECT_FALSE(b.restore("3 x"));
  EXPECT_EQ(b.applied(), 3u);
}

TEST(KvStateMachine, RefusesOutOfOrderEntriesAndDigestsDiffer) {
  KvStateMachine a;
  EXPECT_FALSE(a.apply(write_entry(2, 1, 1)));
  KvStateMachine b;
  ASSERT_TRUE(a.apply(write_entry(1, 1, 1)));
  ASSERT_TRUE(b.apply(write_entry(1, 2, 1)));  // same data, other term
  EXPECT_NE(a.digest(), b.digest());
}

TEST(SimNetwork, CutLinksBlockOneDirectionAndInFlightMessagesAreLost) {
  SimNetwork net;
  SimRandom rng(1);
  FaultProfile p;
  Message m;
  m.from = 1;
  m.to = 2;
  ASSERT_EQ(net.send(m, 0, false, p, rng), SimNetwork::SendResult::kQueued);
  net.cut(1, 2);
  EXPECT_TRUE(net.take_due(2, 1'000'000, rng).empty());
  EXPECT_EQ(net.send(m, 0, false, p, rng), SimNetwork::SendResult::kBlocked);
  Message back = m;
  back.from = 2;
  back.to = 1;
  EXPECT_EQ(net.send(back, 0, false, p, rng), SimNetwork::SendResult::kQueued);
  EXPECT_EQ(net.take_due(1, 1'000'000, rng).size(), 1u);
}

TEST(SimNetwork, HealedLinksDeliverInSendOrderWhileFaultyLinksMayReorder) {
  FaultProfile p;
  p.min_delay_units = 1;
  p.max_delay_units = kTickUnits;
  p.drop_ppm = 0;  // only the order is under test
  p.duplicate_ppm = 0;
  auto deliveries = [&](bool faults, std::uint64_t seed) {
    SimNetwork net;
    SimRandom rng(seed);
    for (std::uint64_t i = 1; i <= 50; ++i) {
      for (NodeId from : {NodeId{1}, NodeId{3}}) {
        Message m;
        m.from = from;
        m.to = 2;
        m.index = i;
        EXPECT_EQ(net.send(m, i, faults, p, rng), SimNetwork::SendResult::kQueued);
      }
    }
    std::map<NodeId, std::vector<Index>> order;
    for (std::uint64_t now = 0; now <= 60 + kTickUnits; ++now) {
      for (const Message& m : net.take_due(2, now, rng)) order[m.from].push_back(m.index);
    }
    return order;
  };
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    for (const auto& [from, indexes] : deliveries(false, seed)) {
      ASSERT_EQ(indexes.size(), 50u);
      EXPECT_TRUE(std::is_sorted(indexes.begin(), indexes.end()))
          << "seed " << seed << " from " << from;
    }
  }
  bool reordered = false;
  for (std::uint64_t seed = 1; seed <= 20 && !reordered; ++seed) {
    for (const auto& [from, indexes] : deliveries(true, seed)) {
      reordered |= !std::is_sorted(indexes.begin(), indexes.end());
    }
  }
  EXPECT_TRUE(reordered) << "the faulty network should reorder some messages";
}

TEST(SafetyChecker, ReportsTwoLeadersInOneTerm) {
  SafetyChecker c(three_voters());
  ShadowLog log;
  c.on_leader(1, 5, log);
  EXPECT_FALSE(c.failed());
  c.on_leader(2, 5, log);
  EXPECT_TRUE(c.failed());
  EXPECT_NE(c.violation().find("election safety"), std::string::npos);
}

TEST(SafetyChecker, ReportsLogMatchingViolation) {
  SafetyChecker c(three_voters());
  ShadowLog a;
  ShadowLog b;
  const std::vector<Entry> ea = {write_entry(1, 1, 1)};
  const std::vector<Entry> eb = {write_entry(1, 1, 2)};
  a.append(ea);
  b.append(eb);
  c.on_log_append(1, ea, a);
  EXPECT_FALSE(c.failed());
  c.on_log_append(2, eb, b);
  EXPECT_NE(c.violation().find("log matching"), std::string::npos);
}

TEST(SafetyChecker, ReportsLogMatchingViolationBetweenSentAndPersistedEntries) {
  // A leader's incarnation sent (2, term 2) = write 7 after (1, term 1); a
  // later incarnation persists a different entry at (2, term 2).
  SafetyChecker c(three_voters());
  c.on_entries_visible(1, {write_entry(2, 2, 7)}, Term{1});
  EXPECT_FALSE(c.failed());
  c.on_entries_visible(1, {write_entry(2, 2, 7)}, Term{1});
  EXPECT_FALSE(c.failed()) << "the same entry seen twice is no violation";
  c.on_entries_visible(1, {write_entry(2, 2, 8)}, Term{1});
  EXPECT_NE(c.violation().find("log matching"), std::string::npos);
}

TEST(SafetyChecker, ReportsCommitGoingBackAndDivergentCommits) {
  SafetyChecker c(three_voters());
  ShadowLog a;
  const std::vector<Entry> ea = {write_entry(1, 1, 1), write_entry(2, 1, 2)};
  a.append(ea);
  c.on_commit(1, 0, 2, a);
  EXPECT_FALSE(c.failed());
  c.on_commit(1, 2, 1, a);
  EXPECT_NE(c.violation().find("commit monotonicity"), std::string::npos);

  SafetyChecker d(three_voters());
  ShadowLog b;
  const std::vector<Entry> eb = {write_entry(1, 2, 7)};
  b.append(eb);
  d.on_commit(1, 0, 2, a);
  d.on_commit(2, 0, 1, b);
  EXPECT_NE(d.violation().find("commit safety"), std::string::npos);
}

TEST(SafetyChecker, ReportsLeaderWithoutACommittedEntry) {
  SafetyChecker c(three_voters());
  ShadowLog a;
  const std::vector<Entry> ea = {write_entry(1, 1, 1)};
  a.append(ea);
  c.on_commit(1, 0, 1, a);
  c.on_leader(2, 2, ShadowLog());
  EXPECT_NE(c.violation().find("leader completeness"), std::string::npos);
}

TEST(SafetyChecker, ReportsAppliedUncommittedAndUnproposedEntries) {
  SafetyChecker c(three_voters());
  c.on_apply(1, write_entry(1, 1, 1), 0, 0);
  EXPECT_NE(c.violation().find("applied uncommitted"), std::string::npos);

  SafetyChecker d(three_voters());
  ShadowLog a;
  const std::vector<Entry> ea = {write_entry(1, 1, 1)};
  a.append(ea);
  d.on_commit(1, 0, 1, a);
  d.on_apply(1, ea[0], 1, 42);
  EXPECT_NE(d.violation().find("never proposed"), std::string::npos);
}

TEST(SafetyChecker, ReportsDifferentStatesAtOneIndex) {
  SafetyChecker c(three_voters());
  c.on_restore(1, 4, 100);
  c.on_restore(2, 4, 100);
  EXPECT_FALSE(c.failed());
  c.on_restore(3, 4, 101);
  EXPECT_NE(c.violation().find("state-machine safety"), std::string::npos);
}

TEST(SafetyChecker, ReportsStaleRead) {
  SafetyChecker c(three_voters());
  c.on_write_acked(10);
  const Index begin = c.acked_watermark();
  c.on_read_served("lease", 1, begin, 10);
  EXPECT_FALSE(c.failed());
  c.on_read_served("lease", 1, begin, 9);
  EXPECT_NE(c.violation().find("linearizability"), std::string::npos);
}

TEST(SafetyChecker, ReportsConfigurationTakingEffectBeforeApplied) {
  SafetyChecker c(three_voters());
  ConfChange add{ConfChangeType::kAddLearner, 4, ""};
  const std::vector<Entry> es = {Entry{1, 1, EntryType::kConfChange, encode_conf_change(add)}};
  ShadowLog a;
  a.append(es);
  c.on_log_append(1, es, a);
  c.on_commit(1, 0, 1, a);
  ConfState with_learner = three_voters();
  with_learner.learners = {4};
  c.on_conf(1, 1, with_learner, true);  // applied: fine
  EXPECT_FALSE(c.failed());
  c.on_conf(2, 0, with_learner, true);  // not applied yet: too early
  EXPECT_NE(c.violation().find("configuration"), std::string::npos);
}

TEST(SafetyChecker, ReportsASecondConfChangeWhileOneIsPending) {
  SafetyChecker c(three_voters());
  ConfChange add4{ConfChangeType::kAddLearner, 4, ""};
  ConfChange add5{ConfChangeType::kAddLearner, 5, ""};
  const std::vector<Entry> es = {Entry{1, 1, EntryType::kConfChange, encode_conf_change(add4)},
                                 Entry{1, 2, EntryType::kConfChange, encode_conf_change(add5)}};
  ShadowLog a;
  a.append(es);
  c.on_log_append(1, es, a);
  c.on_conf_proposed(1, 1, a, 2);  // the first one is applied: fine
  EXPECT_FALSE(c.failed());
  c.on_conf_proposed(1, 0, a, 2);  // the first one is still pending
  EXPECT_NE(c.violation().find("was not applied"), std::string::npos);
}

}  // namespace
}  // namespace raftmeta::raft::sim

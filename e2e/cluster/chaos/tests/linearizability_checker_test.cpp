// Hand-written histories for each model: linearizable ones the checker must
// accept and non-linearizable ones (the shapes the planted node bugs produce:
// a lost acknowledged write, a stale lease read, an entry applied twice) it
// must reject, naming the operations involved.
#include "e2e/cluster/chaos/linearizability_checker.h"

#include <gtest/gtest.h>

#include "e2e/cluster/chaos/stale_read_checker.h"

namespace raftmeta::chaos {
namespace {

class HistoryBuilder {
 public:
  // Times are in milliseconds for readability.
  Operation& add(int client, std::string key, OpKind kind, Outcome outcome, std::int64_t from,
                 std::int64_t to) {
    Operation op;
    op.id = next_id_++;
    op.client = client;
    op.key = std::move(key);
    op.kind = kind;
    op.outcome = outcome;
    op.invoke_ns = from * 1000000;
    op.complete_ns = outcome == Outcome::kUnknown ? kNeverCompleted : to * 1000000;
    if (is_read(kind)) op.level = ReadLevel::kLinearizable;
    ops_.push_back(op);
    return ops_.back();
  }
  Operation& create(int c, const std::string& k, Outcome o, std::int64_t id, std::int64_t from,
                    std::int64_t to) {
    Operation& op = add(c, k, OpKind::kTopicCreate, o, from, to);
    op.output = id;
    return op;
  }
  Operation& remove(int c, const std::string& k, Outcome o, std::int64_t id, std::int64_t from,
                    std::int64_t to) {
    Operation& op = add(c, k, OpKind::kTopicDelete, o, from, to);
    op.output = id;
    return op;
  }
  Operation& get(int c, const std::string& k, Outcome o, std::int64_t id, std::int64_t from,
                 std::int64_t to) {
    Operation& op = add(c, k, OpKind::kTopicGet, o, from, to);
    op.output = id;
    return op;
  }
  Operation& commit(int c, const std::string& k, Outcome o, std::int64_t v, std::int64_t from,
                    std::int64_t to) {
    Operation& op = add(c, k, OpKind::kOffsetCommit, o, from, to);
    op.input = v;
    return op;
  }
  Operation& fetch(int c, const std::string& k, std::int64_t v, std::int64_t from,
                   std::int64_t to) {
    Operation& op = add(c, k, OpKind::kOffsetFetch, Outcome::kOk, from, to);
    op.output = v;
    return op;
  }
  Operation& alloc(int c, Outcome o, std::int64_t first, std::int64_t from, std::int64_t to) {
    Operation& op = add(c, "producer-ids", OpKind::kProducerAlloc, o, from, to);
    op.output = first;
    op.output2 = 1000;
    return op;
  }
  Operation& reg(int c, const std::string& k, Outcome o, std::int64_t epoch, std::int64_t from,
                 std::int64_t to) {
    Operation& op = add(c, k, OpKind::kBrokerRegister, o, from, to);
    op.output = epoch;
    return op;
  }
  // Refused: `o` = kRejected means a stale epoch (FAILED_PRECONDITION).
  Operation& heartbeat(int c, const std::string& k, Outcome o, std::int64_t epoch,
                       std::int64_t from, std::int64_t to) {
    Operation& op = add(c, k, OpKind::kBrokerHeartbeat, o, from, to);
    op.input = epoch;
    return op;
  }
  Operation& broker_get(int c, const std::string& k, Outcome o, std::int64_t epoch,
                        std::int64_t from, std::int64_t to, OpKind kind = OpKind::kBrokerGet) {
    Operation& op = add(c, k, kind, o, from, to);
    op.output = epoch;
    return op;
  }
  const std::vector<Operation>& ops() const { return ops_; }

 private:
  std::vector<Operation> ops_;
  std::int64_t next_id_ = 1;
};

Verdict verdict_of(const HistoryBuilder& h) { return check_linearizability(h.ops()).verdict; }

// --- topics ---------------------------------------------------------------

TEST(TopicModel, SequentialCreateGetDeleteIsLinearizable) {
  HistoryBuilder h;
  h.get(1, "t", Outcome::kRejected, 0, 0, 1);
  h.create(1, "t", Outcome::kOk, 7, 2, 3);
  h.create(2, "t", Outcome::kRejected, 0, 4, 5);
  h.get(2, "t", Outcome::kOk, 7, 6, 7);
  h.remove(1, "t", Outcome::kOk, 7, 8, 9);
  h.remove(2, "t", Outcome::kRejected, 0, 10, 11);
  h.create(1, "t", Outcome::kOk, 9, 12, 13);
  h.get(2, "t", Outcome::kOk, 9, 14, 15);
  const auto r = check_linearizability(h.ops());
  EXPECT_EQ(r.verdict, Verdict::kLinearizable) << r.summary();
  EXPECT_EQ(r.checked_operations, 8u);
}

TEST(TopicModel, ConcurrentCreatesOneWinsIsLinearizable) {
  HistoryBuilder h;
  h.create(1, "t", Outcome::kOk, 5, 0, 10);
  h.create(2, "t", Outcome::kRejected, 0, 1, 9);  // overlaps: may come after the first
  EXPECT_EQ(verdict_of(h), Verdict::kLinearizable);
}

TEST(TopicModel, TwoSuccessfulCreatesWithoutDeleteAreNot) {
  HistoryBuilder h;
  h.create(1, "t", Outcome::kOk, 5, 0, 10);
  h.create(2, "t", Outcome::kOk, 6, 1, 9);
  const auto r = check_linearizability(h.ops());
  ASSERT_EQ(r.verdict, Verdict::kNotLinearizable);
  ASSERT_EQ(r.anomalies.size(), 1u);
  EXPECT_EQ(r.anomalies[0].key, "t");
  EXPECT_NE(r.anomalies[0].report.find("topic-create"), std::string::npos) << r.anomalies[0].report;
}

// The shape "acknowledge a write before it is persisted/committed" produces:
// the create was acknowledged, later reads say the topic never existed.
TEST(TopicModel, LostAcknowledgedCreateIsNotLinearizable) {
  HistoryBuilder h;
  h.create(1, "t", Outcome::kOk, 5, 0, 1);
  h.get(2, "t", Outcome::kRejected, 0, 2, 3);
  const auto r = check_linearizability(h.ops());
  ASSERT_EQ(r.verdict, Verdict::kNotLinearizable);
  EXPECT_NE(r.summary().find("#2 client 2 topic-get"), std::string::npos) << r.summary();
}

TEST(TopicModel, GetWithAnotherTopicIdIsNotLinearizable) {
  HistoryBuilder h;
  h.create(1, "t", Outcome::kOk, 5, 0, 1);
  h.get(2, "t", Outcome::kOk, 6, 2, 3);
  EXPECT_EQ(verdict_of(h), Verdict::kNotLinearizable);
}

TEST(TopicModel, UnknownCreateMayHaveHappenedLater) {
  HistoryBuilder h;
  h.create(1, "t", Outcome::kUnknown, 0, 0, 0);
  h.get(2, "t", Outcome::kRejected, 0, 1, 2);
  h.get(2, "t", Outcome::kOk, 8, 3, 4);  // the unknown create took effect between
  h.remove(2, "t", Outcome::kOk, 8, 5, 6);
  const auto r = check_linearizability(h.ops());
  EXPECT_EQ(r.verdict, Verdict::kLinearizable) << r.summary();
}

TEST(TopicModel, UnknownCreateMayNeverHappen) {
  HistoryBuilder h;
  h.create(1, "t", Outcome::kUnknown, 0, 0, 0);
  h.get(2, "t", Outcome::kRejected, 100, 101, 102);
  EXPECT_EQ(verdict_of(h), Verdict::kLinearizable);
}

TEST(TopicModel, UnknownCreateCannotExplainTwoIds) {
  HistoryBuilder h;
  h.create(1, "t", Outcome::kUnknown, 0, 0, 0);
  h.get(2, "t", Outcome::kOk, 8, 1, 2);
  h.get(2, "t", Outcome::kOk, 9, 3, 4);
  EXPECT_EQ(verdict_of(h), Verdict::kNotLinearizable);
}

TEST(TopicModel, ReadOfDeletedTopicAfterDeleteAckedIsNot) {
  HistoryBuilder h;
  h.create(1, "t", Outcome::kOk, 5, 0, 1);
  h.remove(1, "t", Outcome::kOk, 5, 2, 3);
  h.get(2, "t", Outcome::kOk, 5, 4, 5);
  EXPECT_EQ(verdict_of(h), Verdict::kNotLinearizable);
}

// What the soak found in raftmeta-node: a create refused with ALREADY_EXISTS
// right after a linearizable read saw the topic deleted.
TEST(TopicModel, CreateRefusedAfterDeleteWasSeenIsNot) {
  HistoryBuilder h;
  h.create(3, "t", Outcome::kOk, 18384, 0, 10);
  h.remove(1, "t", Outcome::kOk, 18384, 11, 1500);
  h.get(2, "t", Outcome::kRejected, 0, 1100, 1105);
  h.create(2, "t", Outcome::kRejected, 0, 1106, 1106);
  EXPECT_EQ(verdict_of(h), Verdict::kNotLinearizable);
  CheckOptions lenient;
  lenient.judge_write_rejections = false;
  const auto r = check_linearizability(h.ops(), lenient);
  EXPECT_EQ(r.verdict, Verdict::kLinearizable);
  EXPECT_EQ(r.skipped_write_rejections, 1u);
}

// --- offsets ---------------------------------------------------------------

TEST(OffsetModel, RegisterHistoryWithOverlapsIsLinearizable) {
  HistoryBuilder h;
  h.fetch(1, "g", -1, 0, 1);
  h.commit(1, "g", Outcome::kOk, 10, 2, 10);
  h.fetch(2, "g", -1, 3, 4);  // before the commit took effect
  h.fetch(2, "g", 10, 5, 6);  // after
  h.commit(2, "g", Outcome::kOk, 20, 11, 12);
  h.fetch(1, "g", 20, 13, 14);
  const auto r = check_linearizability(h.ops());
  EXPECT_EQ(r.verdict, Verdict::kLinearizable) << r.summary();
}

// The shape "lease reads without the clock check" produces: a deposed leader
// answers from its old state after a newer write was acknowledged.
TEST(OffsetModel, StaleLeaseReadAfterAcknowledgedCommitIsNot) {
  HistoryBuilder h;
  h.commit(1, "g", Outcome::kOk, 10, 0, 1);
  h.commit(1, "g", Outcome::kOk, 20, 2, 3);
  h.fetch(2, "g", 10, 4, 5).level = ReadLevel::kLease;
  const auto r = check_linearizability(h.ops());
  ASSERT_EQ(r.verdict, Verdict::kNotLinearizable);
  EXPECT_NE(r.anomalies[0].report.find("offset-fetch(lease)"), std::string::npos)
      << r.anomalies[0].report;
}

TEST(OffsetModel, ReadsFlippingBetweenValuesAreNot) {
  HistoryBuilder h;
  h.commit(1, "g", Outcome::kOk, 10, 0, 100);
  h.commit(2, "g", Outcome::kOk, 20, 0, 100);
  h.fetch(3, "g", 10, 10, 11);
  h.fetch(3, "g", 20, 12, 13);
  h.fetch(3, "g", 10, 14, 15);
  EXPECT_EQ(verdict_of(h), Verdict::kNotLinearizable);
}

TEST(OffsetModel, UnknownCommitStaysOpenToTheEnd) {
  HistoryBuilder h;
  h.commit(1, "g", Outcome::kOk, 10, 0, 1);
  h.commit(1, "g", Outcome::kUnknown, 30, 2, 0);
  h.fetch(2, "g", 10, 50, 51);
  h.fetch(2, "g", 30, 60, 61);
  EXPECT_EQ(verdict_of(h), Verdict::kLinearizable);
}

TEST(OffsetModel, OnlyOnePartitionOfKeysIsBlamed) {
  HistoryBuilder h;
  h.commit(1, "a", Outcome::kOk, 1, 0, 1);
  h.fetch(1, "a", 1, 2, 3);
  h.commit(1, "b", Outcome::kOk, 2, 0, 1);
  h.fetch(1, "b", 3, 2, 3);
  const auto r = check_linearizability(h.ops());
  ASSERT_EQ(r.anomalies.size(), 1u);
  EXPECT_EQ(r.anomalies[0].key, "b");
  EXPECT_EQ(r.keys, 2u);
}

// --- producer ids ------------------------------------------------------------

TEST(ProducerModel, GrowingDisjointBlocksAreLinearizable) {
  HistoryBuilder h;
  h.alloc(1, Outcome::kOk, 0, 0, 1);
  h.alloc(2, Outcome::kOk, 2000, 2, 10);  // a block skipped by an unknown allocation
  h.alloc(1, Outcome::kUnknown, 0, 3, 0);
  h.alloc(1, Outcome::kOk, 3000, 11, 12);
  EXPECT_EQ(verdict_of(h), Verdict::kLinearizable);
}

// The shape "apply an entry twice after a restart" produces: two allocations
// hand out the same block.
TEST(ProducerModel, OverlappingBlocksAreNot) {
  HistoryBuilder h;
  h.alloc(1, Outcome::kOk, 1000, 0, 10);
  h.alloc(2, Outcome::kOk, 1500, 1, 9);
  EXPECT_EQ(verdict_of(h), Verdict::kNotLinearizable);
}

TEST(ProducerModel, BlockGoingBackwardsInRealTimeIsNot) {
  HistoryBuilder h;
  h.alloc(1, Outcome::kOk, 5000, 0, 1);
  h.alloc(2, Outcome::kOk, 1000, 2, 3);
  EXPECT_EQ(verdict_of(h), Verdict::kNotLinearizable);
}

// --- brokers -----------------------------------------------------------------

TEST(BrokerModel, RegistrationsHeartbeatsAndReadsInOrderAreLinearizable) {
  HistoryBuilder h;
  h.broker_get(1, "b", Outcome::kRejected, 0, 0, 1);  // NOT_FOUND: never registered
  h.heartbeat(1, "b", Outcome::kRejected, 3, 2, 3).output = kHeartbeatNotRegistered;
  h.reg(1, "b", Outcome::kOk, 5, 4, 5);
  h.heartbeat(1, "b", Outcome::kOk, 5, 6, 7);
  h.broker_get(2, "b", Outcome::kOk, 5, 8, 9).level = ReadLevel::kLease;
  h.reg(2, "b", Outcome::kOk, 9, 10, 11);              // a new incarnation: a new epoch
  h.heartbeat(1, "b", Outcome::kRejected, 5, 12, 13);  // stale epoch
  h.heartbeat(2, "b", Outcome::kOk, 9, 14, 15);
  h.broker_get(1, "b", Outcome::kOk, 9, 16, 17, OpKind::kBrokerList);
  const auto r = check_linearizability(h.ops());
  EXPECT_EQ(r.verdict, Verdict::kLinearizable) << r.summary();
  EXPECT_EQ(r.checked_operations, 9u);
}

TEST(BrokerModel, ConcurrentRegistrationsAreOrderedByEpoch) {
  HistoryBuilder h;
  h.reg(1, "b", Outcome::kOk, 5, 0, 10);
  h.reg(2, "b", Outcome::kOk, 9, 1, 9);
  h.heartbeat(1, "b", Outcome::kOk, 5, 2, 3);  // between the two: fine
  h.broker_get(3, "b", Outcome::kOk, 9, 11, 12);
  EXPECT_EQ(verdict_of(h), Verdict::kLinearizable);
}

// The anomaly this model exists for: a heartbeat accepted with an epoch that
// a newer, completed registration had already replaced.
TEST(BrokerModel, HeartbeatAcceptedWithStaleEpochAfterNewerRegistrationIsNot) {
  HistoryBuilder h;
  h.reg(1, "b", Outcome::kOk, 5, 0, 1);
  h.reg(2, "b", Outcome::kOk, 9, 2, 3);
  h.heartbeat(1, "b", Outcome::kOk, 5, 4, 5);
  const auto r = check_linearizability(h.ops());
  ASSERT_EQ(r.verdict, Verdict::kNotLinearizable) << r.summary();
  ASSERT_EQ(r.anomalies.size(), 1u);
  EXPECT_EQ(r.anomalies[0].key, "b");
  EXPECT_NE(
      r.anomalies[0].report.find("cannot place: #3 client 1 broker-heartbeat b epoch=5 -> ok"),
      std::string::npos)
      << r.anomalies[0].report;
}

TEST(BrokerModel, EpochGoingBackwardsIsNot) {
  HistoryBuilder h;
  h.reg(1, "b", Outcome::kOk, 9, 0, 1);
  h.reg(2, "b", Outcome::kOk, 5, 2, 3);
  EXPECT_EQ(verdict_of(h), Verdict::kNotLinearizable);
}

TEST(BrokerModel, ReadOfTheOlderOfTwoCompletedRegistrationsIsNot) {
  HistoryBuilder h;
  h.reg(1, "b", Outcome::kOk, 5, 0, 10);
  h.reg(2, "b", Outcome::kOk, 9, 1, 9);
  h.broker_get(3, "b", Outcome::kOk, 5, 11, 12).level = ReadLevel::kLease;
  EXPECT_EQ(verdict_of(h), Verdict::kNotLinearizable);
}

TEST(BrokerModel, HeartbeatRefusedForTheCurrentEpochIsNot) {
  HistoryBuilder h;
  h.reg(1, "b", Outcome::kOk, 5, 0, 1);
  h.heartbeat(1, "b", Outcome::kRejected, 5, 2, 3);
  EXPECT_EQ(verdict_of(h), Verdict::kNotLinearizable);
  // Left out with the other write rejections when those are not judged.
  CheckOptions lenient;
  lenient.judge_write_rejections = false;
  const auto r = check_linearizability(h.ops(), lenient);
  EXPECT_EQ(r.verdict, Verdict::kLinearizable);
  EXPECT_EQ(r.skipped_write_rejections, 1u);
}

TEST(BrokerModel, NotRegisteredAfterACompletedRegistrationIsNot) {
  HistoryBuilder h;
  h.reg(1, "b", Outcome::kOk, 5, 0, 1);
  h.broker_get(2, "b", Outcome::kRejected, 0, 2, 3);
  EXPECT_EQ(verdict_of(h), Verdict::kNotLinearizable);
}

TEST(BrokerModel, UnknownRegistrationIsRevealedByALaterEpoch) {
  HistoryBuilder h;
  h.reg(1, "b", Outcome::kOk, 5, 0, 1);
  h.reg(2, "b", Outcome::kUnknown, 0, 2, 0);
  h.broker_get(3, "b", Outcome::kOk, 5, 3, 4);  // before it took effect
  h.broker_get(3, "b", Outcome::kOk, 8, 5, 6);  // after: its epoch, seen
  h.heartbeat(1, "b", Outcome::kOk, 8, 7, 8);
  h.heartbeat(1, "b", Outcome::kRejected, 5, 9, 10);
  EXPECT_EQ(verdict_of(h), Verdict::kLinearizable);
}

TEST(BrokerModel, UnknownRegistrationCannotRevealAnOlderEpoch) {
  HistoryBuilder h;
  h.reg(1, "b", Outcome::kOk, 5, 0, 1);
  h.reg(2, "b", Outcome::kUnknown, 0, 2, 0);
  h.broker_get(3, "b", Outcome::kOk, 4, 5, 6);
  EXPECT_EQ(verdict_of(h), Verdict::kNotLinearizable);
}

TEST(StaleReads, BrokerReadOlderThanItsRevisionIsAnAnomaly) {
  HistoryBuilder h;
  h.reg(1, "b", Outcome::kOk, 5, 0, 1).revision = 5;
  h.heartbeat(1, "b", Outcome::kOk, 5, 2, 3).revision = 7;
  h.reg(2, "b", Outcome::kOk, 9, 4, 5).revision = 9;
  Operation& ok = h.broker_get(3, "b", Outcome::kOk, 5, 6, 7);
  ok.level = ReadLevel::kStale;
  ok.revision = 8;  // before the second registration: epoch 5 is right
  Operation& stale = h.broker_get(4, "b", Outcome::kOk, 5, 8, 9);
  stale.level = ReadLevel::kStale;
  stale.revision = 9;  // claims to include the second registration
  const auto result = check_stale_reads(h.ops());
  EXPECT_EQ(result.judged, 2u);
  ASSERT_EQ(result.anomalies.size(), 1u);
  EXPECT_NE(result.anomalies[0].find("client 4 broker-get(stale)"), std::string::npos)
      << result.anomalies[0];
}

// --- the search ----------------------------------------------------------------

TEST(Checker, BudgetExhaustedIsNotAPass) {
  HistoryBuilder h;
  for (int i = 0; i < 40; ++i) h.commit(i, "g", Outcome::kOk, i, 0, 100);
  h.fetch(99, "g", 12345, 101, 102);  // impossible: forces a full search
  CheckOptions options;
  options.step_budget = 1000;
  const auto r = check_linearizability(h.ops(), options);
  EXPECT_EQ(r.verdict, Verdict::kBudgetExhausted);
  EXPECT_FALSE(r.anomalies.empty());
}

TEST(Checker, ManyConcurrentWritesAreDecidedWithMemoization) {
  HistoryBuilder h;
  for (int i = 0; i < 200; ++i) h.commit(i % 8, "g", Outcome::kOk, i, i, i + 20);
  h.fetch(9, "g", 199, 300, 301);
  const auto r = check_linearizability(h.ops());
  EXPECT_EQ(r.verdict, Verdict::kLinearizable) << r.summary();
}

TEST(Checker, StaleReadsAreSkipped) {
  HistoryBuilder h;
  h.commit(1, "g", Outcome::kOk, 10, 0, 1);
  h.fetch(2, "g", -1, 4, 5).level = ReadLevel::kStale;
  const auto r = check_linearizability(h.ops());
  EXPECT_EQ(r.verdict, Verdict::kLinearizable);
  EXPECT_EQ(r.skipped_stale_reads, 1u);
}

// --- stale reads ----------------------------------------------------------------

TEST(StaleReads, ReadMatchingItsRevisionIsAccepted) {
  HistoryBuilder h;
  h.commit(1, "g", Outcome::kOk, 10, 0, 1).revision = 5;
  h.commit(1, "g", Outcome::kOk, 20, 2, 3).revision = 9;
  Operation& r = h.fetch(2, "g", 10, 4, 5);
  r.level = ReadLevel::kStale;
  r.revision = 7;
  const auto result = check_stale_reads(h.ops());
  EXPECT_TRUE(result.ok());
  EXPECT_EQ(result.judged, 1u);
}

TEST(StaleReads, ReadOlderThanItsRevisionIsAnAnomaly) {
  HistoryBuilder h;
  h.commit(1, "g", Outcome::kOk, 10, 0, 1).revision = 5;
  h.commit(1, "g", Outcome::kOk, 20, 2, 3).revision = 9;
  Operation& r = h.fetch(2, "g", 10, 4, 5);
  r.level = ReadLevel::kStale;
  r.revision = 9;
  const auto result = check_stale_reads(h.ops());
  ASSERT_EQ(result.anomalies.size(), 1u);
  EXPECT_NE(result.anomalies[0].find("does not match its revision"), std::string::npos);
}

TEST(StaleReads, GoingBackInTimeOnOneMemberIsAnAnomaly) {
  HistoryBuilder h;
  Operation& a = h.fetch(2, "g", -1, 4, 5);
  a.level = ReadLevel::kStale;
  a.revision = 9;
  a.member = 1;
  Operation& b = h.fetch(2, "g", -1, 6, 7);
  b.level = ReadLevel::kStale;
  b.revision = 8;
  b.member = 1;
  Operation& c = h.fetch(2, "g", -1, 8, 9);  // another process generation: not compared
  c.level = ReadLevel::kStale;
  c.revision = 3;
  c.member = 1;
  c.member_generation = 1;
  const auto result = check_stale_reads(h.ops());
  ASSERT_EQ(result.anomalies.size(), 1u);
  EXPECT_NE(result.anomalies[0].find("back in time"), std::string::npos);
}

TEST(StaleReads, UnknownWriteMakesReadsOfItsKeyNotJudgeable) {
  HistoryBuilder h;
  h.commit(1, "g", Outcome::kUnknown, 10, 0, 0);
  Operation& r = h.fetch(2, "g", 10, 4, 5);
  r.level = ReadLevel::kStale;
  r.revision = 7;
  const auto result = check_stale_reads(h.ops());
  EXPECT_TRUE(result.ok());
  EXPECT_EQ(result.not_judgeable, 1u);
}

}  // namespace
}  // namespace raftmeta::chaos

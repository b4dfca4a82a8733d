// Majority arithmetic, vote tallies, per-peer progress and inflights.
#include <gtest/gtest.h>

#include "sidecar/raft/progress.h"
#include "sidecar/raft/quorum.h"

namespace raftmeta::raft {
namespace {

TEST(Quorum, MajorityValueIsHeldByAMajority) {
  std::map<NodeId, Index> match{{1, 10}, {2, 7}, {3, 3}, {4, 9}, {5, 1}};
  auto acked = [&](NodeId id) { return match[id]; };
  EXPECT_EQ(majority_value({1, 2, 3, 4, 5}, acked), 7u);
  EXPECT_EQ(majority_value({1, 2, 3}, acked), 7u);
  EXPECT_EQ(majority_value({1, 3}, acked), 3u);
  EXPECT_EQ(majority_value({1}, acked), 10u);
  EXPECT_EQ(majority_value({}, acked), 0u);
}

TEST(Quorum, VoteTally) {
  EXPECT_EQ(tally_votes({1, 2, 3}, {{1, true}}), VoteResult::kPending);
  EXPECT_EQ(tally_votes({1, 2, 3}, {{1, true}, {2, true}}), VoteResult::kWon);
  EXPECT_EQ(tally_votes({1, 2, 3}, {{1, true}, {2, false}, {3, false}}), VoteResult::kLost);
  EXPECT_EQ(tally_votes({1, 2, 3, 4}, {{1, true}, {2, false}, {3, false}}), VoteResult::kLost);
  EXPECT_EQ(tally_votes({1}, {{1, true}}), VoteResult::kWon);
  // Answers from non-voters are not counted.
  EXPECT_EQ(tally_votes({1, 2, 3}, {{1, true}, {9, true}}), VoteResult::kPending);
}

TEST(Inflights, FullByCountOrBytes) {
  Inflights by_count(2, 0);
  by_count.add(5, 1);
  EXPECT_FALSE(by_count.full());
  by_count.add(6, 1);
  EXPECT_TRUE(by_count.full());
  by_count.free_le(5);
  EXPECT_FALSE(by_count.full());
  EXPECT_EQ(by_count.count(), 1u);

  Inflights by_bytes(100, 1000);
  by_bytes.add(1, 600);
  EXPECT_FALSE(by_bytes.full());
  by_bytes.add(2, 600);
  EXPECT_TRUE(by_bytes.full());
  by_bytes.free_first_one();
  EXPECT_FALSE(by_bytes.full());
  EXPECT_EQ(by_bytes.bytes(), 600u);
}

TEST(Progress, ProbeSendsOneAtATimeAndBacktracksWithHint) {
  Progress pr(11, 8, 0, true);
  EXPECT_FALSE(pr.is_paused());
  pr.sent_entries(10, 0, false);
  EXPECT_TRUE(pr.is_paused());
  EXPECT_FALSE(pr.maybe_decrease_to(7, 3));  // not the append we sent: stale
  EXPECT_TRUE(pr.maybe_decrease_to(10, 4));
  EXPECT_EQ(pr.next, 5u);
  EXPECT_FALSE(pr.is_paused());
  EXPECT_TRUE(pr.maybe_update(4));
  pr.become_replicate();
  EXPECT_EQ(pr.next, 5u);
  EXPECT_FALSE(pr.maybe_update(3));  // stale ack
}

TEST(Progress, SnapshotStateResumesAfterSnapshot) {
  Progress pr(3, 8, 0, true);
  pr.become_snapshot(20);
  EXPECT_TRUE(pr.is_paused());
  pr.become_probe();
  EXPECT_EQ(pr.next, 21u);
}

}  // namespace
}  // namespace raftmeta::raft

// RaftLog: unstable part over storage, conflicts, commit and hand-out rules.
#include "sidecar/raft/raft_log.h"

#include <gtest/gtest.h>

namespace raftmeta::raft {
namespace {

std::vector<Entry> ents(Index from, Index to, Term term) {
  std::vector<Entry> out;
  for (Index i = from; i <= to; ++i) out.push_back(Entry{term, i, EntryType::kNormal, "x"});
  return out;
}

TEST(RaftLog, MaybeAppendTruncatesConflictingUncommittedSuffix) {
  MemoryStorage s;
  s.append(ents(1, 5, 1));
  RaftLog log(&s);
  log.commit_to(2);
  auto last = log.maybe_append(3, 1, 10, ents(4, 6, 2));
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(*last, 6u);
  EXPECT_EQ(log.term_or_zero(4), 2u);
  EXPECT_EQ(log.term_or_zero(3), 1u);
  EXPECT_EQ(log.committed(), 6u);  // min(leader commit, last new)
  // The unstable part replaces storage from index 4 on.
  EXPECT_EQ(log.unstable().offset(), 4u);
  EXPECT_EQ(log.last_durable_index(), 3u);
}

TEST(RaftLog, MaybeAppendNeverRewritesCommittedEntries) {
  MemoryStorage s;
  s.append(ents(1, 5, 1));
  RaftLog log(&s);
  log.commit_to(4);
  EXPECT_FALSE(log.maybe_append(2, 1, 10, ents(3, 4, 2)).has_value());
  EXPECT_EQ(log.term_or_zero(3), 1u);
  EXPECT_EQ(log.committed(), 4u);
}

TEST(RaftLog, MaybeAppendRejectsMismatchAndIndexBeyondLog) {
  MemoryStorage s;
  s.append(ents(1, 3, 1));
  RaftLog log(&s);
  EXPECT_FALSE(log.maybe_append(3, 2, 0, ents(4, 4, 2)).has_value());
  EXPECT_FALSE(log.maybe_append(9, 1, 0, ents(10, 10, 1)).has_value());
  EXPECT_EQ(log.last_index(), 3u);
}

TEST(RaftLog, FindConflictByTermSkipsWholeTerms) {
  MemoryStorage s;
  s.append(ents(1, 3, 1));
  s.append(ents(4, 8, 3));
  RaftLog log(&s);
  EXPECT_EQ(log.find_conflict_by_term(8, 2), 3u);
  EXPECT_EQ(log.find_conflict_by_term(8, 3), 8u);
  EXPECT_EQ(log.find_conflict_by_term(20, 5), 8u);
  EXPECT_EQ(log.find_conflict_by_term(8, 0), 0u);
}

TEST(RaftLog, SliceSpansStorageAndUnstable) {
  MemoryStorage s;
  s.append(ents(1, 3, 1));
  RaftLog log(&s);
  log.append(ents(4, 6, 2));
  std::vector<Entry> out;
  ASSERT_EQ(log.slice(2, 7, 1000, &out), StorageError::kNone);
  ASSERT_EQ(out.size(), 5u);
  EXPECT_EQ(out.front().index, 2u);
  EXPECT_EQ(out.back().index, 6u);
  out.clear();
  ASSERT_EQ(log.slice(2, 7, 2, &out), StorageError::kNone);
  EXPECT_EQ(out.size(), 2u);  // byte limit (1 byte each)
}

TEST(RaftLog, CommittedEntriesAreHandedOutOnlyWhenDurable) {
  MemoryStorage s;
  s.append(ents(1, 2, 1));
  RaftLog log(&s);
  log.append(ents(3, 5, 1));
  log.commit_to(5);
  auto committed = log.next_committed(1 << 20);
  ASSERT_EQ(committed.size(), 2u);  // 3..5 are not durable yet
  EXPECT_EQ(committed.back().index, 2u);
  log.accept_applying(2);
  log.unstable().accept_in_progress(5, false);
  s.append(ents(3, 5, 1));
  log.unstable().stable_to(5, 1);
  committed = log.next_committed(1 << 20);
  ASSERT_EQ(committed.size(), 3u);
  EXPECT_EQ(committed.front().index, 3u);
}

TEST(RaftLog, CommitNeverMovesBackwards) {
  MemoryStorage s;
  s.append(ents(1, 5, 1));
  RaftLog log(&s);
  log.commit_to(4);
  log.commit_to(2);
  EXPECT_EQ(log.committed(), 4u);
  log.commit_to(99);  // clamped to the log
  EXPECT_EQ(log.committed(), 5u);
}

TEST(RaftLog, StaleStableReportAfterTruncationIsIgnored) {
  MemoryStorage s;
  RaftLog log(&s);
  log.append(ents(1, 4, 1));
  log.unstable().accept_in_progress(4, false);
  log.maybe_append(2, 1, 0, ents(3, 3, 2));  // replaces 3.. with term 2
  log.unstable().stable_to(4, 1);            // the old entries' report
  EXPECT_EQ(log.unstable().offset(), 1u);
  EXPECT_EQ(log.last_index(), 3u);
}

}  // namespace
}  // namespace raftmeta::raft

// MemoryStorage: the truncation rule, snapshots and compaction.
#include <gtest/gtest.h>

#include "sidecar/raft/log_storage.h"

namespace raftmeta::raft {
namespace {

std::vector<Entry> ents(Index from, Index to, Term term, std::string data = "") {
  std::vector<Entry> out;
  for (Index i = from; i <= to; ++i) out.push_back(Entry{term, i, EntryType::kNormal, data});
  return out;
}

Term term_at(const MemoryStorage& s, Index i) {
  Term t = 0;
  EXPECT_EQ(s.term(i, &t), StorageError::kNone) << "index " << i;
  return t;
}

TEST(MemoryStorage, AppendAtIndexDiscardsThatIndexAndAbove) {
  MemoryStorage s;
  s.append(ents(1, 5, 1));
  s.append(ents(3, 4, 2));  // the truncation rule: 3.. replaced, old 5 gone
  EXPECT_EQ(s.last_index(), 4u);
  EXPECT_EQ(term_at(s, 2), 1u);
  EXPECT_EQ(term_at(s, 3), 2u);
  EXPECT_EQ(term_at(s, 4), 2u);
  Term t = 0;
  EXPECT_EQ(s.term(5, &t), StorageError::kUnavailable);
}

TEST(MemoryStorage, AppendWithGapIsRefusedAndBelowSnapshotIsSkipped) {
  MemoryStorage s;
  s.append(ents(1, 3, 1));
  s.append(ents(6, 7, 1));  // gap
  EXPECT_EQ(s.last_index(), 3u);
  ASSERT_TRUE(s.create_snapshot(2, ConfState{{1}, {}, {}}, "state"));
  s.compact(2);
  s.append(ents(1, 4, 1));  // 1..2 are below the snapshot
  EXPECT_EQ(s.first_index(), 3u);
  EXPECT_EQ(s.last_index(), 4u);
}

TEST(MemoryStorage, EntriesHonourRangeAndByteLimit) {
  MemoryStorage s;
  s.append(ents(1, 5, 1, "0123456789"));
  std::vector<Entry> out;
  ASSERT_EQ(s.entries(2, 6, 25, &out), StorageError::kNone);
  EXPECT_EQ(out.size(), 2u);  // 10 + 10 <= 25 < 30
  out.clear();
  ASSERT_EQ(s.entries(2, 6, 1, &out), StorageError::kNone);
  EXPECT_EQ(out.size(), 1u);  // always at least one
  out.clear();
  EXPECT_EQ(s.entries(2, 7, 100, &out), StorageError::kUnavailable);
}

TEST(MemoryStorage, CompactionMakesOldIndexesCompacted) {
  MemoryStorage s;
  s.append(ents(1, 5, 1));
  ASSERT_TRUE(s.create_snapshot(3, ConfState{{1, 2}, {}, {}}, "d"));
  s.compact(3);
  EXPECT_EQ(s.first_index(), 4u);
  EXPECT_EQ(s.last_index(), 5u);
  EXPECT_EQ(term_at(s, 3), 1u);  // the snapshot's own index keeps its term
  Term t = 0;
  EXPECT_EQ(s.term(2, &t), StorageError::kCompacted);
  std::vector<Entry> out;
  EXPECT_EQ(s.entries(3, 5, 100, &out), StorageError::kCompacted);
  EXPECT_EQ(s.conf_state().voters, (std::vector<NodeId>{1, 2}));
  EXPECT_FALSE(s.create_snapshot(2, {}, "old"));  // at or below the first available - 1
}

TEST(MemoryStorage, ApplySnapshotReplacesLogAndRefusesOlder) {
  MemoryStorage s;
  s.append(ents(1, 5, 1));
  Snapshot snap;
  snap.meta = SnapshotMeta{10, 3, ConfState{{1, 2, 3}, {}, {}}};
  ASSERT_TRUE(s.apply_snapshot(snap));
  EXPECT_EQ(s.first_index(), 11u);
  EXPECT_EQ(s.last_index(), 10u);
  EXPECT_EQ(term_at(s, 10), 3u);
  Snapshot older;
  older.meta = SnapshotMeta{8, 3, {}};
  EXPECT_FALSE(s.apply_snapshot(older));
  EXPECT_EQ(s.snapshot().meta.index, 10u);
}

}  // namespace
}  // namespace raftmeta::raft

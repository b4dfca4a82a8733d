#include "sidecar/storage/log_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "sidecar/storage/snapshot_writer.h"
#include "sidecar/storage/tests/test_util.h"

namespace raftmeta::storage {
namespace {

using testing::make_entries;
using testing::make_entry;
using testing::options_for;
using testing::TempDir;

class LogStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<LogStore> open(OpenOptions o) {
    Status s;
    auto store = LogStore::open(o, &s);
    EXPECT_TRUE(s.is_ok()) << s.to_string();
    return store;
  }
  std::unique_ptr<LogStore> open() { return open(options_for(dir_.path())); }

  static std::vector<raft::Entry> read(const LogStore& store, raft::Index lo, raft::Index hi) {
    std::vector<raft::Entry> out;
    Status s = store.entries(lo, hi, UINT64_MAX, &out);
    EXPECT_TRUE(s.is_ok()) << s.to_string();
    return out;
  }

  static Status save_entries(LogStore& store, std::vector<raft::Entry> entries,
                             std::optional<raft::HardState> hs = std::nullopt) {
    WriteBatch b;
    b.entries = std::move(entries);
    if (!hs) hs = raft::HardState{b.entries.back().term, 1, store.hard_state().commit};
    b.hard_state = hs;
    return store.save(b);
  }

  TempDir dir_;
};

TEST_F(LogStoreTest, CreatesAnEmptyStore) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->first_index(), 1u);
  EXPECT_EQ(store->last_index(), 0u);
  EXPECT_EQ(store->hard_state(), raft::HardState{});
  EXPECT_EQ(store->snapshot_meta(), raft::SnapshotMeta{});
  raft::Term t = 99;
  ASSERT_TRUE(store->term(0, &t).is_ok());
  EXPECT_EQ(t, 0u);
  EXPECT_TRUE(std::filesystem::exists(dir_.path() + "/raft.db"));
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/raft.db.creating"));
}

TEST_F(LogStoreTest, RefusesToCreateWithoutPermission) {
  OpenOptions o = options_for(dir_.path());
  o.create_if_missing = false;
  Status s;
  EXPECT_EQ(LogStore::open(o, &s), nullptr);
  EXPECT_EQ(s.code(), Status::Code::kNotFound);
  EXPECT_NE(s.message().find("raft.db"), std::string::npos) << s.message();
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/raft.db"));
}

TEST_F(LogStoreTest, RefusesInvalidOptions) {
  OpenOptions o = options_for(dir_.path());
  o.member_id = 0;
  Status s;
  EXPECT_EQ(LogStore::open(o, &s), nullptr);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  o = options_for(dir_.path());
  o.cluster_id = "";
  EXPECT_EQ(LogStore::open(o, &s), nullptr);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
}

TEST_F(LogStoreTest, SecondOpenOfTheSameDirectoryIsBusy) {
  auto store = open();
  Status s;
  EXPECT_EQ(LogStore::open(options_for(dir_.path()), &s), nullptr);
  EXPECT_EQ(s.code(), Status::Code::kBusy) << s.to_string();
}

TEST_F(LogStoreTest, AppendsAndReadsBackAcrossReopen) {
  {
    auto store = open();
    ASSERT_TRUE(save_entries(*store, make_entries(1, 11, 1), raft::HardState{1, 1, 4}).is_ok());
    raft::Entry conf = make_entry(11, 2);
    conf.type = raft::EntryType::kConfChange;
    ASSERT_TRUE(save_entries(*store, {conf}, raft::HardState{2, 3, 10}).is_ok());
  }
  auto store = open();
  EXPECT_EQ(store->first_index(), 1u);
  EXPECT_EQ(store->last_index(), 11u);
  EXPECT_EQ(store->hard_state(), (raft::HardState{2, 3, 10}));
  auto all = read(*store, 1, 12);
  auto expected = make_entries(1, 11, 1);
  raft::Entry conf = make_entry(11, 2);
  conf.type = raft::EntryType::kConfChange;
  expected.push_back(conf);
  EXPECT_EQ(all, expected);
  raft::Term t = 0;
  ASSERT_TRUE(store->term(11, &t).is_ok());
  EXPECT_EQ(t, 2u);
  ASSERT_TRUE(store->term(3, &t).is_ok());
  EXPECT_EQ(t, 1u);
}

TEST_F(LogStoreTest, ReadsOutsideTheLogAreCompactedOrUnavailable) {
  auto store = open();
  ASSERT_TRUE(save_entries(*store, make_entries(1, 11, 1), raft::HardState{1, 1, 10}).is_ok());
  ASSERT_TRUE(store->save_local_snapshot({{5, 1, {{1}, {}, {}}}, ""}).is_ok());
  ASSERT_TRUE(store->compact(5).is_ok());
  raft::Term t = 0;
  ASSERT_TRUE(store->term(5, &t).is_ok());  // the snapshot's own index
  EXPECT_EQ(t, 1u);
  EXPECT_EQ(store->term(4, &t).code(), Status::Code::kCompacted);
  EXPECT_EQ(store->term(11, &t).code(), Status::Code::kUnavailable);
  std::vector<raft::Entry> out;
  EXPECT_EQ(store->entries(5, 7, UINT64_MAX, &out).code(), Status::Code::kCompacted);
  EXPECT_EQ(store->entries(6, 12, UINT64_MAX, &out).code(), Status::Code::kUnavailable);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(read(*store, 6, 11), make_entries(6, 11, 1));
}

TEST_F(LogStoreTest, TruncationRuleDiscardsTheConflictingSuffix) {
  auto store = open();
  ASSERT_TRUE(save_entries(*store, make_entries(1, 11, 1)).is_ok());
  // Appending at 6 discards 6..10 even though the new batch ends at 7.
  ASSERT_TRUE(save_entries(*store, make_entries(6, 8, 2)).is_ok());
  EXPECT_EQ(store->last_index(), 7u);
  auto all = read(*store, 1, 8);
  auto expected = make_entries(1, 6, 1);
  for (auto& e : make_entries(6, 8, 2)) expected.push_back(e);
  EXPECT_EQ(all, expected);
  std::vector<raft::Entry> out;
  EXPECT_EQ(store->entries(1, 9, UINT64_MAX, &out).code(), Status::Code::kUnavailable);
  // The truncation survives a reopen.
  store.reset();
  store = open();
  EXPECT_EQ(read(*store, 1, 8), expected);
}

TEST_F(LogStoreTest, TruncationAtTheFirstIndexReplacesEverything) {
  auto store = open();
  ASSERT_TRUE(save_entries(*store, make_entries(1, 5, 1)).is_ok());
  ASSERT_TRUE(save_entries(*store, make_entries(1, 3, 3)).is_ok());
  EXPECT_EQ(read(*store, 1, 3), make_entries(1, 3, 3));
  EXPECT_EQ(store->last_index(), 2u);
}

TEST_F(LogStoreTest, RefusesAGapAndWritesNothing) {
  auto store = open();
  ASSERT_TRUE(save_entries(*store, make_entries(1, 4, 1)).is_ok());
  Status s = save_entries(*store, make_entries(6, 8, 1));
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << s.to_string();
  EXPECT_EQ(store->last_index(), 3u);
  std::vector<raft::Entry> noncontiguous = {make_entry(4, 1), make_entry(6, 1)};
  EXPECT_EQ(save_entries(*store, noncontiguous).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(store->last_index(), 3u);
}

TEST_F(LogStoreTest, RefusesCommitBeyondTheLogAndTermBelowEntries) {
  auto store = open();
  ASSERT_TRUE(save_entries(*store, make_entries(1, 4, 2)).is_ok());
  EXPECT_EQ(save_entries(*store, make_entries(4, 5, 2), raft::HardState{2, 1, 9}).code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(save_entries(*store, make_entries(4, 5, 3), raft::HardState{2, 1, 1}).code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(store->last_index(), 3u);  // neither batch left anything behind
  EXPECT_EQ(read(*store, 1, 4), make_entries(1, 4, 2));
}

TEST_F(LogStoreTest, HardStateOnlyBatch) {
  auto store = open();
  WriteBatch b;
  b.hard_state = raft::HardState{5, 2, 0};
  ASSERT_TRUE(store->save(b).is_ok());
  store.reset();
  store = open();
  EXPECT_EQ(store->hard_state(), (raft::HardState{5, 2, 0}));
}

TEST_F(LogStoreTest, EntriesHonoursMaxBytesButReturnsAtLeastOne) {
  auto store = open();
  ASSERT_TRUE(save_entries(*store, make_entries(1, 11, 1, 100)).is_ok());
  std::vector<raft::Entry> out;
  ASSERT_TRUE(store->entries(1, 11, 0, &out).is_ok());
  EXPECT_EQ(out.size(), 1u);
  ASSERT_TRUE(store->entries(1, 11, 250, &out).is_ok());
  EXPECT_EQ(out.size(), 2u);
  ASSERT_TRUE(store->entries(1, 11, 300, &out).is_ok());
  EXPECT_EQ(out.size(), 3u);
  ASSERT_TRUE(store->entries(4, 4, 300, &out).is_ok());
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(store->entries(5, 4, 300, &out).code(), Status::Code::kInvalidArgument);
}

TEST_F(LogStoreTest, SaveCommitRaisesButNeverLowersOrExceeds) {
  auto store = open();
  ASSERT_TRUE(save_entries(*store, make_entries(1, 6, 1)).is_ok());
  ASSERT_TRUE(store->save_commit(3).is_ok());
  EXPECT_EQ(store->hard_state().commit, 3u);
  ASSERT_TRUE(store->save_commit(2).is_ok());
  EXPECT_EQ(store->hard_state().commit, 3u);
  EXPECT_EQ(store->save_commit(6).code(), Status::Code::kInvalidArgument);
  // A synced write after it keeps working and carries it along.
  ASSERT_TRUE(save_entries(*store, make_entries(6, 7, 1), raft::HardState{1, 1, 5}).is_ok());
  store.reset();
  store = open();
  EXPECT_EQ(store->hard_state(), (raft::HardState{1, 1, 5}));
}

TEST_F(LogStoreTest, ReceivedSnapshotMatchingTheLogKeepsTheSuffix) {
  auto store = open();
  ASSERT_TRUE(save_entries(*store, make_entries(1, 11, 1), raft::HardState{1, 1, 3}).is_ok());
  WriteBatch b;
  b.snapshot = raft::Snapshot{{6, 1, {{1, 2, 3}, {4}, {9}}}, std::string(5000, 's')};
  ASSERT_TRUE(store->save(b).is_ok());
  EXPECT_EQ(store->first_index(), 7u);
  EXPECT_EQ(store->last_index(), 10u);
  EXPECT_EQ(store->hard_state().commit, 6u);  // raised to the snapshot
  EXPECT_EQ(read(*store, 7, 11), make_entries(7, 11, 1));
  raft::Term t = 0;
  ASSERT_TRUE(store->term(6, &t).is_ok());
  EXPECT_EQ(t, 1u);
  std::vector<raft::Entry> out;
  EXPECT_EQ(store->entries(6, 8, UINT64_MAX, &out).code(), Status::Code::kCompacted);
  store.reset();
  store = open();
  EXPECT_EQ(store->snapshot_meta(), b.snapshot->meta);
  EXPECT_EQ(store->conf_state(), b.snapshot->meta.conf);
  raft::Snapshot snap;
  ASSERT_TRUE(store->read_snapshot(&snap).is_ok());
  EXPECT_EQ(snap, *b.snapshot);
}

TEST_F(LogStoreTest, ReceivedSnapshotConflictingWithTheLogDiscardsItAll) {
  auto store = open();
  ASSERT_TRUE(save_entries(*store, make_entries(1, 11, 1)).is_ok());
  WriteBatch b;
  b.snapshot = raft::Snapshot{{8, 3, {{1}, {}, {}}}, "data"};
  b.entries = make_entries(9, 12, 3);
  b.hard_state = raft::HardState{3, 0, 9};
  ASSERT_TRUE(store->save(b).is_ok());
  EXPECT_EQ(store->first_index(), 9u);
  EXPECT_EQ(store->last_index(), 11u);
  EXPECT_EQ(read(*store, 9, 12), make_entries(9, 12, 3));
  raft::Term t = 0;
  ASSERT_TRUE(store->term(8, &t).is_ok());
  EXPECT_EQ(t, 3u);
  // Entries at or below the snapshot in a later batch are ignored.
  ASSERT_TRUE(save_entries(*store, make_entries(7, 13, 3)).is_ok());
  EXPECT_EQ(store->first_index(), 9u);
  EXPECT_EQ(store->last_index(), 12u);
}

TEST_F(LogStoreTest, ReceivedSnapshotBeyondTheLogLeavesItEmpty) {
  auto store = open();
  ASSERT_TRUE(save_entries(*store, make_entries(1, 4, 1)).is_ok());
  WriteBatch b;
  b.snapshot = raft::Snapshot{{20, 2, {{1}, {}, {}}}, ""};
  b.hard_state = raft::HardState{2, 0, 20};
  ASSERT_TRUE(store->save(b).is_ok());
  EXPECT_EQ(store->first_index(), 21u);
  EXPECT_EQ(store->last_index(), 20u);
  WriteBatch older;
  older.snapshot = raft::Snapshot{{15, 2, {{1}, {}, {}}}, ""};
  EXPECT_EQ(store->save(older).code(), Status::Code::kInvalidArgument);
  store.reset();
  store = open();
  EXPECT_EQ(store->last_index(), 20u);
  ASSERT_TRUE(save_entries(*store, make_entries(21, 23, 2)).is_ok());
  EXPECT_EQ(read(*store, 21, 23), make_entries(21, 23, 2));
}

TEST_F(LogStoreTest, LocalSnapshotKeepsEntriesUntilCompact) {
  OpenOptions o = options_for(dir_.path());
  o.keep_tail_entries = 3;
  auto store = open(o);
  ASSERT_TRUE(save_entries(*store, make_entries(1, 21, 1), raft::HardState{1, 1, 15}).is_ok());
  // Not committed yet: refused.
  EXPECT_EQ(store->save_local_snapshot({{16, 1, {{1}, {}, {}}}, "x"}).code(),
            Status::Code::kInvalidArgument);
  // Wrong term: refused.
  EXPECT_EQ(store->save_local_snapshot({{10, 2, {{1}, {}, {}}}, "x"}).code(),
            Status::Code::kInvalidArgument);
  ASSERT_TRUE(store->save_local_snapshot({{10, 1, {{1}, {}, {}}}, "state"}).is_ok());
  EXPECT_EQ(store->first_index(), 1u);
  // compact() never goes above the snapshot and keeps a tail of 3.
  ASSERT_TRUE(store->compact(15).is_ok());
  EXPECT_EQ(store->first_index(), 8u);
  EXPECT_EQ(read(*store, 8, 21), make_entries(8, 21, 1));
  std::vector<raft::Entry> out;
  EXPECT_EQ(store->entries(7, 9, UINT64_MAX, &out).code(), Status::Code::kCompacted);
  ASSERT_TRUE(store->compact(9).is_ok());  // 9 - 3 = 6 < first: nothing
  EXPECT_EQ(store->first_index(), 8u);
  store.reset();
  store = open(o);
  EXPECT_EQ(store->first_index(), 8u);
  EXPECT_EQ(store->snapshot_meta().index, 10u);
  raft::Snapshot snap;
  ASSERT_TRUE(store->read_snapshot(&snap).is_ok());
  EXPECT_EQ(snap.data, "state");
}

TEST_F(LogStoreTest, CompactWithoutTailDropsUpToTheSnapshot) {
  auto store = open();
  ASSERT_TRUE(save_entries(*store, make_entries(1, 11, 1), raft::HardState{1, 1, 10}).is_ok());
  ASSERT_TRUE(store->compact(5).is_ok());  // no snapshot yet: nothing
  EXPECT_EQ(store->first_index(), 1u);
  ASSERT_TRUE(store->save_local_snapshot({{10, 1, {{1}, {}, {}}}, ""}).is_ok());
  ASSERT_TRUE(store->compact(10).is_ok());
  EXPECT_EQ(store->first_index(), 11u);
  EXPECT_EQ(store->last_index(), 10u);
  store.reset();
  store = open();
  EXPECT_EQ(store->first_index(), 11u);
  EXPECT_EQ(store->last_index(), 10u);
}

TEST_F(LogStoreTest, SnapshotChunksReadAtAnyOffset) {
  auto store = open();
  std::string data(3 * 1024 * 1024 + 123, '\0');
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 131 % 251);
  WriteBatch b;
  b.snapshot = raft::Snapshot{{5, 1, {{1}, {}, {}}}, data};
  ASSERT_TRUE(store->save(b).is_ok());
  EXPECT_EQ(store->snapshot_size(), data.size());
  for (std::uint64_t chunk : {65536u, 700000u, 1u << 20, 5u << 20}) {
    std::string assembled;
    std::string piece;
    for (std::uint64_t off = 0;; off += piece.size()) {
      ASSERT_TRUE(store->read_snapshot_chunk(off, chunk, &piece).is_ok());
      if (piece.empty()) break;
      assembled += piece;
    }
    EXPECT_EQ(assembled, data) << chunk;
  }
  // Single bytes around the internal row boundaries and at the end.
  for (std::uint64_t off :
       {0ul, (256ul << 10) - 1, 256ul << 10, (2ul << 20) + 1, data.size() - 1}) {
    std::string piece;
    ASSERT_TRUE(store->read_snapshot_chunk(off, 1, &piece).is_ok());
    EXPECT_EQ(piece, data.substr(off, 1)) << off;
  }
  std::string past_end;
  ASSERT_TRUE(store->read_snapshot_chunk(data.size(), 10, &past_end).is_ok());
  EXPECT_TRUE(past_end.empty());
}

TEST_F(LogStoreTest, SnapshotWriterIsInvisibleUntilFinished) {
  auto store = open();
  ASSERT_TRUE(save_entries(*store, make_entries(1, 6, 1), raft::HardState{1, 1, 5}).is_ok());
  std::string data(2 * 1024 * 1024 + 7, 'q');
  std::unique_ptr<SnapshotWriter> w;
  ASSERT_TRUE(store->begin_snapshot(&w).is_ok());
  std::unique_ptr<SnapshotWriter> second;
  EXPECT_EQ(store->begin_snapshot(&second).code(), Status::Code::kBusy);
  for (std::size_t off = 0; off < data.size(); off += 300000) {
    ASSERT_TRUE(w->append(std::string_view(data).substr(off, 300000)).is_ok());
    EXPECT_EQ(store->snapshot_meta().index, 0u);  // nothing visible yet
    EXPECT_EQ(store->last_index(), 5u);
  }
  const raft::SnapshotMeta meta{30, 4, {{1, 2}, {}, {}}};
  EXPECT_EQ(w->finish(meta, data.size() + 1, crc32c(data)).code(), Status::Code::kCorruption);
  EXPECT_EQ(store->snapshot_meta().index, 0u);
  ASSERT_TRUE(w->finish(meta, data.size(), crc32c(data)).is_ok());
  w.reset();
  EXPECT_EQ(store->snapshot_meta(), meta);
  EXPECT_EQ(store->last_index(), 30u);  // conflicting log discarded
  EXPECT_EQ(store->hard_state().commit, 30u);
  raft::Snapshot snap;
  ASSERT_TRUE(store->read_snapshot(&snap).is_ok());
  EXPECT_EQ(snap.data, data);
  ASSERT_TRUE(store->integrity_check().is_ok());
}

TEST_F(LogStoreTest, AbandonedSnapshotWriterLeavesNothing) {
  auto store = open();
  {
    std::unique_ptr<SnapshotWriter> w;
    ASSERT_TRUE(store->begin_snapshot(&w).is_ok());
    ASSERT_TRUE(w->append("partial").is_ok());
  }
  EXPECT_EQ(store->snapshot_meta().index, 0u);
  std::unique_ptr<SnapshotWriter> w;
  EXPECT_TRUE(store->begin_snapshot(&w).is_ok());  // the slot is free again
  w.reset();
  ASSERT_TRUE(store->integrity_check().is_ok());
}

TEST_F(LogStoreTest, LoadAllReturnsEverythingForStartUp) {
  auto store = open();
  ASSERT_TRUE(save_entries(*store, make_entries(1, 11, 2), raft::HardState{2, 1, 9}).is_ok());
  ASSERT_TRUE(store->save_local_snapshot({{4, 2, {{1, 2}, {}, {}}}, "abc"}).is_ok());
  StartupState st;
  ASSERT_TRUE(store->load_all(&st).is_ok());
  EXPECT_EQ(st.hard_state, (raft::HardState{2, 1, 9}));
  EXPECT_EQ(st.snapshot.index, 4u);
  EXPECT_EQ(st.snapshot_size, 3u);
  EXPECT_EQ(st.entries, make_entries(1, 11, 2));
}

TEST_F(LogStoreTest, PublishesWriteStartAndEndAndCallsTheHook) {
  health::ProgressStamps stamps;
  int hook_calls = 0;
  std::int64_t started_seen_by_hook = 0;
  OpenOptions o = options_for(dir_.path());
  o.progress = &stamps;
  o.before_write = [&] {
    ++hook_calls;
    started_seen_by_hook = stamps.storage_write_started_ns.load();
  };
  auto store = open(o);
  ASSERT_TRUE(save_entries(*store, make_entries(1, 3, 1)).is_ok());
  EXPECT_EQ(hook_calls, 1);
  EXPECT_GT(started_seen_by_hook, 0);  // the write was in progress when the hook ran
  EXPECT_EQ(stamps.storage_write_started_ns.load(), 0);
  EXPECT_EQ(stamps.storage_writes.load(), 1u);
  ASSERT_TRUE(store->save_commit(2).is_ok());
  EXPECT_EQ(hook_calls, 2);
  EXPECT_EQ(stamps.storage_writes.load(), 2u);
}

TEST_F(LogStoreTest, ConcurrentReadersSeeConsistentPrefixes) {
  auto store = open();
  ASSERT_TRUE(save_entries(*store, make_entries(1, 2, 1)).is_ok());
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::thread reader([&] {
    while (!stop.load()) {
      const raft::Index last = store->last_index();
      std::vector<raft::Entry> out;
      Status s = store->entries(1, last + 1, UINT64_MAX, &out);
      if (!s.is_ok() || out.size() < last) failures.fetch_add(1);
    }
  });
  for (raft::Index i = 2; i < 60; ++i)
    ASSERT_TRUE(save_entries(*store, {make_entry(i, 1)}).is_ok());
  stop.store(true);
  reader.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST_F(LogStoreTest, IntegrityCheckPassesOnAHealthyStore) {
  auto store = open();
  ASSERT_TRUE(save_entries(*store, make_entries(1, 50, 1), raft::HardState{1, 1, 40}).is_ok());
  ASSERT_TRUE(store->save_local_snapshot({{30, 1, {{1}, {}, {}}}, "snap"}).is_ok());
  Status s = store->integrity_check();
  EXPECT_TRUE(s.is_ok()) << s.to_string();
  store.reset();
  s = LogStore::check(options_for(dir_.path()));
  EXPECT_TRUE(s.is_ok()) << s.to_string();
}

}  // namespace
}  // namespace raftmeta::storage

// StorageWriter: order, merging of queued Readies into one transaction (with
// the truncation rule), local snapshots, failures and shutdown. A gate in the
// store's before_write hook holds the first write so that the next tasks are
// queued together: what is merged is then deterministic.
#include "sidecar/node/storage_writer.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>

#include "sidecar/storage/tests/test_util.h"

namespace raftmeta::node {
namespace {

using storage::testing::make_entries;
using storage::testing::TempDir;

// Holds writers at before_write until opened; counts write transactions.
class WriteGate {
 public:
  void before_write() {
    std::unique_lock<std::mutex> lock(mu_);
    ++arrived_;
    cv_.notify_all();
    cv_.wait(lock, [&] { return open_; });
  }
  void open() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  void wait_arrived(int n) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return arrived_ >= n; });
  }
  int arrived() {
    std::lock_guard<std::mutex> lock(mu_);
    return arrived_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
  int arrived_ = 0;
};

class StorageWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::OpenOptions o = storage::testing::options_for(dir_.path());
    o.before_write = [this] { gate_.before_write(); };
    storage::Status status;
    auto store = storage::LogStore::open(o, &status);
    ASSERT_NE(store, nullptr) << status.to_string();
    store_ = store.get();
    writer_ = std::make_unique<StorageWriter>(std::move(store), nullptr, [this] {
      std::lock_guard<std::mutex> lock(mu_);
      ++notified_;
      cv_.notify_all();
    });
    writer_->start();
  }
  void TearDown() override {
    gate_.open();
    if (writer_) {
      EXPECT_TRUE(writer_->stop(Clock::now() + std::chrono::seconds(10)));
    }
  }

  // Waits until `n` completions have been taken in total; returns them all.
  std::vector<WriteCompletion> wait_completions(std::size_t n) {
    while (completed_.size() < n) {
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return notified_ > seen_; });
        seen_ = notified_;
      }
      writer_->take_completed(&completed_);
    }
    return completed_;
  }

  static WriteTask entries_task(raft::Index lo, raft::Index hi, raft::Term term,
                                raft::Index commit) {
    WriteTask task;
    task.entries = std::make_shared<const std::vector<raft::Entry>>(make_entries(lo, hi, term));
    task.hard_state = raft::HardState{term, 1, commit};
    task.must_sync = true;
    return task;
  }

  std::vector<raft::Entry> stored(raft::Index lo, raft::Index hi) {
    std::vector<raft::Entry> out;
    storage::Status s = store_->entries(lo, hi, UINT64_MAX, &out);
    EXPECT_TRUE(s.is_ok()) << s.to_string();
    return out;
  }

  TempDir dir_;
  WriteGate gate_;
  storage::LogStore* store_ = nullptr;  // owned by writer_; read after its writes
  std::unique_ptr<StorageWriter> writer_;
  std::mutex mu_;
  std::condition_variable cv_;
  int notified_ = 0;
  int seen_ = 0;
  std::vector<WriteCompletion> completed_;
};

TEST_F(StorageWriterTest, QueuedReadiesAreMergedIntoOneTransactionWithTheTruncationRule) {
  EXPECT_EQ(writer_->submit(entries_task(1, 11, 1, 0)), 1u);
  gate_.wait_arrived(1);  // the first write is in progress and held
  EXPECT_EQ(writer_->submit(entries_task(5, 13, 2, 3)), 2u);   // replaces 5..10
  EXPECT_EQ(writer_->submit(entries_task(13, 15, 2, 4)), 3u);  // continues
  EXPECT_EQ(writer_->submit(WriteTask{}), 4u);                 // an ordering barrier only
  EXPECT_EQ(writer_->in_flight(), 4u);
  gate_.open();

  const auto done = wait_completions(4);
  for (std::size_t i = 0; i < done.size(); ++i) {
    EXPECT_EQ(done[i].seq, i + 1);
    EXPECT_TRUE(done[i].status.is_ok()) << done[i].status.to_string();
  }
  EXPECT_EQ(writer_->in_flight(), 0u);
  EXPECT_EQ(gate_.arrived(), 2) << "tasks 2-4 must be written in one transaction";
  ASSERT_TRUE(writer_->stop(Clock::now() + std::chrono::seconds(10)));

  storage::Status status;
  auto reopened = storage::LogStore::open(storage::testing::options_for(dir_.path()), &status);
  ASSERT_NE(reopened, nullptr) << status.to_string();
  store_ = reopened.get();
  EXPECT_EQ(store_->last_index(), 14u);
  const auto entries = stored(1, 15);
  ASSERT_EQ(entries.size(), 14u);
  for (const raft::Entry& e : entries) EXPECT_EQ(e.term, e.index < 5 ? 1u : 2u) << e.index;
  EXPECT_EQ(store_->hard_state(), (raft::HardState{2, 1, 4}));
}

TEST_F(StorageWriterTest, LocalSnapshotIsStoredInOrderAfterTheEntriesItCovers) {
  writer_->submit(entries_task(1, 21, 1, 20));
  raft::Snapshot snapshot;
  snapshot.meta.index = 15;
  snapshot.meta.term = 1;
  snapshot.meta.conf.voters = {1};
  snapshot.data = "state at 15";
  WriteTask task;
  task.kind = WriteTask::Kind::kLocalSnapshot;
  task.snapshot = std::make_shared<const raft::Snapshot>(snapshot);
  writer_->submit(std::move(task));
  gate_.open();
  const auto done = wait_completions(2);
  EXPECT_TRUE(done[0].status.is_ok()) << done[0].status.to_string();
  EXPECT_TRUE(done[1].status.is_ok()) << done[1].status.to_string();
  ASSERT_TRUE(writer_->stop(Clock::now() + std::chrono::seconds(10)));

  storage::Status status;
  auto reopened = storage::LogStore::open(storage::testing::options_for(dir_.path()), &status);
  ASSERT_NE(reopened, nullptr) << status.to_string();
  EXPECT_EQ(reopened->snapshot_meta().index, 15u);
  raft::Snapshot read;
  ASSERT_TRUE(reopened->read_snapshot(&read).is_ok());
  EXPECT_EQ(read.data, "state at 15");
  EXPECT_EQ(reopened->first_index(), 16u);  // compacted (no kept tail in these options)
  EXPECT_EQ(reopened->last_index(), 20u);
}

TEST_F(StorageWriterTest, ARefusedWriteFailsItsWholeGroupAndLaterWritesStillRun) {
  writer_->submit(entries_task(1, 4, 1, 0));
  gate_.wait_arrived(1);
  writer_->submit(entries_task(3, 5, 1, 0));
  writer_->submit(entries_task(9, 10, 1, 0));  // a gap after 4: refused
  gate_.open();
  const auto done = wait_completions(3);
  EXPECT_TRUE(done[0].status.is_ok());
  // Merged with its group: the gap makes the whole transaction invalid, and
  // nothing of it is written.
  EXPECT_FALSE(done[1].status.is_ok());
  EXPECT_FALSE(done[2].status.is_ok());
  EXPECT_EQ(store_->last_index(), 3u);

  writer_->submit(entries_task(4, 6, 1, 0));
  const auto after = wait_completions(4);
  EXPECT_TRUE(after[3].status.is_ok()) << after[3].status.to_string();
  EXPECT_EQ(store_->last_index(), 5u);
}

TEST_F(StorageWriterTest, StopWritesWhatIsQueuedFirst) {
  writer_->submit(entries_task(1, 3, 1, 0));
  gate_.wait_arrived(1);
  writer_->submit(entries_task(3, 8, 1, 2));
  gate_.open();
  ASSERT_TRUE(writer_->stop(Clock::now() + std::chrono::seconds(10)));
  storage::Status status;
  auto reopened = storage::LogStore::open(storage::testing::options_for(dir_.path()), &status);
  ASSERT_NE(reopened, nullptr) << status.to_string();
  EXPECT_EQ(reopened->last_index(), 7u);
  EXPECT_EQ(reopened->hard_state().commit, 2u);
}

TEST_F(StorageWriterTest, StopGivesUpOnAHangingWriteByItsDeadline) {
  writer_->submit(entries_task(1, 3, 1, 0));
  gate_.wait_arrived(1);  // held: the disk "hangs"
  const auto started = Clock::now();
  EXPECT_FALSE(writer_->stop(started + std::chrono::milliseconds(50)));
  gate_.open();
  // The thread left behind finishes once the disk answers; stop() waits again.
  EXPECT_TRUE(writer_->stop(Clock::now() + std::chrono::seconds(10)));
  EXPECT_EQ(wait_completions(1).size(), 1u);
}

}  // namespace
}  // namespace raftmeta::node

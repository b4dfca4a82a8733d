#include "sidecar/node/storage_writer.h"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>

#include "sidecar/health/metrics.h"
#include "sidecar/health/progress.h"

namespace raftmeta::node {

struct StorageWriter::Shared {
  std::unique_ptr<storage::LogStore> store;  // writer thread only (after start)
  health::NodeMetrics* metrics = nullptr;
  std::function<void()> notify;
  std::mutex mu;  // leaf: guards queue, completed, stopping
  std::condition_variable cv;
  struct Queued {
    std::uint64_t seq = 0;
    WriteTask task;
  };
  std::deque<Queued> queue;
  std::vector<WriteCompletion> completed;
  bool stopping = false;
  Completion<bool> finished;
};

namespace {

using Queued = StorageWriter::Shared::Queued;

bool mergeable(const WriteTask& task) {
  return task.kind == WriteTask::Kind::kReady && task.snapshot == nullptr;
}

// Appends `entries` to *merged with the truncation rule: an entry at index i
// replaces whatever *merged holds at i and above.
void merge_entries(const std::vector<raft::Entry>& entries, std::vector<raft::Entry>* merged) {
  if (entries.empty()) return;
  const raft::Index first = entries.front().index;
  while (!merged->empty() && merged->back().index >= first) merged->pop_back();
  merged->insert(merged->end(), entries.begin(), entries.end());
}

// Writes tasks[begin, end) (kReady, no snapshot) in one transaction.
storage::Status write_merged(storage::LogStore* store, const std::vector<Queued>& tasks,
                             std::size_t begin, std::size_t end) {
  storage::WriteBatch batch;
  bool must_sync = false;
  for (std::size_t i = begin; i < end; ++i) {
    const WriteTask& task = tasks[i].task;
    if (task.entries != nullptr) merge_entries(*task.entries, &batch.entries);
    if (task.hard_state) batch.hard_state = task.hard_state;
    must_sync |= task.must_sync || (task.entries != nullptr && !task.entries->empty());
  }
  if (batch.empty()) return {};  // only ordering barriers (messages after persistence)
  if (!must_sync && batch.entries.empty()) return store->save_commit(batch.hard_state->commit);
  return store->save(batch);
}

storage::Status write_one(storage::LogStore* store, const WriteTask& task) {
  if (task.kind == WriteTask::Kind::kLocalSnapshot) {
    const raft::Index index = task.snapshot->meta.index;
    if (index <= store->snapshot_meta().index) return {};  // superseded meanwhile
    if (storage::Status s = store->save_local_snapshot(*task.snapshot); !s) return s;
    if (storage::Status s = store->compact(index); !s) {
      // The snapshot is stored; the log is only longer than it could be.
      spdlog::warn("log compaction to {} failed: {}", index, s.to_string());
    }
    return {};
  }
  storage::WriteBatch batch;
  batch.snapshot = *task.snapshot;
  if (task.entries != nullptr) batch.entries = *task.entries;
  batch.hard_state = task.hard_state;
  return store->save(batch);
}

void run(const std::shared_ptr<StorageWriter::Shared>& shared) {
  std::vector<Queued> tasks;
  while (true) {
    tasks.clear();
    {
      std::unique_lock<std::mutex> lock(shared->mu);
      shared->cv.wait(lock, [&] { return shared->stopping || !shared->queue.empty(); });
      if (shared->queue.empty()) return;  // stopping and everything written
      for (auto& q : shared->queue) tasks.push_back(std::move(q));
      shared->queue.clear();
    }
    std::vector<WriteCompletion> done;
    done.reserve(tasks.size());
    std::size_t i = 0;
    while (i < tasks.size()) {
      std::size_t end = i + 1;
      if (mergeable(tasks[i].task)) {
        while (end < tasks.size() && mergeable(tasks[end].task)) ++end;
      }
      const std::int64_t start = health::monotonic_ns();
      const storage::Status status = end - i > 1 || mergeable(tasks[i].task)
                                         ? write_merged(shared->store.get(), tasks, i, end)
                                         : write_one(shared->store.get(), tasks[i].task);
      if (shared->metrics != nullptr) {
        shared->metrics->storage_write_seconds.observe(
            static_cast<double>(health::monotonic_ns() - start) / 1e9);
      }
      for (; i < end; ++i) done.push_back(WriteCompletion{tasks[i].seq, status});
    }
    {
      std::lock_guard<std::mutex> lock(shared->mu);
      for (auto& c : done) shared->completed.push_back(std::move(c));
    }
    shared->notify();
  }
}

}  // namespace

StorageWriter::StorageWriter(std::unique_ptr<storage::LogStore> store, health::NodeMetrics* metrics,
                             std::function<void()> notify)
    : shared_(std::make_shared<Shared>()) {
  shared_->store = std::move(store);
  shared_->metrics = metrics;
  shared_->notify = std::move(notify);
}

StorageWriter::~StorageWriter() {
  if (thread_.joinable()) stop(Clock::now());
}

void StorageWriter::start() {
  started_ = true;
  thread_ = std::thread([shared = shared_] {
    pthread_setname_np(pthread_self(), "storage-writer");
    run(shared);
    shared->store.reset();  // closes the database
    shared->finished.complete(true);
  });
}

bool StorageWriter::stop(Deadline deadline) {
  {
    std::lock_guard<std::mutex> lock(shared_->mu);
    shared_->stopping = true;
  }
  shared_->cv.notify_all();
  if (!started_) return true;
  if (!shared_->finished.wait_until(deadline)) {
    if (thread_.joinable()) {
      spdlog::error("the storage writer did not finish its writes by the shutdown deadline");
      thread_.detach();
    }
    return false;
  }
  if (thread_.joinable()) thread_.join();
  return true;
}

std::uint64_t StorageWriter::submit(WriteTask task) {
  const std::uint64_t seq = next_seq_++;
  {
    std::lock_guard<std::mutex> lock(shared_->mu);
    shared_->queue.push_back(Queued{seq, std::move(task)});
  }
  shared_->cv.notify_one();
  ++in_flight_;
  return seq;
}

void StorageWriter::take_completed(std::vector<WriteCompletion>* out) {
  const std::size_t before = out->size();
  {
    std::lock_guard<std::mutex> lock(shared_->mu);
    for (auto& c : shared_->completed) out->push_back(std::move(c));
    shared_->completed.clear();
  }
  in_flight_ -= out->size() - before;
}

}  // namespace raftmeta::node

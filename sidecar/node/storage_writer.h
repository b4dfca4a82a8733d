// StorageWriter: the "storage-writer" thread, the only thread that writes the
// LogStore while the node runs.
//
// The Raft loop takes a Ready, accepts it at once and submits what must become
// durable (received snapshot, entries, hard state) as a WriteTask; it keeps
// turning meanwhile (ticks, heartbeats, votes, reads, its inbox), so a disk
// that hangs never freezes the Raft loop: the watchdog sees the hanging write
// on the storage stamps, and a leader hands leadership over because its own
// Raft loop is still alive to do it (Raft thesis §10.2.1: a leader may
// replicate entries while it persists them).
//
// Tasks are written strictly in submission order. Whatever is queued when the
// writer wakes is written together: consecutive Ready tasks are merged into
// ONE transaction (the truncation rule applied while merging, the newest hard
// state kept), so one fsync covers many Readies when the disk is the
// bottleneck (group commit across loop turns). A task with a received snapshot
// and a local-snapshot task are written on their own, in order.
//
// Completions are reported in order: take_completed() returns every finished
// task (sequence number + status) and the writer calls `notify` (which must
// not block: it kicks the Raft loop's inbox) after each group. A failed write
// fails its whole group; the Raft loop then stops (the member is restarted).
//
// Thread ownership: submit() and take_completed() are for the Raft loop thread
// only; start()/stop() for the owner. The queue and the completion list are
// guarded by one leaf mutex that is never held while writing or calling out.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "sidecar/node/completion.h"
#include "sidecar/node/node.h"
#include "sidecar/raft/types.h"
#include "sidecar/storage/log_store.h"

namespace raftmeta::health {
struct NodeMetrics;
}

namespace raftmeta::node {

struct WriteTask {
  enum class Kind : std::uint8_t {
    kReady,          // snapshot / entries / hard state of one Ready (any may be empty)
    kLocalSnapshot,  // a snapshot the apply loop took; compact the log after it
  };
  Kind kind = Kind::kReady;
  std::shared_ptr<const raft::Snapshot> snapshot;
  std::shared_ptr<const std::vector<raft::Entry>> entries;
  std::optional<raft::HardState> hard_state;
  // Entries, vote or term changed: needs a synced transaction. A task with
  // only a new commit index is written without a sync of its own.
  bool must_sync = false;
};

struct WriteCompletion {
  std::uint64_t seq = 0;
  storage::Status status;
};

class StorageWriter {
 public:
  StorageWriter(std::unique_ptr<storage::LogStore> store, health::NodeMetrics* metrics,
                std::function<void()> notify);
  ~StorageWriter();
  StorageWriter(const StorageWriter&) = delete;
  StorageWriter& operator=(const StorageWriter&) = delete;

  void start();
  // Writes what is queued, then ends the thread and closes the store, by
  // `deadline`; false if the thread did not end (a write hangs: it is left
  // behind, detached, still owning the store; a later stop() waits for it
  // again).
  bool stop(Deadline deadline);

  // Queues a task; returns its sequence number (1, 2, ... in order).
  std::uint64_t submit(WriteTask task);
  // Moves the completions since the last call to *out, in order.
  void take_completed(std::vector<WriteCompletion>* out);
  // Tasks submitted and not yet reported by take_completed().
  std::size_t in_flight() const { return in_flight_; }

  // The queue and the store (storage_writer.cpp); shared with the thread so a
  // writer left behind on a hanging write keeps them alive.
  struct Shared;

 private:
  std::shared_ptr<Shared> shared_;
  std::uint64_t next_seq_ = 1;  // raft-loop thread
  std::size_t in_flight_ = 0;   // raft-loop thread
  bool started_ = false;        // owner
  std::thread thread_;
};

}  // namespace raftmeta::node
